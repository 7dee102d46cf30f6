import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { loadTraceLibrary } from '../../tools/recordedData';
import { startCodeServer, workbenchUrl, type CodeServer } from '../../tools/codeServer';
import { closeAfterSpec, openWorkbench, panelFrame, reasonOnFile, screenshot, type Workbench } from '../../tools/workbench';

/** Cheapest first, dollars per 1M tokens: a small model, then a dear reasoning model. */
const LADDER = [
  { model: 'qwen2.5-math-replay', price: 0.06 },
  { model: 'o4-mini-replay', price: 1.75 },
] as const;
/** MATH idx 92: the recorded chains start √34+3√10, 28, 20, 28, so the cheap model cannot settle it alone. */
const QUESTION = 'math:92';

// The cascade strategy as a user sets it up: models in budgetReasoner.cascade (cheapest first,
// each with its price), the loopback server replaying recorded MATH chains.
describe('e2e: a model cascade from the settings, in code-server', function () {
  let server: ModelServer;
  let cs: CodeServer;
  let wb: Workbench | undefined;
  const question = loadTraceLibrary().get(QUESTION)!;

  before(async function () {
    server = await startModelServer({ tokensPerSecond: 0 });
    cs = await startCodeServer({
      settings: {
        'budgetReasoner.baseUrl': server.url,
        'budgetReasoner.model': 'qwen2.5-math-replay',
        'budgetReasoner.strategy': 'cascade',
        'budgetReasoner.cascade': LADDER.map((r) => ({ model: r.model, input: r.price, output: r.price })),
      },
    });
    fs.writeFileSync(path.join(cs.workspace, 'question.md'), `${question.question}\n`);
  });

  closeAfterSpec(() => ({ wb, cs, servers: [server] }));

  it('starts on the cheap model, goes up when it does not settle, labels answers by model and shows what each model cost, as the server billed it', async function () {
    wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace));
    const { page } = wb;
    await reasonOnFile(page, 'question.md');
    // The worst case is priced at the strongest model, above the default $0.10 "confirm above".
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    assert.match(await dialog.innerText(), /This run may cost up to \$0\.\d+/);
    assert.equal(server.requests.length, 0, 'nothing is sent before the user confirms');
    await dialog.locator('.monaco-button', { hasText: 'Run' }).click();
    const panel = panelFrame(page);
    await panel.locator('#status[data-state="finished"]').waitFor({ timeout: 90_000 });

    // Every call went to a model of the ladder, the first one (the TALE estimate included) to the cheapest.
    const called = server.requests.map((r) => String(r.body.model));
    assert.equal(called[0], LADDER[0].model);
    assert.ok(called.every((m) => LADDER.some((r) => r.model === m)), called.join(', '));
    const ran: string[] = LADDER.map((r) => r.model).filter((m) => called.includes(m));
    assert.deepEqual([...ran], LADDER.map((r) => r.model), 'the cheap model did not settle it, so the cascade went up');

    // The header shows the ladder; the table has one row per model that was billed, cheapest first.
    assert.match(await panel.locator('body').innerText(), new RegExp(ran[0].replace(/[.]/g, '\\.')));
    const rows = panel.locator('#model-costs-body tr.model-row');
    await rows.first().waitFor({ timeout: 10_000 });
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-model'))), ran);
    // Tokens in and out per model equal the usage the server reported for that model.
    for (const model of ran) {
      const sent = server.responses.filter((r) => r.model === model && r.usage);
      const usageIn = sent.reduce((s, r) => s + (r.usage?.prompt_tokens ?? 0), 0);
      const usageOut = sent.reduce((s, r) => s + (r.usage?.completion_tokens ?? 0), 0);
      const cells = await panel.locator(`#model-costs-body tr[data-model="${model}"] td`).allInnerTexts();
      assert.equal(Number(cells[1].replace(/,/g, '')), usageIn, `${model} tokens in: ${cells.join(' | ')}`);
      assert.equal(Number(cells[2].replace(/,/g, '')), usageOut, `${model} tokens out: ${cells.join(' | ')}`);
      assert.match(cells[3], /^\$\d/, 'a priced model shows dollars');
    }
    // The best answer names the model whose chain supports it.
    const badge = panel.locator('#answer-model');
    assert.ok(ran.includes((await badge.innerText()).trim()), await badge.innerText());
    await screenshot(page, 'cascade-panel.png');
  });
});

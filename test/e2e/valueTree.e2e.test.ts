import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { startCodeServer, workbenchUrl, type CodeServer } from '../../tools/codeServer';
import { readTraceQuestion } from '../../tools/recordedData';
import { closeAfterSpec, openWorkbench, panelFrame, reasonOnFile, screenshot, type Workbench } from '../../tools/workbench';
import { ledgerRecords, usageTotals } from './fixtures';
import { exactTokens } from '../../src/core/view/runViewText';

// The value tree in a real VS Code (code-server) against the loopback server, which replays the
// recorded MATH chains a step at a time and scores each step by the recorded reward model.
describe('e2e: a value-tree run in code-server', function () {
  let server: ModelServer;
  let cs: CodeServer;
  let wb: Workbench | undefined;
  // Four of its eight recorded chains are right, and scored higher than the others.
  const question = readTraceQuestion(17);
  const budget = 8000;

  before(async function () {
    server = await startModelServer({ tokensPerSecond: 400 });
    cs = await startCodeServer({
      settings: {
        'budgetReasoner.baseUrl': server.url,
        'budgetReasoner.model': 'qwen2.5-math-replay',
        'budgetReasoner.strategy': 'value-tree',
        'budgetReasoner.requestBudget': budget,
      },
    });
    fs.writeFileSync(path.join(cs.workspace, 'question.md'), question.text + '\n');
  });

  closeAfterSpec(() => ({ wb, cs, servers: [server] }));

  it('shows progressive answers from the tree\'s steps and stops within its budget', async function () {
    wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace));
    const { page } = wb;
    await reasonOnFile(page, 'question.md');

    const panel = panelFrame(page);
    await panel.locator('#status[data-state="finished"]').waitFor({ timeout: 120_000 });
    assert.match(await panel.locator('#answer').innerText(), new RegExp(question.gold));

    // Progressive: more than one answer (or confidence) was shown along the way.
    const answers = await panel.locator('#answers li').count();
    assert.ok(answers >= 2, `${answers} answers shown`);

    // Every call of the run is in the ledger with its purpose; the tree's own purposes are there.
    const records = ledgerRecords(cs.userDataDir);
    const purposes = new Set(records.map((r) => r.purpose));
    assert.ok(purposes.has('step') && purposes.has('value'), [...purposes].join(', '));
    const spent = records.reduce((s, r) => s + r.promptTokens + r.completionTokens, 0);
    assert.equal(spent, usageTotals(server).totalTokens, 'the ledger holds what the server billed');
    assert.ok(spent <= budget, `${spent} billed of a ${budget}-token budget`);
    const spendText = (await panel.locator('#spend').innerText()).trim();
    assert.ok(spendText.startsWith(`${exactTokens(spent)} / ${exactTokens(budget)}`), `panel "${spendText}"`);

    // The rows name the tree's calls; the re-run picker offers the strategy.
    const rows = await panel.locator('#attempts .attempt').allInnerTexts();
    assert.ok(rows.some((t) => /^#\d+ tree step/.test(t)) && rows.some((t) => /^#\d+ step value/.test(t)), `rows ${JSON.stringify(rows.slice(0, 4))}`);
    assert.equal(await panel.locator('#rerun-strategy').inputValue(), 'value-tree');
    await screenshot(page, 'value-tree-panel.png');
  });
});

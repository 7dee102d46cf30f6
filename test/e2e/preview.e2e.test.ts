import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { startCodeServer, waitForLog, workbenchUrl, type CodeServer } from '../../tools/codeServer';
import {
  closeAfterSpec, openFile, openWorkbench, runCommand, screenshot, selectAllInEditor, statusBarMeter, waitUntil, type Workbench,
} from '../../tools/workbench';
import { readTraceQuestion } from '../../tools/recordedData';

// A priced model on the loopback server: the user's price override makes it a paid run, so the
// meter previews its cost and Reason with budget asks before sending anything.
describe('e2e: cost preview and confirmation in code-server', function () {
  let server: ModelServer;
  let cs: CodeServer;
  let wb: Workbench | undefined;
  const question = readTraceQuestion(67);

  before(async function () {
    server = await startModelServer({ tokensPerSecond: 400 });
    cs = await startCodeServer({
      settings: {
        'budgetReasoner.baseUrl': server.url,
        'budgetReasoner.model': 'qwen2.5-math-replay',
        'budgetReasoner.prices': { 'qwen2.5-math-replay': { input: 50, output: 200 } },
      },
    });
    fs.writeFileSync(path.join(cs.workspace, 'question.md'), question.text + '\n');
  });

  closeAfterSpec(() => ({ wb, cs, servers: [server] }));

  it('previews the selected question\'s cost in the meter tooltip, asks before the run, and sends nothing when cancelled', async function () {
    wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace));
    const { page } = wb;
    await openFile(page, 'question.md');
    await selectAllInEditor(page);
    // The first command activates the extension (nothing runs at startup) and asks before a paid run.
    await runCommand(page, 'Reason with budget');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    assert.match(await dialog.innerText(), /This run may cost up to \$0\.25 \(estimated \$[\d.]+–\$[\d.]+\)\. Run it\?/);
    await screenshot(page, 'preview-confirm.png');
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    // The command has finished with the declined confirmation (its log says so): then no request may have been sent.
    await waitForLog(cs, /declined at the cost confirmation; nothing was sent/);
    assert.equal(server.requests.length, 0, `requests sent: ${JSON.stringify(server.requests.map((r) => r.body?.max_tokens ?? r))}`);

    // With the extension active, selecting the question previews its cost in the meter's tooltip.
    await selectAllInEditor(page);
    const meter = statusBarMeter(page);
    await meter.waitFor({ timeout: 30_000 });
    let tooltip = '';
    for (let i = 0; i < 20 && !/Selected question/.test(tooltip); i++) {
      await page.mouse.move(0, 0);
      await page.waitForTimeout(500);
      await meter.hover();
      const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'Budget Reasoner' }).last();
      await hover.waitFor({ timeout: 5_000 }).catch(() => undefined);
      tooltip = (await hover.innerText().catch(() => '')) ?? '';
    }
    assert.match(tooltip, /Selected question: a chain ~[\d,]+ output tokens · estimated \$[\d.]+–\$[\d.]+ · worst case \$0\.25/);
    await screenshot(page, 'preview-tooltip.png');
  });

  it('Select Model, with an endpoint that lists no models, says so, takes a typed id and offers it again as used before', async function () {
    const { page } = wb ?? (wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace)));
    // Read while VS Code writes the file, it can be caught half-written: that read says nothing yet, and the wait goes on.
    const modelSetting = () => {
      try {
        return (JSON.parse(fs.readFileSync(cs.userSettingsPath, 'utf8')) as Record<string, unknown>)['budgetReasoner.model'];
      } catch {
        return undefined;
      }
    };
    const configured = modelSetting();
    server.script({ endpoint: 'models', emptyModelList: true, times: 2 });
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('.quick-input-box input');
    await runCommand(page, 'Budget Reasoner: Select Model');
    await widget.locator('.monaco-list-row', { hasText: 'The endpoint lists no models' }).waitFor({ timeout: 30_000 });
    await input.fill('my-local-model:7b');
    const typed = widget.locator('.monaco-list-row', { hasText: 'Use "my-local-model:7b"' });
    await typed.waitFor({ timeout: 10_000 });
    assert.match(await typed.innerText(), /the endpoint lists no models; this id is sent as typed/);
    await screenshot(page, 'select-model-typed.png');
    await input.press('Enter');
    await waitUntil(() => modelSetting() === 'my-local-model:7b', 'the typed id saved as budgetReasoner.model');

    await runCommand(page, 'Budget Reasoner: Select Model');
    await widget.locator('.monaco-list-row', { hasText: 'my-local-model:7b' }).filter({ hasText: 'used before' }).waitFor({ timeout: 30_000 });
    // Back to the configured model, typed again.
    await input.fill(String(configured));
    await widget.locator('.monaco-list-row', { hasText: `Use "${String(configured)}"` }).waitFor({ timeout: 10_000 });
    await input.press('Enter');
    await waitUntil(() => modelSetting() === configured, 'the configured model restored');
  });
});

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { BudgetReasonerApi } from '../../src/extension';
import { readTestConfig } from './index';

// Runs inside the real extension host (code-server), against the loopback model server the e2e
// runner started and configured in the user settings.
suite('Budget Reasoner in the extension host', () => {
  let api: BudgetReasonerApi;

  suiteSetup(async () => {
    const ext = vscode.extensions.all.find((e) => e.packageJSON.name === 'budget-reasoner');
    assert.ok(ext, 'the extension is installed');
    api = (await ext.activate()) as BudgetReasonerApi;
  });

  test('registers its commands', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['budgetReasoner.reason', 'budgetReasoner.setApiKey', 'budgetReasoner.clearApiKey', 'budgetReasoner.selectModel',
      'budgetReasoner.showSpendReport', 'budgetReasoner.calibrate', 'budgetReasoner.budgetMenu']) {
      assert.ok(commands.includes(id), `${id} is registered`);
    }
  });

  test('activates quickly (nothing heavy on the activation path)', () => {
    console.log(`activation took ${api.activationMs.toFixed(1)} ms`);
    assert.ok(api.activationMs >= 0);
  });

  test('uses the user\'s endpoint: a workspace setting cannot redirect requests (and the key) elsewhere', () => {
    const config = readTestConfig();
    assert.ok(config?.serverUrl, 'the e2e runner wrote the test config');
    const settings = vscode.workspace.getConfiguration('budgetReasoner');
    // The workspace's .vscode/settings.json names another URL and model; both settings are application-scoped.
    assert.equal(settings.inspect('confidenceThreshold')?.workspaceValue, 0.95, 'the workspace settings file was read');
    assert.equal(settings.inspect('baseUrl')?.workspaceValue, undefined, 'VS Code ignores a workspace value for an application setting');
    assert.equal(settings.get('baseUrl'), config.serverUrl);
    assert.equal(settings.get('model'), 'qwen2.5-math-replay');
  });

  test('"Reason with budget" answers a recorded question, opens the panel and meters the run', async () => {
    const question = 'What is the sum of the composite numbers between 10 and 20 (not including 10 and 20)?';
    const summary = await vscode.commands.executeCommand<{ answer?: string; tokens: number; reason: string; runId: string } | undefined>('budgetReasoner.reason', { question });
    assert.ok(summary, 'the run returned a summary');
    assert.equal(summary.answer, '75');
    assert.ok(['converged', 'budget-exhausted'].includes(summary.reason), summary.reason);
    assert.ok(summary.tokens > 0);
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
    assert.ok(tabs.some((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.includes('budgetReasoner.answer')), 'an answer panel is open');
    const meter = api.meter();
    assert.match(meter.ariaLabel ?? '', new RegExp(`${summary.tokens} of \\d+ tokens`));
    const ledger = fs.readFileSync(await api.ledgerFile(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const runRecords = ledger.filter((r) => r.runId === summary.runId);
    assert.ok(runRecords.length >= 1, 'the run is in the ledger');
    assert.equal(runRecords.reduce((s, r) => s + r.promptTokens + r.completionTokens, 0), summary.tokens);
  });

  test('an empty question costs nothing and sends nothing', async () => {
    const before = fs.existsSync(await api.ledgerFile()) ? fs.readFileSync(await api.ledgerFile(), 'utf8') : '';
    const summary = await vscode.commands.executeCommand('budgetReasoner.reason', { question: '   ' });
    assert.equal(summary, undefined);
    assert.equal(fs.readFileSync(await api.ledgerFile(), 'utf8'), before);
  });
});

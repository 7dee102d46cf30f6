import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { calibrateBudgets, type CalibrationExample } from '../core/reasoning/calibration';
import { parseExamples } from '../core/reasoning/calibrationExamples';
import { capsFromSettings } from '../core/budget/caps';
import { MeteredCaller } from '../core/budget/meteredCaller';
import { formatDollars } from '../core/budget/meterFormat';
import { isLocalEndpoint } from '../core/config';
import { OpenAICompatibleProvider } from '../core/providers/openaiProvider';
import { listLanguageModels } from './lmProvider';
import { showError } from './logger';
import type { Services } from './services';
import { readSettings, updateSetting } from './settings';

/** "Select Model": the endpoint's /v1/models and VS Code's language models in one QuickPick. */
export async function selectModel(services: Services): Promise<void> {
  const { settings } = readSettings();
  const apiKey = await services.apiKeys.get(settings.baseUrl);
  type Item = vscode.QuickPickItem & { model?: string };
  const quickPick = vscode.window.createQuickPick<Item>();
  quickPick.title = 'Budget Reasoner: Select Model';
  quickPick.placeholder = `Models of ${settings.baseUrl} and VS Code's language models`;
  quickPick.busy = true;
  quickPick.show();
  const items: Item[] = [];
  const abort = new AbortController();
  quickPick.onDidHide(() => abort.abort());
  try {
    if (apiKey || isLocalEndpoint(settings.baseUrl)) {
      const ids = await new OpenAICompatibleProvider({ baseURL: settings.baseUrl, apiKey, maxRetries: 1, timeoutMs: 15_000 }).listModels(abort.signal);
      items.push({ label: settings.baseUrl, kind: vscode.QuickPickItemKind.Separator });
      items.push(...ids.map((id) => ({ label: id, model: id, description: id === settings.model ? 'current' : undefined })));
    } else {
      items.push({ label: `$(key) Set an API key for ${settings.baseUrl} to list its models`, model: undefined });
    }
  } catch (error) {
    services.log.warn('models', `listing models failed: ${String(error)}`);
    items.push({ label: `$(warning) ${error instanceof Error ? error.message : String(error)}` });
  }
  const lm = await listLanguageModels();
  if (lm.length) {
    items.push({ label: 'VS Code language models (billed in requests)', kind: vscode.QuickPickItemKind.Separator });
    items.push(...lm.map((m) => ({ label: m.name, description: `${m.vendor} · ${m.family}`, model: `vscode-lm/${m.id}` })));
  }
  quickPick.items = items;
  quickPick.busy = false;
  const picked = await new Promise<Item | undefined>((resolve) => {
    quickPick.onDidAccept(() => resolve(quickPick.selectedItems[0]));
    quickPick.onDidHide(() => resolve(undefined));
  });
  quickPick.dispose();
  if (picked?.model) {
    await updateSetting('model', picked.model);
    void vscode.window.showInformationMessage(`Budget Reasoner: model set to ${picked.model}.`);
  } else if (picked && !apiKey) {
    await services.apiKeys.promptAndStore(settings.baseUrl);
  }
}

/** "Show Spend Report": a day x model table as a markdown preview, with CSV export. */
export async function showSpendReport(services: Services): Promise<void> {
  const ledger = await services.ledger();
  await ledger.refresh();
  const rows = await ledger.byDayAndModel();
  const lines = ['# Budget Reasoner: spend report', '', `Ledger: \`${ledger.file}\``, ''];
  if (!rows.length) {
    lines.push('No spend recorded yet.');
  } else {
    lines.push('| day | model | calls | prompt tokens | completion tokens | reasoning tokens | dollars |', '|---|---|---:|---:|---:|---:|---:|');
    for (const r of [...rows].reverse()) {
      lines.push(`| ${r.day} | ${r.model} | ${r.calls} | ${r.promptTokens.toLocaleString('en-US')} | ${r.completionTokens.toLocaleString('en-US')} | ${r.reasoningTokens.toLocaleString('en-US')} | ${formatDollars(r.dollars, r.unpriced)}${r.estimated ? ' (est.)' : ''} |`);
    }
  }
  lines.push('', '_"est." marks counts made locally because the endpoint reported no usage; "+?" marks spend on models with no known price._');
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: lines.join('\n') });
  await vscode.window.showTextDocument(doc, { preview: true });
  const choice = await vscode.window.showInformationMessage('Budget Reasoner: spend report opened.', 'Export CSV');
  if (choice === 'Export CSV') {
    await exportSpendCsv(services);
  }
}

export async function exportSpendCsv(services: Services): Promise<void> {
  const target = await vscode.window.showSaveDialog({ filters: { CSV: ['csv'] }, saveLabel: 'Export spend', defaultUri: vscode.Uri.file(`budget-reasoner-spend-${new Date().toISOString().slice(0, 10)}.csv`) });
  if (!target) {
    return;
  }
  const csv = await (await services.ledger()).toCsv();
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(csv));
  void vscode.window.showInformationMessage(`Budget Reasoner: spend exported to ${target.fsPath}.`);
}

/** "Calibrate Budget on Examples": TALE's budget search over a JSONL of {question, answer}, with a hard total cap. */
export async function calibrate(services: Services): Promise<void> {
  const [file] = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'JSON lines': ['jsonl'] }, openLabel: 'Calibrate on these examples' }) ?? [];
  if (!file) {
    return;
  }
  let examples: CalibrationExample[];
  try {
    examples = parseExamples(await fs.readFile(file.fsPath, 'utf8'));
  } catch (error) {
    await showError(services.log, `Cannot use ${file.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  const capText = await vscode.window.showInputBox({
    title: 'Calibration: total token cap',
    prompt: `Most tokens the calibration of ${examples.length} examples may spend in all`,
    value: String(Math.min(200_000, examples.length * 4000)),
    validateInput: (v) => (Number.isInteger(Number(v)) && Number(v) >= 1000 ? undefined : 'Enter a whole number of at least 1000.'),
  });
  if (!capText) {
    return;
  }
  const totalTokenCap = Number(capText);
  const { settings } = readSettings();
  const apiKey = await services.apiKeys.get(settings.baseUrl);
  if (!apiKey && !isLocalEndpoint(settings.baseUrl)) {
    await showError(services.log, `No API key is set for ${settings.baseUrl}. Run "Budget Reasoner: Set API Key" first.`);
    return;
  }
  const runId = `calibration-${randomUUID()}`;
  const caller = new MeteredCaller({
    provider: new OpenAICompatibleProvider({ baseURL: settings.baseUrl, apiKey }),
    model: settings.model,
    runId,
    sessionId: services.sessionId,
    caps: capsFromSettings(settings, totalTokenCap),
    ledger: await services.ledger(),
    sharedReservations: await services.sharedReservations(),
    prices: services.prices(settings),
    tokens: services.tokens,
  });
  const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Budget Reasoner: calibrating budgets', cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    return calibrateBudgets({
      caller,
      examples,
      totalTokenCap,
      signal: abort.signal,
      onProgress: (p) => progress.report({ message: `${p.example} of ${p.of} · ${p.tokensSpent.toLocaleString('en-US')} tokens · ${p.message}`, increment: 100 / p.of }),
    });
  });
  const estimator = await services.localEstimator();
  let learned = 0;
  for (const r of report.results) {
    if (r.neededTokens !== undefined) {
      estimator.learn(r.question, r.neededTokens);
      learned++;
    }
  }
  await services.saveEstimator(estimator);
  void services.refreshMeter();
  void vscode.window.showInformationMessage(`Budget Reasoner: calibrated ${learned} of ${examples.length} examples with ${report.tokensSpent.toLocaleString('en-US')} tokens${report.stoppedEarly ? ` (stopped early: ${report.message ?? report.stoppedEarly})` : ''}. The local estimator learned from them.`);
}

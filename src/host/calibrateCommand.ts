/** "Calibrate Budget on Examples": TALE's budget search over a JSONL of {question, answer}, with a hard total cap. */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { calibrateBudgets, type CalibrationExample, type CalibrationResult } from '../core/reasoning/calibration';
import { parseExamples } from '../core/reasoning/calibrationExamples';
import { buildPreferencePair } from '../core/reasoning/preferenceExamples';
import { capsFromSettings } from '../core/budget/caps';
import { meteredCallers } from '../core/run/callers';
import { showError } from './logger';
import { endpointProvider } from './modelResolution';
import type { Services } from './services';
import { readSettings } from './settings';

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
  const provider = await endpointProvider(services, settings.baseUrl, { levers: settings.budgetLevers });
  if (!provider) {
    await showError(services.log, `No API key is set for ${settings.baseUrl}. Run "Budget Reasoner: Set API Key" first.`);
    return;
  }
  const callers = meteredCallers({
    runId: `calibration-${randomUUID()}`,
    sessionId: services.sessionId,
    ledger: await services.ledger(),
    sharedReservations: await services.sharedReservations(),
    tokens: services.tokens,
    ratios: await services.tokenRatios(),
  });
  const caller = callers({ id: settings.model, provider, prices: services.prices(settings) }, capsFromSettings(settings, totalTokenCap));
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
  await services.saveLearned();
  const paired = settings.preferenceExamples === 'auto' ? await keepPreferencePairs(services, report.results, settings.model, settings.baseUrl) : 0;
  void services.refreshMeter();
  void vscode.window.showInformationMessage(`Budget Reasoner: calibrated ${learned} of ${examples.length} examples with ${report.tokensSpent.toLocaleString('en-US')} tokens${report.stoppedEarly ? ` (stopped early: ${report.message ?? report.stoppedEarly})` : ''}. The local estimator learned from them${paired ? `, and ${paired} became preference examples` : ''}.`);
}

/** The calibration's replies as preference pairs: its cheapest correct answer, against a wrong or longer reply at that budget. */
async function keepPreferencePairs(services: Services, results: readonly CalibrationResult[], model: string, endpoint: string): Promise<number> {
  const pairs = await services.preferencePairs();
  let kept = 0;
  for (const r of results) {
    // The calibration's prompt asks for a boxed value: its pairs are short answers.
    const pair = buildPreferencePair({ question: r.question, answerKind: 'short', model, endpoint, chains: r.chains });
    if (pair) {
      pairs.add(pair);
      kept++;
    }
  }
  if (kept) {
    await services.savePreferencePairs(pairs).catch((e) => services.log.warn('examples', `could not save: ${String(e)}`));
  }
  return kept;
}

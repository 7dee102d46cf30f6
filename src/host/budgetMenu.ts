import * as vscode from 'vscode';
import type { Settings } from '../core/config';
import { formatDollars } from '../core/tokens/amountText';
import { MAX_REQUEST_BUDGET, MIN_REQUEST_BUDGET } from '../core/config';
import { updateSetting } from './settings';

interface MenuItem extends vscode.QuickPickItem {
  run: () => Promise<unknown> | unknown;
}

/** The status bar's click: budget, caps, the warning threshold, model, spend report, session reset. */
export async function showBudgetMenu(settings: Settings, actions: { resetSession(): void }): Promise<void> {
  const budget = settings.requestBudget === 'auto' ? 'auto' : `${settings.requestBudget.toLocaleString('en-US')} tokens`;
  const items: MenuItem[] = [
    { label: '$(symbol-number) Set per-request budget…', description: budget, run: () => pickRequestBudget(settings) },
    { label: '$(calendar) Set daily cap…', description: settings.dailyCapUsd > 0 ? formatDollars(settings.dailyCapUsd) : 'none', run: () => pickDailyCap(settings) },
    { label: '$(warning) Set warning threshold…', description: `${settings.warnAtPercent}% of a cap`, run: () => pickWarnAtPercent(settings) },
    { label: '$(hubot) Select model…', description: settings.model, run: () => vscode.commands.executeCommand('budgetReasoner.selectModel') },
    { label: '$(graph) Show spend report', description: 'by day and model, CSV export', run: () => vscode.commands.executeCommand('budgetReasoner.showSpendReport') },
    { label: '$(debug-restart) Reset session counter', run: () => actions.resetSession() },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Budget Reasoner', placeHolder: 'Budget, caps and spend' });
  await picked?.run();
}

export async function pickRequestBudget(settings: Settings): Promise<void> {
  const presets = [256, 1000, 4000, 16000];
  const items: (vscode.QuickPickItem & { value: 'auto' | number | 'custom' })[] = [
    { label: 'auto', description: 'estimate per question (TALE-style)', value: 'auto' },
    ...presets.map((n) => ({ label: `${n.toLocaleString('en-US')} tokens`, value: n })),
    { label: 'Custom…', value: 'custom' as const },
  ];
  for (const item of items) {
    if (item.value === settings.requestBudget) {
      item.description = `${item.description ? `${item.description} · ` : ''}current`;
    }
  }
  const picked = await vscode.window.showQuickPick(items, { title: 'Per-request token budget' });
  if (!picked) {
    return;
  }
  let value: 'auto' | number = picked.value === 'custom' ? 0 : picked.value;
  if (picked.value === 'custom') {
    const typed = await vscode.window.showInputBox({
      title: 'Per-request token budget',
      prompt: `Whole number of tokens, ${MIN_REQUEST_BUDGET} to ${MAX_REQUEST_BUDGET.toLocaleString('en-US')}`,
      value: settings.requestBudget === 'auto' ? '4000' : String(settings.requestBudget),
      validateInput: (v) => validateWhole(v, MIN_REQUEST_BUDGET, MAX_REQUEST_BUDGET),
    });
    if (!typed) {
      return;
    }
    value = Number(typed.trim());
  }
  await updateSetting('requestBudget', String(value));
}

export async function pickDailyCap(settings: Settings): Promise<void> {
  const typed = await vscode.window.showInputBox({
    title: 'Daily dollar cap',
    prompt: 'Most dollars all requests may spend today, across all windows (0 = no cap)',
    value: String(settings.dailyCapUsd),
    validateInput: (v) => {
      const n = Number(v.trim());
      return v.trim() && Number.isFinite(n) && n >= 0 && n <= 10000 ? undefined : 'Enter dollars from 0 to 10000, e.g. 2 or 0.50.';
    },
  });
  if (typed === undefined) {
    return;
  }
  await updateSetting('dailyCapUsd', Number(typed.trim()));
}

export async function pickWarnAtPercent(settings: Settings): Promise<void> {
  const typed = await vscode.window.showInputBox({
    title: 'Meter warning threshold',
    prompt: 'The meter turns the warning colour at this percent of a cap (1 to 100)',
    value: String(settings.warnAtPercent),
    validateInput: (v) => validateWhole(v, 1, 100),
  });
  if (typed === undefined) {
    return;
  }
  await updateSetting('warnAtPercent', Number(typed.trim()));
}

function validateWhole(v: string, min: number, max: number): string | undefined {
  const n = Number(v.trim());
  return Number.isInteger(n) && n >= min && n <= max ? undefined : `Enter a whole number from ${min} to ${max.toLocaleString('en-US')}.`;
}

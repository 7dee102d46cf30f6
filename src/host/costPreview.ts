import * as vscode from 'vscode';
import { budgetPromptLine } from '../core/budget/budgetTracker';
import { AUTO_CHAINS, autoRunBudget, costPreview, TALE_ESTIMATE_MAX_TOKENS, TALE_MAX_CHAIN_TOKENS, type CostPreview } from '../core/budget/costPreview';
import { AUTO_LOCAL_AFTER_RUNS, taleEstimatePrompt } from '../core/budget/taleEstimator';
import type { Settings } from '../core/config';
import { DEFAULT_SYSTEM_PROMPT } from '../core/reasoning/reasoningRun';
import { tierPriceLookup, type PriceLookup } from '../core/tokens/prices';
import { Disposable } from './lifecycle';
import type { Services } from './services';
import { readSettings, SECTION } from './settings';

/** Selections longer than this get no preview: tokenizing them on every selection change would cost more than it tells. */
export const PREVIEW_MAX_CHARS = 20_000;
const PREVIEW_DEBOUNCE_MS = 300;
export const CONFIRM_SETTING = 'confirmAboveUsd';
const DEFAULT_CONFIRM_ABOVE_USD = 0.1;

/** `budgetReasoner.confirmAboveUsd`: ask before runs whose worst case is above it (0 = never ask). */
export function confirmAboveUsd(): number {
  const v = vscode.workspace.getConfiguration(SECTION).get<unknown>(CONFIRM_SETTING);
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : DEFAULT_CONFIRM_ABOVE_USD;
}

/**
 * What a run of this question would cost, with the local estimator only (never a call). The
 * budget follows ReasonCommand: a fixed budget as set, else AUTO_CHAINS chains at the estimate.
 */
export async function previewRunCost(services: Services, settings: Settings, question: string, budgetTokens?: number, prices: PriceLookup = services.prices(settings)): Promise<CostPreview> {
  const estimator = await services.localEstimator();
  const fixedBudget = budgetTokens ?? (settings.requestBudget === 'auto' ? undefined : settings.requestBudget);
  const estimated = settings.estimator === 'fixed' && fixedBudget !== undefined ? fixedBudget : estimator.estimate(question).tokens;
  const chainTokens = Math.min(estimated, fixedBudget ?? Number.POSITIVE_INFINITY);
  const promptTokens = services.tokens.countChatPrompt([{ role: 'system', content: DEFAULT_SYSTEM_PROMPT }, { role: 'user', content: question }], settings.model).tokens;
  const callsTale = settings.estimator === 'tale' || (settings.estimator === 'auto' && estimator.learnedRuns < AUTO_LOCAL_AFTER_RUNS);
  const usesTale = callsTale && !(settings.estimator === 'fixed' && fixedBudget !== undefined);
  return costPreview({
    chainTokens,
    promptTokens: promptTokens + services.tokens.countText(budgetPromptLine(chainTokens), settings.model).tokens,
    budgetTokens: fixedBudget ?? autoRunBudget(chainTokens, promptTokens),
    // TALE may set any chain budget up to its cap, so the worst case assumes it does.
    worstBudgetTokens: usesTale && fixedBudget === undefined ? autoRunBudget(TALE_MAX_CHAIN_TOKENS, promptTokens) : undefined,
    plannedChains: AUTO_CHAINS,
    estimateCall: usesTale
      ? { promptTokens: services.tokens.countChatPrompt([{ role: 'user', content: taleEstimatePrompt(question) }], settings.model).tokens, maxTokens: TALE_ESTIMATE_MAX_TOKENS }
      : undefined,
    price: prices(settings.model.replace(/^vscode-lm\//, '')),
    requestCapUsd: settings.requestCapUsd,
  });
}

/**
 * What a run of these settings is previewed at: the configured model, or a cascade's strongest
 * model (the most the cascade can cost), on its endpoint and at its price.
 */
export function previewTarget(services: Services, settings: Settings): { settings: Settings; prices: PriceLookup } {
  const top = settings.strategy === 'cascade' && settings.cascade.length >= 2 ? settings.cascade[settings.cascade.length - 1] : undefined;
  return top
    ? { settings: { ...settings, model: top.model, baseUrl: top.baseUrl }, prices: tierPriceLookup(top, settings.prices) }
    : { settings, prices: services.prices(settings) };
}

/** Keeps the meter's tooltip showing what the selected question would cost; debounced, local, never a call. */
export class SelectionCostPreview extends Disposable {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;

  constructor(private readonly services: Services) {
    super();
    this._register(vscode.window.onDidChangeTextEditorSelection((e) => this.schedule(e.textEditor)));
    this._register(vscode.window.onDidChangeActiveTextEditor((editor) => this.schedule(editor)));
    this._register({ dispose: () => clearTimeout(this.timer) });
  }

  private schedule(editor: vscode.TextEditor | undefined): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(editor).catch((e) => this.services.log.warn('preview', `no cost preview: ${String(e)}`)), PREVIEW_DEBOUNCE_MS);
  }

  private async update(editor: vscode.TextEditor | undefined): Promise<void> {
    const generation = ++this.generation;
    const selection = editor?.selection;
    const text = editor && selection && !selection.isEmpty ? editor.document.getText(selection).trim() : '';
    if (!text || text.length > PREVIEW_MAX_CHARS) {
      this.services.meter.setPreview(undefined);
      return;
    }
    const target = previewTarget(this.services, readSettings().settings);
    const p = await previewRunCost(this.services, target.settings, text, undefined, target.prices);
    if (generation === this.generation) {
      this.services.meter.setPreview({ tokens: p.chainTokens, low: p.low, expected: p.expected, worst: p.worst });
    }
  }
}

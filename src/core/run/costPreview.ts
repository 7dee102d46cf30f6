/**
 * What a run may cost before anything is sent: the estimated budget and a dollar range. Pure, so
 * the status-bar preview and the pre-run confirmation compute it identically and tests pin the math.
 */
import { formatDollars } from '../tokens/amountText';
import type { TokenPrice } from '../tokens/prices';
import { costOf } from '../tokens/prices';

export interface CostPreviewInput {
  /** The estimated tokens one chain needs (the estimator's budget). */
  chainTokens: number;
  /** Prompt tokens one chain sends (system prompt, question, budget line). */
  promptTokens: number;
  /** The run's token budget: prompt + output of all its chains; the run never bills more. */
  budgetTokens: number;
  /** The most the run's budget could be when it is set only after an estimate call (TALE); defaults to budgetTokens. */
  worstBudgetTokens?: number;
  /** Chains the expected figure plans for (the auto budget's anchor). */
  plannedChains: number;
  /** The budget-estimate call made before the run (TALE), billed outside the run budget. */
  estimateCall?: { promptTokens: number; maxTokens: number };
  /** Undefined = unknown price: the dollars are null, never a silent $0. */
  price: TokenPrice | undefined;
  /** Most dollars one request may spend; 0 or absent = no cap. */
  requestCapUsd?: number;
}

export interface CostPreview {
  chainTokens: number;
  budgetTokens: number;
  /** Estimate call + one chain at the estimated budget. Null when the price is unknown. */
  low: number | null;
  /** Estimate call + the planned chains at the estimated budget, within the run budget. */
  expected: number | null;
  /** Every token of the budget at the dearest rate, bounded by the per-request dollar cap. */
  worst: number | null;
  /** True when the per-request dollar cap, not the token budget, sets the worst case. */
  worstIsDollarCap: boolean;
}

export function costPreview(input: CostPreviewInput): CostPreview {
  const { chainTokens, promptTokens, budgetTokens, price } = input;
  const chainSize = Math.max(1, promptTokens + chainTokens);
  const chainsThatFit = (chains: number) => Math.max(0, Math.min(chains, budgetTokens / chainSize));
  const chainsCost = (chains: number) => costOf({ promptTokens: chains * promptTokens, cachedPromptTokens: 0, completionTokens: chains * chainTokens }, price);
  const estimateCost = input.estimateCall
    ? costOf({ promptTokens: input.estimateCall.promptTokens, cachedPromptTokens: 0, completionTokens: input.estimateCall.maxTokens }, price)
    : 0;
  if (!price || estimateCost === null) {
    return { chainTokens, budgetTokens, low: null, expected: null, worst: null, worstIsDollarCap: false };
  }
  // One chain always runs, even when the budget cuts it short.
  const low = estimateCost + Math.min(chainsCost(1) ?? 0, dearest(price) * budgetTokens / 1e6);
  const expected = estimateCost + (chainsCost(Math.max(1, chainsThatFit(input.plannedChains))) ?? 0);
  const budgetWorst = estimateCost + dearest(price) * Math.max(budgetTokens, input.worstBudgetTokens ?? 0) / 1e6;
  const cap = input.requestCapUsd && input.requestCapUsd > 0 ? input.requestCapUsd : Number.POSITIVE_INFINITY;
  const worst = Math.min(budgetWorst, cap);
  // A run cannot spend more than its worst case, so neither can the estimates of it.
  return { chainTokens, budgetTokens, low: Math.min(low, worst), expected: Math.min(Math.max(low, expected), worst), worst, worstIsDollarCap: cap < budgetWorst };
}

/** The rate no token can exceed: the split between prompt and output is unknown before the run. */
function dearest(price: TokenPrice): number {
  return Math.max(price.input, price.cachedInput, price.output);
}

/** Ask before a run whose worst case is above the threshold (0 = never ask); free or unpriced runs never ask. */
export function needsConfirmation(preview: CostPreview, confirmAboveUsd: number): boolean {
  return confirmAboveUsd > 0 && preview.worst !== null && preview.worst > confirmAboveUsd;
}

/** "estimated $0.0012–$0.0094 · worst case $0.25" (or unknown dollars). */
export function describeCostRange(preview: CostPreview): string {
  if (preview.worst === null || preview.low === null || preview.expected === null) {
    return 'dollars unknown (no price for this model; set budgetReasoner.prices)';
  }
  return `estimated ${formatDollars(preview.low)}–${formatDollars(preview.expected)} · worst case ${formatDollars(preview.worst)}`;
}

/** The modal's question before a run whose worst case is above the threshold. */
export function confirmationMessage(preview: CostPreview): string {
  return `This run may cost up to ${formatDollars(preview.worst)} (estimated ${formatDollars(preview.low)}–${formatDollars(preview.expected)}). Run it?`;
}

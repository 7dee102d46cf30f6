/** The answer panel's words and numbers, as plain functions of the view (unit-tested without a DOM). */
import { formatDollars, formatTokens, preciseDollars } from '../tokens/amountText';
import type { StrategyName } from '../config';
import type { BudgetSource, StopReason } from '../reasoning/runEvents';
import type { BudgetView, ModelSpendView, ProgressiveAnswer, RunView, StatusView } from './runView';

const SOURCE_LABELS: Record<BudgetSource, string> = {
  tale: 'TALE estimate',
  local: 'local estimate',
  fixed: 'fixed',
  fallback: 'fallback: estimate failed',
};

export const STRATEGY_LABELS: Record<StrategyName, string> = {
  'anytime-sc': 'anytime self-consistency',
  single: 'single chain',
  'value-guided': 'value-guided',
  'value-tree': 'value tree',
  cascade: 'model cascade',
};

export const REASON_LABELS: Record<StopReason, string> = {
  converged: 'Converged',
  'max-chains': 'Most chains drawn',
  'budget-exhausted': 'Budget exhausted',
  'not-sampling': 'Repeated chains',
  'cap-reached': 'Cap reached',
  stopped: 'Stopped',
  error: 'Error',
};

/** Exact counts with thousands separators ("1,234"), for the bar's label and screen readers. */
export function exactTokens(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function percent(confidence: number): string {
  return `${Math.round(Math.min(1, Math.max(0, confidence)) * 100)}%`;
}

/**
 * "2,200 tokens · a chain 220 output tokens (TALE estimate)": the run's budget in billed tokens (prompts
 * and output, as spend and the caps count), the per-chain estimate in output tokens; "estimating…" before it.
 */
export function budgetText(budget: BudgetView): string {
  if (budget.estimate) {
    const source = SOURCE_LABELS[budget.estimate.source];
    // A run of several chains: show its whole budget, with the per-chain estimate it was planned from.
    return budget.budgetTokens !== null && budget.budgetTokens !== budget.estimate.tokens
      ? `${exactTokens(budget.budgetTokens)} tokens · a chain ${exactTokens(budget.estimate.tokens)} output tokens (${source})`
      : `${exactTokens(budget.estimate.tokens)} tokens (${source})`;
  }
  return budget.budgetTokens !== null ? `${exactTokens(budget.budgetTokens)} tokens` : 'estimating…';
}

/** The header's second line, as separate parts joined with " · " by the caller. */
export function headerParts(view: RunView): string[] {
  const h = view.header;
  const models = h.models?.length ? h.models.join(' → ') : h.model;
  const parts = [models, STRATEGY_LABELS[h.strategy] ?? h.strategy, `budget ${budgetText(view.budget)}`];
  if (h.stoppingRule) {
    parts.push(h.stoppingRule);
  }
  if (h.levers) {
    parts.push(h.levers);
  }
  if (h.preferenceExamples) {
    parts.push(`${h.preferenceExamples} preference example${h.preferenceExamples === 1 ? '' : 's'}`);
  }
  return parts;
}

/** "1,234 / 4,000 tokens · $0.0031"; dollars only when the provider bills in them. */
export function spendText(budget: BudgetView, billsInDollars: boolean): string {
  const spent = exactTokens(budget.spentTokens);
  const tokens = budget.budgetTokens !== null ? `${spent} / ${exactTokens(budget.budgetTokens)} tokens` : `${spent} tokens`;
  if (!billsInDollars) {
    return tokens;
  }
  const dollars = budget.dollars === null ? `${formatDollars(budget.knownDollars)} + unknown` : formatDollars(budget.dollars);
  return `${tokens} · ${dollars}`;
}

/** One line per answer: "at 1.2k tokens · 75% · changed · 3 of 4 agree". */
export function answerMeta(a: ProgressiveAnswer): string {
  const parts = [`at ${formatTokens(a.tokensSoFar)} tokens`, percent(a.confidence), a.changed ? 'changed' : 'unchanged'];
  if (a.ruleState) {
    parts.push(a.ruleState);
  }
  return parts.join(' · ');
}

/** What #status says: what is happening, or why the run ended. */
export function statusText(status: StatusView, billsInDollars: boolean): string {
  if (status.state === 'running') {
    return status.phase ? `Running · ${status.phase}` : 'Running';
  }
  if (status.state === 'interrupted') {
    return `Interrupted (window reloaded)${status.reason ? ` · ${REASON_LABELS[status.reason]}` : ''}`;
  }
  const why = status.reason ? REASON_LABELS[status.reason] : 'Finished';
  const message = status.message ? `: ${status.message}` : '';
  const spend = status.finalSpend ? ` · spent ${exactTokens(status.finalSpend.tokens)} tokens${billsInDollars ? ` · ${formatDollars(status.finalSpend.dollars)}` : ''}` : '';
  return `${why}${message}${spend}`;
}

/** The legend under the budget bar: only the purposes that were spent. */
export function budgetLegend(budget: BudgetView): Array<{ key: string; label: string; tokens: number }> {
  const rows = [
    { key: 'estimate', label: 'estimate', tokens: budget.byPurpose.estimate },
    { key: 'attempt', label: 'chains', tokens: budget.byPurpose.attempt },
    { key: 'forced-answer', label: 'forced answers', tokens: budget.byPurpose['forced-answer'] },
    { key: 'other', label: 'other', tokens: budget.byPurpose.other },
    { key: 'reasoning', label: 'reasoning tokens', tokens: budget.reasoningTokens },
    { key: 'in-flight', label: 'streaming (approx.)', tokens: budget.inFlightTokens },
  ];
  return rows.filter((r) => r.tokens > 0);
}

export function anytimeIndexText(index: number | null): string {
  return index === null ? 'Anytime Index —' : `Anytime Index ${index.toFixed(2)}`;
}

/** A short panel title from the question: its first line, cut at a word near 40 characters. */
export function shortTitle(question: string, max = 40): string {
  const line = question.replace(/\s+/g, ' ').trim();
  if (line.length <= max) {
    return line || 'Answer';
  }
  const cut = line.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/**
 * Whether the panel labels answers and attempts by model and shows the cost by model: only for a run
 * over several models (a cascade header, spend billed to more than one model, or an event naming its
 * model). A single-model run looks as it always did.
 */
export function showsModels(view: RunView): boolean {
  return (view.header.models?.length ?? 0) > 0
    || view.budget.byModel.length > 1
    || view.attempts.some((a) => a.model !== undefined)
    || view.answers.some((a) => a.model !== undefined);
}

// Part of the panel's words too (the cost-by-model table); declared with the other dollar formats.
export { preciseDollars };

/** A model's (or the run's) dollars: "unpriced" when no call had a price, "$x + unpriced" when only some did. */
export function modelDollarsText(dollars: number | null, knownDollars: number): string {
  if (dollars !== null) {
    return preciseDollars(dollars);
  }
  return knownDollars > 0 ? `${preciseDollars(knownDollars)} + unpriced` : 'unpriced';
}

export interface ModelCostRow {
  model: string;
  calls: string;
  tokensIn: string;
  tokensOut: string;
  /** Absent when the provider does not bill in dollars (a local endpoint): tokens only. */
  dollars?: string;
}

/** The "Cost by model" table: one row per model billed, in the order they were called, then the total when there are several. */
export function modelCostRows(budget: BudgetView, billsInDollars: boolean): { rows: ModelCostRow[]; total: ModelCostRow | null } {
  const row = (model: string, m: Pick<ModelSpendView, 'calls' | 'promptTokens' | 'completionTokens' | 'dollars' | 'knownDollars'>): ModelCostRow => ({
    model,
    calls: exactTokens(m.calls),
    tokensIn: exactTokens(m.promptTokens),
    tokensOut: exactTokens(m.completionTokens),
    ...(billsInDollars ? { dollars: modelDollarsText(m.dollars, m.knownDollars) } : {}),
  });
  const rows = budget.byModel.map((m) => row(m.model, m));
  const total = rows.length > 1 ? row('Total', budget) : null;
  return { rows, total };
}

/** The run's models in ladder order (the header's list, then as they appear): a model's place picks its badge colour. */
export function modelOrder(view: RunView): string[] {
  const seen = new Set<string>(view.header.models ?? []);
  for (const a of view.attempts) {
    if (a.model !== undefined) {
      seen.add(a.model);
    }
  }
  for (const m of view.budget.byModel) {
    seen.add(m.model);
  }
  return [...seen];
}

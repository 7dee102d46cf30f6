/** The answer panel's words and numbers, as plain functions of the view (unit-tested without a DOM). */
import { formatDollars, formatTokens } from '../budget/meterFormat';
import type { BudgetSource, StopReason } from '../reasoning/runEvents';
import type { BudgetView, ProgressiveAnswer, RunView, StatusView } from './runView';

const SOURCE_LABELS: Record<BudgetSource, string> = {
  tale: 'TALE estimate',
  local: 'local estimate',
  fixed: 'fixed',
  fallback: 'fallback: estimate failed',
};

export const STRATEGY_LABELS: Record<string, string> = {
  'anytime-sc': 'anytime self-consistency',
  single: 'single chain',
  'value-guided': 'value-guided',
};

const REASON_LABELS: Record<StopReason, string> = {
  converged: 'Converged',
  'budget-exhausted': 'Budget exhausted',
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

/** "1,200 tokens (TALE estimate)"; "estimating…" before the estimate arrives. */
export function budgetText(budget: BudgetView): string {
  if (budget.estimate) {
    const chain = `${exactTokens(budget.estimate.tokens)} tokens (${SOURCE_LABELS[budget.estimate.source]})`;
    // A run of several chains: show its whole budget, with the per-chain estimate it was planned from.
    return budget.budgetTokens !== null && budget.budgetTokens !== budget.estimate.tokens
      ? `${exactTokens(budget.budgetTokens)} tokens, ${chain} a chain`
      : chain;
  }
  return budget.budgetTokens !== null ? `${exactTokens(budget.budgetTokens)} tokens` : 'estimating…';
}

/** The header's second line, as separate parts joined with " · " by the caller. */
export function headerParts(view: RunView): string[] {
  const h = view.header;
  const parts = [h.model, STRATEGY_LABELS[h.strategy] ?? h.strategy, `budget ${budgetText(view.budget)}`];
  if (h.stoppingRule) {
    parts.push(h.stoppingRule);
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

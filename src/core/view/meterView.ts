/** What the status-bar meter says, as plain data: unit-tested without VS Code. */
import type { SpendTotals } from '../ledger/spendLedger';
import { formatDollars, formatTokens } from '../tokens/amountText';

export interface MeterState {
  run?: { tokens: number; budget: number; dollars: number | null; running: boolean };
  session: SpendTotals;
  today: SpendTotals;
  month: SpendTotals;
  /** 0 = no cap. */
  dailyCapUsd: number;
  dailyTokenCap: number;
  requestCapUsd: number;
  requestBudget: 'auto' | number;
  model: string;
  priceSource: string;
  billsInDollars: boolean;
  /** What the question selected in the editor would cost (local estimate, no call); absent when nothing is selected. */
  preview?: SelectionPreview;
}

/** The cost preview of the selected question, as the tooltip shows it. Dollars are null when the price is unknown. */
export interface SelectionPreview {
  /** The estimated token budget of one chain. */
  tokens: number;
  low: number | null;
  expected: number | null;
  worst: number | null;
}

export type MeterLevel = 'normal' | 'warning' | 'error';

export interface MeterView {
  text: string;
  /** Exact figures for screen readers (and tests): no abbreviations. */
  ariaLabel: string;
  tooltipMarkdown: string;
  level: MeterLevel;
}

/** Share of the tightest cap used today or by the running request (0..1+), for the warning colours. */
export function capUse(state: MeterState): number {
  const shares: number[] = [];
  if (state.dailyCapUsd > 0) {
    shares.push(state.today.dollars / state.dailyCapUsd);
  }
  if (state.dailyTokenCap > 0) {
    shares.push(state.today.tokens / state.dailyTokenCap);
  }
  if (state.run && state.run.budget > 0) {
    shares.push(state.run.tokens / state.run.budget);
  }
  if (state.run && state.requestCapUsd > 0 && state.run.dollars !== null) {
    shares.push(state.run.dollars / state.requestCapUsd);
  }
  return shares.length ? Math.max(...shares) : 0;
}

export function meterView(state: MeterState): MeterView {
  const use = capUse(state);
  const level: MeterLevel = use >= 1 ? 'error' : use >= 0.8 ? 'warning' : 'normal';
  let text: string;
  let ariaLabel: string;
  if (state.run) {
    const money = state.billsInDollars ? ` · ${formatDollars(state.run.dollars)}` : '';
    text = `$(pulse) ${formatTokens(state.run.tokens)}/${formatTokens(state.run.budget)} tok${money}`;
    ariaLabel = `Budget Reasoner: ${state.run.running ? 'running, ' : 'last run '}${state.run.tokens} of ${state.run.budget} tokens${state.billsInDollars ? `, ${formatDollars(state.run.dollars)}` : ''}`;
  } else {
    const cap = state.dailyCapUsd > 0 ? `/${formatDollars(state.dailyCapUsd)}` : '';
    text = `$(pulse) ${formatDollars(state.today.dollars, state.today.unpriced)}${cap} today`;
    ariaLabel = `Budget Reasoner: ${state.today.tokens} tokens and ${formatDollars(state.today.dollars, state.today.unpriced)} spent today${state.dailyCapUsd > 0 ? ` of a ${formatDollars(state.dailyCapUsd)} daily cap` : ''}`;
  }
  const row = (name: string, t: SpendTotals) => `| ${name} | ${t.tokens.toLocaleString('en-US')} | ${formatDollars(t.dollars, t.unpriced)} |`;
  const lines = [
    '**Budget Reasoner**',
    '',
    '| | tokens | dollars |',
    '|---|---:|---:|',
  ];
  if (state.run) {
    lines.push(`| this run | ${state.run.tokens.toLocaleString('en-US')} of ${state.run.budget.toLocaleString('en-US')} | ${formatDollars(state.run.dollars)} |`);
  }
  lines.push(row('this session', state.session), row('today', state.today), row('this month', state.month));
  lines.push('');
  const caps = [
    `daily cap ${state.dailyCapUsd > 0 ? formatDollars(state.dailyCapUsd) : 'none'}`,
    `daily tokens ${state.dailyTokenCap > 0 ? state.dailyTokenCap.toLocaleString('en-US') : 'no cap'}`,
    `per request ${state.requestBudget === 'auto' ? 'auto budget' : `${state.requestBudget.toLocaleString('en-US')} tokens`}${state.requestCapUsd > 0 ? `, ${formatDollars(state.requestCapUsd)}` : ''}`,
  ];
  if (state.preview) {
    lines.push(previewLine(state.preview, state.billsInDollars), '');
  }
  lines.push(`Caps: ${caps.join(' · ')}`, '', `Model: \`${state.model}\` · prices: ${state.priceSource}`);
  if (state.today.unpriced) {
    lines.push('', '_Some calls used a model with no known price: their dollars are not counted. Set `budgetReasoner.prices`._');
  }
  lines.push('', 'Click for budget, caps, model and the spend report.');
  return { text, ariaLabel, tooltipMarkdown: lines.join('\n'), level };
}

/** "Selected question: ~N tokens · estimated $a–$b · worst case $c". */
export function previewLine(p: SelectionPreview, billsInDollars = true): string {
  const head = `Selected question: ~${p.tokens.toLocaleString('en-US')} tokens`;
  if (!billsInDollars) {
    return head;
  }
  if (p.low === null || p.expected === null || p.worst === null) {
    return `${head} · dollars unknown (no price for this model)`;
  }
  return `${head} · estimated ${formatDollars(p.low)}–${formatDollars(p.expected)} · worst case ${formatDollars(p.worst)}`;
}

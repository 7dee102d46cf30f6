/** What the status-bar meter says, as plain data: unit-tested without VS Code. */
import type { SpendTotals } from '../ledger/spendLedger';
import { formatDollars, formatTokens } from '../tokens/amountText';

export interface MeterState {
  /** The run going on (`running`), else the last run of this window, which the tooltip still shows. */
  run?: { tokens: number; budget: number; dollars: number | null; running: boolean };
  session: SpendTotals;
  today: SpendTotals;
  month: SpendTotals;
  /** 0 = no cap. */
  dailyCapUsd: number;
  dailyTokenCap: number;
  requestCapUsd: number;
  requestBudget: 'auto' | number;
  /** The warning colour from this percent of a cap (`budgetReasoner.warnAtPercent`). */
  warnAtPercent: number;
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

/** One cap the meter watches and how much of it is used. */
export interface CapUse {
  /** In words: "the daily dollar cap". */
  cap: string;
  /** Used / cap (0..1+). */
  share: number;
}

/**
 * The caps that colour the meter: idle, today's spend against the daily caps; during a run, also the
 * run against its token budget and the per-request dollar cap. The tightest first.
 */
export function capUses(state: MeterState): CapUse[] {
  const uses: CapUse[] = [];
  if (state.dailyCapUsd > 0) {
    uses.push({ cap: 'the daily dollar cap', share: state.today.dollars / state.dailyCapUsd });
  }
  if (state.dailyTokenCap > 0) {
    uses.push({ cap: 'the daily token cap', share: state.today.tokens / state.dailyTokenCap });
  }
  const run = state.run?.running ? state.run : undefined;
  if (run && run.budget > 0) {
    uses.push({ cap: "this run's token budget", share: run.tokens / run.budget });
  }
  if (run && state.requestCapUsd > 0 && run.dollars !== null) {
    uses.push({ cap: 'the per-request dollar cap', share: run.dollars / state.requestCapUsd });
  }
  return uses.sort((a, b) => b.share - a.share);
}

/** Error at or over a cap; warning from `warnAtPercent` of one. */
export function levelOf(share: number, warnAtPercent: number): MeterLevel {
  return share >= 1 ? 'error' : share * 100 >= warnAtPercent ? 'warning' : 'normal';
}

/** The meter's colour: the level of its tightest cap. */
export function meterLevel(state: MeterState): MeterLevel {
  return levelOf(capUses(state)[0]?.share ?? 0, state.warnAtPercent);
}

/** "21%", "<1%" for a little spend, floored so that a share shown below the threshold is below it. */
export function percentText(share: number): string {
  const p = Math.floor(share * 100);
  return p === 0 && share > 0 ? '<1%' : `${p}%`;
}

const count = (n: number) => n.toLocaleString('en-US');

export function meterView(state: MeterState): MeterView {
  const level = meterLevel(state);
  const run = state.run;
  const running = run?.running ? run : undefined;
  const lastRun = run && !run.running ? run : undefined;
  const runDollars = (r: NonNullable<MeterState['run']>) => (state.billsInDollars ? `, ${formatDollars(r.dollars)}` : '');
  const todayDollars = formatDollars(state.today.dollars, state.today.unpriced);
  const dollarCap = state.dailyCapUsd > 0 && state.billsInDollars;

  let text: string;
  let ariaLabel: string;
  if (running) {
    const money = state.billsInDollars ? ` · ${formatDollars(running.dollars)}` : '';
    text = `$(sync~spin) ${formatTokens(running.tokens)}/${formatTokens(running.budget)} tok${money}`;
    ariaLabel = `Budget Reasoner: running, ${running.tokens} of ${running.budget} tokens${runDollars(running)}`;
  } else {
    const parts: string[] = [];
    if (dollarCap) {
      parts.push(`${todayDollars}/${formatDollars(state.dailyCapUsd)}`);
    }
    if (state.dailyTokenCap > 0) {
      parts.push(`${formatTokens(state.today.tokens)}/${formatTokens(state.dailyTokenCap)} tok`);
    }
    const alone = state.billsInDollars ? todayDollars : `${formatTokens(state.today.tokens)} tok`;
    text = parts.length ? `$(pulse) ${parts.join(' · ')} today` : `$(pulse) ${alone} today · no cap`;
    ariaLabel = `Budget Reasoner: ${state.today.tokens} tokens and ${todayDollars} spent today, ${dailyCapsInWords(state, false).join(', ')}`;
  }
  const top = capUses(state)[0];
  if (level !== 'normal' && top) {
    ariaLabel += level === 'error' ? `; at ${top.cap}` : `; warning: ${percentText(top.share)} of ${top.cap}`;
  }
  if (lastRun) {
    ariaLabel += `; last run ${lastRun.tokens} of ${lastRun.budget} tokens${runDollars(lastRun)}`;
  }

  const row = (name: string, t: SpendTotals) => `| ${name} | ${count(t.tokens)} | ${formatDollars(t.dollars, t.unpriced)} |`;
  const lines = [
    '**Budget Reasoner**',
    '',
    '| | tokens | dollars |',
    '|---|---:|---:|',
  ];
  if (run) {
    lines.push(`| ${run.running ? 'this run' : 'last run'} | ${count(run.tokens)} of ${count(run.budget)} | ${formatDollars(run.dollars)} |`);
  }
  lines.push(row('this session', state.session), row('today', state.today), row('this month', state.month));
  lines.push('', `Today: ${dailyCapsInWords(state, true).join(' · ')}`);
  if (level !== 'normal' && top) {
    lines.push('', level === 'error'
      ? `$(error) At ${top.cap}: a call that does not fit is not sent.`
      : `$(warning) ${percentText(top.share)} of ${top.cap}: the meter warns from ${state.warnAtPercent}% (\`budgetReasoner.warnAtPercent\`).`);
  }
  lines.push('');
  const caps = [
    `per request ${state.requestBudget === 'auto' ? 'auto budget' : `${count(state.requestBudget)} tokens`}${state.requestCapUsd > 0 ? `, ${formatDollars(state.requestCapUsd)}` : ''}`,
    `warning at ${state.warnAtPercent}%`,
  ];
  if (state.preview) {
    lines.push(previewLine(state.preview, state.billsInDollars), '');
  }
  lines.push(`Caps: ${caps.join(' · ')}`, '', `Model: \`${state.model}\` · prices: ${state.priceSource}`);
  if (state.today.unpriced) {
    lines.push('', '_Some calls used a model with no known price: their dollars are not counted. Set `budgetReasoner.prices`._');
  }
  lines.push('', 'Click for the budget, the caps, the warning threshold, the model and the spend view.');
  return { text, ariaLabel, tooltipMarkdown: lines.join('\n'), level };
}

/**
 * Today against each daily cap, in words: "$0.42 of the $2.00 daily cap (21%)", or, after the amounts
 * were said (`amounts: false`), "21% of the $2.00 daily cap"; "no daily cap" when none is set.
 */
function dailyCapsInWords(state: MeterState, amounts: boolean): string[] {
  const words: string[] = [];
  const say = (used: string, cap: string, share: number) => (amounts ? `${used} of the ${cap} daily cap (${percentText(share)})` : `${percentText(share)} of the ${cap} daily cap`);
  if (state.dailyCapUsd > 0) {
    words.push(say(formatDollars(state.today.dollars, state.today.unpriced), formatDollars(state.dailyCapUsd), state.today.dollars / state.dailyCapUsd));
  }
  if (state.dailyTokenCap > 0) {
    words.push(say(`${count(state.today.tokens)} tokens`, `${count(state.dailyTokenCap)}-token`, state.today.tokens / state.dailyTokenCap));
  }
  return words.length ? words : ['no daily cap'];
}

/** "Selected question: a chain ~N output tokens · estimated $a–$b · worst case $c" (N is the chain budget it would be given). */
export function previewLine(p: SelectionPreview, billsInDollars = true): string {
  const head = `Selected question: a chain ~${p.tokens.toLocaleString('en-US')} output tokens`;
  if (!billsInDollars) {
    return head;
  }
  if (p.low === null || p.expected === null || p.worst === null) {
    return `${head} · dollars unknown (no price for this model)`;
  }
  return `${head} · estimated ${formatDollars(p.low)}–${formatDollars(p.expected)} · worst case ${formatDollars(p.worst)}`;
}

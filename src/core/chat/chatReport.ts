/**
 * @budget in VS Code Chat, the part that needs no VS Code: what a chat message asks for (a slash
 * command and its argument), and how a run's events read in a chat response. A chat response
 * only appends, so the reporter writes progress lines for every answer and markdown only when the
 * best answer changes, then the final answer and a one-line spend summary.
 */
import { formatDollars, formatTokens } from '../tokens/amountText';
import { describeCostRange, type CostPreview } from '../run/costPreview';
import { MAX_REQUEST_BUDGET, MIN_REQUEST_BUDGET } from '../config';
import type { LedgerTotals } from '../ledger/spendLedger';
import type { RunEvent } from '../reasoning/runEvents';
import { initialRunView, reduceRunView, withHeader, type RunHeader, type RunView } from '../view/runView';
import { exactTokens, REASON_LABELS } from '../view/runViewText';

/** What the chat response can show (VS Code's ChatResponseStream has these and more). */
export interface ChatSink {
  progress(text: string): void;
  markdown(text: string): void;
}

export type ChatAsk =
  | { kind: 'reason'; question: string; budgetTokens?: number }
  | { kind: 'estimate'; question: string; budgetTokens?: number }
  | { kind: 'spend' }
  | { kind: 'invalid'; message: string };

/**
 * Reads a chat request: `command` is the slash command VS Code parsed (without the slash), `prompt`
 * the rest. `/budget N question` sets this request's budget; `/estimate [N] question` only estimates.
 */
export function parseChatAsk(command: string | undefined, prompt: string): ChatAsk {
  const text = prompt.trim();
  switch (command) {
    case 'spend':
      return { kind: 'spend' };
    case 'budget':
    case 'estimate': {
      const m = /^(\S+)\s*([\s\S]*)$/.exec(text);
      const first = m?.[1] ?? '';
      const looksLikeBudget = /^[+-]?[\d_,.]+k?$/i.test(first);
      if (command === 'budget' && !looksLikeBudget) {
        return { kind: 'invalid', message: `Give the budget first: \`/budget 2000 your question\` (a whole number of tokens from ${MIN_REQUEST_BUDGET} to ${exactTokens(MAX_REQUEST_BUDGET)}).` };
      }
      let budgetTokens: number | undefined;
      let question = text;
      if (looksLikeBudget) {
        const n = parseBudget(first);
        if (n === undefined) {
          return { kind: 'invalid', message: `"${first.slice(0, 20)}" is not a budget: use a whole number of tokens from ${MIN_REQUEST_BUDGET} to ${exactTokens(MAX_REQUEST_BUDGET)}, e.g. \`/budget 2000 your question\`. Nothing was sent.` };
        }
        budgetTokens = n;
        question = m?.[2]?.trim() ?? '';
      }
      if (!question) {
        return { kind: 'invalid', message: `Add the question after the ${command === 'budget' ? 'budget' : 'command'}: \`/${command}${budgetTokens !== undefined ? ` ${budgetTokens}` : ''} your question\`. Nothing was sent.` };
      }
      return { kind: command === 'budget' ? 'reason' : 'estimate', question, ...(budgetTokens !== undefined ? { budgetTokens } : {}) };
    }
    case undefined:
    case '':
      return { kind: 'reason', question: text };
    default:
      return { kind: 'invalid', message: `@budget has no /${command} command: use /estimate, /budget N or /spend, or just ask.` };
  }
}

/** "2000", "2,000", "2k" → tokens; undefined outside the settings' range or not whole. */
function parseBudget(s: string): number | undefined {
  const k = /k$/i.test(s);
  const n = Number(s.replace(/k$/i, '').replace(/[_,]/g, '')) * (k ? 1000 : 1);
  return Number.isInteger(n) && n >= MIN_REQUEST_BUDGET && n <= MAX_REQUEST_BUDGET ? n : undefined;
}

/** Markdown-escapes text from the model for an inline position (the full chain is shown as markdown). */
export function inlineText(s: string, max = 200): string {
  const one = s.replace(/\s+/g, ' ').trim();
  const cut = one.length > max ? `${one.slice(0, max - 1)}…` : one;
  return cut.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => `\\${c}`);
}

/** The closing line: "Spent 1,234 tokens · $0.0012 of a 4,000-token budget · converged: 3 of 4 agree." */
export function spendSummaryLine(view: RunView, billsInDollars: boolean): string {
  const b = view.budget;
  const dollars = billsInDollars ? ` · ${formatDollars(b.knownDollars, b.dollars === null)}` : '';
  const budget = b.budgetTokens !== null ? ` of a ${exactTokens(b.budgetTokens)}-token budget` : '';
  const calls = `${b.calls} call${b.calls === 1 ? '' : 's'}`;
  const why = view.status.reason ? ` · ${REASON_LABELS[view.status.reason].toLowerCase()}${view.status.message ? `: ${view.status.message}` : ''}` : '';
  return `Spent ${exactTokens(b.spentTokens)} tokens${dollars}${budget} in ${calls}${why}`;
}

/** Folds a run's events into the panel's view model and reports them to the chat as they come. */
export class ChatRunReporter {
  /** Everything the run showed, for opening the full answer panel afterwards. */
  view: RunView;

  constructor(private readonly sink: ChatSink, header: RunHeader) {
    this.view = initialRunView(header);
  }

  updateHeader(patch: Partial<RunHeader>): void {
    this.view = withHeader(this.view, patch);
  }

  push(event: RunEvent): void {
    this.view = reduceRunView(this.view, event);
    switch (event.type) {
      case 'budget-estimated':
        this.sink.progress(`Budget: ${formatTokens(event.tokens)} output tokens a chain (${event.source})${event.totalTokens ? `, ${formatTokens(event.totalTokens)} tokens for the run` : ''}`);
        return;
      case 'attempt-started':
        if (event.purpose !== 'estimate') {
          // VS Code renders progress text as markdown too: model names and answers are escaped.
          const best = this.view.answers.at(-1);
          this.sink.progress(`Chain ${event.attempt}${event.model ? ` on ${inlineText(event.model, 60)}` : ''}: up to ${formatTokens(event.maxTokens)} tokens${best ? ` · best so far ${inlineText(best.answer, 80)}` : ''}`);
        }
        return;
      case 'answer': {
        // The view has folded this answer in: its count is this answer's number.
        const n = this.view.answers.length;
        const where = event.model ? ` (${inlineText(event.model, 60)})` : '';
        this.sink.progress(`Answer ${n}: ${inlineText(event.answer, 80)} · ${event.ruleState}`);
        if (event.changed || n === 1) {
          this.sink.markdown(`${n === 1 ? '' : '\n\n'}**Answer ${n}${where}:** ${inlineText(event.answer)} — ${Math.round(event.confidence * 100)}% confident after ${formatTokens(event.tokensSoFar)} tokens`);
        }
        return;
      }
      case 'error':
        this.sink.markdown(`\n\n> ${inlineText(event.message, 400)}`);
        return;
      default:
        return;
    }
  }

  /** The final answer's chain in full and the spend line; call once the run is over. */
  finish(billsInDollars: boolean): void {
    const best = this.view.answers[this.view.answers.length - 1];
    if (best?.text.trim()) {
      this.sink.markdown(`\n\n---\n\n${best.text.trim()}`);
    } else if (!best) {
      this.sink.markdown(`\n\nNo answer${this.view.status.message ? `: ${inlineText(this.view.status.message, 400)}` : '.'}`);
    }
    this.sink.markdown(`\n\n*${spendSummaryLine(this.view, billsInDollars)}*`);
  }
}

/** `/estimate`: the budget and what the run would cost, before (instead of) running it. */
export function estimateMarkdown(preview: CostPreview, model: string, source: string): string {
  const lines = [
    `**Estimated budget:** ${exactTokens(preview.chainTokens)} output tokens a chain (${source}), ${exactTokens(preview.budgetTokens)} tokens for the run on ${inlineText(model, 80)}.`,
    '',
    `**Cost:** ${describeCostRange(preview)}${preview.worstIsDollarCap ? ' (the per-request cap)' : ''}.`,
    '',
    'Nothing was sent: the estimate is local. Ask without /estimate to run it.',
  ];
  return lines.join('\n');
}

export interface SpendSummaryInput {
  today: LedgerTotals;
  month: LedgerTotals;
  dailyCapUsd: number;
  dailyTokenCap: number;
  requestCapUsd: number;
  requestBudget: 'auto' | number;
}

/** `/spend`: today's and this month's spend against the caps. */
export function spendMarkdown(s: SpendSummaryInput): string {
  const spent = (t: LedgerTotals) => `${formatDollars(t.dollars, t.unpriced)} · ${exactTokens(t.tokens)} tokens in ${t.calls} call${t.calls === 1 ? '' : 's'}`;
  const of = (used: number, cap: number, fmt: (n: number) => string) => (cap > 0 ? ` — ${Math.round((used / cap) * 100)}% of the ${fmt(cap)} daily cap` : '');
  return [
    `**Today:** ${spent(s.today)}${of(s.today.dollars, s.dailyCapUsd, (n) => formatDollars(n))}${of(s.today.tokens, s.dailyTokenCap, (n) => `${exactTokens(n)}-token`)}`,
    '',
    `**This month:** ${spent(s.month)}`,
    '',
    `**Caps:** ${s.requestCapUsd > 0 ? `${formatDollars(s.requestCapUsd)} a request` : 'no per-request dollar cap'} · ${s.dailyCapUsd > 0 ? `${formatDollars(s.dailyCapUsd)} a day` : 'no daily dollar cap'}${s.dailyTokenCap > 0 ? ` · ${exactTokens(s.dailyTokenCap)} tokens a day` : ''} · budget ${s.requestBudget === 'auto' ? 'auto (estimated per question)' : `${exactTokens(s.requestBudget)} tokens a request`}`,
  ].join('\n');
}

/**
 * TALE-EP (arXiv 2412.18547): ask the model how many tokens the answer needs, in one small call.
 * Whatever goes wrong (no number, garbage, absurd values, a failed call) falls back to the local
 * estimate and says so.
 */
import type { SpendRecord } from '../ledger/spendRecord';
import type { EstimatorMode } from '../config';
import { CallFailure } from './modelCaller';
import type { ModelCaller } from './modelCaller';
import type { BudgetSource } from './localEstimator';
import type { BudgetEstimate, LocalBudgetEstimator } from './localEstimator';

export function taleEstimatePrompt(question: string): string {
  return 'Task: Analyze the given question and estimate the minimum number of tokens required to generate a complete and accurate response. '
    + 'Please give the response by strictly following this format: [[budget]], for example: Budget: [[12]].\n'
    + `Question: ${question}`;
}

export interface BudgetParse {
  tokens?: number;
  /** Why the reply was not usable, or how it was adjusted. */
  note?: string;
}

/**
 * The first `[[N]]`, or a reply that is only a number ("120", "Budget: 120 tokens"); clamped to
 * [min, cap]. Anything else is no estimate: a number inside prose ("First, 2 x 5 = 6") is the
 * model answering the question, not sizing it. Zero, negative or absurd values are refused.
 */
export function parseTaleBudget(reply: string, minTokens: number, capTokens: number): BudgetParse {
  const bracketed = /\[\[\s*(-?\d+(?:\.\d+)?)\s*\]\]/.exec(reply);
  const bare = bracketed ?? /^\s*(?:budget\s*[:：]?\s*)?(-?\d[\d,]*(?:\.\d+)?)\s*(?:tokens?)?\s*\.?\s*$/i.exec(reply);
  if (!bare) {
    return { note: `the model said "${quoteReply(reply)}", with no [[N]]` };
  }
  const value = Number(bare[1].replace(/,/g, ''));
  if (!Number.isFinite(value) || value <= 0) {
    return { note: `the model gave ${bare[1]}, not a positive number` };
  }
  // Far above the cap means the reply is not a budget (a year, an answer), not a large budget.
  if (value > capTokens * 100) {
    return { note: `the model gave ${bare[1]}, far above the ${capTokens}-token cap` };
  }
  const tokens = Math.min(capTokens, Math.max(minTokens, Math.round(value)));
  const note = tokens !== Math.round(value) ? `the model said ${bare[1]}; clamped to ${tokens}` : bracketed ? undefined : 'the model answered with a bare number, not [[N]]';
  return { tokens, ...(note ? { note } : {}) };
}

/** A reply as quoted in a note: one line, at most 60 characters. */
function quoteReply(reply: string): string {
  const line = reply.replace(/\s+/g, ' ').trim();
  return line ? (line.length > 60 ? `${line.slice(0, 57)}...` : line) : '(nothing)';
}

export interface TaleEstimatorOptions {
  caller: ModelCaller;
  fallback: LocalBudgetEstimator;
  minTokens?: number;
  capTokens?: number;
  /** max_tokens of the estimate call: the reply is only "[[N]]". */
  maxTokens?: number;
}

export class TaleBudgetEstimator {
  constructor(private readonly options: TaleEstimatorOptions) {}

  async estimate(question: string, signal: AbortSignal): Promise<BudgetEstimate & { source: Extract<BudgetSource, 'tale' | 'fallback'> }> {
    const minTokens = this.options.minTokens ?? 32;
    const capTokens = this.options.capTokens ?? 8192;
    const records: SpendRecord[] = [];
    let reply: string;
    try {
      const result = await this.options.caller.call(
        { messages: [{ role: 'user', content: taleEstimatePrompt(question) }], maxTokens: this.options.maxTokens ?? 16, temperature: 0 },
        'estimate',
        signal,
      );
      records.push(result.record);
      reply = result.choices[0]?.text ?? '';
    } catch (error) {
      if (error instanceof CallFailure) {
        records.push(error.record);
      }
      if (signal.aborted || (error instanceof CallFailure && (error.cause as { kind?: string }).kind === 'aborted')) {
        throw error;
      }
      return this.fallback(question, `the estimate call failed (${error instanceof Error ? error.message : String(error)})`, records);
    }
    const parsed = parseTaleBudget(reply, minTokens, capTokens);
    if (parsed.tokens === undefined) {
      return this.fallback(question, parsed.note ?? 'unusable reply', records);
    }
    return { tokens: parsed.tokens, source: 'tale', ...(parsed.note ? { note: `TALE: ${parsed.note}` } : {}), records };
  }

  private fallback(question: string, why: string, records: SpendRecord[]): BudgetEstimate & { source: 'fallback' } {
    const local = this.options.fallback.estimate(question);
    return { tokens: local.tokens, source: 'fallback', note: `estimate failed: ${why}; using the local estimate of ${local.tokens} tokens.`, records };
  }
}

/** Runs learned before `auto` trusts the local estimator over a TALE call. */
export const AUTO_LOCAL_AFTER_RUNS = 20;

/**
 * The budget for one question under the estimator setting: `fixed` uses the configured number,
 * `local` never calls, `tale` always asks, `auto` asks until the local estimator has learned enough.
 */
export async function estimateBudget(
  mode: EstimatorMode,
  question: string,
  estimators: { local: LocalBudgetEstimator; tale: TaleBudgetEstimator; fixedTokens?: number; autoLocalAfterRuns?: number },
  signal: AbortSignal,
): Promise<BudgetEstimate> {
  if (mode === 'fixed' && estimators.fixedTokens !== undefined) {
    return { tokens: estimators.fixedTokens, source: 'fixed' };
  }
  if (mode === 'local' || mode === 'fixed' || (mode === 'auto' && estimators.local.learnedRuns >= (estimators.autoLocalAfterRuns ?? AUTO_LOCAL_AFTER_RUNS))) {
    return estimators.local.estimate(question);
  }
  return estimators.tale.estimate(question, signal);
}

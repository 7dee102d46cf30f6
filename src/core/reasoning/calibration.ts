/**
 * TALE's budget search over the user's own question/answer pairs: start from a correct vanilla
 * answer's length, halve the budget while the answer stays correct and gets cheaper, stop at the
 * first failure. The per-example needs feed LocalBudgetEstimator.learn.
 */
import type { ModelCaller } from '../budget/modelCaller';
import { CallFailure, CapRefusal } from '../budget/modelCaller';
import { answersEqual, extractAnswer } from './answers';
import { budgetPromptLine } from '../budget/budgetTracker';
import type { PreferenceChain } from './preferenceExamples';

export interface CalibrationExample {
  question: string;
  answer: string;
}

export interface CalibrationResult {
  question: string;
  /** Output tokens of the cheapest correct response found; undefined when none was correct. */
  neededTokens?: number;
  /** The smallest prompt budget that still gave a correct answer. */
  budget?: number;
  vanillaTokens?: number;
  calls: number;
  /** Every reply of the search (the vanilla one, then each probe), correct or not: what a preference pair is built from. */
  chains: PreferenceChain[];
}

export interface CalibrationProgress {
  example: number;
  of: number;
  tokensSpent: number;
  message: string;
}

export interface CalibrationOptions {
  caller: ModelCaller;
  examples: readonly CalibrationExample[];
  /** Hard ceiling on all tokens (prompt + output) the calibration may spend. */
  totalTokenCap: number;
  systemPrompt?: string;
  /** max_tokens of the vanilla call. */
  maxTokensPerCall?: number;
  minBudget?: number;
  onProgress?: (progress: CalibrationProgress) => void;
  signal: AbortSignal;
}

export interface CalibrationReport {
  results: CalibrationResult[];
  tokensSpent: number;
  /** Why it ended before the last example, if it did. */
  stoppedEarly?: 'token-cap' | 'cap-refusal' | 'aborted' | 'error';
  message?: string;
}

const DEFAULT_SYSTEM = 'Please reason step by step, and put your final answer within \\boxed{}.';

export async function calibrateBudgets(options: CalibrationOptions): Promise<CalibrationReport> {
  const results: CalibrationResult[] = [];
  let tokensSpent = 0;
  const system = options.systemPrompt ?? DEFAULT_SYSTEM;
  const minBudget = options.minBudget ?? 16;

  /** One call, or the reason calibration must end. Prompt tokens are guessed at 1 per 3 chars up front. */
  const ask = async (content: string, maxTokens: number): Promise<{ text: string; tokens: number; truncated: boolean } | CalibrationReport['stoppedEarly']> => {
    const promptGuess = Math.ceil((system.length + content.length) / 3);
    const allowed = Math.min(maxTokens, options.totalTokenCap - tokensSpent - promptGuess);
    if (allowed < minBudget) {
      return 'token-cap';
    }
    try {
      const r = await options.caller.call(
        { messages: [{ role: 'system', content: system }, { role: 'user', content }], maxTokens: allowed },
        'calibration',
        options.signal,
      );
      tokensSpent += r.usage.promptTokens + r.usage.completionTokens;
      return { text: r.choices[0]?.text ?? '', tokens: r.usage.completionTokens, truncated: r.choices[0]?.finishReason === 'length' };
    } catch (error) {
      if (error instanceof CallFailure) {
        tokensSpent += error.record.promptTokens + error.record.completionTokens;
      }
      if (options.signal.aborted) {
        return 'aborted';
      }
      return error instanceof CapRefusal ? 'cap-refusal' : 'error';
    }
  };

  for (let i = 0; i < options.examples.length; i++) {
    const example = options.examples[i];
    const progress = (message: string): void => options.onProgress?.({ example: i + 1, of: options.examples.length, tokensSpent, message });
    if (options.signal.aborted) {
      return { results, tokensSpent, stoppedEarly: 'aborted', message: 'Calibration was cancelled.' };
    }
    progress('vanilla answer');
    const result: CalibrationResult = { question: example.question, calls: 0, chains: [] };
    const keep = (reply: { text: string; tokens: number; truncated: boolean }, correct: boolean) =>
      result.chains.push({ text: reply.text, outputTokens: reply.tokens, reached: correct, cut: reply.truncated });
    const vanilla = await ask(example.question, options.maxTokensPerCall ?? 2048);
    result.calls++;
    if (typeof vanilla !== 'object') {
      return { results, tokensSpent, stoppedEarly: vanilla, message: `Calibration ended at example ${i + 1}: ${vanilla}.` };
    }
    results.push(result);
    const vanillaCorrect = !vanilla.truncated && answersEqual(extractAnswer(vanilla.text), example.answer);
    keep(vanilla, vanillaCorrect);
    if (!vanillaCorrect) {
      progress('vanilla answer was wrong; skipped');
      continue;
    }
    result.vanillaTokens = vanilla.tokens;
    result.neededTokens = vanilla.tokens;
    let budget = Math.floor(vanilla.tokens / 2);
    let previousCost = vanilla.tokens;
    while (budget >= minBudget) {
      progress(`trying a budget of ${budget} tokens`);
      // Room for overshoot (token elasticity), bounded by what the last correct answer cost.
      const probe = await ask(`${example.question}\n${budgetPromptLine(budget)}`, previousCost * 2);
      result.calls++;
      if (typeof probe !== 'object') {
        return { results, tokensSpent, stoppedEarly: probe, message: `Calibration ended at example ${i + 1}: ${probe}.` };
      }
      const correct = !probe.truncated && answersEqual(extractAnswer(probe.text), example.answer);
      keep(probe, correct);
      if (!correct || probe.tokens >= previousCost) {
        break;
      }
      result.budget = budget;
      result.neededTokens = probe.tokens;
      previousCost = probe.tokens;
      budget = Math.floor(budget / 2);
    }
    progress(`needs about ${result.neededTokens} tokens`);
  }
  return { results, tokensSpent };
}

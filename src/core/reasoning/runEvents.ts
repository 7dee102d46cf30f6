import { BUDGET_SOURCES, type BudgetSource } from '../budget/localEstimator';
import type { CallPurpose, SpendRecord } from '../ledger/spendRecord';
import type { AnswerKind } from './answerKinds';

export { BUDGET_SOURCES, type BudgetSource };

/**
 * Why a run ended: `converged` (the stopping rule is satisfied), `max-chains` (the strategy drew the
 * most chains it draws, unsettled), `budget-exhausted` (the run's token
 * budget is spent), `not-sampling` (the endpoint keeps returning the same chain, so another adds
 * nothing), `cap-reached` (a per-request or daily cap leaves no room for another call), `stopped`
 * (the user pressed Stop), `error` (a provider error ended the run).
 */
export const STOP_REASONS = ['converged', 'max-chains', 'budget-exhausted', 'not-sampling', 'cap-reached', 'stopped', 'error'] as const;
export type StopReason = typeof STOP_REASONS[number];

/** Everything a ReasoningRun tells the outside world, in order. */
export type RunEvent =
  | {
      type: 'budget-estimated';
      /** Per-chain budget (what the prompt states). */
      tokens: number;
      source: BudgetSource;
      note?: string;
      /** The whole run's budget, when it differs from one chain's. */
      totalTokens?: number;
    }
  | {
      type: 'attempt-started';
      attempt: number;
      purpose: CallPurpose;
      maxTokens: number;
      /** The model the attempt goes to, when a run spans several models (a cascade). */
      model?: string;
    }
  /** Streamed text of an attempt; `thinking` marks a reasoning model's thinking (shown apart, never the answer). */
  | { type: 'delta'; attempt: number; text: string; thinking?: true }
  | {
      type: 'attempt-finished';
      attempt: number;
      finishReason: string;
      /** The attempt's vote: a value's normal form, or the cluster ("A", "B", ...) of a code or prose answer. */
      answer: string | undefined;
      completionTokens: number;
      /** The attempt's whole text, to read after the run. */
      text?: string;
      /** The earlier attempt this chain repeats (the same text, or nearly): no new vote, not counted. */
      duplicateOf?: number;
      /** A value tree's step: its depth, and the attempt of the step it continues (none for a first step). */
      step?: { depth: number; parent?: number };
      /** A value tree's value call: the step attempt it scored, and the step's value (0-1). */
      scores?: { attempt: number; value: number };
    }
  | {
      type: 'answer';
      /** The current best answer (vote leader), normalised for display. */
      answer: string;
      /** The full text of the chain that best supports it (markdown). */
      text: string;
      confidence: number;
      /** Tokens spent in this run when the answer appeared. */
      tokensSoFar: number;
      changed: boolean;
      /** Human summary of the stopping rule's state, e.g. "3 of 4 agree". */
      ruleState: string;
      /** The model whose chain supports the answer, when a run spans several models (a cascade). */
      model?: string;
      /** What the answer is: a value, code (`answer` is the final block's code) or prose (markdown). */
      answerKind?: AnswerKind;
      /** A code answer's language, from its fence. */
      language?: string;
      /** The attempt whose chain the answer is taken from. */
      attempt?: number;
    }
  | { type: 'spend'; record: SpendRecord }
  | { type: 'stopped'; reason: StopReason; message: string }
  | { type: 'error'; message: string; kind: string };

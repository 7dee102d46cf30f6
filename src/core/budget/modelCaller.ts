import type { ChatMessage, FinishReason, TokenLogprob, Usage } from '../providers/chatProvider';
import type { CallPurpose, SpendRecord } from '../ledger/spendRecord';

export interface CallSpec {
  messages: ChatMessage[];
  /** Tokens the caller wants at most; the caller may grant fewer (caps), never more. */
  maxTokens: number;
  n?: number;
  temperature?: number;
  logprobs?: boolean;
  /**
   * A thinking budget the client enforces: once a choice's streamed thinking passes this many tokens
   * the stream is cut (finish reason `length`) and the answer can be forced from the thinking so far.
   */
  thinkingTokens?: number;
  /** The chain's budget as its prompt states it: OpenAI reasoning models get the reasoning_effort it calls for. */
  budgetTokens?: number;
  /** Stop sequences, sent where the endpoint takes them (ChatRequest.stop). */
  stop?: string[];
}

/** Streamed text of one choice as it arrives; `thinking` marks a reasoning model's thinking. */
export type DeltaListener = (choice: number, text: string, thinking?: boolean) => void;

export interface ChoiceResult {
  /** The visible reply: thinking never mixes into it. */
  text: string;
  /** The thinking streamed before or around the reply, when the model showed any. */
  thinking?: string;
  finishReason: FinishReason;
  logprobs?: TokenLogprob[];
}

export interface CallResult {
  choices: ChoiceResult[];
  usage: Usage;
  /** The ledger record already appended for this call. */
  record: SpendRecord;
  /** The max_tokens actually sent after the caps clamped the request. */
  grantedMaxTokens: number;
}

/**
 * How the reasoning engine reaches a model: one metered, cap-enforced call at a time.
 * Implemented by MeteredCaller over a ChatProvider; unit tests script it. Lives in the budget layer,
 * with the caps whose refusals it reports, so that budget code never imports the reasoning engine.
 */
export interface ModelCaller {
  /** The model id calls go to (for display and the local estimator). */
  readonly model: string;
  /**
   * Makes one call. Every call is recorded in the ledger before this resolves or rejects.
   * Rejects with CapRefusal when no cap leaves room for even a minimal call,
   * with CallFailure (carrying the partial text and the record) when the provider fails.
   */
  call(spec: CallSpec, purpose: CallPurpose, signal: AbortSignal, onDelta?: DeltaListener): Promise<CallResult>;
  /** Largest max_tokens a call sending `messages` could be granted now (0 when none). */
  room(messages: ChatMessage[]): Promise<number>;
}

export type CapName = 'request-tokens' | 'request-dollars' | 'daily-dollars' | 'daily-tokens';

/** A call that was not made because a cap leaves no room for it. Costs nothing. */
export class CapRefusal extends Error {
  constructor(readonly cap: CapName, message: string, readonly limit: number, readonly spent: number) {
    super(message);
    this.name = 'CapRefusal';
  }
}

/** A provider call that failed after it may have spent tokens; the spend is already recorded. */
export class CallFailure extends Error {
  constructor(
    override readonly cause: Error,
    readonly partialTexts: string[],
    readonly record: SpendRecord,
  ) {
    super(cause.message);
    this.name = 'CallFailure';
  }
}

/**
 * The scripted test doubles unit tests share, with one shape: a double replays its `replies` in
 * order (a reply, or a function of the request giving one), then `otherwise` for every further call
 * (without it, a call past the script fails), and remembers what it was asked. Plus the one spend
 * record builder.
 */
import type { SpendRecord } from '../../src/core/ledger/spendRecord';
import type { CallPurpose } from '../../src/core/ledger/spendRecord';
import type {
  ChatMessage, ChatProvider, ChatRequest, ChatStreamEvent, FinishReason, ProviderErrorKind, TokenLogprob, Usage,
} from '../../src/core/providers/chatProvider';
import { ProviderError } from '../../src/core/providers/chatProvider';
import { CallFailure, CapRefusal, type CallResult, type CallSpec, type ModelCaller } from '../../src/core/budget/modelCaller';

/**
 * A plausible spend record, with the fields a test cares about overridden. A field overridden with
 * undefined is left out (a record without a session, as older ledgers hold).
 */
export function spendRecord(over: Partial<SpendRecord> = {}): SpendRecord {
  const record: SpendRecord = {
    time: new Date(2025, 0, 15, 12, 0, 0).toISOString(),
    runId: 'run-1',
    sessionId: 'session-1',
    purpose: 'attempt',
    providerId: 'openai:https://api.openai.com/v1',
    model: 'gpt-4o-mini',
    promptTokens: 100,
    cachedPromptTokens: 0,
    completionTokens: 50,
    reasoningTokens: 0,
    dollars: 0.001,
    estimated: false,
    outcome: 'stop',
    ...over,
  };
  for (const key of Object.keys(record) as Array<keyof SpendRecord>) {
    if (record[key] === undefined) {
      delete record[key];
    }
  }
  return record;
}

/** The fields of the records the scripted doubles write (no session, a fixed time and run). */
export const SCRIPTED_RECORD = { time: '2025-01-01T00:00:00.000Z', runId: 'r', sessionId: undefined, providerId: 'scripted' } as const;

const WAYS = [
  'First, multiply it out.', 'Work it through step by step.', 'Check the factors one by one.', 'Start from the definition.',
  'Count it up carefully.', 'Split it into parts.', 'Try small cases first.', 'Reduce it to a known result.',
];

/**
 * Reasoning that differs from call to call, as a sampling model's chains do: scripted chains that
 * reach one answer this way are distinct votes, where copies of one text would not be counted.
 */
export function workOf(call: number): string {
  return `${WAYS[(call - 1) % WAYS.length]} (take ${call})`;
}

/** One reply of a ScriptedCaller. */
export type CallerReply =
  /** Text (one per choice with an array); `length` spends the whole max_tokens. Tokens default to 100. */
  | { text: string | string[]; finishReason?: FinishReason; tokens?: number; logprobs?: TokenLogprob[] }
  /** The caps leave no room: CapRefusal of the daily dollar cap. */
  | { cap: true }
  /** The provider fails after 5 tokens, with the partial text "partial". */
  | { fail: string; kind?: ProviderErrorKind }
  /** Streams `partial` (if any), then waits until the call is aborted. */
  | { hang: true; partial?: string }
  /** Thrown as it is. */
  | Error;
export type CallerStep = CallerReply | ((spec: CallSpec, purpose: CallPurpose, call: number) => CallerReply);

export interface ScriptedCallerOptions {
  model?: string;
  replies?: readonly CallerStep[];
  /** The reply of every call after `replies` (default: such a call throws "script exhausted"). */
  otherwise?: CallerStep;
  /** Prompt tokens of each call (default 10). */
  promptTokens?: number | ((messages: ChatMessage[]) => number);
  /** Dollars of each record (default 0; null for an unpriced model). */
  dollars?: number | null;
  /** Tokens room() grants (default: no limit). */
  roomTokens?: number;
}

/** A ModelCaller that replays scripted replies, records what it was asked, and builds the records a metered caller would. */
export class ScriptedCaller implements ModelCaller {
  readonly model: string;
  readonly calls: Array<{ spec: CallSpec; purpose: CallPurpose }> = [];
  /** Tokens room() grants. */
  roomTokens: number;
  /** Prompt characters beyond which room() grants nothing, as the caps would (default: no limit). */
  roomForChars = Infinity;
  private readonly replies: CallerStep[];

  constructor(private readonly options: ScriptedCallerOptions = {}) {
    this.model = options.model ?? 'scripted-model';
    this.replies = [...(options.replies ?? [])];
    this.roomTokens = options.roomTokens ?? 1e9;
  }

  async call(spec: CallSpec, purpose: CallPurpose, signal: AbortSignal, onDelta?: (choice: number, text: string) => void): Promise<CallResult> {
    this.calls.push({ spec, purpose });
    const step = this.replies.length ? this.replies.shift()! : this.options.otherwise;
    if (step === undefined) {
      throw new Error('script exhausted');
    }
    const reply = typeof step === 'function' ? step(spec, purpose, this.calls.length) : step;
    const prompt = this.options.promptTokens ?? 10;
    const promptTokens = typeof prompt === 'function' ? prompt(spec.messages) : prompt;
    const record = (completionTokens: number, outcome: string) => spendRecord({
      ...SCRIPTED_RECORD, purpose, model: this.model,
      promptTokens, completionTokens, dollars: this.options.dollars === undefined ? 0 : this.options.dollars, outcome,
    });
    if (reply instanceof Error) {
      throw reply;
    }
    if ('cap' in reply) {
      throw new CapRefusal('daily-dollars', 'The daily cap of $2.00 is reached.', 2, 2);
    }
    if ('fail' in reply) {
      const kind = reply.kind ?? 'server';
      throw new CallFailure(new ProviderError(kind, reply.fail), ['partial'], record(5, kind));
    }
    if ('hang' in reply) {
      if (reply.partial) {
        onDelta?.(0, reply.partial);
      }
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      throw new CallFailure(new ProviderError('aborted', 'aborted'), [reply.partial ?? ''], record(3, 'aborted'));
    }
    const texts = typeof reply.text === 'string' ? [reply.text] : reply.text;
    const finishReason = reply.finishReason ?? 'stop';
    const tokens = finishReason === 'length' ? spec.maxTokens : reply.tokens ?? 100;
    texts.forEach((text, i) => onDelta?.(i, text));
    const logprobs = reply.logprobs ? { logprobs: reply.logprobs } : {};
    return {
      choices: texts.map((text) => ({ text, finishReason, ...logprobs })),
      usage: { promptTokens, cachedPromptTokens: 0, completionTokens: tokens, reasoningTokens: 0, estimated: false },
      record: record(tokens, finishReason),
      grantedMaxTokens: spec.maxTokens,
    };
  }

  async room(messages: ChatMessage[]): Promise<number> {
    const chars = messages.reduce((n, m) => n + m.content.length, 0);
    return chars <= this.roomForChars ? this.roomTokens : 0;
  }
}

/** One reply of a ScriptedProvider: the stream it plays for a request. */
export type ProviderStep = (request: ChatRequest, signal: AbortSignal) => AsyncIterable<ChatStreamEvent>;

export interface ScriptedProviderOptions {
  id?: string;
  billsInDollars?: boolean;
  replies?: readonly ProviderStep[];
  /** The stream of every request after `replies` (default: such a request throws "script exhausted"). */
  otherwise?: ProviderStep;
  /** What listModels() answers (default none). */
  models?: readonly string[];
}

/** A ChatProvider that plays scripted streams and remembers what it was asked. */
export class ScriptedProvider implements ChatProvider {
  readonly id: string;
  readonly billsInDollars: boolean;
  readonly requests: ChatRequest[] = [];
  readonly signals: AbortSignal[] = [];
  private readonly replies: ProviderStep[];

  constructor(private readonly options: ScriptedProviderOptions = {}) {
    this.id = options.id ?? 'scripted:test';
    this.billsInDollars = options.billsInDollars ?? true;
    this.replies = [...(options.replies ?? [])];
  }

  stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    this.requests.push(request);
    this.signals.push(signal);
    const step = this.replies.length ? this.replies.shift()! : this.options.otherwise;
    if (!step) {
      throw new Error('script exhausted');
    }
    return step(request, signal);
  }

  async listModels(): Promise<string[]> {
    return [...(this.options.models ?? [])];
  }
}

/** A stream of these deltas (choice 0), then `done` with this usage (undefined: the provider sent none). */
export function streamReply(deltas: readonly string[], usage?: Usage, finishReasons: FinishReason[] = ['stop']): ProviderStep {
  return async function* () {
    for (const text of deltas) {
      yield { kind: 'delta', choice: 0, text };
    }
    yield { kind: 'done', finishReasons, usage };
  };
}

/**
 * The faults an OpenAI-compatible endpoint can throw at a run, and the real stack they are thrown at:
 * ReasoningRun -> MeteredCaller (caps, FileSpendLedger, TokenCounter, prices) -> OpenAICompatibleProvider
 * (real openai SDK) -> the loopback model server. Shared by the fault suite and the stress property.
 */
import type { SpendCaps } from '../../src/core/budget/caps';
import type { TokenRatios } from '../../src/core/budget/tokenRatio';
import type { MeteredCaller } from '../../src/core/budget/meteredCaller';
import { meteredCallers } from '../../src/core/run/callers';
import type { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import type { ProviderErrorKind } from '../../src/core/providers/chatProvider';
import { OpenAICompatibleProvider, type OpenAICompatibleOptions } from '../../src/core/providers/openaiProvider';
import type { ReasoningRunOptions, RunOutcome } from '../../src/core/reasoning/reasoningRun';
import { ReasoningRun } from '../../src/core/reasoning/reasoningRun';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { costOf, priceLookup, type TokenPrice } from '../../src/core/tokens/prices';
import { TokenCounter } from '../../src/core/tokens/tokenCounter';
import type { ScriptedReply, SentResponse } from '../../tools/modelServer';

export const REPLAY_MODEL = 'qwen2.5-math-replay';
/** Dollars per 1M tokens: a remote-looking price so that every record carries dollars. */
export const REPLAY_PRICE = { input: 1, output: 4 };
/** Tokens per SSE chunk of the loopback server: a cut stream may lose at most this many. */
export const SERVER_CHUNK_TOKENS = 3;

export const sharedTokenCounter = new TokenCounter('gpt-tokenizer');

/**
 * Silences the SDK's console log (it prints every malformed chunk it meets; the fault suites send
 * hundreds on purpose) and returns what puts the user's OPENAI_LOG back.
 */
export function silenceSdkLog(): () => void {
  const saved = process.env.OPENAI_LOG;
  process.env.OPENAI_LOG = 'off';
  return () => {
    if (saved === undefined) {
      delete process.env.OPENAI_LOG;
    } else {
      process.env.OPENAI_LOG = saved;
    }
  };
}

export interface MeteredStackOptions {
  baseURL: string;
  ledger: FileSpendLedger;
  runId: string;
  caps: SpendCaps;
  apiKey?: string;
  provider?: Partial<OpenAICompatibleOptions>;
  /** Reuse a provider (and its SDK client and connection pool) across runs. */
  reuseProvider?: OpenAICompatibleProvider;
  /** Learned token ratios, as the extension passes them (default: the local count is billed). */
  ratios?: TokenRatios;
}

export interface MeteredStack {
  provider: OpenAICompatibleProvider;
  caller: MeteredCaller;
  ledger: FileSpendLedger;
  runId: string;
}

export function meteredStack(o: MeteredStackOptions): MeteredStack {
  const provider = o.reuseProvider ?? new OpenAICompatibleProvider({ baseURL: o.baseURL, apiKey: o.apiKey, maxRetries: 0, ...o.provider });
  const caller = meteredCallers({ runId: o.runId, ledger: o.ledger, tokens: sharedTokenCounter, ...(o.ratios ? { ratios: o.ratios } : {}) })(
    { id: REPLAY_MODEL, provider, prices: priceLookup({ overrides: { [REPLAY_MODEL]: REPLAY_PRICE } }) }, o.caps);
  return { provider, caller, ledger: o.ledger, runId: o.runId };
}

export interface RunTrace {
  outcome: RunOutcome;
  events: RunEvent[];
}

/** Runs one whole ReasoningRun on the stack and keeps every event it emitted. */
export async function runOnStack(
  stack: MeteredStack,
  options: ReasoningRunOptions,
  onEvent: (event: RunEvent, run: ReasoningRun) => void = () => undefined,
  signal?: AbortSignal,
): Promise<RunTrace> {
  const events: RunEvent[] = [];
  const run: ReasoningRun = new ReasoningRun(stack.caller, options, (e) => {
    events.push(e);
    onEvent(e, run);
  });
  const outcome = await run.start(signal);
  return { outcome, events };
}

/** One fault: how to provoke it and what the user must be told. */
export interface FaultCase {
  name: string;
  /** The scripted server reply; undefined for a refused connection (no server listening). */
  reply?: ScriptedReply;
  provider?: Partial<OpenAICompatibleOptions>;
  /** The provider error the run must end with; undefined when the run must survive the fault. */
  failure?: { kind: ProviderErrorKind; message: RegExp };
  /** The client must cut the stream off at max_tokens (the server ignores it). */
  clientCutOff?: boolean;
  /** The server's stream breaks: the record is estimated from what arrived. */
  brokenStream?: boolean;
  /** The server sends no usage: the record is estimated from the text. */
  noUsage?: boolean;
}

export const FAULT_CASES: readonly FaultCase[] = [
  { name: '401', reply: { status: 401 }, failure: { kind: 'auth', message: /rejected the API key \(401\).*Run "Budget Reasoner: Set API Key"/ } },
  { name: '403', reply: { status: 403 }, failure: { kind: 'forbidden', message: /no access to "qwen2\.5-math-replay" \(403\).*(permissions|select another model)/ } },
  { name: '404 model', reply: { status: 404 }, failure: { kind: 'model-not-found', message: /no model "qwen2\.5-math-replay" \(404\).*Select Model/ } },
  { name: '429 Retry-After', reply: { status: 429, retryAfter: 7 }, failure: { kind: 'rate-limited', message: /Rate limited .*\(429\).*Try again in 7 s/ } },
  { name: '500', reply: { status: 500 }, failure: { kind: 'server', message: /server error \(500\).*Try again later/ } },
  { name: '503', reply: { status: 503 }, failure: { kind: 'server', message: /server error \(503\).*overloaded.*Try again later/ } },
  { name: 'connection refused', failure: { kind: 'network', message: /(Cannot reach|connection to) http:\/\/127\.0\.0\.1:\d+\/v1.*(Check the base URL|Try again)/ } },
  {
    name: 'timeout before first byte', reply: { firstByteDelayMs: 2500 }, provider: { timeoutMs: 250, idleTimeoutMs: 2000 },
    failure: { kind: 'timeout', message: /http:\/\/127\.0\.0\.1:\d+\/v1 (did not answer in time|stopped sending).*try again/i },
  },
  { name: 'disconnect mid-stream', reply: { disconnectAfterTokens: 40 }, brokenStream: true, failure: { kind: 'network', message: /connection to .* closed before the answer was complete\. Try again/ } },
  { name: 'malformed SSE chunk', reply: { malformedChunk: 25 }, brokenStream: true, failure: { kind: 'protocol', message: /could not be read .*Try again.*OpenAI-compatible/ } },
  { name: 'no usage', reply: { noUsage: true }, noUsage: true },
  { name: 'hugeResponse', reply: { hugeResponse: true }, clientCutOff: true },
  { name: 'ignoreMaxTokens', reply: { ignoreMaxTokens: true }, clientCutOff: true },
];

/** One line of the fault table. */
export interface FaultRow {
  fault: string;
  at: string;
  stop: string;
  message: string;
  records: number;
  estimated: number;
  recordedVsSent: string;
  capHeld: boolean;
  nextRunOk: boolean;
}

export function shorten(text: string, max = 70): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A markdown table, for the console and the lead's report. */
export function faultTable(rows: readonly FaultRow[]): string {
  const head = ['fault', 'at', 'stop reason', 'message (shortened)', 'records', 'estimated', 'tokens recorded vs sent', 'cap held', 'next run ok'];
  const lines = rows.map((r) => [r.fault, r.at, r.stop, shorten(r.message.replace(/^The model call failed: /, '').replace(/ The answers so far are kept\.$/, ''), 110), String(r.records), String(r.estimated), r.recordedVsSent, r.capHeld ? 'yes' : 'NO', r.nextRunOk ? 'yes' : 'NO']);
  const fmt = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [fmt(head), fmt(head.map(() => '---')), ...lines.map(fmt)].join('\n');
}

/**
 * What the server billed, by its own count: each response's usage, or for one that sent none (a
 * stream cut or broken, or told not to) what it generated. Every cap must hold in these figures.
 */
export function spendOf(responses: readonly SentResponse[], price: TokenPrice): { tokens: number; dollars: number } {
  let tokens = 0;
  let dollars = 0;
  for (const r of responses) {
    const u = r.usage ?? r.countedUsage;
    if (u) {
      tokens += u.prompt_tokens + u.completion_tokens;
      dollars += costOf({ promptTokens: u.prompt_tokens, cachedPromptTokens: 0, completionTokens: u.completion_tokens }, price) ?? 0;
    }
  }
  return { tokens, dollars };
}

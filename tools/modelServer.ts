/**
 * A loopback model server speaking OpenAI's chat-completions protocol (SSE streaming and JSON),
 * replaying recorded real reasoning traces (./recordedData.ts). Tests script exact replies and faults
 * per request, in process or through the HTTP control API under /__control.
 * Test and demo infrastructure: the product's providers never special-case it.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { countTokens, messageText, serverTokenizer, type PromptMessage, type ServerTokenizer, type ServerTokenizerName } from './modelServerTokens';
import { FORCED_ANSWER_PROMPTS } from '../src/core/reasoning/answerKinds';
import { codeReply, proseReply, requestedKind } from './proseReplay';
import { ChainCursor, loadTraceLibrary, type ChainSource, type TraceDataset, type TraceLibrary } from './recordedData';
import { CODE_REPLAY_MODEL, CodeReplay } from './codeReplay';
import { TreeReplay, treeRequest } from './treeReplay';

export interface ReplayModel {
  id: string;
  /** Which recorded chains answer MATH and GSM8K questions; a question of a dataset not listed is unmatched. */
  sources: Partial<Record<TraceDataset, ChainSource>>;
  contextWindow: number;
  /**
   * Reasoning models only: hidden reasoning tokens per visible token of the recorded reply. They are
   * billed inside completion_tokens and max_completion_tokens, never streamed.
   */
  reasoningShare?: number;
}

const mathSources = { math: 'qwen25-math-cot', gsm8k: '175b_verification' } as const;

export const replayModels: readonly ReplayModel[] = [
  { id: 'qwen2.5-math-replay', sources: mathSources, contextWindow: 32_768 },
  { id: 'o4-mini-replay', sources: mathSources, contextWindow: 200_000, reasoningShare: 0.5 },
  { id: 'gpt3-6b-finetuning', sources: { gsm8k: '6b_finetuning' }, contextWindow: 32_768 },
  { id: 'gpt3-6b-verification', sources: { gsm8k: '6b_verification' }, contextWindow: 32_768 },
  { id: 'gpt3-175b-finetuning', sources: { gsm8k: '175b_finetuning' }, contextWindow: 32_768 },
  { id: 'gpt3-175b-verification', sources: { gsm8k: '175b_verification' }, contextWindow: 32_768 },
  { id: CODE_REPLAY_MODEL, sources: {}, contextWindow: 32_768 },
];

export interface ModelServerOptions {
  /** 0 (default) picks a free port. The host is always 127.0.0.1. */
  port?: number;
  /** Pace of generated tokens per choice; 0 (default) sends as fast as the socket takes them. */
  tokensPerSecond?: number;
  /** Tokens per streamed chunk (default 3). */
  tokensPerChunk?: number;
  /** Shifts each question's first recorded chain deterministically (default: chain 0 first). */
  seed?: number;
  /** When set, chat requests must carry `Authorization: Bearer <apiKey>`, else 401. */
  apiKey?: string;
  /** Context window per model id, overriding replayModels. */
  contextWindows?: Record<string, number>;
  /** Folder holding the recorded data (default bench/data). */
  dataDir?: string;
  /** Stream replies as a reasoning model shows its thinking (see ThinkingFormat); default: no thinking. */
  thinking?: ThinkingFormat;
  /** What `codegen16b-replay` serves, and its cursors (default: the HumanEval tune file in bench/data). */
  codeReplay?: CodeReplay;
  /**
   * The tokenizer usage is counted in, max_tokens enforced in and replies streamed in (default o200k,
   * as the client counts); `foreign` bills ~1.45x o200k, as a server with another vocabulary would.
   */
  tokenizer?: ServerTokenizerName;
  /**
   * A server with greedy decoding: a question gets the same chain on every call and in every choice,
   * whatever the temperature (recorded chains, code samples and prose paraphrases alike; scripts are as scripted).
   */
  greedy?: boolean;
  /** A server that ignores `n` (as Ollama does): one choice per request, however many were asked for. */
  ignoreN?: boolean;
  /**
   * A sampling server: each call (and choice) draws from all the recorded chains of its question, every
   * source pooled, in a seeded random order (ChainCursor.sample), so answers vary from call to call as a
   * sampled model's do and a GSM8K question gets its four recorded solutions, not one.
   */
  sample?: boolean;
  /** `/v1/models` lists nothing, as some local servers do. */
  emptyModelList?: boolean;
  /** Models that answer 400 to a temperature other than 1, as OpenAI's reasoning models do (theirs always do). */
  rejectTemperature?: readonly string[];
}

/**
 * How a reasoning model's thinking reaches the client: in `delta.reasoning_content` (DeepSeek, vLLM,
 * SGLang, LM Studio), in `delta.reasoning` (OpenRouter, Ollama), or inline between `<think>` tags in the
 * content (llama.cpp without a reasoning format, R1 distills). A recorded chain's thinking is all but its
 * last paragraph; the last paragraph is the reply.
 */
export const THINKING_FORMATS = ['reasoning_content', 'reasoning', 'think-tags'] as const;
export type ThinkingFormat = typeof THINKING_FORMATS[number];

/** One scripted reply or fault, consumed by the next request (or the next `times` requests). */
export interface ScriptedReply {
  times?: number;
  /** Which endpoint consumes it (default 'chat'). */
  endpoint?: 'chat' | 'models';
  /** Exact reply text instead of the recorded one; an array gives one text per choice. */
  content?: string | string[];
  finishReason?: string;
  /** Answer with this HTTP status and an OpenAI-shaped error body. */
  status?: number;
  errorMessage?: string;
  errorType?: string;
  errorCode?: string | null;
  /** Seconds, sent as Retry-After with a status fault. */
  retryAfter?: number | string;
  headers?: Record<string, string>;
  /** Destroy the socket once this many content tokens were sent. */
  disconnectAfterTokens?: number;
  /** Send a broken `data:` line (after this many tokens; true = before any) and end the response. */
  malformedChunk?: boolean | number;
  /** Wait this long before sending the response headers. */
  firstByteDelayMs?: number;
  /** `/v1/models` answers an empty list, as some local servers do. */
  emptyModelList?: boolean;
  /** Never send usage, even when stream_options.include_usage asks for it. */
  noUsage?: boolean;
  /** Keep generating past max_tokens, cycling the reply, up to this many tokens (true = 100,000) or until the client leaves. */
  ignoreMaxTokens?: boolean | number;
  /** A misbehaving endpoint: this many tokens (true = 250,000, about 1 MB) in ONE chunk, ignoring max_tokens. */
  hugeResponse?: boolean | number;
  /** Thinking streamed before the content, in this format (default: the server's `thinking` option). */
  thinking?: string;
  thinkingFormat?: ThinkingFormat;
  tokensPerSecond?: number;
}

export interface RecordedRequest {
  index: number;
  method: string;
  path: string;
  receivedAt: number;
  /** The parsed JSON body (the raw text when it was not JSON). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary client JSON that tests inspect freely
  body: any;
  /** Request headers without credentials (authorization, api-key). */
  headers: Record<string, string | string[] | undefined>;
  hadAuthorization: boolean;
  /** First 16 hex digits of sha256(Authorization value): tells keys apart without revealing them. */
  authorizationHash?: string;
  /** The raw Authorization header, for key-routing assertions. Non-enumerable: JSON and console output never show it. */
  readonly authorization?: string;
}

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/** `step` and `value` answer a value tree (./treeReplay.ts). */
export type ReplyKind = 'recorded' | 'scripted' | 'estimate' | 'forced-answer' | 'step' | 'value' | 'unmatched' | 'error';

export interface SentResponse {
  requestIndex: number;
  model: string;
  status: number;
  stream: boolean;
  kind: ReplyKind;
  /** Recorded question key (`math:67`, `gsm8k:12`) and the chains served, for recorded replies and estimates. */
  questionKey?: string;
  chainIndexes?: number[];
  /** Text (and thinking, in a reasoning field) and finish reason per choice as generated (a disconnected stream sent less). */
  choices: Array<{ text: string; finishReason: string; thinking?: string }>;
  /** Usage as reported to the client; undefined when none was sent. */
  usage?: CompletionUsage;
  /** Usage the server generated, reported or not: for a stream that ended early (the client left, a fault), what it sent. */
  countedUsage?: CompletionUsage;
  /** Date.now() when the response ended or the client went away. */
  endedAt?: number;
}

export interface ModelServer {
  /** Base URL for an OpenAI client, e.g. http://127.0.0.1:PORT/v1. */
  readonly url: string;
  /** Base URL of the control API, e.g. http://127.0.0.1:PORT/__control. */
  readonly controlUrl: string;
  readonly port: number;
  /** Every chat request received, in order. */
  readonly requests: RecordedRequest[];
  /** Every HTTP request received on any path but the control API (chat, models, unknown URLs), in order. */
  readonly received: Array<{ method: string; path: string }>;
  /** Every chat response sent, in order. */
  readonly responses: SentResponse[];
  script(...replies: ScriptedReply[]): void;
  /** Clears scripts, logs and chain cursors, and restores the pace (and seed, if given). */
  reset(options?: { seed?: number }): void;
  /** Restarts every question at its first recorded chain. */
  resetCursors(): void;
  setTokensPerSecond(tokensPerSecond: number): void;
  /** Later replies show their thinking in this format (undefined: none), as the `thinking` option does. */
  setThinking(format: ThinkingFormat | undefined): void;
  close(): Promise<void>;
}

/** Logprob of every token of replies that are not recorded chains (scripts, estimates, forced answers). */
const fixedTokenLogprob = Math.log(0.9);
/** TALE-EP budget answered for questions with no recorded chains: about the median recorded chain (326 tokens). */
const unmatchedEstimate = 300;

/** What a reply says, per choice, before it is tokenized and paced. */
interface ReplyTexts {
  kind: ReplyKind;
  questionKey?: string;
  chainIndexes?: number[];
  choices: Array<{ text: string; logprob: number; recorded: boolean }>;
}
const unmatchedReply = 'There is no recorded answer for this question in the replay data, so the answer is \\boxed{unknown}';
const createdAt = 1_700_000_000;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const faultErrors: Record<number, [message: string, type: string, code: string | null]> = {
  400: ['Invalid request.', 'invalid_request_error', null],
  401: ['Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'],
  403: ['You are not allowed to use this model with this API key.', 'invalid_request_error', 'permission_denied'],
  404: ['The model does not exist or you do not have access to it.', 'invalid_request_error', 'model_not_found'],
  429: ['Rate limit reached for requests. Please try again in 1s.', 'requests', 'rate_limit_exceeded'],
  500: ['The server had an error while processing your request. Sorry about that!', 'server_error', null],
  503: ['The engine is currently overloaded, please try again later.', 'server_error', null],
};

function faultError(fault: ScriptedReply & { status: number }): ApiError {
  const [message, type, code] = faultErrors[fault.status] ?? [`Scripted error ${fault.status}.`, 'server_error', null];
  const headers = { ...fault.headers };
  if (fault.retryAfter !== undefined) {
    headers['retry-after'] = String(fault.retryAfter);
  }
  return new ApiError(fault.status, fault.errorMessage ?? message, fault.errorType ?? type, fault.errorCode === undefined ? code : fault.errorCode, null, headers);
}

/** The answer a partial reasoning already states: its last complete \boxed{}, else its last "the answer is X", else a GSM8K `A: N`. */
export function statedAnswer(reasoning: string): string | undefined {
  for (let at = reasoning.lastIndexOf('\\boxed{'); at >= 0; at = reasoning.lastIndexOf('\\boxed{', at - 1)) {
    let depth = 1;
    const start = at + '\\boxed{'.length;
    for (let i = start; i < reasoning.length; i++) {
      depth += reasoning[i] === '{' ? 1 : reasoning[i] === '}' ? -1 : 0;
      if (depth === 0) {
        const inner = reasoning.slice(start, i).trim();
        if (inner) {
          return inner;
        }
        break;
      }
    }
  }
  for (const re of [/the (?:final )?answer is:?[ \t]*([^\n]+)/gi, /(?:^|\n)[ \t]*(?:A:|####)[ \t]*([^\n]+)/g]) {
    const last = [...reasoning.matchAll(re)].pop();
    const answer = last?.[1]
      .trim()
      .replace(/[.。]+$/, '')
      .replace(/^\$+|\$+$/g, '')
      .replace(/^\\\(|\\\)$/g, '')
      .trim();
    if (answer) {
      return answer;
    }
  }
  return undefined;
}

/** A reply choice as planned: which tokens, how many to send, with what logprob and finish reason. */
interface PlannedChoice {
  tokens: readonly Uint8Array[];
  /** Tokens to send; past tokens.length the reply cycles (only when ignoring max_tokens). */
  count: number;
  hidden: number;
  logprob: number;
  finishReason: string;
  /** The first this-many tokens are thinking, sent in the reasoning field (0 = none, or inline tags). */
  thinkingCount: number;
  thinkingField?: 'reasoning_content' | 'reasoning';
}

interface PlannedReply {
  kind: ReplyKind;
  questionKey?: string;
  chainIndexes?: number[];
  choices: PlannedChoice[];
}

type JsonObject = { [key: string]: unknown };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendApiError(res: http.ServerResponse, e: ApiError): void {
  sendJson(res, e.status, { error: { message: e.message, type: e.type, param: e.param, code: e.code } }, e.headers);
}

/** Writes and waits while the socket is full, so a slow client slows the server instead of filling memory. */
function write(res: http.ServerResponse, text: string): Promise<void> | undefined {
  if (res.write(text)) {
    return undefined;
  }
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function concatBytes(tokens: readonly Uint8Array[], from: number, to: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let length = 0;
  for (let i = from; i < to; i++) {
    const t = tokens[i % tokens.length];
    parts.push(t);
    length += t.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const tokenText = new TextDecoder();
/** A reply's thinking and its visible part: a script's own thinking, or a recorded chain's all-but-last paragraph. */
function thinkingSplit(text: string, format: ThinkingFormat | undefined, fault: ScriptedReply | undefined, kind: ReplyKind): { thinking: string; reply: string } {
  if (!format) {
    return { thinking: '', reply: text };
  }
  if (fault?.thinking !== undefined) {
    return { thinking: fault.thinking, reply: text };
  }
  if (kind !== 'recorded') {
    return { thinking: '', reply: text };
  }
  const at = text.trimEnd().lastIndexOf('\n\n');
  return at > 0 ? { thinking: text.slice(0, at), reply: text.slice(at + 2) } : { thinking: '', reply: text };
}

/** The text before the first of the stop sequences. */
function beforeStop(text: string, stop: readonly string[]): string {
  const at = Math.min(...stop.map((s) => text.indexOf(s)).filter((i) => i >= 0));
  return Number.isFinite(at) ? text.slice(0, at) : text;
}

function logprobEntries(choice: PlannedChoice, from: number, to: number): Array<{ token: string; logprob: number; bytes: number[]; top_logprobs: [] }> {
  const entries = [];
  for (let i = from; i < to; i++) {
    const bytes = choice.tokens[i % choice.tokens.length];
    entries.push({ token: tokenText.decode(bytes), logprob: choice.logprob, bytes: Array.from(bytes), top_logprobs: [] as [] });
  }
  return entries;
}

function completionUsage(promptTokens: number, visible: number, hidden: number): CompletionUsage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: visible + hidden,
    total_tokens: promptTokens + visible + hidden,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: hidden },
  };
}

function positiveInt(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new ApiError(400, `Invalid '${param}': integer below minimum value. Expected a value >= 1, but got ${JSON.stringify(value)} instead.`, 'invalid_request_error', 'integer_below_min_value', param);
  }
  return value as number;
}

class LoopbackModelServer implements ModelServer {
  readonly requests: RecordedRequest[] = [];
  readonly responses: SentResponse[] = [];
  readonly received: Array<{ method: string; path: string }> = [];
  url = '';
  controlUrl = '';
  port = 0;
  private queue: ScriptedReply[] = [];
  private tokensPerSecond: number;
  private thinking: ThinkingFormat | undefined;
  private readonly cursor: ChainCursor;
  private readonly library: TraceLibrary;
  private readonly code: CodeReplay;
  private readonly tree: TreeReplay;
  private readonly server: http.Server;
  /** Paraphrases served so far per prose question, so each call says it another way. */
  private readonly paraphrases = new Map<string, number>();
  private readonly tokenizer: ServerTokenizer;

  constructor(private readonly options: ModelServerOptions) {
    this.tokensPerSecond = options.tokensPerSecond ?? 0;
    this.thinking = options.thinking;
    this.cursor = new ChainCursor(options.seed);
    this.library = loadTraceLibrary(options.dataDir);
    this.code = options.codeReplay ?? new CodeReplay();
    this.tree = new TreeReplay(this.library);
    this.tokenizer = serverTokenizer(options.tokenizer);
    // Builds the o200k encoder now (~0.5 s once per process) rather than inside a test's first request.
    countTokens('');
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        if (res.headersSent) {
          res.destroy();
        } else {
          sendApiError(res, error instanceof ApiError ? error : new ApiError(500, String(error), 'server_error', null));
        }
      });
    });
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}/v1`;
    this.controlUrl = `http://127.0.0.1:${this.port}/__control`;
  }

  script(...replies: ScriptedReply[]): void {
    for (const reply of replies) {
      for (let i = 0; i < (reply.times ?? 1); i++) {
        this.queue.push(reply);
      }
    }
  }

  reset(options: { seed?: number } = {}): void {
    this.queue = [];
    this.requests.length = 0;
    this.responses.length = 0;
    this.received.length = 0;
    this.tokensPerSecond = this.options.tokensPerSecond ?? 0;
    this.cursor.reset(options.seed);
    this.paraphrases.clear();
    this.code.reset();
    this.tree.reset();
  }

  resetCursors(): void {
    this.cursor.reset();
    this.code.reset();
    this.tree.reset();
  }

  setTokensPerSecond(tokensPerSecond: number): void {
    this.tokensPerSecond = tokensPerSecond;
  }

  setThinking(format: ThinkingFormat | undefined): void {
    this.thinking = format;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeScript(endpoint: 'chat' | 'models'): ScriptedReply | undefined {
    const i = this.queue.findIndex((r) => (r.endpoint ?? 'chat') === endpoint);
    return i < 0 ? undefined : this.queue.splice(i, 1)[0];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
    if (path.startsWith('/__control/')) {
      return this.control(req, res, path.slice('/__control/'.length));
    }
    this.received.push({ method: req.method ?? '', path });
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      return this.chat(req, res, path);
    }
    if (req.method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
      const fault = this.takeScript('models');
      if (fault?.firstByteDelayMs) {
        await sleep(fault.firstByteDelayMs);
      }
      if (fault?.status) {
        return sendApiError(res, faultError({ ...fault, status: fault.status }));
      }
      const models = replayModels.map((m) => ({ id: m.id, object: 'model', created: createdAt, owned_by: 'budget-reasoner-replay' }));
      if (path === '/v1/models') {
        return sendJson(res, 200, { object: 'list', data: fault?.emptyModelList || this.options.emptyModelList ? [] : models });
      }
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      const model = models.find((m) => m.id === id);
      return model ? sendJson(res, 200, model) : sendApiError(res, this.unknownModel(id));
    }
    sendApiError(res, new ApiError(404, `Invalid URL (${req.method} ${path})`, 'invalid_request_error', null));
  }

  private async control(req: http.IncomingMessage, res: http.ServerResponse, action: string): Promise<void> {
    const text = req.method === 'POST' ? await readBody(req) : '';
    let body;
    try {
      body = text.trim() ? JSON.parse(text) : {};
    } catch {
      return sendApiError(res, new ApiError(400, 'The control API expects a JSON body.', 'invalid_request_error', null));
    }
    if (req.method === 'POST' && action === 'script') {
      const replies: ScriptedReply[] = Array.isArray(body) ? body : [body];
      this.script(...replies);
      return sendJson(res, 200, { queued: this.queue.length });
    }
    if (req.method === 'POST' && action === 'reset') {
      this.reset({ seed: typeof body.seed === 'number' ? body.seed : undefined });
      return sendJson(res, 200, { ok: true });
    }
    if (req.method === 'POST' && action === 'pace') {
      this.setTokensPerSecond(Number(body.tokensPerSecond) || 0);
      return sendJson(res, 200, { tokensPerSecond: this.tokensPerSecond });
    }
    if (req.method === 'GET' && action === 'requests') {
      return sendJson(res, 200, this.requests);
    }
    if (req.method === 'GET' && action === 'responses') {
      return sendJson(res, 200, this.responses);
    }
    sendApiError(res, new ApiError(404, `Unknown control action ${req.method} ${action}`, 'invalid_request_error', null));
  }

  private unknownModel(id: unknown): ApiError {
    return new ApiError(404, `The model \`${String(id)}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
  }

  private logRequest(req: http.IncomingMessage, path: string, body: unknown): RecordedRequest {
    const { authorization, 'api-key': _apiKey, ...headers } = req.headers;
    const entry: RecordedRequest = {
      index: this.requests.length,
      method: req.method ?? '',
      path,
      receivedAt: Date.now(),
      body,
      headers,
      hadAuthorization: authorization !== undefined,
      authorizationHash: authorization === undefined ? undefined : createHash('sha256').update(authorization).digest('hex').slice(0, 16),
    };
    Object.defineProperty(entry, 'authorization', { value: authorization, enumerable: false });
    this.requests.push(entry);
    return entry;
  }

  private async chat(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    const request = this.logRequest(req, path, body);
    const fault = this.takeScript('chat');
    const fields = (body && typeof body === 'object' ? body : {}) as JsonObject;
    const sent: SentResponse = { requestIndex: request.index, model: String(fields.model), status: 200, stream: fields.stream === true, kind: 'error', choices: [] };
    this.responses.push(sent);
    let closed = false;
    res.on('close', () => {
      closed = !res.writableFinished;
      sent.endedAt = Date.now();
    });
    if (fault?.firstByteDelayMs) {
      await sleep(fault.firstByteDelayMs);
      if (closed) {
        return;
      }
    }
    try {
      if (fault?.status) {
        throw faultError({ ...fault, status: fault.status });
      }
      this.checkAuthorization(request.authorization);
      const { model, messages, n, limit, includeUsage, promptTokens, stop } = this.validate(body);
      const plan = this.plan(model, messages, n, limit, fault, stop);
      const hidden = plan.choices.reduce((sum, c) => sum + c.hidden, 0);
      const usage = completionUsage(promptTokens, plan.choices.reduce((sum, c) => sum + c.count, 0), hidden);
      Object.assign(sent, { model: model.id, kind: plan.kind, questionKey: plan.questionKey, chainIndexes: plan.chainIndexes, countedUsage: usage });
      const reply: ReplyContext = {
        res,
        sent,
        plan,
        model: model.id,
        id: `chatcmpl-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
        usage: fault?.noUsage ? undefined : usage,
        includeUsage,
        logprobs: fields.logprobs === true,
        fault: fault ?? {},
        tokensPerSecond: fault?.tokensPerSecond ?? this.tokensPerSecond,
        closed: () => closed,
      };
      await (sent.stream ? this.streamReply(reply) : this.jsonReply(reply));
    } catch (error) {
      if (!(error instanceof ApiError)) {
        throw error;
      }
      sent.status = error.status;
      sendApiError(res, error);
    }
  }

  private checkAuthorization(authorization: string | undefined): void {
    if (this.options.apiKey === undefined) {
      return;
    }
    if (!authorization) {
      throw new ApiError(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", 'invalid_request_error', null);
    }
    if (authorization !== `Bearer ${this.options.apiKey}`) {
      throw new ApiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
  }

  private validate(json: unknown) {
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      throw new ApiError(400, 'We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.', 'invalid_request_error', null);
    }
    const body = json as JsonObject;
    if (typeof body.model !== 'string') {
      throw new ApiError(400, 'you must provide a model parameter', 'invalid_request_error', null);
    }
    const model = replayModels.find((m) => m.id === body.model);
    if (!model) {
      throw this.unknownModel(body.model);
    }
    const messages = body.messages as PromptMessage[];
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new ApiError(400, "Invalid 'messages': empty array. Expected an array with minimum length 1.", 'invalid_request_error', 'empty_array', 'messages');
    }
    const malformed = messages.findIndex((m) => !m || typeof m !== 'object' || typeof m.role !== 'string');
    if (malformed >= 0) {
      throw new ApiError(400, `Invalid type for 'messages[${malformed}]': expected an object with a role.`, 'invalid_request_error', 'invalid_type', `messages[${malformed}]`);
    }
    if (model.reasoningShare !== undefined && body.max_tokens !== undefined && body.max_tokens !== null) {
      throw new ApiError(400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'invalid_request_error', 'unsupported_parameter', 'max_tokens');
    }
    const fixedTemperature = model.reasoningShare !== undefined || this.options.rejectTemperature?.includes(model.id);
    if (fixedTemperature && body.temperature !== undefined && body.temperature !== null && body.temperature !== 1) {
      throw new ApiError(400, `Unsupported value: 'temperature' does not support ${body.temperature} with this model. Only the default (1) value is supported.`, 'invalid_request_error', 'unsupported_value', 'temperature');
    }
    const asked = positiveInt(body.n, 'n') ?? 1;
    const n = this.options.ignoreN ? 1 : asked;
    if (asked > 128) {
      throw new ApiError(400, "Invalid 'n': integer above maximum value. Expected a value <= 128.", 'invalid_request_error', 'integer_above_max_value', 'n');
    }
    if (body.stream !== true && body.stream_options) {
      throw new ApiError(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'invalid_request_error', null, 'stream_options');
    }
    const limit = positiveInt(body.max_completion_tokens, 'max_completion_tokens') ?? positiveInt(body.max_tokens, 'max_tokens');
    const promptTokens = this.tokenizer.countPromptTokens(messages);
    const window = this.options.contextWindows?.[model.id] ?? model.contextWindow;
    if (promptTokens + (limit ?? 0) > window) {
      throw new ApiError(
        400,
        `This model's maximum context length is ${window} tokens. However, you requested ${promptTokens + (limit ?? 0)} tokens (${promptTokens} in the messages, ${limit ?? 0} in the completion). Please reduce the length of the messages or completion.`,
        'invalid_request_error',
        'context_length_exceeded',
        'messages',
      );
    }
    const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const stop = (typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop : []).filter((x): x is string => typeof x === 'string' && x !== '');
    if (stop.length > 4) {
      throw new ApiError(400, "Invalid 'stop': array too long. Expected an array with maximum length 4.", 'invalid_request_error', 'array_above_max_length', 'stop');
    }
    return { model, messages, n, limit: limit ?? window - promptTokens, includeUsage, promptTokens, stop };
  }

  /** What to answer: a script, a forced answer, a TALE-EP estimate, recorded chains, or "no recorded answer". */
  private plan(model: ReplayModel, messages: PromptMessage[], n: number, limit: number, fault: ScriptedReply | undefined, stop: readonly string[] = []): PlannedReply {
    const texts = this.replyTexts(model, messages, n, fault);
    const cyclic = fault?.hugeResponse ? (fault.hugeResponse === true ? 250_000 : fault.hugeResponse) : fault?.ignoreMaxTokens ? (fault.ignoreMaxTokens === true ? 100_000 : fault.ignoreMaxTokens) : 0;
    const format = fault?.thinkingFormat ?? this.thinking ?? (fault?.thinking !== undefined ? 'reasoning_content' : undefined);
    const choices = texts.choices.map(({ text: whole, logprob, recorded }): PlannedChoice => {
      const split = thinkingSplit(whole, format, fault, texts.kind);
      const field = format === 'think-tags' || !split.thinking ? undefined : format;
      // Generation ends before a stop sequence, which is not sent (a runaway reply ignores them, as it ignores max_tokens).
      const reply = cyclic ? split.reply : beforeStop(split.reply, stop);
      const text = split.thinking && format === 'think-tags' ? `<think>\n${split.thinking}\n</think>\n\n${reply}` : reply;
      const tokenizeText = (t: string) => (recorded ? this.tokenizer.tokenizeRecorded(t) : this.tokenizer.tokenize(t)).tokens;
      const thinkingTokens = field ? tokenizeText(split.thinking) : [];
      const thinking = { thinkingCount: thinkingTokens.length, ...(field ? { thinkingField: field } : {}) };
      if (cyclic) {
        // Runaway generation: the reply over and over, as a server ignoring max_tokens would send it.
        return { tokens: [...thinkingTokens, ...this.tokenizer.tokenize(`${text}\n\n`).tokens], count: cyclic, hidden: 0, logprob, finishReason: fault?.finishReason ?? 'length', ...thinking };
      }
      const tokens = [...thinkingTokens, ...tokenizeText(text)];
      const wantedHidden = model.reasoningShare ? Math.ceil(tokens.length * model.reasoningShare) : 0;
      const hidden = Math.min(limit, wantedHidden);
      const count = Math.min(tokens.length, limit - hidden);
      const truncated = count < tokens.length || hidden < wantedHidden;
      return { tokens, count, hidden, logprob, finishReason: fault?.finishReason ?? (truncated ? 'length' : 'stop'), ...thinking };
    });
    return { kind: texts.kind, questionKey: texts.questionKey, chainIndexes: texts.chainIndexes, choices };
  }

  private replyTexts(model: ReplayModel, messages: PromptMessage[], n: number, fault: ScriptedReply | undefined): ReplyTexts {
    const fixed = (kind: ReplyKind, text: string, questionKey?: string): ReplyTexts => ({
      kind,
      questionKey,
      chainIndexes: undefined as number[] | undefined,
      choices: Array.from({ length: n }, () => ({ text, logprob: fixedTokenLogprob, recorded: false })),
    });
    if (fault?.content !== undefined) {
      const contents = Array.isArray(fault.content) ? fault.content : [fault.content];
      return { ...fixed('scripted', ''), choices: Array.from({ length: n }, (_, i) => ({ text: contents[i % contents.length], logprob: fixedTokenLogprob, recorded: false })) };
    }
    const tree = treeRequest(messages);
    if (tree) {
      const sourceOf = (q: { dataset: TraceDataset }) => model.sources[q.dataset];
      if (tree.kind === 'value') {
        return fixed('value', this.tree.value(tree, sourceOf));
      }
      const steps = this.tree.step(tree, sourceOf, n, this.options.greedy === true);
      if (steps) {
        return { kind: 'step', questionKey: steps.questionKey, chainIndexes: steps.chainIndexes, choices: steps.texts.map((text) => ({ text, logprob: fixedTokenLogprob, recorded: true })) };
      }
    }
    const last = messages[messages.length - 1];
    const previous = messages[messages.length - 2];
    const lastText = messageText(last.content);
    if (last.role === 'user' && previous?.role === 'assistant' && lastText === FORCED_ANSWER_PROMPTS.code) {
      return fixed('forced-answer', codeReply(`${messageText(previous.content)}\n\`\`\``));
    }
    if (last.role === 'user' && previous?.role === 'assistant' && /final answer/i.test(lastText)) {
      const answer = statedAnswer(messageText(previous.content));
      return fixed('forced-answer', answer === undefined ? 'unknown' : `\\boxed{${answer}}`);
    }
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const question = lastUser ? this.library.match(messageText(lastUser.content)) : undefined;
    const source = question && model.sources[question.dataset];
    if (messages.some((m) => /estimate the minimum number of tokens/i.test(messageText(m.content)))) {
      const budget = question && source ? this.library.estimateBudget(question, source) : undefined;
      return fixed('estimate', `Budget: [[${budget ?? unmatchedEstimate}]]`, source ? question?.key : undefined);
    }
    if (model.id === CODE_REPLAY_MODEL) {
      return this.code.reply(messages, n, this.options.greedy) ?? fixed('unmatched', unmatchedReply);
    }
    if (!question || !source) {
      return this.unmatchedTexts(messages, n, fixed);
    }
    const draws = this.options.greedy
      ? Array(n).fill(this.cursor.first(question, source))
      : this.options.sample ? this.cursor.sample(model.id, question, n) : this.cursor.draw(model.id, question, source, n);
    return {
      kind: 'recorded' as ReplyKind,
      questionKey: question.key,
      chainIndexes: draws.map((d) => d.chainIndex),
      choices: draws.map((d) => ({ text: d.chain.text, logprob: d.chain.tokenLogprob, recorded: true })),
    };
  }

  /** No recorded chains: a value question gets the canned reply; code and prose questions a reply of their kind. */
  private unmatchedTexts(messages: PromptMessage[], n: number, fixed: (kind: ReplyKind, text: string) => ReplyTexts): ReplyTexts {
    const system = messages.find((m) => m.role === 'system');
    const kind = requestedKind(system ? messageText(system.content) : undefined);
    const user = messageText([...messages].reverse().find((m) => m.role === 'user')?.content ?? '');
    if (kind === 'code') {
      return fixed('unmatched', codeReply(user));
    }
    if (kind === 'prose') {
      // Keyed by the question's start: the budget lines after it change from call to call.
      const key = user.split('\n')[0].slice(0, 200);
      const first = this.paraphrases.get(key) ?? 0;
      const greedy = this.options.greedy === true;
      this.paraphrases.set(key, greedy ? first : first + n);
      const texts = fixed('unmatched', '');
      return { ...texts, choices: texts.choices.map((c, i) => ({ ...c, text: proseReply(user, greedy ? first : first + i) })) };
    }
    return fixed('unmatched', unmatchedReply);
  }

  private async streamReply(r: ReplyContext): Promise<void> {
    const { res, plan } = r;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': r.id });
    // Headers go out at once, as OpenAI's do, even while a reasoning model thinks.
    res.flushHeaders();
    const base = { id: r.id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: r.model, system_fingerprint: 'fp_replay', ...(r.includeUsage ? { usage: null } : {}) };
    const data = (payload: object) => `data: ${JSON.stringify({ ...base, ...payload })}\n\n`;
    const pace = this.pacer(r);
    // Hidden reasoning happens before any visible token.
    const hidden = Math.max(...plan.choices.map((c) => c.hidden));
    await pace(hidden);
    for (let i = 0; i < plan.choices.length; i++) {
      await write(res, data({ choices: [{ index: i, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }] }));
    }
    const decoders = plan.choices.map(() => new TextDecoder());
    const thinkingDecoders = plan.choices.map(() => new TextDecoder());
    const sentOf = plan.choices.map(() => 0);
    const texts = plan.choices.map(() => '');
    const thinkingTexts = plan.choices.map(() => '');
    const malformedAt = r.fault.malformedChunk === true ? 0 : r.fault.malformedChunk === false ? undefined : r.fault.malformedChunk;
    const disconnectAt = r.fault.disconnectAfterTokens;
    const chunkTokens = r.fault.hugeResponse ? Infinity : Math.max(1, this.options.tokensPerChunk ?? 3);
    let total = 0;
    const record = () => {
      r.sent.choices = plan.choices.map((c, i) => ({ text: texts[i], finishReason: c.finishReason, ...(thinkingTexts[i] ? { thinking: thinkingTexts[i] } : {}) }));
      const planned = r.sent.countedUsage;
      if (planned && total < planned.completion_tokens - planned.completion_tokens_details.reasoning_tokens) {
        // Ended before its plan: the server generated (and would bill) what it sent, the hidden reasoning before it.
        r.sent.countedUsage = completionUsage(planned.prompt_tokens, total, planned.completion_tokens_details.reasoning_tokens);
      }
    };
    // Faults fire at an exact token count; returns true when the response is over.
    const fire = (): boolean => {
      if (malformedAt !== undefined && total >= malformedAt) {
        record();
        res.end('data: {"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\n\n');
        return true;
      }
      if (disconnectAt !== undefined && total >= disconnectAt) {
        record();
        // Ends the TCP connection after what was written is flushed, without the HTTP body's end.
        res.socket?.end();
        return true;
      }
      return false;
    };
    for (;;) {
      let any = false;
      for (let i = 0; i < plan.choices.length; i++) {
        const choice = plan.choices[i];
        if (sentOf[i] >= choice.count) {
          continue;
        }
        if (r.closed() || fire()) {
          record();
          return;
        }
        any = true;
        const nextFault = Math.min(...[malformedAt, disconnectAt].filter((t): t is number => t !== undefined && t > total));
        const from = sentOf[i];
        const to = Math.min(choice.count, from + chunkTokens, from + (nextFault - total));
        sentOf[i] = to;
        total += to - from;
        // Thinking tokens go out in the reasoning field, the rest as content (a chunk may hold both).
        const cut = Math.min(Math.max(from, choice.thinkingCount), to);
        if (cut > from && choice.thinkingField) {
          const thought = thinkingDecoders[i].decode(concatBytes(choice.tokens, from, cut), { stream: cut < choice.thinkingCount });
          thinkingTexts[i] += thought;
          await write(res, data({ choices: [{ index: i, delta: { [choice.thinkingField]: thought }, logprobs: null, finish_reason: null }] }));
        }
        if (to > cut) {
          const content = decoders[i].decode(concatBytes(choice.tokens, cut, to), { stream: to < choice.count });
          texts[i] += content;
          const logprobs = r.logprobs ? { content: logprobEntries(choice, cut, to), refusal: null } : null;
          await write(res, data({ choices: [{ index: i, delta: { content }, logprobs, finish_reason: null }] }));
        }
      }
      if (!any) {
        break;
      }
      await pace(hidden + Math.max(...sentOf));
    }
    if (r.closed() || fire()) {
      record();
      return;
    }
    record();
    for (let i = 0; i < plan.choices.length; i++) {
      await write(res, data({ choices: [{ index: i, delta: {}, logprobs: null, finish_reason: plan.choices[i].finishReason }] }));
    }
    if (r.includeUsage && r.usage) {
      await write(res, data({ choices: [], usage: r.usage }));
      r.sent.usage = r.usage;
    }
    res.end('data: [DONE]\n\n');
  }

  private async jsonReply(r: ReplyContext): Promise<void> {
    const { res, plan } = r;
    const pace = this.pacer(r);
    await pace(Math.max(...plan.choices.map((c) => c.hidden + c.count)));
    if (r.closed()) {
      return;
    }
    const choices = plan.choices.map((c, index) => {
      const thoughtEnd = Math.min(c.thinkingCount, c.count);
      const content = new TextDecoder().decode(concatBytes(c.tokens, thoughtEnd, c.count));
      const thought = c.thinkingField && thoughtEnd > 0 ? { [c.thinkingField]: new TextDecoder().decode(concatBytes(c.tokens, 0, thoughtEnd)) } : {};
      return {
        index,
        message: { role: 'assistant', content, ...thought, refusal: null, annotations: [] },
        logprobs: r.logprobs ? { content: logprobEntries(c, 0, c.count), refusal: null } : null,
        finish_reason: c.finishReason,
      };
    });
    r.sent.choices = choices.map((c) => ({ text: c.message.content, finishReason: c.finish_reason }));
    const body = JSON.stringify({
      id: r.id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: r.model,
      choices,
      ...(r.usage ? { usage: r.usage } : {}),
      service_tier: 'default',
      system_fingerprint: 'fp_replay',
    });
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': r.id });
    if (r.fault.malformedChunk !== undefined && r.fault.malformedChunk !== false) {
      res.end(body.slice(0, body.length >> 1));
      return;
    }
    if (r.fault.disconnectAfterTokens !== undefined) {
      res.write(body.slice(0, body.length >> 1), () => res.destroy());
      return;
    }
    res.end(body);
    r.sent.usage = r.usage;
  }

  /** Waits until `tokens` tokens are due at the request's pace (measured from its start, so timer jitter does not add up). */
  private pacer(r: ReplyContext): (tokens: number) => Promise<void> {
    const start = performance.now();
    return async (tokens) => {
      if (r.tokensPerSecond > 0) {
        const wait = start + (tokens * 1000) / r.tokensPerSecond - performance.now();
        if (wait > 0) {
          await sleep(wait);
        }
      }
    };
  }
}

interface ReplyContext {
  res: http.ServerResponse;
  sent: SentResponse;
  plan: PlannedReply;
  model: string;
  id: string;
  usage: CompletionUsage | undefined;
  includeUsage: boolean;
  logprobs: boolean;
  fault: ScriptedReply;
  tokensPerSecond: number;
  closed: () => boolean;
}

export async function startModelServer(options: ModelServerOptions = {}): Promise<ModelServer> {
  const server = new LoopbackModelServer(options);
  await server.listen(options.port ?? 0);
  return server;
}

import type OpenAI from 'openai';
import type * as OpenAISdk from 'openai';
import type {
  ChatProvider,
  ChatRequest,
  ChatStreamEvent,
  FinishReason,
  TokenLogprob,
  Usage,
} from './chatProvider';
import { ProviderError } from './chatProvider';
import { ThinkTagSplitter, type ThinkSegment } from './thinkTags';
import { isReasoningModel, leverFamily, type LeverFamily, type LeverSetting } from './budgetLevers';

export interface OpenAICompatibleOptions {
  baseURL: string;
  /** Undefined for endpoints that need none (local servers). Never logged. */
  apiKey: string | undefined;
  /** Which family's budget levers requests take (default `auto`: from the model id and the endpoint). */
  levers?: LeverSetting;
  /** Retries of 408/409/429/5xx and connection errors; the SDK honours Retry-After. */
  maxRetries?: number;
  /** Milliseconds to wait for the response headers. */
  timeoutMs?: number;
  /** Milliseconds without a streamed chunk before the call is abandoned as timed out. */
  idleTimeoutMs?: number;
  /**
   * Models this session found to refuse a temperature ("<provider id> <model>"), shared by the
   * session's providers; a request to one goes without it. Default: this provider's own memory.
   */
  noTemperature?: Set<string>;
}

/** A 400 that refuses the temperature parameter ("Unsupported value: 'temperature' does not support 0.7 ..."). */
export function refusesTemperature(error: unknown): boolean {
  const e = (error ?? {}) as { status?: number; message?: string; error?: { message?: string } };
  const text = `${e.error?.message ?? ''} ${e.message ?? ''}`;
  return e.status === 400 && /temperature/i.test(text) && /unsupported|not supported|does not support|only the default/i.test(text);
}

export { isReasoningModel };

/** The temperature a run's sampled chains are sent with: none for reasoning models, which accept only their default. */
export function samplingTemperature(model: string, temperature: number): number | undefined {
  return isReasoningModel(model) ? undefined : temperature;
}

/** OpenRouter's unified thinking budget, a field the openai SDK passes through as sent. */
type WithReasoningBudget = OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming & { reasoning?: { max_tokens: number } };

/** Chat-completions parameters for a request, mapped for the model family's budget levers (budgetLevers.ts). */
export function toCompletionParams(request: ChatRequest, family: LeverFamily = leverFamily(request.model, undefined)): WithReasoningBudget {
  const reasoning = family === 'openai-reasoning';
  const params: WithReasoningBudget = {
    model: request.model,
    messages: request.messages,
    stream: true,
    stream_options: { include_usage: true },
  };
  if (reasoning) {
    params.max_completion_tokens = request.maxTokens;
    if (request.reasoningEffort) {
      params.reasoning_effort = request.reasoningEffort;
    }
  } else {
    params.max_tokens = request.maxTokens;
    if (request.temperature !== undefined) {
      params.temperature = request.temperature;
    }
    if (family === 'openrouter' && request.thinkingTokens !== undefined) {
      params.reasoning = { max_tokens: request.thinkingTokens };
    }
    if (request.stop?.length) {
      params.stop = request.stop;
    }
  }
  if (request.n !== undefined && request.n > 1) {
    params.n = request.n;
  }
  if (request.logprobs) {
    params.logprobs = true;
  }
  return params;
}

/** OpenAI itself and any OpenAI-compatible endpoint (Ollama, LM Studio, vLLM, llama.cpp, OpenRouter). */
export class OpenAICompatibleProvider implements ChatProvider {
  readonly id: string;
  readonly billsInDollars = true;
  private client: Promise<OpenAI> | undefined;
  private sdk: SdkErrors | undefined;
  private readonly noTemperature: Set<string>;

  constructor(private readonly options: OpenAICompatibleOptions) {
    this.id = `openai:${options.baseURL.replace(/\/+$/, '')}`;
    this.noTemperature = options.noTemperature ?? new Set();
  }

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    const client = await this.getClient();
    // One controller for the user's Stop and our own idle timeout, so both end the HTTP stream.
    const controller = new AbortController();
    let timedOut = false;
    const onAbort = () => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) {
      controller.abort();
    }
    const idleMs = this.options.idleTimeoutMs ?? 60_000;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, idleMs);
    };
    const finishReasons: FinishReason[] = [];
    const splitters: ThinkTagSplitter[] = [];
    /** Choices that sent anything: a server that ignores n sends fewer than were asked for. */
    const seen = new Set<number>();
    let usage: Usage | undefined;
    try {
      armIdle();
      const stream = await this.create(client, request, controller.signal);
      // Each next() is raced against the abort: once a response is fully buffered, aborting can leave
      // the SDK's next() pending forever. Not with Promise.race on one long-lived abort promise: every
      // race adds a reaction to it that keeps that chunk reachable until the stream ends.
      const chunks = stream[Symbol.asyncIterator]();
      let abandonWaiting: ((error: Error) => void) | undefined;
      controller.signal.addEventListener('abort', () => abandonWaiting?.(new Error('aborted')), { once: true });
      const nextChunk = () => new Promise<IteratorResult<OpenAI.Chat.Completions.ChatCompletionChunk>>((resolve, reject) => {
        if (controller.signal.aborted) {
          reject(new Error('aborted'));
          return;
        }
        abandonWaiting = reject;
        chunks.next().then(resolve, reject);
      });
      for (;;) {
        const next = await nextChunk();
        abandonWaiting = undefined;
        if (next.done) {
          break;
        }
        const chunk = next.value;
        armIdle();
        for (const choice of chunk.choices ?? []) {
          seen.add(choice.index);
          const delta = (choice.delta ?? {}) as ThinkingDelta;
          // DeepSeek, vLLM, SGLang and LM Studio send thinking as reasoning_content; OpenRouter and Ollama as reasoning.
          const thought = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : typeof delta.reasoning === 'string' ? delta.reasoning : '';
          if (thought) {
            yield { kind: 'thinking', choice: choice.index, text: thought };
          }
          const logprobs: TokenLogprob[] | undefined = choice.logprobs?.content?.map((l) => ({ token: l.token, logprob: l.logprob }));
          const segments = (splitters[choice.index] ??= new ThinkTagSplitter()).feed(delta.content ?? '');
          yield* segmentEvents(choice.index, segments, logprobs);
          if (choice.finish_reason) {
            yield* segmentEvents(choice.index, splitters[choice.index].flush(), undefined);
            finishReasons[choice.index] = toFinishReason(choice.finish_reason);
          }
        }
        if (chunk.usage) {
          usage = toUsage(chunk.usage);
        }
      }
    } catch (error) {
      throw toProviderError(error, { userAborted: signal.aborted, timedOut, model: request.model, baseURL: this.options.baseURL, sdk: this.sdk });
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted || timedOut) {
      // The SDK may end the iteration quietly on abort instead of throwing.
      throw toProviderError(new Error('aborted'), { userAborted: signal.aborted, timedOut, model: request.model, baseURL: this.options.baseURL });
    }
    // A server that ignores n (Ollama, some proxies) sends choices 0..k-1 in full and no others.
    const n = seen.size > 0 && seen.size < (request.n ?? 1) && Math.max(...seen) === seen.size - 1 ? seen.size : Math.max(request.n ?? 1, finishReasons.length);
    if (finishReasons.filter(Boolean).length < n) {
      // The SDK ends quietly when the connection closes early; a choice without a finish reason is a cut stream.
      throw new ProviderError('network', `The connection to ${this.options.baseURL} closed before the answer was complete. Try again.`);
    }
    const reasons = Array.from({ length: n }, (_, i) => finishReasons[i] ?? 'unknown');
    yield { kind: 'done', finishReasons: reasons, usage };
  }

  /**
   * Opens the stream. A model that refuses a temperature (a reasoning model behind another name,
   * an endpoint that fixes it) is asked again at once without one, and this session remembers it.
   */
  private async create(client: OpenAI, request: ChatRequest, signal: AbortSignal) {
    const params = toCompletionParams(request, leverFamily(request.model, this.options.baseURL, this.options.levers));
    const key = `${this.id} ${request.model}`;
    if (this.noTemperature.has(key)) {
      delete params.temperature;
    }
    try {
      return await client.chat.completions.create(params, { signal });
    } catch (error) {
      if (params.temperature === undefined || !refusesTemperature(error)) {
        throw error;
      }
      this.noTemperature.add(key);
      delete params.temperature;
      return client.chat.completions.create(params, { signal });
    }
  }

  async listModels(signal: AbortSignal): Promise<string[]> {
    const client = await this.getClient();
    try {
      const ids: string[] = [];
      for await (const model of client.models.list({ signal })) {
        ids.push(model.id);
      }
      return ids.sort();
    } catch (error) {
      throw toProviderError(error, { userAborted: signal.aborted, timedOut: false, model: '', baseURL: this.options.baseURL, sdk: this.sdk });
    }
  }

  private getClient(): Promise<OpenAI> {
    // The SDK is loaded on first use, never on the activation path.
    this.client ??= import('openai').then((sdk) => {
      this.sdk = sdk;
      return new sdk.default({
      baseURL: this.options.baseURL,
      // Local servers need no key, but the SDK insists on one; it is only ever sent to this base URL.
      apiKey: this.options.apiKey || 'no-key',
      maxRetries: this.options.maxRetries ?? 2,
      timeout: this.options.timeoutMs ?? 60_000,
      dangerouslyAllowBrowser: true,
      });
    });
    return this.client;
  }
}

/** A streamed delta as thinking-capable servers extend it. */
interface ThinkingDelta {
  content?: string | null;
  reasoning_content?: unknown;
  reasoning?: unknown;
}

/** Thinking and visible events of one choice's content; logprobs go with the visible text (or alone, when there is none). */
function* segmentEvents(choice: number, segments: ThinkSegment[], logprobs: TokenLogprob[] | undefined): Generator<ChatStreamEvent> {
  let logprobsSent = false;
  for (const s of segments) {
    if (s.thinking) {
      yield { kind: 'thinking', choice, text: s.text };
    } else {
      yield { kind: 'delta', choice, text: s.text, ...(logprobs?.length && !logprobsSent ? { logprobs } : {}) };
      logprobsSent = true;
    }
  }
  if (logprobs?.length && !logprobsSent) {
    yield { kind: 'delta', choice, text: '', logprobs };
  }
}

function toFinishReason(reason: string): FinishReason {
  switch (reason) {
    case 'stop':
    case 'length':
    case 'content_filter':
    case 'tool_calls':
      return reason;
    default:
      return 'unknown';
  }
}

function toUsage(u: OpenAI.Completions.CompletionUsage): Usage {
  return {
    promptTokens: u.prompt_tokens ?? 0,
    cachedPromptTokens: u.prompt_tokens_details?.cached_tokens ?? 0,
    completionTokens: u.completion_tokens ?? 0,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
    estimated: false,
  };
}

/** The SDK's error classes, matched with instanceof: minified bundles rename classes, so names are unreliable. */
type SdkErrors = Pick<typeof OpenAISdk, 'APIUserAbortError' | 'APIConnectionTimeoutError' | 'APIConnectionError'>;

interface ErrorContext {
  userAborted: boolean;
  timedOut: boolean;
  model: string;
  baseURL: string;
  sdk?: SdkErrors;
}

interface SdkErrorShape {
  name?: string;
  message?: string;
  status?: number;
  code?: string | null;
  headers?: { get?(name: string): string | null } | Record<string, string>;
  error?: { code?: string; message?: string };
}

/** Maps whatever the SDK threw to one ProviderError kind with a message that says what to do. */
export function toProviderError(error: unknown, ctx: ErrorContext): ProviderError {
  if (error instanceof ProviderError) {
    return error;
  }
  const e = (error ?? {}) as SdkErrorShape;
  const name = e.name ?? '';
  // Without its closing period: every message below puts its own punctuation after it.
  const detail = stripKeys(e.error?.message ?? e.message ?? String(error)).replace(/[.\s]+$/, '');
  if (ctx.timedOut) {
    return new ProviderError('timeout', `The endpoint ${ctx.baseURL} stopped sending for too long. Try again, or check that the server is not overloaded.`);
  }
  const is = (cls: keyof SdkErrors) => (ctx.sdk ? error instanceof ctx.sdk[cls] : name === cls);
  if (ctx.userAborted || is('APIUserAbortError') || name === 'AbortError') {
    return new ProviderError('aborted', 'Stopped.');
  }
  if (is('APIConnectionTimeoutError')) {
    return new ProviderError('timeout', `The endpoint ${ctx.baseURL} did not answer in time. Check that it is running and reachable, then try again.`);
  }
  if (is('APIConnectionError')) {
    return new ProviderError('network', `Cannot reach ${ctx.baseURL} (${detail}). Check the base URL setting and that the server is running.`);
  }
  if (isSocketClosed(error)) {
    // undici's fetch throws TypeError('terminated') when the server closes the socket mid-body.
    return new ProviderError('network', `The connection to ${ctx.baseURL} closed before the answer was complete. Try again.`);
  }
  const status = e.status;
  const retryAfterMs = parseRetryAfter(readHeader(e.headers, 'retry-after-ms'), readHeader(e.headers, 'retry-after'));
  const code = e.code ?? e.error?.code ?? '';
  switch (status) {
    case 401:
      return new ProviderError('auth', `The endpoint rejected the API key (401). Run "Budget Reasoner: Set API Key" for ${ctx.baseURL}.`, status);
    case 403:
      return new ProviderError('forbidden', `The API key has no access to "${ctx.model}" (403). Check the key's project and permissions, or select another model.`, status);
    case 404:
      return new ProviderError('model-not-found', `The endpoint has no model "${ctx.model}" (404). Run "Budget Reasoner: Select Model" to pick one it serves.`, status);
    case 429: {
      const wait = retryAfterMs !== undefined ? ` Try again in ${Math.ceil(retryAfterMs / 1000)} s.` : ' Wait a moment and try again.';
      return new ProviderError('rate-limited', `Rate limited by the endpoint (429) after retrying: ${detail}.${wait}`, status, retryAfterMs);
    }
    case 400:
    case 413:
      if (code === 'context_length_exceeded' || /context length|maximum context|too long/i.test(detail)) {
        return new ProviderError('context-length', `The question is too long for "${ctx.model}": ${detail}. Shorten the selection or pick a model with a larger context window.`, status);
      }
      return new ProviderError('bad-request', `The endpoint refused the request (${status}): ${detail}.`, status);
  }
  if (status !== undefined && status >= 500) {
    return new ProviderError('server', `The endpoint had a server error (${status}) after retrying: ${detail}. Try again later.`, status, retryAfterMs);
  }
  if (status !== undefined) {
    return new ProviderError('bad-request', `The endpoint answered ${status}: ${detail}.`, status);
  }
  return new ProviderError('protocol', `The endpoint sent a response that could not be read (${detail}). Try again; if it keeps happening, check that ${ctx.baseURL} is an OpenAI-compatible endpoint.`);
}

function isSocketClosed(error: unknown): boolean {
  const e = error as { name?: string; message?: string; cause?: { code?: string } } | undefined;
  return (e?.name === 'TypeError' && e.message === 'terminated') || /^UND_ERR_SOCKET$|^ECONNRESET$/.test(e?.cause?.code ?? '');
}

function readHeader(headers: SdkErrorShape['headers'], name: string): string | undefined {
  if (!headers) {
    return undefined;
  }
  if (typeof headers.get === 'function') {
    return headers.get(name) ?? undefined;
  }
  return (headers as Record<string, string>)[name];
}

function parseRetryAfter(ms: string | undefined, seconds: string | undefined): number | undefined {
  if (ms && Number.isFinite(Number(ms))) {
    return Number(ms);
  }
  if (!seconds) {
    return undefined;
  }
  if (Number.isFinite(Number(seconds))) {
    return Number(seconds) * 1000;
  }
  const date = Date.parse(seconds);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Endpoints sometimes echo the key in error text ("Incorrect API key provided: sk-..."). */
export function stripKeys(text: string): string {
  return text.replace(/\b(sk|pk|rk|or|gsk|xai)-[A-Za-z0-9_\-*]{6,}/g, '$1-…').replace(/Bearer\s+\S+/gi, 'Bearer …');
}

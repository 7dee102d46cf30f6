/**
 * The one contract between the reasoning engine and any model endpoint.
 * Implementations: OpenAI-compatible (openai SDK) in core, VS Code Language Model API in host.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  /** Hard ceiling on generated tokens (visible + reasoning), already clamped by the caps. */
  maxTokens: number;
  /** Number of parallel choices; providers that cannot sample in parallel reject n > 1 up front. */
  n?: number;
  temperature?: number;
  /** Ask for per-token logprobs of the output, where the endpoint supports them. */
  logprobs?: boolean;
  /** Only sent to reasoning models (o-series, gpt-5). */
  reasoningEffort?: 'minimal' | 'low' | 'medium' | 'high';
  /**
   * Most tokens the model may think: sent where the endpoint takes a thinking budget (OpenRouter's
   * `reasoning.max_tokens`); the metered caller cuts the stream there in any case.
   */
  thinkingTokens?: number;
  /** Stop sequences (a value tree's paragraph break); OpenAI's reasoning models take none, and the caller cuts there anyway. */
  stop?: string[];
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'aborted' | 'error' | 'unknown';

export interface TokenLogprob {
  token: string;
  logprob: number;
}

/** Token usage of one provider call, as the provider reported it or as we counted it. */
export interface Usage {
  promptTokens: number;
  /** Part of promptTokens served from the provider's prompt cache (billed at the cached rate). */
  cachedPromptTokens: number;
  /** All generated tokens, including reasoningTokens. */
  completionTokens: number;
  /** Hidden reasoning tokens (billed, never shown). Part of completionTokens. */
  reasoningTokens: number;
  /** True when any figure was counted locally because the provider did not report it. */
  estimated: boolean;
}

/**
 * A call's stream, normalised: `delta` is the visible reply; `thinking` is a reasoning model's thinking,
 * whichever way the endpoint sends it (`reasoning_content`, `reasoning`, or inline `<think>` tags).
 * Thinking tokens are completion tokens: they are billed and count toward max_tokens.
 */
export type ChatStreamEvent =
  | { kind: 'delta'; choice: number; text: string; logprobs?: TokenLogprob[] }
  | { kind: 'thinking'; choice: number; text: string }
  | { kind: 'done'; finishReasons: FinishReason[]; usage: Usage | undefined };

export interface ChatProvider {
  /** Stable id of the endpoint, e.g. `openai:https://api.openai.com/v1` or `vscode-lm`. */
  readonly id: string;
  /** Whether costs are money (false for the VS Code LM API, which is billed in requests). */
  readonly billsInDollars: boolean;
  /**
   * Streams one call. Yields deltas as they arrive, then exactly one `done`.
   * `usage` in `done` is the provider's own report, or undefined when it sent none.
   * Throws ProviderError; aborting `signal` ends the HTTP stream at once.
   */
  stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent>;
  /** Model ids the endpoint offers (GET /v1/models), for the model picker. */
  listModels(signal: AbortSignal): Promise<string[]>;
}

export type ProviderErrorKind =
  | 'auth'            // 401: key missing or wrong
  | 'forbidden'       // 403: key lacks access to the model or project
  | 'model-not-found' // 404
  | 'rate-limited'    // 429 after the SDK's retries
  | 'server'          // 5xx after retries
  | 'network'         // connection refused, DNS, reset
  | 'timeout'
  | 'context-length'  // prompt + max tokens exceed the model's window
  | 'bad-request'     // other 400
  | 'protocol'        // malformed response from the endpoint
  | 'aborted';        // the user pressed Stop

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly status?: number,
    /** Milliseconds the endpoint asked us to wait (Retry-After), when known. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

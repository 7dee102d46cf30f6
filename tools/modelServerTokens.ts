import { get_encoding, type Tiktoken } from 'tiktoken';

// One o200k_base encoder for the process: building it costs ~0.3 s, and WASM memory is never freed anyway.
let encoder: Tiktoken | undefined;
function o200k(): Tiktoken {
  encoder ??= get_encoding('o200k_base');
  return encoder;
}

/** A text as the model would emit it: one byte string per o200k token (a token may hold part of a UTF-8 character). */
export interface TokenizedText {
  readonly tokens: readonly Uint8Array[];
}

export function countTokens(text: string): number {
  return o200k().encode_ordinary(text).length;
}

export function tokenize(text: string): TokenizedText {
  const enc = o200k();
  return { tokens: Array.from(enc.encode_ordinary(text), (id) => enc.decode_single_token_bytes(id)) };
}

// Recorded chains are replayed many times (benchmarks stream them thousands of times): split each once.
const recordedSplits = new Map<string, TokenizedText>();
export function tokenizeRecorded(text: string): TokenizedText {
  let split = recordedSplits.get(text);
  if (!split) {
    split = tokenize(text);
    recordedSplits.set(text, split);
  }
  return split;
}

export interface PromptMessage {
  role?: unknown;
  content?: unknown;
  name?: unknown;
}

/** Text of a message's content: a string, or the text parts of a content array. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') {
    return content;
  }
  if (Array.isArray(content)) {
    return content.map((part) => (part && typeof part === 'object' && typeof part.text === 'string' ? part.text : '')).join('');
  }
  return '';
}

/**
 * Prompt tokens as OpenAI bills chat models of the gpt-4o family: 3 tokens of framing per message,
 * its role and content (and name, +1), plus 3 tokens priming the reply.
 */
export function countPromptTokens(messages: readonly PromptMessage[], count: (text: string) => number = countTokens): number {
  let total = 3;
  for (const m of messages) {
    total += 3 + count(String(m.role ?? '')) + count(messageText(m.content));
    if (typeof m.name === 'string') {
      total += 1 + count(m.name);
    }
  }
  return total;
}

/**
 * How the server counts, bills and enforces max_tokens: OpenAI's o200k, or a foreign tokenizer that
 * splits every o200k token of more than FOREIGN_SPLIT_BYTES bytes in two, as a smaller vocabulary
 * (Llama-2, Mistral) would: ~1.45x o200k on the recorded chains, 1.2x-1.9x from text to text.
 */
export const SERVER_TOKENIZERS = ['o200k', 'foreign'] as const;
export type ServerTokenizerName = typeof SERVER_TOKENIZERS[number];
export const FOREIGN_SPLIT_BYTES = 2;

export interface ServerTokenizer {
  readonly name: ServerTokenizerName;
  countTokens(text: string): number;
  tokenize(text: string): TokenizedText;
  /** tokenize, cached: for recorded chains, replayed many times. */
  tokenizeRecorded(text: string): TokenizedText;
  countPromptTokens(messages: readonly PromptMessage[]): number;
}

const o200kTokenizer: ServerTokenizer = {
  name: 'o200k',
  countTokens,
  tokenize,
  tokenizeRecorded,
  countPromptTokens: (messages) => countPromptTokens(messages),
};

function splitForeign(tokens: readonly Uint8Array[]): Uint8Array[] {
  return tokens.flatMap((t) => (t.length > FOREIGN_SPLIT_BYTES ? [t.subarray(0, t.length >> 1), t.subarray(t.length >> 1)] : [t]));
}

const foreignSplits = new Map<string, TokenizedText>();
const foreignTokenizer: ServerTokenizer = {
  name: 'foreign',
  countTokens: (text) => tokenize(text).tokens.reduce((n, t) => n + (t.length > FOREIGN_SPLIT_BYTES ? 2 : 1), 0),
  tokenize: (text) => ({ tokens: splitForeign(tokenize(text).tokens) }),
  tokenizeRecorded(text) {
    let split = foreignSplits.get(text);
    if (!split) {
      split = { tokens: splitForeign(tokenizeRecorded(text).tokens) };
      foreignSplits.set(text, split);
    }
    return split;
  },
  countPromptTokens: (messages) => countPromptTokens(messages, foreignTokenizer.countTokens),
};

export function serverTokenizer(name: ServerTokenizerName = 'o200k'): ServerTokenizer {
  return name === 'foreign' ? foreignTokenizer : o200kTokenizer;
}

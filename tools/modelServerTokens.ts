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
export function countPromptTokens(messages: readonly PromptMessage[]): number {
  let total = 3;
  for (const m of messages) {
    total += 3 + countTokens(String(m.role ?? '')) + countTokens(messageText(m.content));
    if (typeof m.name === 'string') {
      total += 1 + countTokens(m.name);
    }
  }
  return total;
}

import type * as Tiktoken from 'tiktoken';
import type { ChatMessage } from '../providers/chatProvider';

/** The BPE vocabularies OpenAI chat models use. */
export type EncodingName = 'o200k_base' | 'cl100k_base';

/** Which library encodes: tiktoken (Rust compiled to WASM) or gpt-tokenizer (pure JS). */
export type TokenizerBackendName = 'tiktoken' | 'gpt-tokenizer';

/**
 * Chosen by bench/tokenizers.ts (bench/results/tokenizers.md): gpt-tokenizer counts streamed chunks
 * 2.4x and whole chains 4.5x faster than tiktoken with identical counts, and loads as fast cold.
 * The build puts each vocabulary in its own file (dist/encodings/), read on the first count, so
 * activation never parses it; tiktoken's 5.6 MB WASM is not shipped.
 */
export const DEFAULT_TOKENIZER_BACKEND: TokenizerBackendName = 'gpt-tokenizer';

export interface EncodingChoice {
  encoding: EncodingName;
  /** True when the model is not a known OpenAI model: its own tokenizer may count differently. */
  estimated: boolean;
}

export interface TokenCount {
  tokens: number;
  encoding: EncodingName;
  estimated: boolean;
}

/** A chat message as counted for the prompt; `name` is OpenAI's optional participant name. */
export type CountedChatMessage = ChatMessage & { name?: string };

/** The one thing a backend must do: count the tokens of text, special-token strings counted as text. */
export interface TokenEncoder {
  countTokens(text: string): number;
}

export interface TokenizerBackend {
  readonly name: TokenizerBackendName;
  load(encoding: EncodingName): TokenEncoder;
}

/** Maps a model id (with provider prefixes, fine-tune ids and dated snapshots) to its encoding. */
export function encodingForModel(model: string): EncodingChoice {
  const id = model.trim().toLowerCase().replace(/^ft:/, '').replace(/^.*\//, '');
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-4o|o\d)/.test(id)) {
    return { encoding: 'o200k_base', estimated: false };
  }
  if (/^(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada-002)/.test(id)) {
    return { encoding: 'cl100k_base', estimated: false };
  }
  return { encoding: 'o200k_base', estimated: true };
}

// The libraries are required at call time, never at module load: this module sits on the
// extension's activation path and the encoders weigh megabytes. esbuild still bundles them.
const tiktokenBackend: TokenizerBackend = {
  name: 'tiktoken',
  load(encoding) {
    // Benchmarks and tests only: the extension bundle leaves tiktoken out (see esbuild.js).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tiktoken = require('tiktoken') as typeof Tiktoken;
    const encoder = tiktoken.get_encoding(encoding);
    return { countTokens: (text) => (text ? encoder.encode_ordinary(text).length : 0) };
  },
};

// Literal module paths: esbuild.js maps each to its own lazily required bundle (dist/encodings/).
const gptTokenizerBackend: TokenizerBackend = {
  name: 'gpt-tokenizer',
  load(encoding) {
    // The slice of gpt-tokenizer's encoding module used here.
    type GptEncodingModule = { countTokens(text: string, options: { disallowedSpecial: Set<string> }): number };
    const lib = (encoding === 'o200k_base'
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ? require('gpt-tokenizer/encoding/o200k_base')
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      : require('gpt-tokenizer/encoding/cl100k_base')) as GptEncodingModule;
    const asText = { disallowedSpecial: new Set<string>() };
    return { countTokens: (text) => (text ? lib.countTokens(text, asText) : 0) };
  },
};

export const tokenizerBackends: Readonly<Record<TokenizerBackendName, TokenizerBackend>> = {
  tiktoken: tiktokenBackend,
  'gpt-tokenizer': gptTokenizerBackend,
};

const encoderCache = new Map<string, TokenEncoder>();

/**
 * The encoder of one backend and encoding, loaded on first use and kept for the process. A backend
 * whose package is not shipped (the build may leave gpt-tokenizer out) falls back to the other one:
 * both give identical counts.
 */
export function loadEncoder(backend: TokenizerBackendName, encoding: EncodingName): TokenEncoder {
  const key = `${backend}:${encoding}`;
  let encoder = encoderCache.get(key);
  if (!encoder) {
    try {
      encoder = tokenizerBackends[backend].load(encoding);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') {
        throw error;
      }
      encoder = tokenizerBackends[backend === 'tiktoken' ? 'gpt-tokenizer' : 'tiktoken'].load(encoding);
    }
    encoderCache.set(key, encoder);
  }
  return encoder;
}

/** OpenAI's chat format: every message costs 3 tokens of framing, a name 1 more, the reply is primed with 3. */
export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const REPLY_PRIMING_TOKENS = 3;

/** Counts tokens the way OpenAI bills them, for any model id. */
export class TokenCounter {
  constructor(readonly backend: TokenizerBackendName = DEFAULT_TOKENIZER_BACKEND) {}

  /** Loads the model's encoder now (it takes ~0.5 s the first time), e.g. when the editor is idle after activation. */
  prewarm(model: string): void {
    this.encoder(encodingForModel(model).encoding);
  }

  countText(text: string, model: string): TokenCount {
    const choice = encodingForModel(model);
    return { tokens: this.encoder(choice.encoding).countTokens(text), ...choice };
  }

  /** Prompt tokens of a chat request, framing included (OpenAI cookbook, "counting tokens for chat"). */
  countChatPrompt(messages: readonly CountedChatMessage[], model: string): TokenCount {
    const choice = encodingForModel(model);
    const encoder = this.encoder(choice.encoding);
    let tokens = REPLY_PRIMING_TOKENS;
    for (const m of messages) {
      tokens += TOKENS_PER_MESSAGE + encoder.countTokens(m.role) + encoder.countTokens(m.content);
      if (m.name) {
        tokens += TOKENS_PER_NAME + encoder.countTokens(m.name);
      }
    }
    return { tokens, ...choice };
  }

  /** A counter for one streamed completion. */
  streaming(model: string): StreamingTokenCounter {
    const choice = encodingForModel(model);
    return new StreamingTokenCounter(this.encoder(choice.encoding), choice);
  }

  /** The longest prefix of `text` that counts at most `maxTokens` (a cut where the stream must end). */
  truncateToTokens(text: string, maxTokens: number, model: string): string {
    const encoder = this.encoder(encodingForModel(model).encoding);
    if (encoder.countTokens(text) <= maxTokens) {
      return text;
    }
    // Counts grow with the prefix length (up to BPE's ±1 at the cut), so binary search the longest fit.
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (encoder.countTokens(text.slice(0, mid)) <= maxTokens) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    // Never cut a surrogate pair in half.
    const code = text.charCodeAt(lo - 1);
    return text.slice(0, code >= 0xd800 && code <= 0xdbff ? lo - 1 : lo);
  }

  private encoder(encoding: EncodingName): TokenEncoder {
    return loadEncoder(this.backend, encoding);
  }
}

/**
 * Places where both o200k_base's and cl100k_base's pre-tokenizer always start a new piece, so
 * count(prefix) + count(rest) = count(whole): a space after a letter or digit (no piece that
 * ends in a letter or digit can take a space), and after a newline unless whitespace or '/'
 * follows (only whitespace, and '/' in o200k's punctuation rule, can join a newline's piece).
 */
const PIECE_BOUNDARY = /(?<=[\p{L}\p{N}]) |(?<=\n)(?=[^\s/])/gu;

/** Tail length past which a boundary-less tail is committed approximately, to bound the cost per delta. */
const MAX_TAIL_CHARS = 512;
const KEPT_TAIL_CHARS = 64;

/** Result of a finished stream: the exact count, and how far the running count had drifted from it. */
export interface StreamingCount {
  exactTokens: number;
  runningTokens: number;
  /** runningTokens - exactTokens. */
  drift: number;
}

/**
 * Counts a streamed completion as it arrives. Text before the last piece boundary is counted once
 * and committed; only the short tail after it is re-encoded per delta. `finish()` re-encodes the
 * whole text once, so the final count is exact whatever the chunking.
 */
export class StreamingTokenCounter {
  private readonly parts: string[] = [];
  private committedTokens = 0;
  private tail = '';
  private tailTokens = 0;
  /** Approximate commits made because a tail grew past MAX_TAIL_CHARS without a boundary. */
  approximateCommits = 0;

  constructor(private readonly encoder: TokenEncoder, readonly encodingChoice: EncodingChoice) {}

  /** Adds a delta and returns the running count of everything so far. */
  append(textDelta: string): number {
    if (!textDelta) {
      return this.runningTokens;
    }
    this.tail += textDelta;
    // The boundary test needs the character after the cut, so the last character is never a cut.
    let cut = -1;
    PIECE_BOUNDARY.lastIndex = 0;
    for (let m = PIECE_BOUNDARY.exec(this.tail); m; m = PIECE_BOUNDARY.exec(this.tail)) {
      if (m.index > 0) {
        cut = m.index;
      }
      // Step past the match by a whole code point: a unicode regex backs up out of a surrogate pair.
      const code = this.tail.charCodeAt(m.index);
      PIECE_BOUNDARY.lastIndex = m.index + (code >= 0xd800 && code <= 0xdbff ? 2 : 1);
    }
    if (cut < 0 && this.tail.length > MAX_TAIL_CHARS) {
      cut = this.tail.length - KEPT_TAIL_CHARS;
      this.approximateCommits++;
    }
    if (cut > 0) {
      const done = this.tail.slice(0, cut);
      this.parts.push(done);
      this.committedTokens += this.encoder.countTokens(done);
      this.tail = this.tail.slice(cut);
    }
    this.tailTokens = this.encoder.countTokens(this.tail);
    return this.runningTokens;
  }

  get runningTokens(): number {
    return this.committedTokens + this.tailTokens;
  }

  get text(): string {
    return this.parts.join('') + this.tail;
  }

  finish(): StreamingCount {
    const runningTokens = this.runningTokens;
    const text = this.text;
    const exactTokens = this.encoder.countTokens(text);
    // Later appends continue from the exact figure.
    this.parts.length = 0;
    this.parts.push(text);
    this.committedTokens = exactTokens;
    this.tail = '';
    this.tailTokens = 0;
    return { exactTokens, runningTokens, drift: runningTokens - exactTokens };
  }
}

const defaultCounters = new Map<TokenizerBackendName, TokenCounter>();

function defaultCounter(backend: TokenizerBackendName): TokenCounter {
  let counter = defaultCounters.get(backend);
  if (!counter) {
    counter = new TokenCounter(backend);
    defaultCounters.set(backend, counter);
  }
  return counter;
}

export function countText(text: string, model: string, backend: TokenizerBackendName = DEFAULT_TOKENIZER_BACKEND): TokenCount {
  return defaultCounter(backend).countText(text, model);
}

export function countChatPrompt(messages: readonly CountedChatMessage[], model: string, backend: TokenizerBackendName = DEFAULT_TOKENIZER_BACKEND): TokenCount {
  return defaultCounter(backend).countChatPrompt(messages, model);
}

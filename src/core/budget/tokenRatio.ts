/**
 * Billed tokens per locally counted (o200k) token, learned per model from the usage calls report.
 * The caps count billed tokens, the client counts its own: a server with another tokenizer (Llama,
 * Qwen, Claude) bills more, or fewer. Until a model's calls show its ratio, a margin stands in for it.
 * Pure: MeteredCaller observes the usage, the host persists the state with the local estimator's.
 */
import { encodingForModel } from '../tokens/tokenCounter';
import { grant, type Grant, type GrantRequest } from './caps';

/** A ratio and its bounds: `upper` sizes what a call may bill, `lower` tells a server's own end at max_tokens from an overrun. */
export interface RatioBounds {
  lower: number;
  estimate: number;
  upper: number;
}

export interface ModelTokenRatio {
  prompt: RatioBounds;
  completion: RatioBounds;
}

/** One side (prompt or completion) of one model: sums for the estimate, the extreme samples for the bounds. */
export interface RatioSideState {
  samples: number;
  billed: number;
  local: number;
  lowest?: number;
  highest?: number;
}

export interface TokenRatioState {
  version: 1;
  models: Record<string, { prompt: RatioSideState; completion: RatioSideState }>;
}

/** One call's counts: what the client counted and what the server billed for the same text. */
export interface RatioSample {
  prompt?: { local: number; billed: number };
  completion?: { local: number; billed: number };
}

/** The ratio the caps used before ratios were learned: the local count is the billed count. */
export const IDENTITY_RATIO: ModelTokenRatio = { prompt: { lower: 1, estimate: 1, upper: 1 }, completion: { lower: 1, estimate: 1, upper: 1 } };

/**
 * A model whose tokenizer is not known (`encodingForModel` says estimated) may bill up to twice the
 * o200k count (Llama-2 and Mistral vocabularies bill ~1.5x on English, more on code and other scripts)
 * until its calls show its own ratio; a known OpenAI model bills what o200k or cl100k count.
 */
export const UNKNOWN_TOKENIZER_PRIOR: RatioBounds = { lower: 1, estimate: 1, upper: 2 };
const KNOWN_TOKENIZER_PRIOR: RatioBounds = { lower: 1, estimate: 1, upper: 1 };

/** The prior's weight in samples: after n samples it keeps 1/(1+n) of its margin beyond what was seen. */
const PRIOR_SAMPLES = 1;
/** Texts shorter than this (locally) are too coarse to learn from: one token more is a ratio of 1.1. */
export const MIN_SAMPLE_TOKENS = 8;
/** Past this many samples the sums are halved, so the estimate follows a server that changes. */
const MAX_SUMMED_SAMPLES = 1000;
/** Models remembered; the least recently observed is forgotten first. */
const MAX_MODELS = 64;

export function priorRatio(model: string): RatioBounds {
  return encodingForModel(model).estimated ? UNKNOWN_TOKENIZER_PRIOR : KNOWN_TOKENIZER_PRIOR;
}

/** What one side has seen, with the prior's margin shrinking as samples accumulate; never inside the extremes seen. */
export function ratioBounds(side: RatioSideState | undefined, prior: RatioBounds): RatioBounds {
  if (!side || side.samples === 0 || !(side.local > 0)) {
    return prior;
  }
  const estimate = side.billed / side.local;
  const keep = PRIOR_SAMPLES / (PRIOR_SAMPLES + side.samples);
  const highest = Math.max(side.highest ?? estimate, estimate);
  const lowest = Math.min(side.lowest ?? estimate, estimate);
  return {
    lower: Math.min(lowest, lowest + (prior.lower - lowest) * keep),
    estimate,
    upper: Math.max(highest, highest + (prior.upper - highest) * keep),
  };
}

/** Billed tokens of `local` locally counted ones at `ratio`, rounded up: a cap never rounds in the caller's favour. */
export function toBilled(local: number, ratio: number): number {
  return local === Number.POSITIVE_INFINITY ? local : Math.max(0, Math.ceil(local * ratio - 1e-9));
}

/** Local tokens that bill at most `billed` at `ratio`. */
export function toLocal(billed: number, ratio: number): number {
  return billed === Number.POSITIVE_INFINITY ? billed : Math.floor(billed / ratio + 1e-9);
}

/** A grant in the model's own tokens, and where the client cuts a stream that runs past it. */
export type ModelGrant =
  | (Extract<Grant, { ok: true }> & {
      /** Billed tokens per choice past which (the local count at the upper ratio) the server overran: the stream is cut there. */
      cutAt: number;
    })
  | Extract<Grant, { ok: false }>;

/**
 * The caps leave `room` billed tokens per choice (request.promptTokens already billed). max_tokens,
 * counted by the model, is sent at room × lower / upper, so a stream the server ends at max_tokens
 * counts below `cutAt` locally whatever the ratio within its bounds: it ends there and its usage
 * arrives. A stream whose local count at the upper ratio passes `cutAt` (at most the room) is one
 * the server did not end: the client cuts it, and the caps still hold.
 */
export function grantInModelTokens(request: GrantRequest, completion: RatioBounds): ModelGrant {
  const spread = Math.max(1, completion.upper / completion.lower);
  const needed = Math.max(1, Math.min(request.minUsefulTokens ?? Number.POSITIVE_INFINITY, request.wanted));
  const g = grant({
    ...request,
    wanted: toBilled(request.wanted, spread),
    ...(request.minUsefulTokens !== undefined ? { minUsefulTokens: Math.ceil(needed * spread - 1e-9) } : {}),
  });
  if (!g.ok) {
    return g;
  }
  const maxTokens = Math.min(request.wanted, toLocal(g.maxTokens, spread));
  return { ...g, maxTokens, cutAt: Math.min(g.maxTokens, toBilled(maxTokens, spread)) };
}

/** The learned ratios of every model called, by model id. */
export class TokenRatios {
  private readonly models = new Map<string, { prompt: RatioSideState; completion: RatioSideState }>();

  constructor(state?: TokenRatioState) {
    if (state?.version !== 1 || !state.models || typeof state.models !== 'object') {
      return;
    }
    for (const [model, sides] of Object.entries(state.models)) {
      if (isSide(sides?.prompt) && isSide(sides?.completion)) {
        this.models.set(model, { prompt: { ...sides.prompt }, completion: { ...sides.completion } });
      }
    }
  }

  /** The model's ratio now: learned where it has samples, the prior's margin where it has few or none. */
  of(model: string): ModelTokenRatio {
    const prior = priorRatio(model);
    const seen = this.models.get(model);
    return { prompt: ratioBounds(seen?.prompt, prior), completion: ratioBounds(seen?.completion, prior) };
  }

  /** Samples of the model's calls this process and earlier ones (prompt side). */
  samples(model: string): number {
    return this.models.get(model)?.prompt.samples ?? 0;
  }

  /** Learns from one call that the server reported usage for. */
  observe(model: string, sample: RatioSample): void {
    let seen = this.models.get(model);
    if (seen) {
      this.models.delete(model);
    } else {
      seen = { prompt: { samples: 0, billed: 0, local: 0 }, completion: { samples: 0, billed: 0, local: 0 } };
    }
    // Re-inserted last: the map's order is the order of use.
    this.models.set(model, seen);
    if (sample.prompt) {
      addSample(seen.prompt, sample.prompt.local, sample.prompt.billed);
    }
    if (sample.completion) {
      addSample(seen.completion, sample.completion.local, sample.completion.billed);
    }
    for (const old of this.models.keys()) {
      if (this.models.size <= MAX_MODELS) {
        break;
      }
      this.models.delete(old);
    }
  }

  toJSON(): TokenRatioState {
    const models: TokenRatioState['models'] = {};
    for (const [model, sides] of this.models) {
      models[model] = { prompt: { ...sides.prompt }, completion: { ...sides.completion } };
    }
    return { version: 1, models };
  }
}

function addSample(side: RatioSideState, local: number, billed: number): void {
  if (!(local >= MIN_SAMPLE_TOKENS) || !(billed >= 0) || !Number.isFinite(local) || !Number.isFinite(billed)) {
    return;
  }
  if (side.samples >= MAX_SUMMED_SAMPLES) {
    side.samples = Math.floor(side.samples / 2);
    side.billed /= 2;
    side.local /= 2;
  }
  side.samples++;
  side.billed += billed;
  side.local += local;
  const ratio = billed / local;
  side.lowest = Math.min(side.lowest ?? ratio, ratio);
  side.highest = Math.max(side.highest ?? ratio, ratio);
}

function isSide(x: unknown): x is RatioSideState {
  const s = x as RatioSideState | undefined;
  return !!s && typeof s === 'object' && [s.samples, s.billed, s.local].every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)
    && [s.lowest, s.highest].every((v) => v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0));
}

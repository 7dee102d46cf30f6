import type { PriceOverride } from '../config';
import { isLocalEndpoint } from '../config';
import type { Usage } from '../providers/chatProvider';

/** Dollars per 1M tokens. */
export interface TokenPrice {
  input: number;
  /** Prompt tokens served from the provider's prompt cache. */
  cachedInput: number;
  /** Generated tokens, hidden reasoning tokens included. */
  output: number;
}

export interface ListPrice extends TokenPrice {
  /** Day the figures were read from the source. */
  asOf: string;
  source: string;
}

export type PriceSource = 'list' | 'override' | 'local';

/** The price that applies to one model on one endpoint, and where it came from. */
export interface ModelPrice extends TokenPrice {
  /** The table key that matched (the model id with snapshot suffixes stripped, or the override key). */
  matched: string;
  source: PriceSource;
  asOf?: string;
  url?: string;
}

const PRICING_URL = 'https://platform.openai.com/docs/pricing';
const AS_OF = '2025-08-07';

/** OpenAI standard-tier list prices (text tokens), dollars per 1M tokens. */
export const LIST_PRICES: Readonly<Record<string, ListPrice>> = {
  'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10, asOf: AS_OF, source: PRICING_URL },
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6, asOf: AS_OF, source: PRICING_URL },
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8, asOf: AS_OF, source: PRICING_URL },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6, asOf: AS_OF, source: PRICING_URL },
  'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4, asOf: AS_OF, source: PRICING_URL },
  o1: { input: 15, cachedInput: 7.5, output: 60, asOf: AS_OF, source: PRICING_URL },
  o3: { input: 2, cachedInput: 0.5, output: 8, asOf: AS_OF, source: PRICING_URL },
  'o3-mini': { input: 1.1, cachedInput: 0.55, output: 4.4, asOf: AS_OF, source: PRICING_URL },
  'o4-mini': { input: 1.1, cachedInput: 0.275, output: 4.4, asOf: AS_OF, source: PRICING_URL },
  'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10, asOf: AS_OF, source: PRICING_URL },
  'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2, asOf: AS_OF, source: PRICING_URL },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4, asOf: AS_OF, source: PRICING_URL },
};

/** `gpt-4o-2024-08-06` -> `gpt-4o`, `openai/gpt-4o-mini` -> `gpt-4o-mini`: snapshots bill as their family. */
export function canonicalModelId(model: string): string {
  return model.trim().toLowerCase()
    .replace(/^openai\//, '')
    .replace(/-\d{4}-\d{2}-\d{2}$/, '');
}

/** True for endpoints whose models run on the user's own hardware: loopback, private networks, Ollama. */
export function isFreeEndpoint(baseUrl: string): boolean {
  if (isLocalEndpoint(baseUrl)) {
    return true;
  }
  try {
    const url = new URL(baseUrl);
    return url.hostname === 'ollama' || url.port === '11434';
  } catch {
    return false;
  }
}

export interface PriceLookupOptions {
  /** The endpoint the model is called on: local endpoints cost $0 unless the user priced the model. */
  baseUrl?: string;
  /** User overrides per model id (settings `budgetReasoner.prices`), exact id first, then the stripped id. */
  overrides?: Readonly<Record<string, PriceOverride>>;
}

/** How the caller finds a model's price; undefined = unknown (dollars become null, never a silent 0). */
export type PriceLookup = (model: string) => ModelPrice | undefined;

export function priceOf(model: string, options: PriceLookupOptions = {}): ModelPrice | undefined {
  const canonical = canonicalModelId(model);
  const overrides = options.overrides ?? {};
  const overrideKey = [model, model.trim(), canonical].find((k) => Object.prototype.hasOwnProperty.call(overrides, k));
  // An explicit price wins even on a local endpoint: a user who prices a local model means it (hosted GPUs, chargeback).
  if (overrideKey !== undefined) {
    const o = overrides[overrideKey];
    // Without a cached rate the input rate applies: never assume a discount the user did not state.
    return { input: o.input, cachedInput: o.cachedInput ?? o.input, output: o.output, matched: overrideKey, source: 'override' };
  }
  if (options.baseUrl && isFreeEndpoint(options.baseUrl)) {
    return { input: 0, cachedInput: 0, output: 0, matched: model, source: 'local' };
  }
  const list = Object.prototype.hasOwnProperty.call(LIST_PRICES, canonical) ? LIST_PRICES[canonical] : undefined;
  if (!list) {
    return undefined;
  }
  return { input: list.input, cachedInput: list.cachedInput, output: list.output, matched: canonical, source: 'list', asOf: list.asOf, url: list.source };
}

/** A cascade model's prices: its own price when its entry gives one, else the overrides and the table, on its own endpoint. */
export function tierPriceLookup(tier: { model: string; baseUrl: string; price?: PriceOverride }, overrides: Readonly<Record<string, PriceOverride>>): PriceLookup {
  return priceLookup({ baseUrl: tier.baseUrl, overrides: tier.price ? { ...overrides, [tier.model]: tier.price } : overrides });
}

export function priceLookup(options: PriceLookupOptions): PriceLookup {
  return (model) => priceOf(model, options);
}

/** For the meter's tooltip: where the figures come from. */
export function describePrice(price: ModelPrice | undefined): string {
  if (!price) {
    return 'unknown (set budgetReasoner.prices to count dollars)';
  }
  switch (price.source) {
    case 'local':
      return 'local endpoint, $0';
    case 'override':
      return `your price for ${price.matched}`;
    case 'list':
      return `OpenAI list prices (${price.asOf})`;
  }
}

/**
 * Dollars of one call: uncached prompt tokens at the input rate, cached ones at the cached rate,
 * completion tokens (reasoning included) at the output rate. Null when the price is unknown.
 */
export function costOf(usage: Pick<Usage, 'promptTokens' | 'cachedPromptTokens' | 'completionTokens'>, price: TokenPrice | undefined): number | null {
  if (!price) {
    return null;
  }
  const cached = Math.min(usage.cachedPromptTokens, usage.promptTokens);
  const uncached = usage.promptTokens - cached;
  return (uncached * price.input + cached * price.cachedInput + usage.completionTokens * price.output) / 1e6;
}

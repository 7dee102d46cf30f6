/** The extension's settings, validated. Pure: the host reads raw values, this checks them. */

// Each setting's allowed values, in package.json's order (a unit test checks that they agree).

/** `budgetReasoner.strategy`. */
export const STRATEGY_NAMES = ['anytime-sc', 'single', 'value-guided', 'value-tree', 'cascade'] as const;
export type StrategyName = typeof STRATEGY_NAMES[number];
/** The strategies on one model; 'cascade' is a run over several models (CascadeRun). */
export type ChainStrategyName = Exclude<StrategyName, 'cascade'>;
/** The strategies one ReasoningRun carries out by drawing whole chains; 'value-tree' searches over steps (ValueTreeRun). */
export type SamplingStrategyName = Exclude<ChainStrategyName, 'value-tree'>;

/** `budgetReasoner.estimator`. */
export const ESTIMATOR_MODES = ['auto', 'tale', 'local', 'fixed'] as const;
export type EstimatorMode = typeof ESTIMATOR_MODES[number];

/** `budgetReasoner.stoppingRule`. */
export const STOPPING_RULE_NAMES = ['auto', 'beta', 'esc', 'epsilon'] as const;
export type StoppingRuleName = typeof STOPPING_RULE_NAMES[number];
/** The rules createStoppingRule builds; 'auto' keeps the strategy's own tuned rule. */
export type ExplicitStoppingRuleName = Exclude<StoppingRuleName, 'auto'>;

/** `budgetReasoner.answerKind`: what the answer is (a value, code or prose); `auto` = the local classifier decides per question. */
export const ANSWER_KIND_SETTINGS = ['auto', 'short', 'code', 'prose'] as const;
export type AnswerKindSetting = typeof ANSWER_KIND_SETTINGS[number];

/** `budgetReasoner.selector`: how a code or prose run picks its answer among similar ones. */
export const SELECTOR_NAMES = ['medoid', 'usc'] as const;
export type SelectorName = typeof SELECTOR_NAMES[number];

/**
 * `budgetReasoner.budgetLevers`: which family's parameters bound a model's thinking
 * (core/providers/budgetLevers.ts); `auto` tells it from the model id and the endpoint.
 */
export const LEVER_SETTINGS = ['auto', 'openai-reasoning', 'openrouter', 'client-thinking'] as const;
export type LeverSetting = typeof LEVER_SETTINGS[number];

/**
 * `budgetReasoner.preferenceExamples`: `auto` puts up to two of the user's own preference pairs
 * (core/reasoning/preferenceExamples.ts) before a question; with no pairs yet it adds nothing.
 * `off` (the default: examples cost prompt tokens on every chain, for a gain not yet measured on
 * the user's model) neither collects pairs nor adds them.
 */
export const PREFERENCE_EXAMPLE_MODES = ['off', 'auto'] as const;
export type PreferenceExampleMode = typeof PREFERENCE_EXAMPLE_MODES[number];

/** `budgetReasoner.chatModel`: which model @budget in VS Code Chat uses. */
export const CHAT_MODEL_CHOICES = ['auto', 'configured', 'picked'] as const;
export type ChatModelChoice = typeof CHAT_MODEL_CHOICES[number];

export interface PriceOverride {
  input: number;
  cachedInput?: number;
  output: number;
}

/** One rung of `budgetReasoner.cascade`, cheapest first. */
export interface CascadeTierSetting {
  model: string;
  /** Normalised; defaults to `budgetReasoner.baseUrl`. */
  baseUrl: string;
  /** Dollars per 1M tokens; absent = the price table and `budgetReasoner.prices`. */
  price?: PriceOverride;
}

export interface Settings {
  baseUrl: string;
  model: string;
  /** 'auto' or a token count. */
  requestBudget: 'auto' | number;
  /** 0 = no cap. */
  requestCapUsd: number;
  dailyCapUsd: number;
  dailyTokenCap: number;
  /** The meter's warning colour from this percent of a cap (1-100); the error colour at 100%. */
  warnAtPercent: number;
  strategy: StrategyName;
  estimator: EstimatorMode;
  stoppingRule: StoppingRuleName;
  confidenceThreshold: number;
  /** Ask before a run whose worst case costs more dollars than this (0 = never ask). */
  confirmAboveUsd: number;
  prices: Record<string, PriceOverride>;
  /** Models for the cascade strategy, cheapest first. */
  cascade: CascadeTierSetting[];
  chatModel: ChatModelChoice;
  answerKind: AnswerKindSetting;
  /** Lines shown above and below a selection asked about, for orientation. */
  contextLines: number;
  selector: SelectorName;
  budgetLevers: LeverSetting;
  /** Write each call's messages, parameters and usage to the log (keys never). */
  logRequests: boolean;
  /** Sampling temperature of the chains after the first, so that they are independent samples. */
  temperature: number;
  /** Open a new answer panel for each run, instead of showing the next run in the panel of the last one. */
  panelPerRun: boolean;
  preferenceExamples: PreferenceExampleMode;
}

export const defaultSettings: Settings = {
  baseUrl: 'https://api.openai.com/v1',
  model: 'gpt-4o-mini',
  requestBudget: 'auto',
  requestCapUsd: 0.25,
  dailyCapUsd: 2,
  dailyTokenCap: 0,
  warnAtPercent: 80,
  strategy: 'anytime-sc',
  estimator: 'auto',
  stoppingRule: 'auto',
  confidenceThreshold: 0.95,
  confirmAboveUsd: 0.1,
  prices: {},
  cascade: [],
  chatModel: 'auto',
  answerKind: 'auto',
  contextLines: 3,
  selector: 'medoid',
  budgetLevers: 'auto',
  logRequests: false,
  temperature: 0.7,
  panelPerRun: false,
  preferenceExamples: 'off',
};

/** The most surrounding lines a selection's context may carry. */
export const MAX_CONTEXT_LINES = 50;

const MODEL_ID = /^[\w.:/@+-]{1,200}$/;

/** Whether a typed or stored text can be a model id (what `budgetReasoner.model` accepts). */
export function isModelId(text: string): boolean {
  return MODEL_ID.test(text.trim());
}

/** The temperatures `budgetReasoner.temperature` accepts (OpenAI's range). */
export const MAX_TEMPERATURE = 2;

export const MIN_REQUEST_BUDGET = 10;
export const MAX_REQUEST_BUDGET = 999_999;

/** Settings plus the problems found; an invalid value is reported and replaced by its default. */
export interface ParsedSettings {
  settings: Settings;
  problems: string[];
}

export function parseSettings(raw: Partial<Record<keyof Settings, unknown>>): ParsedSettings {
  const problems: string[] = [];
  const s: Settings = { ...defaultSettings, prices: {}, cascade: [] };

  const baseUrl = raw.baseUrl ?? defaultSettings.baseUrl;
  const urlProblem = checkBaseUrl(baseUrl);
  if (urlProblem) {
    problems.push(urlProblem);
  } else {
    s.baseUrl = String(baseUrl).trim().replace(/\/+$/, '');
  }

  if (raw.model !== undefined) {
    if (typeof raw.model === 'string' && MODEL_ID.test(raw.model.trim())) {
      s.model = raw.model.trim();
    } else {
      problems.push(`"budgetReasoner.model" must be a model id such as gpt-4o-mini (got ${describe(raw.model)}).`);
    }
  }

  if (raw.requestBudget !== undefined) {
    const b = raw.requestBudget;
    const n = typeof b === 'number' ? b : typeof b === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(b) ? Number(b) : NaN;
    if (b === 'auto') {
      s.requestBudget = 'auto';
    } else if (Number.isInteger(n) && n >= MIN_REQUEST_BUDGET && n <= MAX_REQUEST_BUDGET) {
      s.requestBudget = n;
    } else {
      problems.push(`"budgetReasoner.requestBudget" must be "auto" or a whole number of tokens from ${MIN_REQUEST_BUDGET} to ${MAX_REQUEST_BUDGET} (got ${describe(b)}); using "auto".`);
    }
  }

  s.requestCapUsd = nonNegative(raw.requestCapUsd, 'requestCapUsd', defaultSettings.requestCapUsd, problems);
  s.dailyCapUsd = nonNegative(raw.dailyCapUsd, 'dailyCapUsd', defaultSettings.dailyCapUsd, problems);
  s.confirmAboveUsd = nonNegative(raw.confirmAboveUsd, 'confirmAboveUsd', defaultSettings.confirmAboveUsd, problems);
  s.dailyTokenCap = Math.floor(nonNegative(raw.dailyTokenCap, 'dailyTokenCap', defaultSettings.dailyTokenCap, problems));
  if (raw.warnAtPercent !== undefined) {
    const n = raw.warnAtPercent;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 100) {
      s.warnAtPercent = n;
    } else {
      problems.push(`"budgetReasoner.warnAtPercent" must be a whole number from 1 to 100 (got ${describe(n)}); using ${defaultSettings.warnAtPercent}.`);
    }
  }
  s.strategy = oneOf(raw.strategy, STRATEGY_NAMES, 'strategy', problems) ?? defaultSettings.strategy;
  s.estimator = oneOf(raw.estimator, ESTIMATOR_MODES, 'estimator', problems) ?? defaultSettings.estimator;
  s.stoppingRule = oneOf(raw.stoppingRule, STOPPING_RULE_NAMES, 'stoppingRule', problems) ?? defaultSettings.stoppingRule;

  if (raw.confidenceThreshold !== undefined) {
    const t = raw.confidenceThreshold;
    if (typeof t === 'number' && t >= 0.5 && t < 1) {
      s.confidenceThreshold = t;
    } else {
      problems.push(`"budgetReasoner.confidenceThreshold" must be a number from 0.5 to 0.999 (got ${describe(t)}).`);
    }
  }

  if (raw.prices !== undefined && raw.prices !== null) {
    if (typeof raw.prices !== 'object' || Array.isArray(raw.prices)) {
      problems.push('"budgetReasoner.prices" must be an object of model id -> {input, output, cachedInput?} in dollars per 1M tokens.');
    } else {
      for (const [model, p] of Object.entries(raw.prices as Record<string, unknown>)) {
        const price = p as Partial<PriceOverride> | null;
        const ok = price !== null && typeof price === 'object'
          && isPrice(price.input) && isPrice(price.output) && (price.cachedInput === undefined || isPrice(price.cachedInput));
        if (ok) {
          s.prices[model] = { input: price.input!, output: price.output!, ...(price.cachedInput !== undefined ? { cachedInput: price.cachedInput } : {}) };
        } else {
          problems.push(`Price override for "${model}" is ignored: it needs "input" and "output" as non-negative dollars per 1M tokens.`);
        }
      }
    }
  }
  s.cascade = parseCascade(raw.cascade, s.baseUrl, problems);
  if (s.strategy === 'cascade' && s.cascade.length < 2) {
    problems.push('The "cascade" strategy needs at least two models in "budgetReasoner.cascade", cheapest first; using "anytime-sc".');
    s.strategy = 'anytime-sc';
  }
  s.chatModel = oneOf(raw.chatModel, CHAT_MODEL_CHOICES, 'chatModel', problems) ?? defaultSettings.chatModel;
  s.answerKind = oneOf(raw.answerKind, ANSWER_KIND_SETTINGS, 'answerKind', problems) ?? defaultSettings.answerKind;
  s.selector = oneOf(raw.selector, SELECTOR_NAMES, 'selector', problems) ?? defaultSettings.selector;
  s.budgetLevers = oneOf(raw.budgetLevers, LEVER_SETTINGS, 'budgetLevers', problems) ?? defaultSettings.budgetLevers;
  s.preferenceExamples = oneOf(raw.preferenceExamples, PREFERENCE_EXAMPLE_MODES, 'preferenceExamples', problems) ?? defaultSettings.preferenceExamples;
  s.logRequests = flag(raw.logRequests, 'logRequests', problems) ?? defaultSettings.logRequests;
  s.panelPerRun = flag(raw.panelPerRun, 'panelPerRun', problems) ?? defaultSettings.panelPerRun;
  if (raw.temperature !== undefined) {
    const t = raw.temperature;
    if (typeof t === 'number' && Number.isFinite(t) && t >= 0 && t <= MAX_TEMPERATURE) {
      s.temperature = t;
    } else {
      problems.push(`"budgetReasoner.temperature" must be a number from 0 to ${MAX_TEMPERATURE} (got ${describe(t)}); using ${defaultSettings.temperature}.`);
    }
  }
  if (raw.contextLines !== undefined) {
    const n = raw.contextLines;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_CONTEXT_LINES) {
      s.contextLines = n;
    } else {
      problems.push(`"budgetReasoner.contextLines" must be a whole number from 0 to ${MAX_CONTEXT_LINES} (got ${describe(n)}); using ${defaultSettings.contextLines}.`);
    }
  }
  return { settings: s, problems };
}

function parseCascade(raw: unknown, defaultBaseUrl: string, problems: string[]): CascadeTierSetting[] {
  if (raw === undefined || raw === null) {
    return [];
  }
  if (!Array.isArray(raw)) {
    problems.push('"budgetReasoner.cascade" must be a list of {model, baseUrl?, input?, output?}, cheapest first.');
    return [];
  }
  const tiers: CascadeTierSetting[] = [];
  raw.forEach((entry: unknown, i) => {
    const where = `"budgetReasoner.cascade" entry ${i + 1}`;
    const e = entry as Record<string, unknown> | null;
    if (e === null || typeof e !== 'object' || typeof e.model !== 'string' || !MODEL_ID.test(e.model.trim())) {
      problems.push(`${where} is ignored: it needs "model", a model id such as gpt-4o-mini.`);
      return;
    }
    let baseUrl = defaultBaseUrl;
    if (e.baseUrl !== undefined) {
      const urlProblem = checkBaseUrl(e.baseUrl);
      if (urlProblem) {
        problems.push(`${where} is ignored: ${urlProblem.replace('"budgetReasoner.baseUrl"', 'its "baseUrl"')}`);
        return;
      }
      baseUrl = String(e.baseUrl).trim().replace(/\/+$/, '');
    }
    let price: PriceOverride | undefined;
    if (e.input !== undefined || e.output !== undefined) {
      if (!isPrice(e.input) || !isPrice(e.output)) {
        problems.push(`${where} is ignored: give both "input" and "output" as non-negative dollars per 1M tokens, or neither.`);
        return;
      }
      price = { input: e.input, output: e.output };
    }
    tiers.push({ model: e.model.trim(), baseUrl, ...(price ? { price } : {}) });
  });
  return tiers;
}

/** Undefined when the URL is usable, else a message that says how to fix it. */
export function checkBaseUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.trim()) {
    return '"budgetReasoner.baseUrl" is empty: set it to an OpenAI-compatible URL such as https://api.openai.com/v1 or http://localhost:11434/v1.';
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return `"budgetReasoner.baseUrl" is not a valid URL ("${value.slice(0, 80)}"): use one such as https://api.openai.com/v1 or http://localhost:11434/v1.`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `"budgetReasoner.baseUrl" must start with http:// or https:// (got ${url.protocol}).`;
  }
  if (url.username || url.password) {
    return '"budgetReasoner.baseUrl" must not contain credentials: store the key with "Budget Reasoner: Set API Key".';
  }
  return undefined;
}

/** Loopback and private-network endpoints: no key needed, local models cost nothing. */
export function isLocalEndpoint(baseUrl: string): boolean {
  try {
    const host = new URL(baseUrl).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\./.test(host) || host.endsWith('.localhost')
      || /^10\./.test(host) || /^192\.168\./.test(host) || /^172\.(1[6-9]|2\d|3[01])\./.test(host);
  } catch {
    return false;
  }
}

/** The key under which an endpoint's API key is stored: one key per normalised base URL. */
export function secretKeyFor(baseUrl: string): string {
  const url = new URL(baseUrl);
  const path = url.pathname.replace(/\/+$/, '');
  return `budgetReasoner.apiKey:${url.protocol}//${url.host.toLowerCase()}${path}`;
}

function nonNegative(v: unknown, key: string, fallback: number, problems: string[]): number {
  if (v === undefined || v === null) {
    return fallback;
  }
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) {
    return v;
  }
  problems.push(`"budgetReasoner.${key}" must be a number of at least 0 (got ${describe(v)}); using ${fallback}.`);
  return fallback;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], key: string, problems: string[]): T | undefined {
  if (v === undefined) {
    return undefined;
  }
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) {
    return v as T;
  }
  problems.push(`"budgetReasoner.${key}" must be one of ${allowed.join(', ')} (got ${describe(v)}).`);
  return undefined;
}

function flag(v: unknown, key: string, problems: string[]): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') {
    return v;
  }
  problems.push(`"budgetReasoner.${key}" must be true or false (got ${describe(v)}).`);
  return undefined;
}

function isPrice(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

import type { Settings } from '../config';
import { formatDollars } from '../tokens/amountText';
import type { CapName } from './modelCaller';
import { CapRefusal } from './modelCaller';
import type { TokenPrice } from '../tokens/prices';
import { costOf } from '../tokens/prices';

/**
 * Hard limits on spend; an absent cap does not limit. Tokens are prompt + completion, as billed.
 * "Request" is one user request, i.e. one reasoning run with all its calls.
 */
export interface SpendCaps {
  requestTokens?: number;
  requestDollars?: number;
  dailyDollars?: number;
  dailyTokens?: number;
}

export interface SpendAmount {
  tokens: number;
  /** Dollars of calls with a known price. */
  dollars: number;
}

/** What has been spent (and is reserved by calls in flight) in this run and in this local day. */
export interface SpendSoFar {
  run: SpendAmount;
  today: SpendAmount;
}

export interface GrantRequest {
  caps: SpendCaps;
  spent: SpendSoFar;
  /** Prompt tokens the call will send (billed once, whatever n is). */
  promptTokens: number;
  /** Undefined = unknown price: the dollar caps cannot be checked for this call. */
  price: TokenPrice | undefined;
  /** The most tokens per choice the caller wants; Infinity for "as many as the caps allow". */
  wanted: number;
  /** Parallel choices; each may generate up to the granted max. */
  choices?: number;
  /** Fewer tokens than this are not worth a call (default 16, or `wanted` if that is smaller). */
  minUsefulTokens?: number;
}

export type Grant =
  | {
      ok: true;
      /** max_tokens to send: every cap holds even if every choice uses all of it. Infinity when nothing limits. */
      maxTokens: number;
      /** The cap that set maxTokens below `wanted`, if one did. */
      limitedBy?: CapName;
      /** False when a dollar cap is set but the price is unknown, so dollars could not be checked. */
      dollarCapsChecked: boolean;
    }
  | { ok: false; refusal: CapRefusal };

export const DEFAULT_MIN_USEFUL_TOKENS = 16;

/**
 * Share of each dollar cap held back so that floating-point rounding of summed costs can never
 * tip recorded spend over the cap (a billionth: a hundred-thousandth of a cent on a $10 cap).
 */
export const DOLLAR_CAP_MARGIN = 1e-9;

/** The caps the settings ask for (0 = no cap), with the run's token budget when there is one. */
export function capsFromSettings(settings: Pick<Settings, 'requestCapUsd' | 'dailyCapUsd' | 'dailyTokenCap'>, runTokenBudget?: number): SpendCaps {
  const caps: SpendCaps = {};
  if (runTokenBudget !== undefined && runTokenBudget > 0) {
    caps.requestTokens = runTokenBudget;
  }
  if (settings.requestCapUsd > 0) {
    caps.requestDollars = settings.requestCapUsd;
  }
  if (settings.dailyCapUsd > 0) {
    caps.dailyDollars = settings.dailyCapUsd;
  }
  if (settings.dailyTokenCap > 0) {
    caps.dailyTokens = settings.dailyTokenCap;
  }
  return caps;
}

/** The worst a call can cost: the whole prompt uncached at the dearer of the two input rates, every choice at its max. */
export function worstCaseDollars(promptTokens: number, maxTokens: number, choices: number, price: TokenPrice): number {
  const dearInput = Math.max(price.input, price.cachedInput);
  return costOf({ promptTokens, cachedPromptTokens: 0, completionTokens: choices * maxTokens }, { input: dearInput, cachedInput: dearInput, output: price.output }) ?? 0;
}

interface Allowance {
  cap: CapName;
  limit: number;
  spent: number;
  /** Largest max_tokens this cap allows (-1: not even the prompt fits). */
  tokens: number;
}

/** The largest max_tokens that keeps every cap, or a refusal that names the cap that leaves no room. */
export function grant(request: GrantRequest): Grant {
  const { caps, spent, promptTokens, price } = request;
  const choices = Math.max(1, request.choices ?? 1);
  if (!(request.wanted >= 1)) {
    throw new RangeError(`A call must want at least 1 token (got ${request.wanted}).`);
  }
  const allowances: Allowance[] = [];
  const tokenCap = (cap: CapName, limit: number | undefined, used: number) => {
    if (limit !== undefined) {
      allowances.push({ cap, limit, spent: used, tokens: Math.floor((limit - used - promptTokens) / choices) });
    }
  };
  tokenCap('request-tokens', caps.requestTokens, spent.run.tokens);
  tokenCap('daily-tokens', caps.dailyTokens, spent.today.tokens);
  const hasDollarCap = caps.requestDollars !== undefined || caps.dailyDollars !== undefined;
  // A call that costs nothing (local endpoint) cannot raise dollar spend, even with a dollar cap already reached.
  const costsDollars = price !== undefined && (price.input > 0 || price.cachedInput > 0 || price.output > 0);
  if (price && costsDollars) {
    const dollarCap = (cap: CapName, limit: number | undefined, used: number) => {
      if (limit !== undefined) {
        allowances.push({ cap, limit, spent: used, tokens: dollarAllowance(limit, used, promptTokens, choices, price) });
      }
    };
    dollarCap('request-dollars', caps.requestDollars, spent.run.dollars);
    dollarCap('daily-dollars', caps.dailyDollars, spent.today.dollars);
  }
  const tightest = allowances.reduce<Allowance | undefined>((a, b) => (a === undefined || b.tokens < a.tokens ? b : a), undefined);
  const room = tightest ? Math.max(-1, tightest.tokens) : Number.POSITIVE_INFINITY;
  const needed = Math.max(1, Math.min(request.minUsefulTokens ?? DEFAULT_MIN_USEFUL_TOKENS, request.wanted));
  if (tightest && room < needed) {
    return { ok: false, refusal: refusal(tightest, promptTokens, needed) };
  }
  const maxTokens = Math.min(room, request.wanted);
  return {
    ok: true,
    maxTokens,
    ...(tightest && room < request.wanted ? { limitedBy: tightest.cap } : {}),
    dollarCapsChecked: !hasDollarCap || price !== undefined,
  };
}

/** A dollar cap that allows this many tokens (about a trillion) does not limit a call at all. */
export const MAX_GRANT_TOKENS = 2 ** 40;

/**
 * Largest m with spent + worst cost(m) inside the cap less its margin, checked with the same float
 * arithmetic the ledger sums with. Cost is monotone in m, so a binary search finds the exact boundary.
 */
function dollarAllowance(limit: number, used: number, promptTokens: number, choices: number, price: TokenPrice): number {
  const ceiling = limit * (1 - DOLLAR_CAP_MARGIN);
  const fits = (m: number) => used + worstCaseDollars(promptTokens, m, choices, price) <= ceiling;
  if (!fits(0)) {
    return -1;
  }
  if (fits(MAX_GRANT_TOKENS)) {
    return Number.POSITIVE_INFINITY;
  }
  let lo = 0;
  let hi = MAX_GRANT_TOKENS;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

const CAP_LABELS: Record<CapName, { what: string; setting: string }> = {
  'request-tokens': { what: "this request's token budget", setting: 'budgetReasoner.requestBudget' },
  'request-dollars': { what: 'the per-request dollar cap', setting: 'budgetReasoner.requestCapUsd' },
  'daily-dollars': { what: 'the daily dollar cap', setting: 'budgetReasoner.dailyCapUsd' },
  'daily-tokens': { what: 'the daily token cap', setting: 'budgetReasoner.dailyTokenCap' },
};

function refusal(a: Allowance, promptTokens: number, needed: number): CapRefusal {
  const dollars = a.cap.endsWith('dollars');
  const amount = (x: number) => (dollars ? formatDollars(x) : `${x.toLocaleString('en-US')} tokens`);
  const label = CAP_LABELS[a.cap];
  const when = a.cap.startsWith('daily') ? ' or wait until tomorrow' : '';
  const message = `Not sent: ${label.what} (${amount(a.limit)}) leaves no room for a ${promptTokens.toLocaleString('en-US')}-token prompt and ${needed} output tokens; ${amount(a.spent)} already spent. Raise ${label.setting}${when}.`;
  return new CapRefusal(a.cap, message, a.limit, a.spent);
}

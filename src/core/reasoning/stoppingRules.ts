/**
 * When the anytime loop stops sampling. Each rule looks at the votes so far (normalised answers in
 * arrival order; undefined = a chain that gave no answer) and the spend, and says stop or go on.
 */
import type { ExplicitStoppingRuleName } from '../config';

export interface StopDecision {
  stop: boolean;
  /** The rule's belief that the leader is right: a Beta posterior or a vote share, in [0, 1]. */
  confidence: number;
  /** Human summary for the panel, e.g. "3 of 4 agree". */
  state: string;
}

export interface SpendState {
  tokensSpent: number;
  tokenBudget: number;
}

export interface StoppingRule {
  readonly name: string;
  evaluate(votes: readonly (string | undefined)[], spend?: SpendState): StopDecision;
}

export interface VoteCount {
  answer: string;
  count: number;
  /** Index of its first vote: ties go to the answer seen first. */
  first: number;
}

/** Answers by count, descending; ties broken by first appearance. */
export function tallyVotes(votes: readonly (string | undefined)[]): VoteCount[] {
  const byAnswer = new Map<string, VoteCount>();
  votes.forEach((answer, i) => {
    if (answer === undefined) {
      return;
    }
    const entry = byAnswer.get(answer);
    if (entry) {
      entry.count++;
    } else {
      byAnswer.set(answer, { answer, count: 1, first: i });
    }
  });
  return [...byAnswer.values()].sort((x, y) => y.count - x.count || x.first - y.first);
}

/**
 * P(p > 1/2) for p ~ Beta(a+1, b+1): the chance the leader (a votes) beats the runner-up (b votes).
 * Closed form sum_{j=0}^{a} C(a+b+1, j) / 2^(a+b+1), summed in log space so large counts stay finite.
 */
export function betaMajorityPosterior(a: number, b: number): number {
  const n = a + b + 1;
  if (n <= 1000) {
    // Exact integer binomials; one rounding at the final division.
    let c = 1n;
    let sum = 1n;
    for (let j = 0; j < a; j++) {
      c = (c * BigInt(n - j)) / BigInt(j + 1);
      sum += c;
    }
    const scale = 2n ** BigInt(Math.max(0, n - 60));
    return Math.min(1, Number(sum / scale) / 2 ** Math.min(n, 60));
  }
  let logTerm = -n * Math.LN2; // log C(n,0)/2^n
  let sum = Math.exp(logTerm);
  for (let j = 0; j < a; j++) {
    logTerm += Math.log((n - j) / (j + 1));
    sum += Math.exp(logTerm);
  }
  return Math.min(1, sum);
}

/** No count of agreeing answers makes a run certain: the most confidence a run shows in its answer. */
export const MAX_CONFIDENCE = 0.99;

/**
 * The confidence in an answer that `agreeing` of `total` answers support (equal values, or similar code
 * or prose): the Beta posterior that it is the majority (2 of 2: 0.88, 3 of 4: 0.81), at most MAX_CONFIDENCE.
 */
export function agreementConfidence(agreeing: number, total: number): number {
  return Math.min(MAX_CONFIDENCE, betaMajorityPosterior(agreeing, Math.max(0, total - agreeing)));
}

function leaderShare(votes: readonly (string | undefined)[]): { share: number; state: string; counts: VoteCount[] } {
  const counts = tallyVotes(votes);
  const leader = counts[0]?.count ?? 0;
  return {
    counts,
    share: votes.length ? leader / votes.length : 0,
    state: votes.length ? `${leader} of ${votes.length} agree` : 'no answers yet',
  };
}

/** Adaptive-Consistency: stop when the Beta posterior that the leader is the majority reaches the threshold. */
export class BetaStoppingRule implements StoppingRule {
  readonly name = 'beta';
  constructor(readonly threshold = 0.95) {}

  evaluate(votes: readonly (string | undefined)[]): StopDecision {
    const { counts, state } = leaderShare(votes);
    if (counts.length === 0) {
      return { stop: false, confidence: 0, state };
    }
    const confidence = betaMajorityPosterior(counts[0].count, counts[1]?.count ?? 0);
    return { stop: confidence >= this.threshold, confidence, state: `${state}, P(majority) ${confidence.toFixed(2)}` };
  }
}

/** ESC: stop as soon as the last `window` answers all agree. */
export class EscStoppingRule implements StoppingRule {
  readonly name = 'esc';
  constructor(readonly window = 2) {
    if (!(window >= 1)) {
      throw new RangeError('ESC window must be at least 1');
    }
  }

  evaluate(votes: readonly (string | undefined)[]): StopDecision {
    const { share, state } = leaderShare(votes);
    const last = votes.slice(-this.window);
    const stop = last.length === this.window && last[0] !== undefined && last.every((v) => v === last[0]);
    return { stop, confidence: share, state: stop ? `${state}; last ${this.window} agree` : state };
  }
}

/**
 * Marginal gain: stop when the best-so-far confidence (Beta posterior of the leader) grew by less
 * than `epsilon` (relative) over the last `patience` votes. Patience keeps one dissent from stopping.
 */
export class EpsilonStoppingRule implements StoppingRule {
  readonly name = 'epsilon';
  constructor(readonly epsilon = 0.05, readonly minVotes = 3, readonly patience = 2) {}

  evaluate(votes: readonly (string | undefined)[]): StopDecision {
    const curve = bestSoFar(votes.map((_, k) => leaderPosterior(votes.slice(0, k + 1))));
    const confidence = leaderPosterior(votes);
    const { state } = leaderShare(votes);
    const k = curve.length;
    if (k < Math.max(this.minVotes, this.patience + 1)) {
      return { stop: false, confidence, state };
    }
    const before = curve[k - 1 - this.patience];
    const gain = before > 0 ? (curve[k - 1] - before) / before : Infinity;
    return { stop: gain < this.epsilon, confidence, state: `${state}, gain ${(gain * 100).toFixed(1)}%` };
  }
}

/** Stops when what is left of the run's budget cannot pay for another useful chain. */
export class BudgetStoppingRule implements StoppingRule {
  readonly name = 'budget';
  constructor(readonly minChainTokens = 64) {}

  evaluate(votes: readonly (string | undefined)[], spend?: SpendState): StopDecision {
    const { share, state } = leaderShare(votes);
    const left = spend ? spend.tokenBudget - spend.tokensSpent : Infinity;
    return { stop: left < this.minChainTokens, confidence: share, state: left < this.minChainTokens ? `${state}; budget spent` : state };
  }
}

/** Stops when any rule does; confidence and state come from the first rule. */
export class AnyStoppingRule implements StoppingRule {
  readonly name: string;
  constructor(readonly rules: readonly StoppingRule[]) {
    if (rules.length === 0) {
      throw new RangeError('AnyStoppingRule needs at least one rule');
    }
    this.name = rules.map((r) => r.name).join('|');
  }

  evaluate(votes: readonly (string | undefined)[], spend?: SpendState): StopDecision {
    const decisions = this.rules.map((r) => r.evaluate(votes, spend));
    const stopping = decisions.find((d) => d.stop);
    return { ...decisions[0], stop: stopping !== undefined, state: stopping?.state ?? decisions[0].state };
  }
}

export interface StoppingRuleParams {
  threshold?: number;
  window?: number;
  epsilon?: number;
  minVotes?: number;
  patience?: number;
}

export function createStoppingRule(name: ExplicitStoppingRuleName, params: StoppingRuleParams = {}): StoppingRule {
  switch (name) {
    case 'beta':
      return new BetaStoppingRule(params.threshold);
    case 'esc':
      return new EscStoppingRule(params.window);
    case 'epsilon':
      return new EpsilonStoppingRule(params.epsilon, params.minVotes, params.patience);
  }
}

function leaderPosterior(votes: readonly (string | undefined)[]): number {
  const counts = tallyVotes(votes);
  return counts.length ? betaMajorityPosterior(counts[0].count, counts[1]?.count ?? 0) : 0;
}

function bestSoFar(values: number[]): number[] {
  let best = -Infinity;
  return values.map((v) => (best = Math.max(best, v)));
}

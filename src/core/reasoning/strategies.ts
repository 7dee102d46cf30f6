/**
 * How a run spends its budget: small objects that look at the run's state and name the next call.
 * `anytime-sc` (default), `single`, `value-guided`.
 */
import type { SamplingStrategyName } from '../config';
import type { FinishReason, TokenLogprob } from '../providers/chatProvider';
import { FORCED_ANSWER_TOKENS, type AnswerKind, type KindAnswerForm } from './answerKinds';
import type { CodeDefect } from './codeChecks';
import type { AnswerClusters } from './clusters';
import { NO_FIRST_CHAIN_HISTORY, type FirstChainCheck, type FirstChainEvidenceSource } from './firstChainHistory';
import type { StopReason } from './runEvents';
import { tallyVotes, BetaStoppingRule } from './stoppingRules';
import type { StoppingRule } from './stoppingRules';

/** One finished chain (or one choice of a parallel call), with its answer and the signals about it. */
export interface ChainRecord {
  attempt: number;
  /** The visible reply; the answer is read from it alone. */
  text: string;
  /** A reasoning model's streamed thinking, kept apart from the reply. */
  thinking?: string;
  finishReason: FinishReason;
  /** Answer as written; for a truncated chain, filled in by its forced answer. */
  answer?: string;
  /** What is voted on: a value's normal form, or the key of the cluster of similar code or prose. */
  vote?: string;
  form?: KindAnswerForm;
  /** A code answer's language, from its fence. */
  language?: string;
  /** Index of the answer among the run's clusters (code and prose). */
  cluster?: number;
  /** Signs that a code answer is broken (codeChecks.ts), read from its text; empty when it looks whole. */
  defects?: CodeDefect[];
  completionTokens: number;
  maxTokens: number;
  /** Budget stated in the prompt of this chain. */
  promptBudget: number;
  /** True once a forced-answer call supplied (or failed to supply) the answer. */
  forced: boolean;
  /** Mean log-probability of the answer's tokens, when the endpoint returned logprobs. */
  answerLogprob?: number;
}

/** What a strategy sees of a run in progress: its budgets, its spend and its chains so far. */
export interface RunProgress {
  /** Per-chain budget from the estimator (stated in the prompt). */
  chainBudget: number;
  /** Billed tokens (prompts and output) the whole run may spend. */
  totalBudget: number;
  /** Billed tokens spent so far (estimate, chains, forced answers). */
  tokensSpent: number;
  /** Prompt tokens of the latest chain call: the next call bills about as many before its output. */
  promptTokens?: number;
  chains: readonly ChainRecord[];
  /** A truncated chain still waiting for its forced answer. */
  pendingForced?: ChainRecord;
  /** Chains the user asked for with Continue, still owed regardless of the stopping rule. */
  extraChainsOwed: number;
  /** Most choices one call may ask for (n); 1 when the endpoint cannot sample in parallel. */
  parallel: number;
  /** What the answers are; code and prose vote by cluster. Absent = short. */
  answerKind?: AnswerKind;
  /** The clusters of code and prose answers (the votes are their keys). */
  clusters?: AnswerClusters;
  /** Chains that came back the same as an earlier one: drawn and paid for, but no votes. */
  duplicates?: number;
  /** Set when the endpoint keeps returning the same chain, saying how it showed ("chains 2 and 3 repeated chain 1"). */
  notSampling?: string;
}

export type RunAction =
  | { kind: 'chain'; maxTokens: number; n: number; promptBudget: number; logprobs: boolean }
  | { kind: 'forced-answer'; chain: ChainRecord; maxTokens: number }
  | { kind: 'stop'; reason: Extract<StopReason, 'converged' | 'max-chains' | 'budget-exhausted' | 'not-sampling'>; message: string };

/** Why a run that keeps getting the same chain stops: nothing more it draws can be a new vote. */
export const NOT_SAMPLING_MESSAGE = 'This endpoint is not sampling: extra chains add nothing';

export interface Assessment {
  leader?: string;
  /**
   * The answer to show, by its index among the run's answers (ChainRecord.cluster), when the strategy
   * picks it itself; else a code or prose run shows the leading cluster's medoid.
   */
  answerIndex?: number;
  confidence: number;
  ruleState: string;
  /** True when the evidence is enough to stop. */
  settled: boolean;
}

export interface ReasoningStrategy {
  readonly name: string;
  next(state: RunProgress): RunAction;
  assess(state: RunProgress): Assessment;
}

/** Every tunable of the default strategy in one place (tuned on MATH idx 0-59 only). */
export const ANYTIME_DEFAULTS = {
  /** Logistic model of P(chain correct) from how far inside its budget it finished and the budget itself. */
  reliability: { bias: 2.516, logLengthOverBudget: -1.221, logBudget: -2.352, budgetScale: 300, logprobWeight: 1 },
  /**
   * Stop after the first chain when this model's earlier first chains like it (firstChainHistory.ts)
   * were confirmed by later chains at least this often (the posterior), over at least
   * firstChainMinChecked of them: a model with no history takes a second chain.
   */
  trustFirstChain: 0.85,
  firstChainMinChecked: 5,
  /** Beta posterior threshold once there are two or more votes. */
  betaThreshold: 0.8,
  maxChains: 8,
  /** Hard max_tokens per chain = budget x this, at least minChainMaxTokens: unused tokens cost nothing. */
  maxTokensPerBudget: 4,
  minChainMaxTokens: 1024,
  /** After a truncation the next chain gets this much more room (TALE token elasticity). */
  elasticity: 1.75,
  forcedAnswerTokens: 48,
  /** No new chain when fewer output tokens than this remain. */
  minUsefulChainTokens: 64,
};

export type AnytimeParams = typeof ANYTIME_DEFAULTS;

/** The confidence shown for a lone code or prose answer: nothing has agreed with it yet. */
export const ONE_UNCHECKED_ANSWER = 0.5;

/** P(correct) of one chain from signals a live run has; exported for benchmarks and the panel. */
export function chainReliability(chain: ChainRecord, params: AnytimeParams['reliability'] = ANYTIME_DEFAULTS.reliability): number {
  if (chain.vote === undefined) {
    return 0;
  }
  const budget = Math.max(1, chain.promptBudget);
  let logit = params.bias
    + params.logLengthOverBudget * Math.log(Math.max(1, chain.completionTokens) / budget)
    + params.logBudget * Math.log(budget / params.budgetScale);
  if (chain.answerLogprob !== undefined) {
    logit += params.logprobWeight * chain.answerLogprob;
  }
  if (chain.forced || chain.form !== 'boxed') {
    logit -= 1; // an answer that was forced or not boxed did not finish as asked
  }
  return 1 / (1 + Math.exp(-logit));
}

/**
 * A lone chain's confidence and, when the strategy would stop on it (`trusting`), whether it may be
 * trusted alone, from this model's history with first chains of its score; said as what the
 * evidence is ("one chain, trusted because its earlier first chains like it were confirmed 9 of 10 times").
 */
export function loneChain(chain: ChainRecord, history: FirstChainEvidenceSource, params: AnytimeParams = ANYTIME_DEFAULTS, trusting = true): { confidence: number; trusted: boolean; state: string } {
  const evidence = history.evidence(chainReliability(chain, params.reliability));
  const trusted = trusting && evidence.checked >= params.firstChainMinChecked && evidence.confidence >= params.trustFirstChain;
  const record = evidence.checked > 0
    ? `its earlier first chains like it were confirmed ${evidence.confirmed} of ${evidence.checked} times`
    : 'no history for this model yet';
  return { confidence: evidence.confidence, trusted, state: trusted ? `one chain, trusted because ${record}` : `one chain; ${record}` };
}

/**
 * What a finished run says about its first chain, for the model's history: whether the later
 * chains' leading answer (a tie included) was the first chain's. Undefined without a later answer.
 */
export function firstChainCheck(chains: readonly ChainRecord[], params: AnytimeParams = ANYTIME_DEFAULTS): FirstChainCheck | undefined {
  const [first, ...later] = chains;
  const counts = tallyVotes(later.map((c) => c.vote));
  if (first?.vote === undefined || counts.length === 0) {
    return undefined;
  }
  const own = counts.find((c) => c.answer === first.vote)?.count ?? 0;
  return { score: chainReliability(first, params.reliability), confirmed: own === counts[0].count };
}

/** Chains drawn so far, copies of earlier ones included: what maxChains bounds. */
export function drawnChains(state: RunProgress): number {
  return state.chains.length + (state.duplicates ?? 0);
}

function votesOf(state: RunProgress): (string | undefined)[] {
  return state.chains.map((c) => c.vote);
}

/** Output tokens the budget leaves the next call, after its prompt. */
function remaining(state: RunProgress): number {
  return state.totalBudget - state.tokensSpent - (state.promptTokens ?? 0);
}

/** max_tokens for the next chain: generous, never smaller than the last chain's after a truncation. */
export function nextChainMaxTokens(state: RunProgress, params: AnytimeParams): number {
  let maxTokens = Math.max(params.minChainMaxTokens, Math.round(state.chainBudget * params.maxTokensPerBudget));
  for (const c of state.chains) {
    if (c.finishReason === 'length') {
      maxTokens = Math.max(maxTokens, Math.ceil(c.maxTokens * params.elasticity));
    }
  }
  return Math.min(maxTokens, remaining(state));
}

/**
 * A run stopped early when it stopped for its evidence (not its budget, a cap or the user) while its
 * budget still had room for another chain: what the panel marks "stopped early", and nowhere else.
 */
export function stoppedEarly(reason: StopReason, spentTokens: number, budgetTokens: number | null, params: AnytimeParams = ANYTIME_DEFAULTS): boolean {
  return reason === 'converged' && (budgetTokens === null || budgetTokens - spentTokens >= params.minUsefulChainTokens);
}

/** Shared steps: forced answer for a truncated chain, budget check. Undefined = strategy decides. */
export function commonAction(state: RunProgress, params: AnytimeParams): RunAction | undefined {
  if (state.pendingForced) {
    const kind = state.answerKind ?? 'short';
    const maxTokens = Math.min(kind === 'short' ? params.forcedAnswerTokens : FORCED_ANSWER_TOKENS[kind], remaining(state));
    if (maxTokens >= 8) {
      return { kind: 'forced-answer', chain: state.pendingForced, maxTokens };
    }
    return { kind: 'stop', reason: 'budget-exhausted', message: 'The budget ran out before a truncated chain could be asked for its answer.' };
  }
  if (state.notSampling) {
    return { kind: 'stop', reason: 'not-sampling', message: `${NOT_SAMPLING_MESSAGE} (${state.notSampling}).` };
  }
  if (remaining(state) < params.minUsefulChainTokens) {
    return { kind: 'stop', reason: 'budget-exhausted', message: `The run's budget of ${state.totalBudget} tokens is spent.` };
  }
  return undefined;
}

/** One chain with the budget in the prompt, then a forced answer if it was cut off. */
export class SingleChainStrategy implements ReasoningStrategy {
  readonly name = 'single';
  constructor(private readonly params: AnytimeParams = ANYTIME_DEFAULTS, private readonly history: FirstChainEvidenceSource = NO_FIRST_CHAIN_HISTORY) {}

  assess(state: RunProgress): Assessment {
    const chain = state.chains[0];
    if (!chain || chain.vote === undefined) {
      return { confidence: 0, ruleState: chain ? 'no answer' : 'no answers yet', settled: false };
    }
    // The reliability model is fitted on values; one code or prose answer has nothing to agree with.
    if ((state.answerKind ?? 'short') !== 'short') {
      return { leader: chain.vote, confidence: ONE_UNCHECKED_ANSWER, ruleState: 'one chain', settled: true };
    }
    const lone = loneChain(chain, this.history, this.params, false);
    return { leader: chain.vote, confidence: lone.confidence, ruleState: lone.state, settled: true };
  }

  next(state: RunProgress): RunAction {
    const common = commonAction(state, this.params);
    if (common) {
      return common;
    }
    if (drawnChains(state) > 0 && state.extraChainsOwed === 0) {
      return { kind: 'stop', reason: 'converged', message: 'The single chain has finished.' };
    }
    return { kind: 'chain', maxTokens: nextChainMaxTokens(state, this.params), n: 1, promptBudget: state.chainBudget, logprobs: false };
  }
}

/**
 * Anytime self-consistency: the first chain gives an answer fast; it is trusted alone when this
 * model's earlier first chains like it were usually confirmed by later chains; otherwise chains are
 * added until the stopping rule is satisfied or the budget is spent. The answer is the vote leader.
 */
export class AnytimeSelfConsistency implements ReasoningStrategy {
  readonly name = 'anytime-sc';
  private readonly rule: StoppingRule;

  constructor(
    rule?: StoppingRule,
    private readonly params: AnytimeParams = ANYTIME_DEFAULTS,
    private readonly trustFirstChain = true,
    private readonly history: FirstChainEvidenceSource = NO_FIRST_CHAIN_HISTORY,
  ) {
    this.rule = rule ?? new BetaStoppingRule(params.betaThreshold);
  }

  assess(state: RunProgress): Assessment {
    const votes = votesOf(state);
    const counts = tallyVotes(votes);
    if (counts.length === 0) {
      return { confidence: 0, ruleState: votes.length ? `${votes.length} chains, no answer yet` : 'no answers yet', settled: false };
    }
    const decision = this.rule.evaluate(votes, { tokensSpent: state.tokensSpent, tokenBudget: state.totalBudget });
    if (state.chains.length === 1 && (state.answerKind ?? 'short') === 'short') {
      // One chain is one vote: its confidence is what this model's history says of chains like it.
      const lone = loneChain(state.chains[0], this.history, this.params, this.trustFirstChain);
      return { leader: counts[0].answer, confidence: lone.confidence, ruleState: lone.state, settled: lone.trusted || decision.stop };
    }
    return { leader: counts[0].answer, confidence: decision.confidence, ruleState: decision.state, settled: decision.stop };
  }

  next(state: RunProgress): RunAction {
    const common = commonAction(state, this.params);
    if (common) {
      return common;
    }
    const done = convergedStop(state, this.params, () => this.assess(state));
    if (done) {
      return done;
    }
    // The first call is a single chain so the first answer comes fast; later calls may go parallel.
    const wanted = drawnChains(state) === 0 ? 1 : Math.max(1, Math.min(state.parallel, this.params.maxChains - drawnChains(state), state.extraChainsOwed || Infinity));
    const maxTokens = nextChainMaxTokens(state, this.params);
    const n = Math.max(1, Math.min(wanted, Math.floor(remaining(state) / Math.max(1, maxTokens))));
    return { kind: 'chain', maxTokens, n, promptBudget: state.chainBudget, logprobs: false };
  }
}

/**
 * Value-guided: each chain's value is the probability of its answer tokens (logprobs, requested),
 * else its answer's vote share. Votes weigh V^(1/r) with r the remaining budget ratio (BAVT):
 * broad while the budget is rich, greedy on the best chain as it runs out.
 */
export class ValueGuidedStrategy implements ReasoningStrategy {
  readonly name = 'value-guided';

  constructor(
    private readonly rule: StoppingRule = new BetaStoppingRule(ANYTIME_DEFAULTS.betaThreshold),
    private readonly params: AnytimeParams = ANYTIME_DEFAULTS,
    /** A chain whose answer tokens are at least this probable ends the run (alone: only when the model's history trusts it too). */
    private readonly clearlyGood = 0.9,
    private readonly history: FirstChainEvidenceSource = NO_FIRST_CHAIN_HISTORY,
  ) {}

  assess(state: RunProgress): Assessment {
    const votes = votesOf(state);
    const counts = tallyVotes(votes);
    if (counts.length === 0) {
      return { confidence: 0, ruleState: 'no answers yet', settled: false };
    }
    const r = Math.max(0.05, remaining(state) / Math.max(1, state.totalBudget));
    const weights = new Map<string, number>();
    let total = 0;
    let best = 0;
    for (const chain of state.chains) {
      if (chain.vote === undefined) {
        continue;
      }
      const value = chainValue(chain, counts, votes.length);
      best = Math.max(best, chain.answerLogprob !== undefined && chain.form === 'boxed' && !chain.forced ? value : 0);
      const w = Math.pow(value, 1 / r);
      weights.set(chain.vote, (weights.get(chain.vote) ?? 0) + w);
      total += w;
    }
    const [leader, weight] = [...weights.entries()].sort((a, b) => b[1] - a[1])[0];
    const share = total > 0 ? weight / total : 0;
    const decision = this.rule.evaluate(votes, { tokensSpent: state.tokensSpent, tokenBudget: state.totalBudget });
    const clearlyGood = best >= this.clearlyGood;
    const sure = `a chain is ${(best * 100).toFixed(0)}% sure of its answer`;
    if (state.chains.length === 1 && (state.answerKind ?? 'short') === 'short') {
      // A token probability is no record of being right: alone, the chain gets the model's history's confidence.
      const lone = loneChain(state.chains[0], this.history, this.params, clearlyGood);
      return { leader, confidence: lone.confidence, ruleState: clearlyGood ? `${lone.state}; ${sure}` : lone.state, settled: lone.trusted || decision.stop };
    }
    return {
      leader,
      confidence: clearlyGood ? best : Math.min(share, decision.confidence || share),
      ruleState: clearlyGood ? sure : `${decision.state}; weighted share ${(share * 100).toFixed(0)}%`,
      settled: clearlyGood || decision.stop,
    };
  }

  next(state: RunProgress): RunAction {
    const common = commonAction(state, this.params);
    if (common) {
      return common;
    }
    const done = convergedStop(state, this.params, () => this.assess(state));
    if (done) {
      return done;
    }
    return { kind: 'chain', maxTokens: nextChainMaxTokens(state, this.params), n: 1, promptBudget: state.chainBudget, logprobs: true };
  }
}

function chainValue(chain: ChainRecord, counts: ReturnType<typeof tallyVotes>, votes: number): number {
  if (chain.answerLogprob !== undefined) {
    return Math.exp(chain.answerLogprob);
  }
  const count = counts.find((c) => c.answer === chain.vote)?.count ?? 0;
  return votes ? count / votes : 0;
}

/**
 * Mean logprob of the tokens that spell the answer at [offset, offset+length) of the text, from the
 * per-token logprobs of the call; undefined when they do not cover the text.
 */
export function answerLogprob(text: string, offset: number, length: number, logprobs: readonly TokenLogprob[] | undefined): number | undefined {
  if (!logprobs || logprobs.length === 0) {
    return undefined;
  }
  let position = 0;
  const inSpan: number[] = [];
  for (const t of logprobs) {
    const start = position;
    position += t.token.length;
    if (position > offset && start < offset + length) {
      inSpan.push(t.logprob);
    }
  }
  if (position < text.length * 0.9 || inSpan.length === 0) {
    return undefined; // logprobs do not line up with the text
  }
  return inSpan.reduce((s, x) => s + x, 0) / inSpan.length;
}

/**
 * Once no chain is owed: stop when the votes settle, saying what settled them ("3 of 4 agree", "one
 * chain, trusted because ..."), or when the run has drawn its most chains.
 */
function convergedStop(state: RunProgress, params: AnytimeParams, assess: () => Assessment): RunAction | undefined {
  if (state.extraChainsOwed !== 0 || state.chains.length === 0) {
    return undefined;
  }
  const a = assess();
  if (a.settled) {
    return { kind: 'stop', reason: 'converged', message: `${a.ruleState.charAt(0).toUpperCase()}${a.ruleState.slice(1)}.` };
  }
  if (drawnChains(state) >= params.maxChains) {
    return maxChainsStop(drawnChains(state));
  }
  return undefined;
}

/** The stop of a run that drew its most chains without settling: a reason of its own, not "converged". */
export function maxChainsStop(drawn: number): RunAction {
  return { kind: 'stop', reason: 'max-chains', message: `${drawn} chains without settling.` };
}

/** A strategy by name; `history` is what this model's earlier first chains say (default: none). */
export function createStrategy(name: SamplingStrategyName, rule?: StoppingRule, params: AnytimeParams = ANYTIME_DEFAULTS, history: FirstChainEvidenceSource = NO_FIRST_CHAIN_HISTORY): ReasoningStrategy {
  switch (name) {
    case 'single':
      return new SingleChainStrategy(params, history);
    case 'value-guided':
      return new ValueGuidedStrategy(rule, params, undefined, history);
    case 'anytime-sc':
      return new AnytimeSelfConsistency(rule, params, true, history);
  }
}

/**
 * A model cascade under one budget: the question goes to the cheapest model first; only when that
 * model does not settle within its share of the budget, or the votes so far are not confident
 * enough, does it go up to the next (dearer, stronger) model with what is left. Earlier models'
 * answers stay in the vote at a lower weight. Each tier is an ordinary ReasoningRun; the cascade
 * re-emits its events as one run, with the model named on attempts and answers.
 */
import type { ChatMessage } from '../providers/chatProvider';
import { billedTokens, type CallPurpose, type SpendRecord } from '../ledger/spendRecord';
import { grant } from '../budget/caps';
import { preciseDollars } from '../tokens/amountText';
import type { TokenPrice } from '../tokens/prices';
import { costOf } from '../tokens/prices';
import { CallFailure, CapRefusal } from '../budget/modelCaller';
import type { CallResult, CallSpec, DeltaListener, ModelCaller } from '../budget/modelCaller';
import type { BudgetSource, RunEvent, StopReason } from './runEvents';
import { runAnytimeIndex } from './anytimeIndex';
import { ReasoningRun } from './reasoningRun';
import type { AnswerCurvePoint, RunListener, RunOutcome } from './reasoningRun';
import { AnytimeSelfConsistency, ANYTIME_DEFAULTS, chainReliability } from './strategies';
import type { ChainRecord, ReasoningStrategy } from './strategies';
import { betaMajorityPosterior, BetaStoppingRule, MAX_CONFIDENCE } from './stoppingRules';

/** One rung of the ladder, cheapest first. */
export interface CascadeTier {
  /** Calls to this tier's model; its own MeteredCaller so that the model's price is recorded. */
  caller: ModelCaller;
  /** Shown on attempts and answers. */
  name: string;
  /** Dollars per 1M tokens: splits the budget and counts this tier's spend. */
  price: TokenPrice;
  /** How this tier samples; default: anytime-sc until the Beta posterior reaches the cascade's threshold. */
  strategy?: () => ReasoningStrategy;
  /** Temperature of the tier's chains after its first (ReasoningRunOptions.temperature). */
  temperature?: number;
}

export interface CascadeBudget {
  /** Per-chain budget stated in the prompt (TALE-style), the same for every tier. */
  chainTokens: number;
  /** Dollars the whole cascade may spend, at the tiers' prices; never exceeded. */
  totalDollars: number;
  /** Output tokens the whole cascade may spend; default 32 chain budgets per tier. */
  totalTokens?: number;
  source: BudgetSource;
  note?: string;
  /** Spend of the estimate call, if one was made; counted against the cascade (at its recorded dollars). */
  records?: SpendRecord[];
}

export interface CascadeOptions {
  question: string;
  systemPrompt?: string;
  budget: CascadeBudget;
  /** Escalate when the weighted vote's posterior that its leader is the majority is below this (default 0.8). */
  confidenceThreshold?: number;
  /** Weight of a vote per tier it sits below the strongest tier that ran (default 0.5: one tier down counts half). */
  carriedVoteWeight?: number;
  /**
   * Fraction of the remaining budget (dollars and billed tokens) each tier may spend; the last tier
   * always gets all that is left. Default: dollars in proportion to the tier's price per token among
   * the tiers still to come, and billed tokens split evenly among them, so every tier can afford
   * about as many tokens as any other; what a tier leaves unspent passes up.
   */
  shares?: readonly number[];
  /**
   * Prompt tokens of a call, for keeping each tier's calls inside its dollar share. Default: UTF-8
   * bytes plus per-message overhead, an upper bound for byte-level BPE tokenizers (safe, a little pessimistic).
   */
  countPromptTokens?: (messages: ChatMessage[], model: string) => number;
  budgetInPrompt?: boolean;
  parallel?: number;
  clock?: () => number;
}

export const CASCADE_DEFAULTS = { confidenceThreshold: 0.8, carriedVoteWeight: 0.5 };

export interface TierOutcome {
  model: string;
  reason: StopReason;
  /** True when the tier stopped because its share of the budget could not pay for another call. */
  shareSpent: boolean;
  answer?: string;
  /** The tier's own strategy's confidence in its answer. */
  confidence: number;
  chains: number;
  tokensSpent: number;
  dollarsSpent: number;
  /** The share of dollars and billed tokens the tier was given when it started. */
  dollarShare: number;
  tokenShare: number;
}

export interface CascadeOutcome extends RunOutcome {
  dollarsSpent: number;
  /** The model whose chain supports the final answer. */
  model?: string;
  /** One entry per tier that ran, cheapest first. */
  tiers: TierOutcome[];
}

export interface WeightedVote {
  answer: string;
  weight: number;
}

export interface WeightedVerdict {
  leader?: string;
  /** P(the leader is the majority), a Beta posterior over the weighted counts of the two leading answers. */
  confidence: number;
  leaderWeight: number;
  runnerUpWeight: number;
}

/**
 * P(p > 1/2) for p ~ Beta(a+1, b+1) with real-valued counts: the Adaptive-Consistency posterior
 * for weighted votes. Integer counts use the exact closed form; others integrate numerically.
 */
export function weightedMajorityPosterior(a: number, b: number): number {
  if (!(a >= 0) || !(b >= 0)) {
    throw new RangeError('Vote weights must be non-negative');
  }
  if (Number.isInteger(a) && Number.isInteger(b)) {
    return betaMajorityPosterior(a, b);
  }
  // Simpson's rule on x^a (1-x)^b over [0, 1/2] and [1/2, 1], scaled by its peak to stay finite.
  const logF = (x: number) => (a > 0 ? a * Math.log(x) : 0) + (b > 0 ? b * Math.log(1 - x) : 0);
  const peak = logF(Math.min(1 - 1e-12, Math.max(1e-12, a / (a + b || 1))));
  const f = (x: number) => ((x <= 0 && a > 0) || (x >= 1 && b > 0) ? 0 : Math.exp(logF(x) - peak));
  const simpson = (from: number, to: number, steps = 1000) => {
    const h = (to - from) / steps;
    let sum = f(from) + f(to);
    for (let i = 1; i < steps; i++) {
      sum += f(from + i * h) * (i % 2 ? 4 : 2);
    }
    return (sum * h) / 3;
  };
  const upper = simpson(0.5, 1);
  const lower = simpson(0, 0.5);
  return Math.min(1, Math.max(0, upper / (upper + lower)));
}

/** The weighted vote: leader by total weight (ties go to the answer seen first) and its posterior. */
export function weightedVerdict(votes: readonly WeightedVote[]): WeightedVerdict {
  const totals = new Map<string, number>();
  for (const v of votes) {
    totals.set(v.answer, (totals.get(v.answer) ?? 0) + v.weight);
  }
  const ranked = [...totals.entries()].sort((x, y) => y[1] - x[1]);
  if (ranked.length === 0) {
    return { confidence: 0, leaderWeight: 0, runnerUpWeight: 0 };
  }
  const [leader, leaderWeight] = ranked[0];
  const runnerUpWeight = ranked[1]?.[1] ?? 0;
  return { leader, leaderWeight, runnerUpWeight, confidence: weightedMajorityPosterior(leaderWeight, runnerUpWeight) };
}

/** An upper bound on prompt tokens for byte-level BPE: every token is at least one byte. */
export function promptTokensUpperBound(messages: ChatMessage[]): number {
  const encoder = new TextEncoder();
  return 3 + messages.reduce((sum, m) => sum + 4 + encoder.encode(m.role).length + encoder.encode(m.content).length, 0);
}

/** Keeps one tier's calls inside its dollar share: max_tokens is clamped so the worst case fits. */
class TierShareCaller implements ModelCaller {
  readonly model: string;
  dollarsSpent = 0;
  /** Billed tokens of this tier's calls. */
  tokensSpent = 0;
  /** Set when this wrapper (not the model's own caps) refused a call. */
  shareSpent = false;

  constructor(
    private readonly inner: ModelCaller,
    private readonly price: TokenPrice,
    public dollarShare: number,
    /** Billed tokens the tier may spend, prompts included, as the run's caps count them. */
    public tokenShare: number,
    private readonly countPromptTokens: (messages: ChatMessage[], model: string) => number,
  ) {
    this.model = inner.model;
  }

  async room(messages: ChatMessage[]): Promise<number> {
    const g = this.grant(messages, Number.POSITIVE_INFINITY, 1, 1);
    return g.ok ? Math.min(g.maxTokens, await this.inner.room(messages)) : 0;
  }

  async call(spec: CallSpec, purpose: CallPurpose, signal: AbortSignal, onDelta?: DeltaListener): Promise<CallResult> {
    const g = this.grant(spec.messages, spec.maxTokens, Math.max(1, spec.n ?? 1));
    if (!g.ok) {
      this.shareSpent = true;
      throw new CapRefusal(g.refusal.cap, `${this.model}'s share of the cascade budget (${preciseDollars(this.dollarShare)}, ${this.tokenShare.toLocaleString('en-US')} tokens) cannot pay for another call.`, g.refusal.limit, g.refusal.spent);
    }
    try {
      const result = await this.inner.call({ ...spec, maxTokens: Math.min(spec.maxTokens, g.maxTokens) }, purpose, signal, onDelta);
      this.charge(result.record);
      return result;
    } catch (error) {
      if (error instanceof CallFailure) {
        this.charge(error.record);
      }
      throw error;
    }
  }

  private charge(record: SpendRecord): void {
    this.dollarsSpent += costOf(record, this.price) ?? 0;
    this.tokensSpent += billedTokens(record);
  }

  private grant(messages: ChatMessage[], wanted: number, choices: number, minUsefulTokens?: number) {
    const zero = { tokens: 0, dollars: 0 };
    return grant({
      caps: { requestDollars: this.dollarShare, requestTokens: this.tokenShare },
      spent: { run: { tokens: this.tokensSpent, dollars: this.dollarsSpent }, today: zero },
      promptTokens: this.countPromptTokens(messages, this.model),
      price: this.price,
      wanted,
      choices,
      ...(minUsefulTokens !== undefined ? { minUsefulTokens } : {}),
    });
  }
}

interface TierRun {
  index: number;
  tier: CascadeTier;
  caller: TierShareCaller;
  run: ReasoningRun;
  tokenShare: number;
  /** Attempts of earlier tiers: this tier's attempt k is the cascade's attempt offset + k. */
  attemptOffset: number;
  attempts: number;
  tokensSpent: number;
}

/** A vote with where it came from. */
interface CascadeVote extends WeightedVote {
  chain: ChainRecord;
  tier: number;
}

export class CascadeRun {
  private readonly threshold: number;
  private readonly carriedWeight: number;
  private readonly countPromptTokens: (messages: ChatMessage[], model: string) => number;
  private readonly clock: () => number;
  private readonly runs: TierRun[] = [];
  private readonly points: AnswerCurvePoint[] = [];
  private readonly tierOutcomes: TierOutcome[] = [];
  private totalDollars: number;
  private totalTokens: number;
  private tokensSpent = 0;
  private dollarsSpent = 0;
  private lastAnswer?: { answer: string; confidence: number };
  private started = false;
  private running = false;
  private userStopped = false;
  private finished?: CascadeOutcome;

  constructor(private readonly tiers: readonly CascadeTier[], private readonly options: CascadeOptions, private readonly listener: RunListener = () => undefined) {
    if (tiers.length === 0) {
      throw new RangeError('A cascade needs at least one model');
    }
    if (!(options.budget.chainTokens > 0)) {
      throw new RangeError('The chain budget must be a positive number of tokens');
    }
    if (!(options.budget.totalDollars >= 0)) {
      throw new RangeError('The cascade budget must be a non-negative number of dollars');
    }
    if (options.shares?.some((s) => !(s > 0 && s <= 1))) {
      throw new RangeError('Tier shares are fractions in (0, 1]');
    }
    this.threshold = options.confidenceThreshold ?? CASCADE_DEFAULTS.confidenceThreshold;
    this.carriedWeight = options.carriedVoteWeight ?? CASCADE_DEFAULTS.carriedVoteWeight;
    if (!(this.carriedWeight >= 0 && this.carriedWeight <= 1)) {
      throw new RangeError('The carried vote weight is a fraction in [0, 1]');
    }
    this.countPromptTokens = options.countPromptTokens ?? promptTokensUpperBound;
    this.clock = options.clock ?? Date.now;
    this.totalDollars = options.budget.totalDollars;
    this.totalTokens = Math.floor(options.budget.totalTokens ?? options.budget.chainTokens * 32 * tiers.length);
  }

  get outcome(): CascadeOutcome | undefined {
    return this.finished;
  }

  /** The cascade's confidence-vs-tokens curve (one point per answer event). */
  get curve(): readonly AnswerCurvePoint[] {
    return this.points;
  }

  get anytimeIndex(): number {
    return runAnytimeIndex(this.points, this.tokensSpent);
  }

  /** The tier running now (or last), by name. */
  get currentModel(): string | undefined {
    return this.runs[this.runs.length - 1]?.tier.name;
  }

  /** The weighted votes of every tier that ran, with the cascade's verdict. */
  verdict(): WeightedVerdict {
    return weightedVerdict(this.votes());
  }

  async start(signal?: AbortSignal): Promise<CascadeOutcome> {
    if (this.started) {
      throw new Error('This cascade has already started; use continueWith to give it more budget.');
    }
    this.started = true;
    this.running = true;
    try {
      const b = this.options.budget;
      const note = `cascade of ${this.tiers.map((t) => t.name).join(' → ')} within ${preciseDollars(this.totalDollars)}`;
      this.emit({ type: 'budget-estimated', tokens: b.chainTokens, totalTokens: this.totalTokens, source: b.source, note: b.note ? `${b.note}; ${note}` : note });
      for (const record of b.records ?? []) {
        this.tokensSpent += billedTokens(record);
        this.dollarsSpent += record.dollars ?? 0;
        this.emit({ type: 'spend', record });
      }
      for (let i = 0; i < this.tiers.length; i++) {
        const tierRun = this.openTier(i);
        const result = await this.runTier(tierRun, () => tierRun.run.start(signal));
        const last = i === this.tiers.length - 1;
        if (result.reason === 'stopped' || result.reason === 'error' || (result.reason === 'cap-reached' && !tierRun.caller.shareSpent)) {
          return this.finish(result.reason, result.message);
        }
        // Settled when this tier answered and the weighted votes are confident enough, even if the
        // tier's own rule (its votes alone) had not converged within its share: carried votes count.
        const verdict = this.verdict();
        const answered = tierRun.run.state.chains.some((c) => c.vote !== undefined);
        const settled = answered && verdict.leader !== undefined && verdict.confidence >= this.threshold;
        if (settled) {
          return this.finish('converged', `${tierRun.tier.name} settled it: P(majority) ${verdict.confidence.toFixed(2)} ≥ ${this.threshold}.`);
        }
        if (last) {
          if (result.reason === 'converged') {
            return this.finish('converged', `The strongest model, ${tierRun.tier.name}, has finished; P(majority) ${verdict.confidence.toFixed(2)}.`);
          }
          if (result.reason === 'not-sampling' || result.reason === 'max-chains') {
            return this.finish(result.reason, `${tierRun.tier.name}: ${result.message}`);
          }
          return this.finish('budget-exhausted', `The cascade's budget is spent: ${this.tokensSpent.toLocaleString('en-US')} of ${this.totalTokens.toLocaleString('en-US')} tokens, ${preciseDollars(this.dollarsSpent)} of ${preciseDollars(this.totalDollars)}.`);
        }
        if (this.userStopped || signal?.aborted) {
          return this.finish('stopped', 'Stopped.');
        }
      }
      throw new Error('unreachable: the last tier always finishes the cascade');
    } finally {
      this.running = false;
    }
  }

  /** Resumes on the strongest tier that ran, with extra dollars (and as many more tokens as they buy there at its output rate). */
  async continueWith(extraDollars: number, signal?: AbortSignal): Promise<CascadeOutcome> {
    if (this.running || !this.finished) {
      throw new Error('The cascade is still going (or has not started); stop it or wait before continuing.');
    }
    if (!(extraDollars > 0)) {
      throw new RangeError('Continue needs a positive number of extra dollars');
    }
    const top = this.runs[this.runs.length - 1];
    const perToken = top.tier.price.output / 1e6;
    const extraTokens = perToken > 0 ? Math.max(1, Math.floor(extraDollars / perToken)) : this.options.budget.chainTokens * 4;
    this.totalDollars += extraDollars;
    this.totalTokens += extraTokens;
    top.caller.dollarShare += extraDollars;
    top.caller.tokenShare += extraTokens;
    top.caller.shareSpent = false;
    this.finished = undefined;
    this.userStopped = false;
    this.tierOutcomes.pop();
    this.running = true;
    try {
      const result = await this.runTier(top, () => top.run.continueWith(extraTokens, signal));
      return this.finish(result.reason, result.message);
    } finally {
      this.running = false;
    }
  }

  /** Stops the cascade: the call in flight is aborted, no further tier starts; answers so far are kept. */
  stop(): void {
    this.userStopped = true;
    this.runs[this.runs.length - 1]?.run.stop();
  }

  private openTier(index: number): TierRun {
    const tier = this.tiers[index];
    const remainingDollars = Math.max(0, this.totalDollars - this.dollarsSpent);
    const remainingTokens = Math.max(0, this.totalTokens - this.tokensSpent);
    const last = index === this.tiers.length - 1;
    const dollarFraction = last ? 1 : this.options.shares?.[index] ?? priceFraction(this.tiers, index);
    const tokenFraction = last ? 1 : this.options.shares?.[index] ?? 1 / (this.tiers.length - index);
    const dollarShare = remainingDollars * dollarFraction;
    const perToken = tier.price.output / 1e6;
    // A tier cannot spend more output tokens than its dollars buy at the output rate.
    const tokenShare = Math.max(1, Math.floor(Math.min(remainingTokens * tokenFraction, perToken > 0 ? dollarShare / perToken : Number.POSITIVE_INFINITY)));
    const caller = new TierShareCaller(tier.caller, tier.price, dollarShare, tokenShare, this.countPromptTokens);
    const previous = this.runs[this.runs.length - 1];
    const tierRun: TierRun = {
      index, tier, caller, tokenShare, attempts: 0, tokensSpent: 0,
      attemptOffset: previous ? previous.attemptOffset + previous.attempts : 0,
      run: undefined as unknown as ReasoningRun,
    };
    const strategy = tier.strategy?.() ?? new AnytimeSelfConsistency(new BetaStoppingRule(this.threshold), ANYTIME_DEFAULTS, false);
    tierRun.run = new ReasoningRun(caller, {
      question: this.options.question,
      ...(this.options.systemPrompt !== undefined ? { systemPrompt: this.options.systemPrompt } : {}),
      ...(this.options.budgetInPrompt !== undefined ? { budgetInPrompt: this.options.budgetInPrompt } : {}),
      ...(this.options.parallel !== undefined ? { parallel: this.options.parallel } : {}),
      ...(tier.temperature !== undefined ? { temperature: tier.temperature } : {}),
      strategy,
      budget: { chainTokens: this.options.budget.chainTokens, totalTokens: tokenShare, source: this.options.budget.source },
      clock: this.clock,
    }, (event) => this.relay(tierRun, event));
    this.runs.push(tierRun);
    if (this.userStopped) {
      tierRun.run.stop();
    }
    return tierRun;
  }

  private async runTier(tierRun: TierRun, go: () => Promise<RunOutcome>): Promise<RunOutcome> {
    const result = await go();
    this.announce();
    this.tierOutcomes.push({
      model: tierRun.tier.name,
      reason: result.reason,
      // Its share refused a call, or the tier's own budget (the share) ran out.
      shareSpent: tierRun.caller.shareSpent || result.reason === 'budget-exhausted',
      ...(result.answer !== undefined ? { answer: result.answer } : {}),
      confidence: result.confidence,
      chains: result.chains,
      tokensSpent: tierRun.tokensSpent,
      dollarsSpent: tierRun.caller.dollarsSpent,
      dollarShare: tierRun.caller.dollarShare,
      tokenShare: tierRun.tokenShare,
    });
    return result;
  }

  /** A tier's events, renumbered and labelled as the cascade's own. */
  private relay(tierRun: TierRun, event: RunEvent): void {
    switch (event.type) {
      case 'budget-estimated':
      case 'stopped':
        return; // the cascade announces its own budget and its own end
      case 'answer':
        this.announce();
        return;
      case 'attempt-started':
        tierRun.attempts = Math.max(tierRun.attempts, event.attempt);
        this.emit({ ...event, attempt: tierRun.attemptOffset + event.attempt, model: tierRun.tier.name });
        return;
      case 'delta':
      case 'attempt-finished':
        this.emit({ ...event, attempt: tierRun.attemptOffset + event.attempt });
        return;
      case 'spend':
        tierRun.tokensSpent += billedTokens(event.record);
        this.tokensSpent += billedTokens(event.record);
        this.dollarsSpent += costOf(event.record, tierRun.tier.price) ?? 0;
        this.emit(event);
        return;
      case 'error':
        this.emit(event);
        return;
    }
  }

  /**
   * Every answered chain of every tier that ran, weighted by how many tiers it sits below the
   * strongest tier that has answered (a tier skipped for want of budget does not discount the rest).
   */
  private votes(): CascadeVote[] {
    const answered = (r: TierRun) => r.run.state.chains.some((c) => c.vote !== undefined);
    const top = [...this.runs].reverse().find(answered)?.index ?? 0;
    const out: CascadeVote[] = [];
    for (const r of this.runs) {
      const weight = Math.pow(this.carriedWeight, Math.max(0, top - r.index));
      for (const chain of r.run.state.chains) {
        if (chain.vote !== undefined && weight > 0) {
          out.push({ answer: chain.vote, weight, chain, tier: r.index });
        }
      }
    }
    return out;
  }

  /** Emits 'answer' when the weighted leader or its confidence changed. */
  private announce(): void {
    const votes = this.votes();
    const verdict = weightedVerdict(votes);
    if (verdict.leader === undefined) {
      return;
    }
    const changed = this.lastAnswer?.answer !== verdict.leader;
    const confidence = Math.min(MAX_CONFIDENCE, verdict.confidence);
    if (!changed && Math.abs((this.lastAnswer?.confidence ?? -1) - confidence) < 1e-9) {
      return;
    }
    this.lastAnswer = { answer: verdict.leader, confidence };
    this.points.push({ tokens: this.tokensSpent, quality: confidence, answer: verdict.leader, time: this.clock() });
    const support = supportingVote(votes, verdict.leader);
    this.emit({
      type: 'answer',
      answer: verdict.leader,
      text: support?.chain.text ?? '',
      confidence,
      tokensSoFar: this.tokensSpent,
      changed,
      ruleState: this.ruleState(votes, verdict),
      ...(support ? { model: this.tiers[support.tier].name } : {}),
    });
  }

  private ruleState(votes: CascadeVote[], verdict: WeightedVerdict): string {
    const byTier = this.runs
      .map((r) => {
        const mine = votes.filter((v) => v.tier === r.index);
        const agree = mine.filter((v) => v.answer === verdict.leader).length;
        return mine.length ? `${r.tier.name} ${agree}/${mine.length}${mine[0].weight < 1 ? ` ×${formatWeight(mine[0].weight)}` : ''}` : undefined;
      })
      .filter((s) => s !== undefined);
    return `${byTier.join(', ')}; P(majority) ${verdict.confidence.toFixed(2)}`;
  }

  private finish(reason: StopReason, message: string): CascadeOutcome {
    const votes = this.votes();
    const verdict = weightedVerdict(votes);
    const support = verdict.leader !== undefined ? supportingVote(votes, verdict.leader) : undefined;
    this.finished = {
      reason,
      message,
      ...(verdict.leader !== undefined ? { answer: verdict.leader } : {}),
      answerKind: 'short',
      confidence: Math.min(MAX_CONFIDENCE, verdict.confidence),
      tokensSpent: this.tokensSpent,
      dollarsSpent: this.dollarsSpent,
      chains: this.runs.reduce((s, r) => s + r.run.state.chains.length, 0),
      anytimeIndex: this.anytimeIndex,
      ...(support ? { model: this.tiers[support.tier].name } : {}),
      tiers: [...this.tierOutcomes],
    };
    this.emit({ type: 'stopped', reason, message });
    return this.finished;
  }

  private emit(event: RunEvent): void {
    this.listener(event);
  }
}

/** The tier's price per token over the sum for the tiers from it up: its share of the expected cost. */
function priceFraction(tiers: readonly CascadeTier[], index: number): number {
  const weight = (t: CascadeTier) => t.price.input + t.price.output;
  const rest = tiers.slice(index).reduce((s, t) => s + weight(t), 0);
  return rest > 0 ? weight(tiers[index]) / rest : 1 / (tiers.length - index);
}

/** The heaviest, then most reliable, chain voting for the answer. */
function supportingVote(votes: readonly CascadeVote[], answer: string): CascadeVote | undefined {
  return votes.filter((v) => v.answer === answer).sort((x, y) => y.weight - x.weight || chainReliability(y.chain) - chainReliability(x.chain))[0];
}

function formatWeight(w: number): string {
  return Number.isInteger(w * 100) ? String(w) : w.toFixed(2);
}

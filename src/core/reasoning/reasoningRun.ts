/**
 * One reasoning run: a state machine over a ModelCaller that asks the strategy for the next call,
 * makes it, votes on the answers and tells the outside world through RunEvents. Deterministic
 * given the caller's replies; the clock only stamps the curve.
 */
import type { ChatMessage } from '../providers/chatProvider';
import { billedTokens, type CallPurpose, type SpendRecord } from '../ledger/spendRecord';
import { CallFailure, CapRefusal } from '../budget/modelCaller';
import type { CallResult, ModelCaller } from '../budget/modelCaller';
import type { BudgetSource, RunEvent, StopReason } from './runEvents';
import { extractKindAnswer, FORCED_ANSWER_PROMPTS, SYSTEM_PROMPTS, withThinkingSection, type AnswerKind, type KindAnswer } from './answerKinds';
import { normalizeAnswer } from './answers';
import { AnswerClusters } from './clusters';
import { codeDefects } from './codeChecks';
import { agreementConfidence, MAX_CONFIDENCE } from './stoppingRules';
import { chainKey, CLUSTER_THRESHOLDS, sameChain, similarityFor } from './similarity';
import { selectionMessages, parseSelection, SELECT_MAX_TOKENS } from './universalSelection';
import type { SelectorName } from '../config';
import { runAnytimeIndex } from './anytimeIndex';
import type { AnytimePoint } from './anytimeIndex';
import { answerLogprob, createStrategy, chainReliability, firstChainCheck, ONE_UNCHECKED_ANSWER } from './strategies';
import type { FirstChainCheck } from './firstChainHistory';
import type { ChainRecord, ReasoningStrategy, RunAction, RunProgress } from './strategies';
import { budgetPromptLine, budgetTrackerBlock } from '../budget/budgetTracker';
import { chainPromptMessages, type PreferenceChain, type PreferencePair } from './preferenceExamples';

export const DEFAULT_SYSTEM_PROMPT = SYSTEM_PROMPTS.short;
export const FORCED_ANSWER_PROMPT = FORCED_ANSWER_PROMPTS.short;
/**
 * A forced answer re-sends the cut chain as its prompt; its tail holds the latest results and keeps
 * the call cheap enough to fit what is left of the budget (a whole long chain often would not).
 */
export const FORCED_ANSWER_TAIL_CHARS = 2000;
/** Kept free after a chain for its forced answer: the prompt again, a short tail and the answer itself. */
export const FORCED_ANSWER_RESERVE_TOKENS = 256;
/** A chain's streamed thinking may use this share of its max_tokens; then the answer is forced from it. */
export const THINKING_SHARE = 0.8;
/** A chain shorter than this is not worth shortening to: the caps' own clamp applies instead. */
const MIN_SHORTENED_CHAIN_TOKENS = 64;
/** How a forced answer is appended to its chain's text. */
const FORCED_ANSWER_MARK = '\n\n**Final answer (forced):**';
/** Below this the tail no longer carries the chain's latest result. */
const MIN_FORCED_TAIL_CHARS = 120;

/** The last `maxChars` of a cut chain, starting at a line break where one is near. */
export function reasoningTail(text: string, maxChars = FORCED_ANSWER_TAIL_CHARS): string {
  if (text.length <= maxChars) {
    return text;
  }
  const start = text.length - maxChars;
  const lineBreak = text.indexOf('\n', start);
  return `…${text.slice(lineBreak !== -1 && lineBreak - start < maxChars / 4 ? lineBreak : start)}`;
}

export interface RunBudget {
  /** Per-chain budget stated in the prompt (TALE-style). */
  chainTokens: number;
  /** Billed tokens (prompts and output) the whole run may spend; defaults to 8 chains' worth. */
  totalTokens?: number;
  source: BudgetSource;
  note?: string;
  /** Spend of the estimate call, if one was made; counted against the run. */
  records?: SpendRecord[];
}

export interface ReasoningRunOptions {
  question: string;
  systemPrompt?: string;
  /** What the answer is: a value (default), code or prose; it sets extraction and agreement. */
  answerKind?: AnswerKind;
  /** How a code or prose run picks its answer among similar ones (default: the leading cluster's medoid). */
  selector?: SelectorName;
  /** Defaults to anytime-sc with its tuned stopping rule. */
  strategy?: ReasoningStrategy;
  budget: RunBudget;
  /** Whether the endpoint samples n > 1 choices per call, and how many at most. */
  parallel?: number;
  /**
   * Temperature of every chain after the first, so that they are independent samples; the first goes
   * at the endpoint's default (its makers' choice for one good answer). Undefined: never sent.
   */
  temperature?: number;
  /** Preference examples shown before the question of every chain (forced answers go without them). */
  examples?: readonly PreferencePair[];
  /** Put the TALE budget line in the prompt (default true). */
  budgetInPrompt?: boolean;
  /** Milliseconds clock, for the curve's time stamps (injectable for tests). */
  clock?: () => number;
}

/** One point of a run's answer curve: the answer it held at these tokens and time, and its confidence in it. */
export interface AnswerCurvePoint extends AnytimePoint {
  /** `quality` here is the run's confidence in its current answer. */
  answer: string;
  time: number;
}

export interface RunOutcome {
  reason: StopReason;
  message: string;
  /** The answer shown: a value, the final code, or the prose. */
  answer?: string;
  answerKind: AnswerKind;
  confidence: number;
  tokensSpent: number;
  /** Chains drawn, repeated ones included. */
  chains: number;
  anytimeIndex: number;
}

export type RunListener = (event: RunEvent) => void;

/** What a run drives, whatever its strategy: chains on one model (ReasoningRun) or a cascade of models. */
export interface RunEngine {
  start(signal?: AbortSignal): Promise<RunOutcome>;
  /** More budget, in billed tokens, for a finished run. */
  continueWith(extraTokens: number, signal?: AbortSignal): Promise<RunOutcome>;
  stop(): void;
  readonly outcome: RunOutcome | undefined;
  /** The run's budget in billed tokens, Continue included. */
  readonly totalBudget: number;
  /** Completion tokens of each clean chain that reached `answer`: what the local estimator learns from (none for a cascade). */
  agreeingChainTokens(answer: string): number[];
  /** Whether later chains confirmed the first: what the model's first-chain history learns from (none for a cascade). */
  firstChainCheck(): FirstChainCheck | undefined;
  /** The chains preference pairs are built from (preferenceExamples.ts); an engine without it makes none. */
  preferenceChains?(answer: string): PreferenceChain[];
}

/** "2 and 3", "2, 3 and 4". */
function attemptList(attempts: readonly number[]): string {
  return attempts.length < 2 ? attempts.join('') : `${attempts.slice(0, -1).join(', ')} and ${attempts[attempts.length - 1]}`;
}

export class ReasoningRun implements RunEngine {
  private readonly strategy: ReasoningStrategy;
  private readonly systemPrompt: string;
  private readonly kind: AnswerKind;
  /** Code and prose answers by similarity; their keys are the votes (undefined for short answers). */
  private readonly clusters?: AnswerClusters;
  /** The chain a USC call chose, when it chose one. */
  private selected?: ChainRecord;
  /** The answer the strategy last chose to show (ChainRecord.cluster), when it chooses one. */
  private chosen?: number;
  private selectionNote?: string;
  private readonly clock: () => number;
  /** The distinct chains: the votes. */
  private readonly chains: ChainRecord[] = [];
  /** Each distinct chain's text as compared for copies (thinking and reply, as it came). */
  private readonly chainKeys: Array<{ chain: ChainRecord; key: string }> = [];
  /** Chains that came back the same as an earlier one: drawn and paid for, never votes. */
  private duplicates = 0;
  /** Every chain of the calls after the first (meant as independent samples), with the distinct chain it is (its own attempt, or the one it repeats). */
  private readonly samples: Array<{ attempt: number; of: number }> = [];
  /** How the endpoint showed it is not sampling, once it has. */
  private notSampling?: string;
  /** Choices per call at most; 1 once the endpoint answered a parallel call with one choice. */
  private parallel: number;
  private chainCalls = 0;
  private readonly points: AnswerCurvePoint[] = [];
  private runBudget: number;
  private tokensSpent = 0;
  /** Prompt tokens of the latest chain call. */
  private promptTokens?: number;
  private pendingForced?: ChainRecord;
  private extraChainsOwed = 0;
  private attempts = 0;
  private lastAnswer?: { answer: string; confidence: number };
  private controller?: AbortController;
  private running = false;
  private userStopped = false;
  private finished?: RunOutcome;

  constructor(private readonly caller: ModelCaller, private readonly options: ReasoningRunOptions, private readonly listener: RunListener = () => undefined) {
    this.strategy = options.strategy ?? createStrategy('anytime-sc');
    this.kind = options.answerKind ?? 'short';
    this.systemPrompt = options.systemPrompt ?? SYSTEM_PROMPTS[this.kind];
    if (this.kind !== 'short') {
      this.clusters = new AnswerClusters(similarityFor(this.kind, options.question), CLUSTER_THRESHOLDS[this.kind]);
    }
    this.clock = options.clock ?? Date.now;
    if (!(options.budget.chainTokens > 0)) {
      throw new RangeError('The chain budget must be a positive number of tokens');
    }
    this.runBudget = Math.floor(options.budget.totalTokens ?? options.budget.chainTokens * 8 * 4);
    this.parallel = Math.max(1, Math.floor(options.parallel ?? 1));
  }

  /** The confidence-vs-tokens curve so far (one point per answer event, after the origin). */
  get curve(): readonly AnswerCurvePoint[] {
    return this.points;
  }

  /** Anytime Index of the run's confidence curve from (0 tokens, 0) to the tokens spent now. */
  get anytimeIndex(): number {
    return runAnytimeIndex(this.points, this.tokensSpent);
  }

  get outcome(): RunOutcome | undefined {
    return this.finished;
  }

  get totalBudget(): number {
    return this.runBudget;
  }

  /** Completion tokens of each clean chain that reached `answer`: what the local estimator learns from. */
  agreeingChainTokens(answer: string): number[] {
    const vote = this.voteOfShown(answer);
    return this.chains
      .filter((c) => c.vote !== undefined && c.vote === vote && c.finishReason === 'stop')
      .map((c) => c.completionTokens);
  }

  /** The distinct chains as preference pairs are built from them: which reached `answer` whole, on their own. */
  preferenceChains(answer: string): PreferenceChain[] {
    const vote = this.voteOfShown(answer);
    return this.chains.map((c) => {
      // A forced chain's text without the answer forced onto it: what the chain itself wrote.
      const own = c.forced && c.text.includes(FORCED_ANSWER_MARK) ? c.text.slice(0, c.text.lastIndexOf(FORCED_ANSWER_MARK)) : c.text;
      return {
        text: own.trim() ? own : c.thinking ?? '',
        outputTokens: c.completionTokens,
        reached: vote !== undefined && c.vote === vote && c.finishReason === 'stop' && !c.forced,
        cut: c.finishReason === 'length',
      };
    });
  }

  firstChainCheck(): FirstChainCheck | undefined {
    // The reliability score is fitted on values; code and prose agree by similarity, not by vote.
    return this.kind === 'short' ? firstChainCheck(this.chains) : undefined;
  }

  get state(): RunProgress {
    return {
      chainBudget: this.options.budget.chainTokens,
      totalBudget: this.runBudget,
      tokensSpent: this.tokensSpent,
      ...(this.promptTokens !== undefined ? { promptTokens: this.promptTokens } : {}),
      chains: this.chains,
      pendingForced: this.pendingForced,
      extraChainsOwed: this.extraChainsOwed,
      parallel: this.parallel,
      answerKind: this.kind,
      ...(this.clusters ? { clusters: this.clusters } : {}),
      duplicates: this.duplicates,
      ...(this.notSampling ? { notSampling: this.notSampling } : {}),
    };
  }

  async start(signal?: AbortSignal): Promise<RunOutcome> {
    if (this.running || this.finished || this.attempts > 0) {
      throw new Error('This run has already started; use continueWith to give it more budget.');
    }
    const b = this.options.budget;
    this.emit({ type: 'budget-estimated', tokens: b.chainTokens, totalTokens: this.runBudget, source: b.source, ...(b.note ? { note: b.note } : {}) });
    for (const record of b.records ?? []) {
      this.spend(record);
    }
    return this.loop(signal);
  }

  /** Resumes the run with more budget: at least one more chain, same votes. */
  async continueWith(extraTokens: number, signal?: AbortSignal): Promise<RunOutcome> {
    if (this.running) {
      throw new Error('The run is still going; stop it or wait before continuing.');
    }
    if (!(extraTokens > 0)) {
      throw new RangeError('Continue needs a positive number of extra tokens');
    }
    this.runBudget += Math.floor(extraTokens);
    this.extraChainsOwed = Math.max(1, this.extraChainsOwed);
    this.finished = undefined;
    this.userStopped = false;
    // New chains may change the candidates: a USC choice is made again at the next stop.
    this.selected = undefined;
    this.selectionNote = undefined;
    return this.loop(signal);
  }

  /** Stops the run: the call in flight is aborted; answers so far are kept. */
  stop(): void {
    this.userStopped = true;
    this.controller?.abort();
  }

  private async loop(signal?: AbortSignal): Promise<RunOutcome> {
    this.running = true;
    const controller = new AbortController();
    this.controller = controller;
    const onAbort = (): void => this.stop();
    if (signal?.aborted) {
      this.stop();
    }
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (this.userStopped) {
          return this.finish('stopped', 'Stopped.');
        }
        const action = this.strategy.next(this.state);
        if (action.kind === 'stop') {
          await this.selectByUsc(controller.signal);
          return this.finish(action.reason, action.message);
        }
        const ended = await this.perform(action, controller.signal);
        if (ended) {
          return ended;
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.running = false;
    }
  }

  /** Makes one call; returns the outcome when the call ended the run. */
  private async perform(action: Exclude<RunAction, { kind: 'stop' }>, signal: AbortSignal): Promise<RunOutcome | undefined> {
    const purpose: CallPurpose = action.kind === 'chain' ? 'attempt' : 'forced-answer';
    const n = action.kind === 'chain' ? action.n : 1;
    // Chains after the first are samples, sent at the run's temperature; forced answers and the first chain go at the endpoint's default.
    const later = action.kind === 'chain' && this.chainCalls++ > 0;
    const sampled = later && this.options.temperature !== undefined;
    const firstAttempt = this.attempts + 1;
    this.attempts += n;
    const messages = action.kind === 'chain' ? this.chainMessages(action.promptBudget) : await this.fittingForcedMessages(action.chain, action.maxTokens);
    if (action.kind === 'chain') {
      action = { ...action, maxTokens: await this.leaveRoomForForcedAnswer(messages, action.maxTokens) };
    }
    for (let i = 0; i < n; i++) {
      this.emit({ type: 'attempt-started', attempt: firstAttempt + i, purpose, maxTokens: action.maxTokens });
    }
    let result: CallResult;
    try {
      result = await this.caller.call(
        {
          messages,
          maxTokens: action.maxTokens,
          ...(n > 1 ? { n } : {}),
          ...(sampled ? { temperature: this.options.temperature } : {}),
          ...(action.kind === 'chain' && action.logprobs ? { logprobs: true } : {}),
          // A model that shows its thinking is cut at its share of the chain, and its answer forced from the thinking so far.
          ...(action.kind === 'chain' ? { thinkingTokens: Math.max(1, Math.floor(action.maxTokens * THINKING_SHARE)), budgetTokens: action.promptBudget } : {}),
        },
        purpose,
        signal,
        (choice, text, thinking) => this.emit({ type: 'delta', attempt: firstAttempt + choice, text, ...(thinking ? { thinking: true } : {}) }),
      );
    } catch (error) {
      if (error instanceof CapRefusal) {
        // Refused before sending: these attempts never streamed, and their rows must not say so.
        for (let i = 0; i < n; i++) {
          this.emit({ type: 'attempt-finished', attempt: firstAttempt + i, finishReason: 'not-sent', answer: undefined, completionTokens: 0 });
        }
      }
      return this.failed(error, signal);
    }
    this.spend(result.record);
    if (action.kind === 'chain') {
      this.promptTokens = result.record.promptTokens;
    }
    if (action.kind === 'forced-answer') {
      this.applyForcedAnswer(action.chain, result);
    } else {
      this.addChains(result, firstAttempt, action.promptBudget, later);
    }
    this.announce();
    return undefined;
  }

  private chainMessages(promptBudget: number, examples: readonly PreferencePair[] = this.options.examples ?? []): ChatMessage[] {
    if (this.options.budgetInPrompt === false) {
      return chainPromptMessages(this.systemPrompt, examples, this.options.question);
    }
    // Follow-up chains also see what the run has used and has left (BATS-style budget tracker).
    const tracker = this.chains.length > 0 ? `\n${budgetTrackerBlock(this.tokensSpent, this.runBudget)}` : '';
    return chainPromptMessages(this.systemPrompt, examples, `${this.options.question}\n${budgetPromptLine(promptBudget)}${tracker}`);
  }

  /**
   * A chain the caps would cut exactly at the budget's end leaves nothing for its forced answer, and
   * the run ends with no answer at all; so a chain near the end is shortened to keep that room.
   */
  private async leaveRoomForForcedAnswer(messages: ChatMessage[], wanted: number): Promise<number> {
    const room = await this.caller.room(messages);
    const shortened = room - FORCED_ANSWER_RESERVE_TOKENS;
    return Number.isFinite(room) && shortened < wanted && shortened >= MIN_SHORTENED_CHAIN_TOKENS ? shortened : wanted;
  }

  /**
   * The forced-answer prompt, its reasoning tail shortened until the caps leave room for the answer:
   * late in a tight run a cut chain's tail can cost more than what is left, and no answer is worse.
   */
  private async fittingForcedMessages(chain: ChainRecord, answerTokens: number): Promise<ChatMessage[]> {
    let chars = FORCED_ANSWER_TAIL_CHARS;
    let messages = this.forcedMessages(chain, chars);
    while (chars > MIN_FORCED_TAIL_CHARS && (await this.caller.room(messages)) < answerTokens) {
      chars = Math.floor(chars / 2);
      messages = this.forcedMessages(chain, chars);
    }
    return messages;
  }

  private forcedMessages(chain: ChainRecord, tailChars = FORCED_ANSWER_TAIL_CHARS): ChatMessage[] {
    return [
      // The answer is forced from the chain's own reasoning: the examples would only cost tokens here.
      ...this.chainMessages(chain.promptBudget, []),
      // Cut while thinking: the thinking so far is what the answer is forced from.
      { role: 'assistant', content: reasoningTail(chain.text.trim() ? chain.text : chain.thinking ?? chain.text, tailChars) },
      { role: 'user', content: FORCED_ANSWER_PROMPTS[this.kind] },
    ];
  }

  private addChains(result: CallResult, firstAttempt: number, promptBudget: number, later: boolean): void {
    const totalChars = result.choices.reduce((s, c) => s + c.text.length, 0);
    result.choices.forEach((choice, i) => {
      const attempt = firstAttempt + i;
      if (i > 0 && !choice.text && !choice.thinking && choice.finishReason === 'unknown') {
        // The endpoint ignored n and sent fewer choices: this attempt never came, and the run asks for one at a time.
        this.parallel = 1;
        this.emit({ type: 'attempt-finished', attempt, finishReason: 'not-returned', answer: undefined, completionTokens: 0 });
        return;
      }
      // Usage is per call; parallel choices share it in proportion to their text.
      const completionTokens = result.choices.length === 1 ? result.usage.completionTokens
        : Math.round(result.usage.completionTokens * (totalChars ? choice.text.length / totalChars : 1 / result.choices.length));
      const text = withThinkingSection(choice.thinking, choice.text);
      const key = chainKey(text);
      const original = this.chainKeys.find((k) => sameChain(k.key, key))?.chain;
      if (later) {
        this.samples.push({ attempt, of: original?.attempt ?? attempt });
      }
      if (original) {
        // A copy of an earlier chain is no vote.
        this.duplicates++;
        this.emit({ type: 'attempt-finished', attempt, finishReason: choice.finishReason, answer: original.vote, completionTokens, text, duplicateOf: original.attempt });
        return;
      }
      const found = extractKindAnswer(this.kind, choice.text);
      const chain: ChainRecord = {
        attempt,
        text: choice.text,
        ...(choice.thinking ? { thinking: choice.thinking } : {}),
        finishReason: choice.finishReason,
        completionTokens,
        maxTokens: result.grantedMaxTokens,
        promptBudget,
        forced: false,
      };
      // A chain cut off by max_tokens is not trusted to have finished its answer; prose says its answer first, so its text stands.
      if (found && (choice.finishReason !== 'length' || this.kind === 'prose')) {
        this.recordAnswer(chain, found);
        chain.answerLogprob = answerLogprob(choice.text, found.offset, found.raw.length, choice.logprobs);
      }
      this.chains.push(chain);
      this.chainKeys.push({ chain, key });
      this.emit({ type: 'attempt-finished', attempt: chain.attempt, finishReason: choice.finishReason, answer: chain.vote, completionTokens, text });
      if (chain.vote === undefined && choice.finishReason === 'length' && !this.pendingForced) {
        this.pendingForced = chain;
      }
    });
    this.extraChainsOwed = Math.max(0, this.extraChainsOwed - result.choices.length);
    this.checkSampling();
  }

  /**
   * Every sample so far the same chain, three times over counting the first chain (chains 2 and 3
   * copies of chain 1; or chain 1 and the two choices of a parallel call alike; or, when chain 1
   * differs, chains 2, 3 and 4): the endpoint is not sampling (greedy decoding, a cache, a
   * temperature it ignores). Once samples have differed the endpoint does sample, and a later copy is
   * only no vote, as a peaked model's real samples sometimes are (see SAME_CHAIN_SIMILARITY).
   */
  private checkSampling(): void {
    const of = this.samples[0]?.of;
    if (this.notSampling || of === undefined || this.samples.some((s) => s.of !== of)) {
      return;
    }
    const ofFirstChain = of !== this.samples[0].attempt;
    if (this.samples.length + (ofFirstChain ? 1 : 0) < 3) {
      return;
    }
    const attempts = attemptList(this.samples.map((s) => s.attempt));
    this.notSampling = ofFirstChain ? `chains ${attempts} repeated chain ${of}` : `chains ${attempts} came back the same`;
  }

  private applyForcedAnswer(chain: ChainRecord, result: CallResult): void {
    this.pendingForced = undefined;
    chain.forced = true;
    const choice = result.choices[0];
    const found = choice ? extractKindAnswer(this.kind, choice.text) : undefined;
    if (found) {
      this.recordAnswer(chain, found);
      chain.text = this.kind === 'short'
        ? `${chain.text}${FORCED_ANSWER_MARK} ${found.raw}`
        : `${chain.text}${FORCED_ANSWER_MARK}\n\n${choice!.text.trim()}`;
    }
    this.emit({ type: 'attempt-finished', attempt: this.attempts, finishReason: choice?.finishReason ?? 'unknown', answer: chain.vote, completionTokens: result.usage.completionTokens, text: choice?.text ?? '' });
    // Another truncated chain may be waiting for its own forced answer.
    this.pendingForced = this.chains.find((c) => c.finishReason === 'length' && !c.forced && c.vote === undefined);
  }

  /** Records a chain's answer and its vote: the normal form of a value, or the cluster of code or prose. */
  private recordAnswer(chain: ChainRecord, found: KindAnswer): void {
    chain.answer = found.raw;
    chain.form = found.form;
    if (found.language) {
      chain.language = found.language;
    }
    if (this.clusters) {
      chain.cluster = this.clusters.size;
      chain.vote = this.clusters.add(found.raw);
      if (this.kind === 'code') {
        chain.defects = codeDefects(found.raw, found.language, this.options.question);
      }
    } else {
      chain.vote = normalizeAnswer(found.raw);
    }
  }

  /** The chain whose answer is shown for a vote: a short answer's most reliable chain, a cluster's medoid. */
  private shownChain(vote: string): ChainRecord | undefined {
    if (this.selected?.vote === vote) {
      return this.selected;
    }
    if (this.clusters) {
      const chosen = this.chosen === undefined ? undefined : this.chains.find((c) => c.cluster === this.chosen);
      if (chosen?.vote === vote) {
        return chosen;
      }
      // Ties go to the more reliable chain, and never to broken-looking code.
      const medoid = this.clusters.medoid(vote, (i) => {
        const c = this.chains.find((x) => x.cluster === i)!;
        return chainReliability(c) - (c.defects?.length ? 1 : 0);
      });
      return this.chains.find((c) => c.cluster === medoid);
    }
    return this.supportingChain(vote);
  }

  /** The answer shown for a vote: the value's normal form, or the medoid's code or prose. */
  private shownAnswer(vote: string): string {
    return this.clusters ? (this.shownChain(vote)?.answer ?? vote) : vote;
  }

  /** The vote behind an answer as shown (a cluster's medoid text, or a value's normal form). */
  private voteOfShown(answer: string): string | undefined {
    if (!this.clusters) {
      return answer;
    }
    return this.chains.find((c) => c.vote !== undefined && this.shownAnswer(c.vote) === answer)?.vote;
  }

  /**
   * Universal Self-Consistency: when asked for and the candidates differ, one call shows them to the model
   * and it names the most consistent; an unreadable reply, a cap or a failure keeps the medoid, and says so.
   */
  private async selectByUsc(signal: AbortSignal): Promise<void> {
    if (this.options.selector !== 'usc' || !this.clusters || this.userStopped) {
      return;
    }
    const answered = this.chains.filter((c) => c.vote !== undefined);
    // Broken-looking code is no candidate when there are whole-looking ones to choose among.
    const whole = answered.filter((c) => (c.defects?.length ?? 0) === 0);
    const candidates = whole.length >= 2 ? whole : answered;
    if (candidates.length < 2 || new Set(candidates.map((c) => c.vote)).size < 2) {
      return;
    }
    const messages = selectionMessages(this.options.question, candidates.map((c) => c.answer!));
    let result: CallResult;
    try {
      result = await this.caller.call({ messages, maxTokens: SELECT_MAX_TOKENS }, 'select', signal);
    } catch (error) {
      if (error instanceof CallFailure) {
        this.spend(error.record);
      }
      this.selectionNote = error instanceof CapRefusal ? 'no room left for the USC call; showing the medoid' : 'the USC call failed; showing the medoid';
      this.announce(true);
      return;
    }
    this.spend(result.record);
    const choice = parseSelection(result.choices[0]?.text ?? '', candidates.length);
    if (choice === undefined) {
      this.selectionNote = 'the USC reply named no candidate; showing the medoid';
    } else {
      this.selected = candidates[choice];
      this.selectionNote = `USC chose response ${choice + 1} of ${candidates.length}`;
    }
    this.announce(true);
  }

  private failed(error: unknown, signal: AbortSignal): RunOutcome {
    if (error instanceof CapRefusal) {
      return this.finish('cap-reached', error.message);
    }
    if (error instanceof CallFailure) {
      this.spend(error.record);
    }
    const cause = error instanceof CallFailure ? error.cause : error;
    const kind = (cause as { kind?: unknown } | undefined)?.kind;
    if (kind === 'aborted' || signal.aborted || this.userStopped) {
      return this.finish('stopped', 'Stopped; the answers so far are kept.');
    }
    const message = cause instanceof Error ? cause.message : String(cause);
    this.emit({ type: 'error', message, kind: typeof kind === 'string' ? kind : 'unknown' });
    return this.finish('error', `The model call failed: ${message.replace(/[.\s]+$/, '')}. The answers so far are kept.`);
  }

  private spend(record: SpendRecord): void {
    // Billed tokens, as the caps and the panel count them: the run's budget is in these too.
    this.tokensSpent += billedTokens(record);
    this.emit({ type: 'spend', record });
  }

  /** The vote leader, or the cluster USC chose; the rule's state says how many repeated chains it did not count. */
  private leading(): { vote?: string; confidence: number; ruleState: string } {
    const a = this.leadingVote();
    const repeated = this.duplicates ? `; ${this.duplicates} repeated chain${this.duplicates > 1 ? 's' : ''} not counted` : '';
    // The rule stops on its own figure; what the run shows is never certainty.
    return { ...a, confidence: Math.min(MAX_CONFIDENCE, a.confidence), ruleState: `${a.ruleState}${repeated}` };
  }

  private leadingVote(): { vote?: string; confidence: number; ruleState: string } {
    const a = this.strategy.assess(this.state);
    this.chosen = a.answerIndex;
    const chosenVote = a.answerIndex === undefined ? undefined : this.chains.find((c) => c.cluster === a.answerIndex)?.vote;
    const vote = this.selected?.vote ?? chosenVote ?? a.leader;
    const note = this.selectionNote ? `; ${this.selectionNote}` : '';
    if (vote === undefined || !this.clusters) {
      return { ...(vote !== undefined ? { vote } : {}), confidence: a.confidence, ruleState: a.ruleState };
    }
    if (a.answerIndex !== undefined && !this.selected) {
      // The strategy chose the answer itself (the code strategy): its own account and confidence stand.
      return { vote, confidence: a.confidence, ruleState: `${a.ruleState}${note}` };
    }
    // Over clusters the confidence is the shown cluster's share, said as "3 of 4 similar".
    const votes = this.chains.filter((c) => c.vote !== undefined);
    const members = votes.filter((c) => c.vote === vote).length;
    const state = `${members} of ${this.chains.length} similar${note}`;
    // An answer nothing has agreed with yet is no more than an even bet, whatever the rule's prior says.
    const share = this.chains.length ? Math.min(a.confidence, agreementConfidence(members, this.chains.length)) : 0;
    return { vote, confidence: members < 2 ? Math.min(share, ONE_UNCHECKED_ANSWER) : share, ruleState: state };
  }

  /** Emits 'answer' when the answer shown or its confidence changed (or always, when forced). */
  private announce(force = false): void {
    const a = this.leading();
    if (a.vote === undefined) {
      return;
    }
    const shown = this.shownChain(a.vote);
    const answer = this.shownAnswer(a.vote);
    const changed = this.lastAnswer?.answer !== answer;
    if (!force && !changed && Math.abs((this.lastAnswer?.confidence ?? -1) - a.confidence) < 1e-9) {
      return;
    }
    this.lastAnswer = { answer, confidence: a.confidence };
    this.points.push({ tokens: this.tokensSpent, quality: a.confidence, answer, time: this.clock() });
    this.emit({
      type: 'answer',
      answer,
      text: shown ? withThinkingSection(shown.thinking, shown.text) : '',
      confidence: a.confidence,
      tokensSoFar: this.tokensSpent,
      changed,
      ruleState: a.ruleState,
      answerKind: this.kind,
      ...(shown?.language ? { language: shown.language } : {}),
      ...(shown ? { attempt: shown.attempt } : {}),
    });
  }

  /** The most reliable chain voting for the answer. */
  private supportingChain(vote: string): ChainRecord | undefined {
    return this.chains.filter((c) => c.vote === vote).sort((x, y) => chainReliability(y) - chainReliability(x))[0];
  }

  private finish(reason: StopReason, message: string): RunOutcome {
    const a = this.leading();
    this.extraChainsOwed = 0;
    const shown = a.vote !== undefined
      ? { answer: this.shownAnswer(a.vote), answerKind: this.kind, confidence: a.confidence }
      : this.lastReplyShown();
    this.finished = {
      reason,
      message,
      ...(shown?.answer !== undefined ? { answer: shown.answer } : {}),
      answerKind: shown?.answerKind ?? this.kind,
      confidence: shown?.confidence ?? 0,
      tokensSpent: this.tokensSpent,
      chains: this.chains.length + this.duplicates,
      anytimeIndex: this.anytimeIndex,
    };
    this.emit({ type: 'stopped', reason, message });
    return this.finished;
  }

  /**
   * No chain stated an answer of the run's kind (a value question answered in prose, say): the run
   * still shows something readable, the last whole reply as it is, with no confidence, and says why.
   */
  private lastReplyShown(): { answer: string; answerKind: AnswerKind; confidence: number } | undefined {
    // A whole reply only: a chain cut mid-reasoning is readable among the attempts, but it is no answer.
    const reply = [...this.chains].reverse().find((c) => c.finishReason === 'stop' && c.text.trim());
    if (!reply) {
      return undefined;
    }
    const answer = reply.text.trim();
    this.emit({
      type: 'answer',
      answer,
      text: withThinkingSection(reply.thinking, reply.text),
      confidence: 0,
      tokensSoFar: this.tokensSpent,
      changed: true,
      ruleState: `no chain stated ${this.kind === 'short' ? 'a value' : 'an answer'}; the last reply, as it is`,
      answerKind: 'prose',
      attempt: reply.attempt,
    });
    return { answer, answerKind: 'prose', confidence: 0 };
  }

  private emit(event: RunEvent): void {
    this.listener(event);
  }
}

/**
 * The value tree (BAVT, arXiv 2603.12634): a search over reasoning *steps*, not whole chains. A step
 * is the model's text up to a paragraph break (or a step cap); expanding a node asks for k next
 * steps; the same model scores each new step for its residual progress (0-10), and values back up as
 * V(n) = R(n) + gamma * max V(children). The remaining budget is split among the open nodes by value,
 * B(n_i) = B_rem * V(n_i) / sum_j V(n_j), and the node to expand is drawn with P ∝ V^(1/r), r the
 * remaining budget ratio: broad while the budget is rich, greedy as it runs out (a seeded draw, so a
 * run is repeatable). The answer is the best path's: its leaf's own answer, else one forced from it.
 * Emits the same RunEvents as a ReasoningRun, so the panel shows it unchanged.
 */
import type { ChatMessage, TokenLogprob } from '../providers/chatProvider';
import { billedTokens, type CallPurpose, type SpendRecord } from '../ledger/spendRecord';
import { CallFailure, CapRefusal, type CallResult, type ChoiceResult, type ModelCaller } from '../budget/modelCaller';
import { budgetPromptLine } from '../budget/budgetTracker';
import { extractKindAnswer, fencedBlocks, FORCED_ANSWER_PROMPTS, FORCED_ANSWER_TOKENS, SYSTEM_PROMPTS, type AnswerKind, type KindAnswer } from './answerKinds';
import { normalizeAnswer } from './answers';
import { runAnytimeIndex } from './anytimeIndex';
import { reasoningTail, THINKING_SHARE, type AnswerCurvePoint, type RunBudget, type RunEngine, type RunListener, type RunOutcome } from './reasoningRun';
import type { StopReason } from './runEvents';
import { chainKey, sameChain } from './similarity';
import { betaMajorityPosterior, MAX_CONFIDENCE } from './stoppingRules';
import { ONE_UNCHECKED_ANSWER } from './strategies';

/** Every tunable of the tree in one place. */
export const TREE_DEFAULTS = {
  /** Discount of a child's value in its parent's: V(n) = R(n) + gamma * max V(children). */
  gamma: 0.5,
  /** Children one expansion asks for at most (k); the node's budget share may allow fewer. */
  maxChildren: 3,
  /** A path this deep is a leaf: its answer is forced. */
  maxDepth: 12,
  /** The step cap: max_tokens of one step. */
  stepMaxTokens: 256,
  /** A step shorter than this is not worth asking for. */
  minStepTokens: 32,
  /** max_tokens of a step's value call: the reply is one number. */
  valueMaxTokens: 8,
  /** R of a step whose value reply could not be read, and the root's value. */
  neutralValue: 0.5,
  /** A leaf whose path is worth this much, and whose answer another path confirms, ends the run. */
  clearValue: 0.7,
  /** The remaining ratio r never falls below this in V^(1/r) (the weights would overflow). */
  minRatio: 0.05,
  /** The seed of the selection draw. */
  seed: 1,
  /** Share of the budget the search may spend on the best path's forced answers as it goes (the final one aside). */
  forcedShare: 0.15,
};

export type TreeParams = typeof TREE_DEFAULTS;

/** Where a step ends: a paragraph break (sent as a stop sequence, and cut here when an endpoint ignores it). */
export const STEP_BREAK = '\n\n';
/** Tells the model to write one step at a time; the loopback server knows a step request by it. */
export const STEP_INSTRUCTION = 'Work toward the answer one step at a time: reply with only the next step of the solution, one short paragraph. When the steps are enough, give the final answer as asked.';
/** Asks for the step after the solution so far (the assistant's turn before it). */
export const NEXT_STEP_PROMPT = 'Continue: reply with only the next step.';
/** The residual-value question; the loopback server knows a value request by it. */
export const VALUE_INSTRUCTION = 'How much closer does the next step bring the solution to a correct final answer? Reply with one whole number from 0 (no progress, or a mistake) to 10 (it reaches the correct answer), and nothing else.';

/** One node of the tree: the root (no step) or a step with its value. */
export interface TreeNode {
  id: number;
  parent?: number;
  depth: number;
  /** The step's text (empty for the root). */
  step: string;
  /** The attempt row of the step (absent for the root). */
  attempt?: number;
  /** Output tokens of the step. */
  tokens: number;
  /** The step's residual value R in [0, 1], from its value call. */
  reward: number;
  /** V = R + gamma * max V(children). */
  value: number;
  children: number[];
  expanded: boolean;
  /** Why nothing follows: the step states the answer, the reply ended, or the path is at the depth cap. */
  leaf?: 'answer' | 'ended' | 'depth';
  /** The answer the step states (leaf 'answer'), or the one forced from the path. */
  answer?: { raw: string; vote: string; forced: boolean; attempt?: number; language?: string };
  /** A forced answer was asked for this path (whatever it said). */
  forcedAsked?: boolean;
  /** Set when the value reply was unreadable or the call could not be made. */
  valueNote?: string;
}

/** A value reply read: R in [0, 1], and a note when it fell back to the neutral value. */
export interface StepValue {
  value: number;
  note?: string;
}

/**
 * Reads a value reply ("7", "Score: 7/10"): the first whole number 0-10 in it, over 10. With the
 * score token's logprob, its probability p shrinks the score toward neutral (p * score + (1 - p) * neutral);
 * anything else is garbage: the neutral value, and a note that says so.
 */
export function parseStepValue(text: string, logprobs?: readonly TokenLogprob[], neutral = TREE_DEFAULTS.neutralValue): StepValue {
  const head = text.trim().slice(0, 40);
  const m = /(?<![\d.])(10|\d)(?:\.\d+)?(?![\d])/.exec(head);
  if (!m) {
    const shown = head.replace(/\s+/g, ' ').slice(0, 20);
    return { value: neutral, note: `unreadable step value ${shown ? `"${shown}"` : '(empty)'}; taken as neutral` };
  }
  const score = Math.min(10, Number.parseFloat(m[0])) / 10;
  const token = logprobs?.find((t) => t.token.trim() !== '' && m[1].startsWith(t.token.trim()));
  if (!token) {
    return { value: score };
  }
  const p = Math.min(1, Math.max(0, Math.exp(token.logprob)));
  return { value: p * score + (1 - p) * neutral };
}

/** The step in a reply: its text up to the first paragraph break (leading blank lines skipped). */
export function cutStep(text: string): string {
  const body = text.replace(/^\s+/, '');
  const at = body.indexOf(STEP_BREAK);
  return (at < 0 ? body : body.slice(0, at)).trimEnd();
}

/** The budget split by value: B(n_i) = B_rem * V(n_i) / sum_j V(n_j) (evenly when every value is 0). */
export function budgetShares(values: readonly number[], remaining: number): number[] {
  const sum = values.reduce((s, v) => s + Math.max(0, v), 0);
  return values.map((v) => (sum > 0 ? (remaining * Math.max(0, v)) / sum : remaining / values.length));
}

/** Selection weights V^(1/r), normalised: r = 1 draws by value, a small r all but picks the best. */
export function selectionWeights(values: readonly number[], ratio: number, minRatio = TREE_DEFAULTS.minRatio): number[] {
  const r = Math.min(1, Math.max(minRatio, ratio));
  const top = Math.max(...values.map((v) => Math.max(0, v)));
  if (!(top > 0)) {
    return values.map(() => 1 / values.length);
  }
  // Scaled by the largest so that V^(1/r) cannot overflow for V > 1.
  const raw = values.map((v) => Math.pow(Math.max(0, v) / top, 1 / r));
  const sum = raw.reduce((s, w) => s + w, 0);
  return raw.map((w) => w / sum);
}

/** The index a uniform draw u in [0, 1) picks under these weights. */
export function pickIndex(weights: readonly number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i];
    if (u < acc) {
      return i;
    }
  }
  return weights.length - 1;
}

/** A small seeded generator (mulberry32): the same seed, the same draws. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Recomputes V from a node up to the root: V(n) = R(n) + gamma * max V(children). */
export function backUp(nodes: readonly TreeNode[], from: number, gamma = TREE_DEFAULTS.gamma): void {
  for (let id: number | undefined = from; id !== undefined; id = nodes[id].parent) {
    const n = nodes[id];
    const best = n.children.length ? Math.max(...n.children.map((c) => nodes[c].value)) : undefined;
    n.value = best === undefined ? n.reward : n.reward + gamma * best;
  }
}

/** The best path: from the root, the child of highest value (the first of equals) until a node without children. */
export function bestPath(nodes: readonly TreeNode[]): TreeNode[] {
  const path = [nodes[0]];
  for (let n = nodes[0]; n.children.length;) {
    n = n.children.map((c) => nodes[c]).reduce((best, c) => (c.value > best.value ? c : best));
    path.push(n);
  }
  return path;
}

/** The nodes still open: not expanded, not leaves. */
export function frontier(nodes: readonly TreeNode[]): TreeNode[] {
  return nodes.filter((n) => !n.expanded && !n.leaf);
}

/** The steps from the root to a node, one paragraph each: the solution so far. */
export function pathText(nodes: readonly TreeNode[], id: number): string {
  const steps: string[] = [];
  for (let n: TreeNode | undefined = nodes[id]; n && n.parent !== undefined; n = nodes[n.parent]) {
    steps.unshift(n.step);
  }
  return steps.join(STEP_BREAK);
}

/** The messages that ask for the step after `path` (the root's first step when it is empty). */
export function stepMessages(systemPrompt: string, question: string, chainBudget: number, path: string): ChatMessage[] {
  const ask: ChatMessage[] = [
    { role: 'system', content: systemPrompt },
    { role: 'user', content: `${question}\n${budgetPromptLine(chainBudget)}\n\n${STEP_INSTRUCTION}` },
  ];
  return path ? [...ask, { role: 'assistant', content: path }, { role: 'user', content: NEXT_STEP_PROMPT }] : ask;
}

/** The messages that ask how much a step adds to the solution so far. */
export function valueMessages(question: string, path: string, step: string): ChatMessage[] {
  return [{
    role: 'user',
    content: `Question:\n${question}\n\nSolution so far:\n${path || '(nothing yet)'}\n\nNext step:\n${step}\n\n${VALUE_INSTRUCTION}`,
  }];
}

export interface ValueTreeOptions {
  question: string;
  systemPrompt?: string;
  answerKind?: AnswerKind;
  budget: RunBudget;
  /** Whether the endpoint samples n > 1 choices per call, and how many at most. */
  parallel?: number;
  /** Temperature of the step calls, so that siblings differ; undefined: never sent. */
  temperature?: number;
  params?: Partial<TreeParams>;
  clock?: () => number;
}

/** Prompt tokens per character until a call has shown the model's own figure. */
const DEFAULT_TOKENS_PER_CHAR = 0.3;

export class ValueTreeRun implements RunEngine {
  private readonly params: TreeParams;
  private readonly kind: AnswerKind;
  private readonly systemPrompt: string;
  private readonly clock: () => number;
  private readonly random: () => number;
  readonly nodes: TreeNode[] = [{ id: 0, depth: 0, step: '', tokens: 0, reward: TREE_DEFAULTS.neutralValue, value: TREE_DEFAULTS.neutralValue, children: [], expanded: false }];
  private readonly points: AnswerCurvePoint[] = [];
  private runBudget: number;
  private tokensSpent = 0;
  /** Billed prompt tokens per character of the messages, learned from each call's record. */
  private tokensPerChar = DEFAULT_TOKENS_PER_CHAR;
  private parallel: number;
  private attempts = 0;
  /** Expansions Continue asked for, made whatever the answers say. */
  private expansionsOwed = 0;
  private valueNotes = 0;
  /** Billed tokens of forced answers made during the search. */
  private forcedSpent = 0;
  private lastAnswer?: { answer: string; confidence: number };
  private controller?: AbortController;
  private running = false;
  private userStopped = false;
  private finished?: RunOutcome;

  constructor(private readonly caller: ModelCaller, private readonly options: ValueTreeOptions, private readonly listener: RunListener = () => undefined) {
    this.params = { ...TREE_DEFAULTS, ...options.params };
    this.kind = options.answerKind ?? 'short';
    this.systemPrompt = options.systemPrompt ?? SYSTEM_PROMPTS[this.kind];
    this.clock = options.clock ?? Date.now;
    this.random = seededRandom(this.params.seed);
    if (!(options.budget.chainTokens > 0)) {
      throw new RangeError('The chain budget must be a positive number of tokens');
    }
    this.runBudget = Math.floor(options.budget.totalTokens ?? options.budget.chainTokens * 8 * 4);
    this.parallel = Math.max(1, Math.floor(options.parallel ?? 1));
    this.nodes[0].reward = this.nodes[0].value = this.params.neutralValue;
  }

  get outcome(): RunOutcome | undefined {
    return this.finished;
  }

  get totalBudget(): number {
    return this.runBudget;
  }

  get curve(): readonly AnswerCurvePoint[] {
    return this.points;
  }

  /** Output tokens of each path whose leaf states `answer`: a whole solution's length, for the local estimator. */
  agreeingChainTokens(answer: string): number[] {
    return this.nodes
      .filter((n) => n.leaf === 'answer' && n.answer && this.shown(n.answer) === answer)
      .map((n) => this.pathNodes(n.id).reduce((s, p) => s + p.tokens, 0));
  }

  /** A tree has no first chain to check. */
  firstChainCheck(): undefined {
    return undefined;
  }

  async start(signal?: AbortSignal): Promise<RunOutcome> {
    if (this.running || this.finished || this.attempts > 0) {
      throw new Error('This run has already started; use continueWith to give it more budget.');
    }
    const b = this.options.budget;
    const note = `value tree: up to ${this.params.maxChildren} next steps a node, steps of at most ${this.params.stepMaxTokens} tokens`;
    this.emit({ type: 'budget-estimated', tokens: b.chainTokens, totalTokens: this.runBudget, source: b.source, note: b.note ? `${b.note}; ${note}` : note });
    for (const record of b.records ?? []) {
      this.spend(record);
    }
    return this.loop(signal);
  }

  /** More budget: the same tree grows on, at least one more expansion. */
  async continueWith(extraTokens: number, signal?: AbortSignal): Promise<RunOutcome> {
    if (this.running) {
      throw new Error('The run is still going; stop it or wait before continuing.');
    }
    if (!(extraTokens > 0)) {
      throw new RangeError('Continue needs a positive number of extra tokens');
    }
    this.runBudget += Math.floor(extraTokens);
    this.expansionsOwed = 1;
    this.finished = undefined;
    this.userStopped = false;
    return this.loop(signal);
  }

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
          return this.finish('stopped', 'Stopped; the answers so far are kept.');
        }
        const settled = this.expansionsOwed === 0 ? this.settled() : undefined;
        if (settled) {
          return await this.finishWithAnswer('converged', settled, controller.signal);
        }
        const open = frontier(this.nodes);
        if (open.length === 0) {
          return await this.finishWithAnswer('converged', 'Every path of the tree has reached an answer or its depth.', controller.signal);
        }
        const plan = this.planExpansion(open);
        if (!plan) {
          return await this.finishWithAnswer('budget-exhausted', `The run's budget of ${this.runBudget.toLocaleString('en-US')} tokens is spent.`, controller.signal);
        }
        this.expansionsOwed = Math.max(0, this.expansionsOwed - 1);
        const ended = await this.expand(plan.node, plan.children, plan.stepTokens, controller.signal);
        if (ended) {
          return ended;
        }
        await this.announceBest(controller.signal, false);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.running = false;
    }
  }

  /** The run's stop when the best path's leaf states an answer of clear value that another path confirms. */
  private settled(): string | undefined {
    const end = bestPath(this.nodes).at(-1)!;
    if (!end.leaf || !end.answer || end.value < this.params.clearValue) {
      return undefined;
    }
    const agree = this.answered().filter((n) => n.answer!.vote === end.answer!.vote).length;
    return agree >= 2 ? `The best path's answer has value ${end.value.toFixed(2)} and ${agree} paths reach it.` : undefined;
  }

  /** The budget left for steps: the run's remaining tokens less the final forced answer's reserve. */
  private usable(): number {
    return this.runBudget - this.tokensSpent - this.forcedReserve();
  }

  private forcedReserve(): number {
    const end = bestPath(this.nodes).at(-1)!;
    if (end.answer) {
      return 0;
    }
    return this.estimate(this.forcedMessages(end.id)) + FORCED_ANSWER_TOKENS[this.kind];
  }

  /** Billed prompt tokens of these messages, at the rate the calls so far have shown. */
  private estimate(messages: ChatMessage[]): number {
    return Math.ceil(messages.reduce((s, m) => s + m.content.length, 0) * this.tokensPerChar) + 8;
  }

  /**
   * The node to expand, drawn by V^(1/r) among the open nodes, and what its budget share buys: as
   * many children (at most maxChildren) as B(n) pays for at a step and a value call each, with the step cap
   * lowered to fit when even one child would not. Undefined when the budget cannot pay for one step.
   */
  private planExpansion(open: TreeNode[]): { node: TreeNode; children: number; stepTokens: number } | undefined {
    const usable = this.usable();
    const ratio = Math.max(0, usable) / Math.max(1, this.runBudget);
    const weights = selectionWeights(open.map((n) => n.value), ratio, this.params.minRatio);
    const index = pickIndex(weights, this.random());
    const node = open[index];
    const share = budgetShares(open.map((n) => n.value), usable)[index];
    const path = pathText(this.nodes, node.id);
    const stepPrompt = this.estimate(stepMessages(this.systemPrompt, this.options.question, this.options.budget.chainTokens, path));
    const valuePrompt = this.estimate(valueMessages(this.options.question, path, ''));
    // The value prompt holds the step: a step's own tokens are counted twice over.
    const perChild = stepPrompt + valuePrompt + this.params.valueMaxTokens + 2 * this.params.stepMaxTokens;
    const children = Math.max(1, Math.min(this.params.maxChildren, Math.floor(share / perChild)));
    const fits = Math.floor((usable - children * (stepPrompt + valuePrompt + this.params.valueMaxTokens)) / (2 * children));
    const stepTokens = Math.min(this.params.stepMaxTokens, fits);
    return stepTokens >= this.params.minStepTokens ? { node, children, stepTokens } : undefined;
  }

  /** Asks for `k` next steps of a node (one call with n where the endpoint samples in parallel), then scores each new one. */
  private async expand(node: TreeNode, k: number, stepTokens: number, signal: AbortSignal): Promise<RunOutcome | undefined> {
    node.expanded = true;
    const path = pathText(this.nodes, node.id);
    const messages = stepMessages(this.systemPrompt, this.options.question, this.options.budget.chainTokens, path);
    const calls = this.parallel > 1 ? [k] : Array(k).fill(1) as number[];
    const fresh: TreeNode[] = [];
    let capped = false;
    for (const n of calls) {
      const first = this.attempts + 1;
      const result = await this.call(messages, 'step', n, stepTokens, signal, {
        ...(this.options.temperature !== undefined ? { temperature: this.options.temperature } : {}),
        stop: [STEP_BREAK],
        thinkingTokens: Math.max(1, Math.floor(stepTokens * THINKING_SHARE)),
      });
      if (!('choices' in result)) {
        if (result.refused) {
          capped = true;
          break;
        }
        return result.outcome;
      }
      if (result.choices.length < n) {
        this.parallel = 1; // the endpoint sent fewer choices than asked: it ignores n
      }
      fresh.push(...this.addChildren(node, result, first));
    }
    if (node.children.length === 0 && !capped) {
      // Every next step came back empty: the solution so far is whole, and its answer is read as a whole chain's.
      node.leaf = 'ended';
      this.readWholeAnswer(node);
    } else if (node.children.length === 0) {
      node.expanded = false; // refused before anything was sent: still open, for Continue
    }
    for (const child of fresh) {
      const ended = await this.score(child, signal);
      if (ended) {
        return ended;
      }
    }
    backUp(this.nodes, node.id, this.params.gamma);
    return capped ? this.finishWithAnswer('cap-reached', 'A cap leaves no room for another step.', signal) : undefined;
  }

  /** The new steps of a step call as children of the node: empty and repeated ones are no nodes. */
  private addChildren(node: TreeNode, result: CallResult, first: number): TreeNode[] {
    const added: TreeNode[] = [];
    const totalChars = result.choices.reduce((s, c) => s + c.text.length + (c.thinking?.length ?? 0), 0);
    result.choices.forEach((choice, i) => {
      const attempt = first + i;
      if (i > 0 && !choice.text && !choice.thinking && choice.finishReason === 'unknown') {
        // The endpoint ignored n: this step never came, and later expansions ask one at a time.
        this.parallel = 1;
        this.emit({ type: 'attempt-finished', attempt, finishReason: 'not-returned', answer: undefined, completionTokens: 0 });
        return;
      }
      const chars = choice.text.length + (choice.thinking?.length ?? 0);
      const tokens = result.choices.length === 1 ? result.usage.completionTokens : Math.round(result.usage.completionTokens * (totalChars ? chars / totalChars : 1 / result.choices.length));
      const step = cutStep(choice.text.trim() ? choice.text : choice.thinking ?? '');
      const sibling = node.children.map((c) => this.nodes[c]).find((c) => sameChain(chainKey(c.step), chainKey(step)));
      if (!step || sibling) {
        this.emit({ type: 'attempt-finished', attempt, finishReason: choice.finishReason, answer: undefined, completionTokens: tokens, text: step, ...(sibling?.attempt !== undefined ? { duplicateOf: sibling.attempt } : {}) });
        return;
      }
      const child: TreeNode = {
        id: this.nodes.length, parent: node.id, depth: node.depth + 1, step, attempt, tokens,
        reward: this.params.neutralValue, value: this.params.neutralValue, children: [], expanded: false,
      };
      this.nodes.push(child);
      node.children.push(child.id);
      const found = this.stepAnswer(child, choice);
      if (found) {
        child.leaf = 'answer';
        child.answer = { raw: found.raw, vote: this.voteOf(found), forced: false, attempt, ...(found.language ? { language: found.language } : {}) };
      } else if (child.depth >= this.params.maxDepth) {
        child.leaf = 'depth';
      }
      const parentAttempt = node.attempt;
      this.emit({
        type: 'attempt-finished', attempt, finishReason: choice.finishReason, answer: child.answer?.vote, completionTokens: tokens, text: step,
        step: { depth: child.depth, ...(parentAttempt !== undefined ? { parent: parentAttempt } : {}) },
      });
      added.push(child);
    });
    return added;
  }

  /**
   * The final answer a step states, by the answer kind: a value stated as such (boxed, "the answer
   * is", GSM8K's "A:"), not a number that merely ends the step; code once the step closes the path's
   * last code block. Prose states no answer in a step: its answer is forced from the path.
   */
  private stepAnswer(child: TreeNode, choice: ChoiceResult): KindAnswer | undefined {
    if (this.kind === 'short') {
      const found = extractKindAnswer('short', child.step);
      return found && found.form !== 'last-number' && choice.finishReason !== 'length' ? found : undefined;
    }
    if (this.kind === 'code') {
      const whole = pathText(this.nodes, child.id);
      const blocks = fencedBlocks(whole);
      const closes = /^ {0,3}(?:`{3,}|~{3,})\s*$/m.test(child.step);
      return blocks.length && blocks[blocks.length - 1].closed && closes ? extractKindAnswer('code', whole) : undefined;
    }
    return undefined;
  }

  /**
   * The answer of a path that ended by itself, read from its whole text as from a whole chain (a
   * value's last number too, which a single step is not trusted with), unless a leaf already states one.
   */
  private readWholeAnswer(node: TreeNode): void {
    if (node.answer && !node.answer.forced) {
      return;
    }
    const found = node.depth > 0 ? extractKindAnswer(this.kind, pathText(this.nodes, node.id)) : undefined;
    if (found) {
      node.answer = { raw: found.raw, vote: this.voteOf(found), forced: false, ...(node.attempt !== undefined ? { attempt: node.attempt } : {}), ...(found.language ? { language: found.language } : {}) };
    }
  }

  private voteOf(found: Pick<KindAnswer, 'raw'>): string {
    return this.kind === 'short' ? normalizeAnswer(found.raw) : found.raw.trim();
  }

  /** The step's value call: R from the reply (neutral, and said, when it is unreadable or cannot be made). */
  private async score(child: TreeNode, signal: AbortSignal): Promise<RunOutcome | undefined> {
    const parent = this.nodes[child.parent!];
    const messages = valueMessages(this.options.question, pathText(this.nodes, parent.id), child.step);
    const result = await this.call(messages, 'value', 1, this.params.valueMaxTokens, signal, { logprobs: true });
    let value: StepValue;
    if ('choices' in result) {
      const choice = result.choices[0];
      value = parseStepValue(choice?.text ?? '', choice?.logprobs, this.params.neutralValue);
      this.emit({
        type: 'attempt-finished', attempt: this.attempts, finishReason: choice?.finishReason ?? 'unknown', answer: undefined, completionTokens: result.usage.completionTokens, text: choice?.text ?? '',
        ...(child.attempt !== undefined ? { scores: { attempt: child.attempt, value: value.value } } : {}),
      });
    } else if (result.refused) {
      value = { value: this.params.neutralValue, note: 'no room for the step\'s value call; taken as neutral' };
    } else {
      return result.outcome;
    }
    child.reward = value.value;
    if (value.note) {
      child.valueNote = value.note;
      this.valueNotes++;
    }
    backUp(this.nodes, child.id, this.params.gamma);
    return undefined;
  }

  /**
   * One metered call with its attempt rows. Returns the result, or what ended it: a cap's refusal
   * (nothing sent) or the run's outcome (Stop, a failure).
   */
  private async call(
    messages: ChatMessage[], purpose: CallPurpose, n: number, maxTokens: number, signal: AbortSignal,
    extra: { temperature?: number; stop?: string[]; thinkingTokens?: number; logprobs?: boolean },
  ): Promise<CallResult | { refused: true } | { refused: false; outcome: RunOutcome }> {
    const first = this.attempts + 1;
    this.attempts += n;
    for (let i = 0; i < n; i++) {
      this.emit({ type: 'attempt-started', attempt: first + i, purpose, maxTokens });
    }
    try {
      const result = await this.caller.call({ messages, maxTokens, ...(n > 1 ? { n } : {}), ...extra }, purpose, signal,
        (choice, text, thinking) => this.emit({ type: 'delta', attempt: first + choice, text, ...(thinking ? { thinking: true } : {}) }));
      this.spend(result.record);
      this.learnPromptRate(messages, result.record);
      return result;
    } catch (error) {
      if (error instanceof CapRefusal) {
        for (let i = 0; i < n; i++) {
          this.emit({ type: 'attempt-finished', attempt: first + i, finishReason: 'not-sent', answer: undefined, completionTokens: 0 });
        }
        return { refused: true };
      }
      return { refused: false, outcome: this.failed(error, signal) };
    }
  }

  private learnPromptRate(messages: ChatMessage[], record: SpendRecord): void {
    const chars = messages.reduce((s, m) => s + m.content.length, 0);
    if (chars > 200 && record.promptTokens > 0) {
      this.tokensPerChar = Math.max(this.tokensPerChar * 0.5, record.promptTokens / chars);
    }
  }

  private forcedMessages(id: number): ChatMessage[] {
    const path = pathText(this.nodes, id);
    return [
      { role: 'system', content: this.systemPrompt },
      { role: 'user', content: `${this.options.question}\n${budgetPromptLine(this.options.budget.chainTokens)}` },
      { role: 'assistant', content: reasoningTail(path) },
      { role: 'user', content: FORCED_ANSWER_PROMPTS[this.kind] },
    ];
  }

  /**
   * The best path's answer, shown when it changes: its leaf's own, else one forced from the path (once
   * per path; during the search only when the budget leaves room for it beyond the final one's reserve).
   */
  private async announceBest(signal: AbortSignal, final: boolean): Promise<void> {
    const end = bestPath(this.nodes).at(-1)!;
    if (!end.answer && !end.forcedAsked && end.depth > 0) {
      const messages = this.forcedMessages(end.id);
      const cost = this.estimate(messages) + FORCED_ANSWER_TOKENS[this.kind];
      const affordable = final
        ? this.runBudget - this.tokensSpent >= cost || (await this.caller.room(messages)) >= FORCED_ANSWER_TOKENS[this.kind]
        : this.usable() - cost >= cost && this.forcedSpent + cost <= this.params.forcedShare * this.runBudget;
      if (affordable) {
        end.forcedAsked = true;
        const result = await this.call(messages, 'forced-answer', 1, FORCED_ANSWER_TOKENS[this.kind], signal, {});
        if ('choices' in result && !final) {
          this.forcedSpent += billedTokens(result.record);
        }
        if ('choices' in result) {
          const choice = result.choices[0];
          const found = choice ? extractKindAnswer(this.kind, choice.text) : undefined;
          if (found) {
            end.answer = { raw: found.raw, vote: this.voteOf(found), forced: true, attempt: this.attempts, ...(found.language ? { language: found.language } : {}) };
          }
          this.emit({ type: 'attempt-finished', attempt: this.attempts, finishReason: choice?.finishReason ?? 'unknown', answer: end.answer?.vote, completionTokens: result.usage.completionTokens, text: choice?.text ?? '' });
        }
      }
    }
    this.announce();
  }

  /**
   * The paths that hold an answer: a leaf's own, or one forced from a path's end. An answer forced
   * from a node that has since grown children stands for no path of its own, and is no vote.
   */
  private answered(): TreeNode[] {
    return this.nodes.filter((n) => n.answer && n.children.length === 0);
  }

  /** What the panel shows of an answer: a value's normal form, or the code or prose as written. */
  private shown(a: NonNullable<TreeNode['answer']>): string {
    return this.kind === 'short' ? a.vote : a.raw;
  }

  /**
   * The answer shown and the run's confidence in it: the best path's answer (else the one most paths
   * reach); a lone answered path is no more than an even bet, and agreement never makes it certain.
   */
  private leading(): { node: TreeNode; confidence: number; ruleState: string } | undefined {
    const answered = this.answered();
    if (answered.length === 0) {
      return undefined;
    }
    const path = bestPath(this.nodes);
    const end = path.at(-1)!;
    const counts = new Map<string, number>();
    for (const n of answered) {
      counts.set(n.answer!.vote, (counts.get(n.answer!.vote) ?? 0) + 1);
    }
    const node = end.answer ? end : answered.reduce((best, n) => (counts.get(n.answer!.vote)! > counts.get(best.answer!.vote)! || (counts.get(n.answer!.vote) === counts.get(best.answer!.vote) && n.value > best.value) ? n : best));
    const agree = counts.get(node.answer!.vote)!;
    const others = Math.max(0, ...[...counts.entries()].filter(([v]) => v !== node.answer!.vote).map(([, c]) => c));
    const lone = answered.length === 1;
    const confidence = lone ? Math.min(ONE_UNCHECKED_ANSWER, node.value) : Math.min(MAX_CONFIDENCE, betaMajorityPosterior(agree, others));
    const steps = this.nodes.length - 1;
    const notes = this.valueNotes ? `; ${this.valueNotes} step value${this.valueNotes > 1 ? 's' : ''} unreadable, taken as neutral` : '';
    const mean = path.length > 1 ? path.slice(1).reduce((s, n) => s + n.reward, 0) / (path.length - 1) : 0;
    const ruleState = `${lone ? 'one answered path' : `${agree} of ${answered.length} answered paths agree`}; tree of ${steps} step${steps === 1 ? '' : 's'}, the best path's steps worth ${mean.toFixed(2)} on average${notes}`;
    return { node, confidence, ruleState };
  }

  private announce(): void {
    const lead = this.leading();
    if (!lead) {
      return;
    }
    const a = lead.node.answer!;
    const answer = this.shown(a);
    const changed = this.lastAnswer?.answer !== answer;
    if (!changed && Math.abs(this.lastAnswer!.confidence - lead.confidence) < 1e-9) {
      return;
    }
    this.lastAnswer = { answer, confidence: lead.confidence };
    this.points.push({ tokens: this.tokensSpent, quality: lead.confidence, answer, time: this.clock() });
    const steps = pathText(this.nodes, lead.node.id);
    this.emit({
      type: 'answer',
      answer,
      text: a.forced ? `${steps}\n\n**Final answer (forced):** ${this.kind === 'short' ? a.raw : `\n\n${a.raw}`}` : steps,
      confidence: lead.confidence,
      tokensSoFar: this.tokensSpent,
      changed,
      ruleState: lead.ruleState,
      answerKind: this.kind,
      ...(a.language ? { language: a.language } : {}),
      ...(a.attempt !== undefined ? { attempt: a.attempt } : {}),
    });
  }

  /** Ends the run with the best path's answer, forced from it first when it has none and the budget allows. */
  private async finishWithAnswer(reason: StopReason, message: string, signal: AbortSignal): Promise<RunOutcome> {
    if (!this.userStopped && reason !== 'cap-reached') {
      await this.announceBest(signal, true);
    }
    return this.finish(this.userStopped ? 'stopped' : reason, this.userStopped ? 'Stopped; the answers so far are kept.' : message);
  }

  private failed(error: unknown, signal: AbortSignal): RunOutcome {
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

  private finish(reason: StopReason, message: string): RunOutcome {
    this.announce();
    const lead = this.leading();
    const asIs = lead ? undefined : this.bestPathShown();
    this.expansionsOwed = 0;
    this.finished = {
      reason,
      message,
      ...(lead ? { answer: this.shown(lead.node.answer!) } : asIs !== undefined ? { answer: asIs } : {}),
      answerKind: lead || asIs === undefined ? this.kind : 'prose',
      confidence: lead?.confidence ?? 0,
      tokensSpent: this.tokensSpent,
      chains: this.nodes.filter((n) => n.leaf || (!n.expanded && n.id > 0)).length,
      anytimeIndex: runAnytimeIndex(this.points, this.tokensSpent),
    };
    this.emit({ type: 'stopped', reason, message });
    return this.finished;
  }

  /**
   * No path stated an answer of the run's kind, nor gave one when forced: the run still shows
   * something readable, the best path's steps as they are, with no confidence, and says why.
   */
  private bestPathShown(): string | undefined {
    const end = bestPath(this.nodes).at(-1)!;
    const text = pathText(this.nodes, end.id).trim();
    if (!text) {
      return undefined;
    }
    this.emit({
      type: 'answer', answer: text, text, confidence: 0, tokensSoFar: this.tokensSpent, changed: true,
      ruleState: `no path stated ${this.kind === 'short' ? 'a value' : 'an answer'}; the best path's steps, as they are`,
      answerKind: 'prose', ...(end.attempt !== undefined ? { attempt: end.attempt } : {}),
    });
    return text;
  }

  private pathNodes(id: number): TreeNode[] {
    const out: TreeNode[] = [];
    for (let n: TreeNode | undefined = this.nodes[id]; n && n.parent !== undefined; n = this.nodes[n.parent]) {
      out.unshift(n);
    }
    return out;
  }

  private spend(record: SpendRecord): void {
    this.tokensSpent += billedTokens(record);
    this.emit({ type: 'spend', record });
  }

  private emit(event: Parameters<RunListener>[0]): void {
    this.listener(event);
  }
}

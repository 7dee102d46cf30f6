/**
 * The answer panel's view model and the pure reducer that folds a run's events into it.
 * The host keeps one RunView per panel and sends it (or its changed parts) to the webview;
 * the webview stores it with setState so a reloaded window can show a finished run again.
 */
import { STRATEGY_NAMES, type StrategyName } from '../config';
import { billedTokens, CALL_PURPOSES, type CallPurpose, type SpendRecord } from '../ledger/spendRecord';
import { bestSoFarCurve, runAnytimeIndex } from '../reasoning/anytimeIndex';
import { ANSWER_KIND_SOURCES, ANSWER_KINDS, type AnswerKind, type AnswerKindSource, type QuestionContext } from '../reasoning/answerKinds';
import { BUDGET_SOURCES, STOP_REASONS, type BudgetSource, type RunEvent, type StopReason } from '../reasoning/runEvents';
import { stoppedEarly } from '../reasoning/strategies';

/** Bumped when the stored shape changes; a restored state of another version is dropped. */
export const RUN_VIEW_VERSION = 1;

/** Live reasoning kept per attempt: enough to read the chain's tail, bounded so 20k-token runs stay cheap. */
export const REASONING_LIMIT_CHARS = 64 * 1024;

/** Attempt summaries kept for the panel; runs rarely have more, and older ones only add noise. */
export const ATTEMPTS_LIMIT = 200;

/** Models listed in a restored view's header and cost table (a cascade has a handful). */
export const MODELS_LIMIT = 32;

/** Longest model name kept from a restored view (names come from settings and endpoints). */
export const MODEL_NAME_LIMIT = 200;

/** What the command knows before the first event: shown at the top of the panel. */
export interface RunHeader {
  runId: string;
  question: string;
  model: string;
  strategy: StrategyName;
  /** Caps in force as display strings, e.g. "$0.25 per request", "$2.00 a day ($1.40 left)". */
  caps: string[];
  /** False for local endpoints (Ollama, LM Studio): the panel then shows tokens only. */
  providerBillsInDollars: boolean;
  /** The run's token budget when known before the estimate (a fixed budget); a budget-estimated event replaces it. */
  budgetTokens?: number;
  /** Dollars this run may spend (the per-request cap), when there is one. */
  dollarCap?: number;
  /** The stopping rule in words, e.g. "Beta posterior ≥ 0.95". */
  stoppingRule?: string;
  /** How the budget bounds the model's thinking, e.g. "max_completion_tokens + reasoning_effort low". */
  levers?: string;
  /**
   * A run over several models (a cascade), cheapest first, e.g. ["gpt-oss-6b", "gpt-4o-mini", "gpt-4.1"]:
   * the header shows them as a ladder instead of `model`, and the panel labels answers and attempts by model.
   */
  models?: string[];
  /** What the answer is (a value, code or prose); absent in views saved before answer kinds: short. */
  answerKind?: AnswerKind;
  answerKindSource?: AnswerKindSource;
  /** "`src/x.ts` lines 12-30": where the code the question is about comes from. */
  about?: string;
  /** The code the question is about, as sent (Re-run sends it again). */
  context?: QuestionContext;
  /** Preference examples sent before the question (0: on, but no pair fitted); absent when they were off. */
  preferenceExamples?: number;
}

/** One model's share of the run's spend, from the spend records naming it. */
export interface ModelSpendView {
  model: string;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** Dollars of this model's calls; null when some call's price is unknown ("unpriced", never a silent 0). */
  dollars: number | null;
  /** Dollars of this model's calls whose price is known. */
  knownDollars: number;
}

/** Budget-bar segments: what the tokens were spent on. Probes and calibration count as "other". */
export type SpendPurpose = Extract<CallPurpose, 'estimate' | 'attempt' | 'forced-answer'> | 'other';

export interface BudgetView {
  /** The estimate the run announced, with where it came from. */
  estimate: { tokens: number; source: BudgetSource; note?: string } | null;
  /** The bar's denominator: the run's token budget, or null before it is known. */
  budgetTokens: number | null;
  /** Prompt + completion tokens of every call so far (what the provider bills). */
  spentTokens: number;
  promptTokens: number;
  completionTokens: number;
  /** Reasoning tokens (a part of completion tokens), shown apart from the purposes. */
  reasoningTokens: number;
  /** Tokens by purpose, reasoning tokens excluded (they are in reasoningTokens). */
  byPurpose: Record<SpendPurpose, number>;
  /** Dollars of all calls; null when some call's price is unknown ("unknown", never a silent 0). */
  dollars: number | null;
  /** Dollars of the calls whose price is known. */
  knownDollars: number;
  calls: number;
  /** True when some counts were made locally rather than reported by the provider. */
  estimatedCounts: boolean;
  /** Rough tokens of attempts still streaming (chars / 4), not yet in spentTokens. */
  inFlightTokens: number;
  /** Spend per model billed, in the order the models were first called. */
  byModel: ModelSpendView[];
}

export interface ProgressiveAnswer {
  answer: string;
  /** Markdown of the chain that best supports the answer. */
  text: string;
  tokensSoFar: number;
  confidence: number;
  changed: boolean;
  ruleState: string;
  /** The model whose chain supports the answer, when the run names one (a cascade). */
  model?: string;
  /** short: `answer` is a value; code: the final block's code (in `language`); prose: markdown. */
  answerKind?: AnswerKind;
  language?: string;
  /** The attempt whose chain the answer is taken from. */
  attempt?: number;
}

export interface ReasoningView {
  /** Increases whenever the live text restarts (a new attempt); lets updates say "append" safely. */
  epoch: number;
  attempt: number | null;
  purpose: CallPurpose | null;
  /** The tail of the current attempt's text, at most REASONING_LIMIT_CHARS. */
  text: string;
  /** Characters received in this epoch, including those dropped from the front of `text`. */
  totalChars: number;
  /** True while the attempt streams thinking (the text ends inside an open `<think>` section). */
  thinking?: boolean;
}

export interface AttemptView {
  attempt: number;
  purpose: CallPurpose;
  maxTokens: number;
  finishReason: string | null;
  answer: string | null;
  /** The attempt's whole text once it finished (bounded by ATTEMPT_TEXT_LIMIT_CHARS), so every chain stays readable. */
  text?: string;
  completionTokens: number | null;
  /** The model the attempt went to, when the run names one (a cascade). */
  model?: string;
  /** The earlier attempt this chain repeated: shown as a copy, never counted as a vote. */
  duplicateOf?: number;
  /** A value tree's step: its depth, the step attempt it continues, and its value once scored (0-1). */
  step?: { depth: number; parent?: number; value?: number };
  /** A value tree's value call: the step attempt it scored. */
  scored?: number;
}

/** One point of the panel's best-so-far curve (no answer, no time: see AnswerCurvePoint for the run's own). */
export interface CurvePoint {
  tokens: number;
  /** Best-so-far confidence at these tokens. */
  confidence: number;
}

export interface CurveView {
  points: CurvePoint[];
  /** Normalised area under the best-so-far curve; null before the first answer. */
  anytimeIndex: number | null;
  /** Where the stopping rule ended the run (converged before the budget was spent). */
  earlyStop: CurvePoint | null;
}

/** Whether the panel's run is going on, ended, or was cut off by a window reload. */
export const RUN_STATES = ['running', 'finished', 'interrupted'] as const;
export type RunState = typeof RUN_STATES[number];

export interface StatusView {
  state: RunState;
  /** What the run is doing now, e.g. "estimating the budget", "attempt 2: chain". */
  phase: string;
  reason: StopReason | null;
  message: string;
  errorKind: string | null;
  /** Spend when the run ended. */
  finalSpend: { tokens: number; dollars: number | null } | null;
}

export interface RunView {
  version: number;
  header: RunHeader;
  budget: BudgetView;
  answers: ProgressiveAnswer[];
  reasoning: ReasoningView;
  attempts: AttemptView[];
  curve: CurveView;
  status: StatusView;
  /** Chars streamed per unfinished attempt; feeds budget.inFlightTokens. */
  streamingChars: Record<string, number>;
}

export function initialRunView(header: RunHeader): RunView {
  return {
    version: RUN_VIEW_VERSION,
    header,
    budget: {
      estimate: null,
      budgetTokens: header.budgetTokens ?? null,
      spentTokens: 0,
      promptTokens: 0,
      completionTokens: 0,
      reasoningTokens: 0,
      byPurpose: { estimate: 0, attempt: 0, 'forced-answer': 0, other: 0 },
      dollars: 0,
      knownDollars: 0,
      calls: 0,
      estimatedCounts: false,
      inFlightTokens: 0,
      byModel: [],
    },
    answers: [],
    reasoning: { epoch: 0, attempt: null, purpose: null, text: '', totalChars: 0 },
    attempts: [],
    curve: { points: [], anytimeIndex: null, earlyStop: null },
    status: { state: 'running', phase: 'starting', reason: null, message: '', errorKind: null, finalSpend: null },
    streamingChars: {},
  };
}

/**
 * Appends to a bounded tail. Past the limit it drops to three quarters of it, so the copy
 * happens once per ~16 KB appended rather than on every delta.
 */
export function appendBounded(text: string, append: string, limit = REASONING_LIMIT_CHARS): string {
  const joined = text + append;
  if (joined.length <= limit) {
    return joined;
  }
  return joined.slice(joined.length - Math.floor((limit * 3) / 4));
}

/** Rough tokens of streamed text, for the in-flight part of the bar until the provider's usage arrives. */
export function approxTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/** Replaces header fields (for example a larger budget after Continue). */
export function withHeader(view: RunView, patch: Partial<RunHeader>): RunView {
  const header = { ...view.header, ...patch };
  const budget = patch.budgetTokens !== undefined ? { ...view.budget, budgetTokens: patch.budgetTokens } : view.budget;
  return { ...view, header, budget };
}

/** A restored run that was still going when the window reloaded: it will never finish. */
export function markInterrupted(view: RunView): RunView {
  if (view.status.state !== 'running') {
    return view;
  }
  return {
    ...view,
    status: { ...view.status, state: 'interrupted', phase: '', message: 'interrupted (window reloaded)', finalSpend: finalSpend(view.budget) },
    budget: { ...view.budget, inFlightTokens: 0 },
    streamingChars: {},
  };
}

/** Folds one event into the view. Returns a new object; parts that did not change keep their identity. */
export function reduceRunView(view: RunView, event: RunEvent): RunView {
  switch (event.type) {
    case 'budget-estimated': {
      const estimate = { tokens: event.tokens, source: event.source, ...(event.note ? { note: event.note } : {}) };
      return {
        ...view,
        budget: { ...view.budget, estimate, budgetTokens: event.totalTokens ?? event.tokens },
        status: view.status.state === 'running' ? { ...view.status, phase: 'budget set' } : view.status,
      };
    }
    case 'attempt-started': {
      const attempts = [...view.attempts, {
        attempt: event.attempt, purpose: event.purpose, maxTokens: event.maxTokens,
        finishReason: null, answer: null, completionTokens: null,
        ...(event.model !== undefined ? { model: event.model } : {}),
      }].slice(-ATTEMPTS_LIMIT);
      const streamingChars = { ...view.streamingChars, [String(event.attempt)]: 0 };
      // An attempt after the run ended means it was continued: it is running again.
      const status: StatusView = {
        state: 'running',
        phase: `attempt ${event.attempt}: ${purposeLabel(event.purpose)}`,
        reason: null,
        message: '',
        errorKind: null,
        finalSpend: null,
      };
      return {
        ...view,
        attempts,
        streamingChars,
        reasoning: { epoch: view.reasoning.epoch + 1, attempt: event.attempt, purpose: event.purpose, text: '', totalChars: 0 },
        status,
      };
    }
    case 'delta': {
      if (!event.text) {
        return view;
      }
      const key = String(event.attempt);
      const streamingChars = { ...view.streamingChars, [key]: (view.streamingChars[key] ?? 0) + event.text.length };
      const budget = { ...view.budget, inFlightTokens: inFlight(streamingChars) };
      // Only the latest attempt is shown live; deltas of an older, still-streaming one just count.
      // Thinking goes inside a `<think>` section of the live text, which the panel shows folded apart from the reply.
      const thinking = event.thinking === true;
      const wasThinking = view.reasoning.thinking === true;
      const appended = thinking === wasThinking ? event.text : thinking ? `<think>\n${event.text}` : `\n</think>\n\n${event.text}`;
      const { thinking: _wasThinking, ...live } = view.reasoning;
      const reasoning = event.attempt === view.reasoning.attempt
        ? { ...live, text: appendBounded(view.reasoning.text, appended), totalChars: view.reasoning.totalChars + appended.length, ...(thinking ? { thinking: true } : {}) }
        : view.reasoning;
      return { ...view, streamingChars, budget, reasoning };
    }
    case 'attempt-finished': {
      const streamingChars = { ...view.streamingChars };
      delete streamingChars[String(event.attempt)];
      const scored = event.scores;
      const attempts = view.attempts.map((a) => a.attempt === event.attempt
        ? {
          ...a, finishReason: event.finishReason, answer: event.answer ?? null, completionTokens: event.completionTokens,
          ...(event.text !== undefined ? { text: event.text.slice(0, ATTEMPT_TEXT_LIMIT_CHARS) } : {}),
          ...(event.duplicateOf !== undefined ? { duplicateOf: event.duplicateOf } : {}),
          ...(event.step ? { step: { ...event.step } } : {}),
          ...(scored ? { scored: scored.attempt } : {}),
        }
        // A value call's result belongs to the step it scored.
        : scored && a.attempt === scored.attempt && a.step ? { ...a, step: { ...a.step, value: scored.value } } : a);
      return { ...view, attempts, streamingChars, budget: { ...view.budget, inFlightTokens: inFlight(streamingChars) } };
    }
    case 'answer': {
      const answer: ProgressiveAnswer = {
        answer: event.answer, text: event.text, tokensSoFar: event.tokensSoFar,
        confidence: event.confidence, changed: event.changed, ruleState: event.ruleState,
        ...(event.model !== undefined ? { model: event.model } : {}),
        ...(event.answerKind !== undefined ? { answerKind: event.answerKind } : {}),
        ...(event.language !== undefined ? { language: event.language } : {}),
        ...(event.attempt !== undefined ? { attempt: event.attempt } : {}),
      };
      const answers = [...view.answers, answer];
      return { ...view, answers, curve: curveOf(answers, view.curve.earlyStop, view.budget.spentTokens) };
    }
    case 'spend': {
      const budget = addSpend(view.budget, event.record);
      // The index runs to the tokens spent: it falls while spend adds no better answer.
      return { ...view, budget, curve: view.answers.length ? curveOf(view.answers, view.curve.earlyStop, budget.spentTokens) : view.curve };
    }
    case 'stopped': {
      const ended = view.status.reason === 'error' && event.reason === 'error';
      const status: StatusView = {
        state: 'finished',
        phase: '',
        reason: event.reason,
        // A preceding error event carries the provider's words; keep them if stop adds none.
        message: event.message || (ended ? view.status.message : ''),
        errorKind: view.status.errorKind,
        finalSpend: finalSpend(view.budget),
      };
      const earlyStop = stoppedEarly(event.reason, view.budget.spentTokens, view.budget.budgetTokens) ? earlyStopPoint(view) : null;
      // No attempt is left "streaming" once the run ended: say how it ended instead.
      const unfinished = event.reason === 'stopped' ? 'stopped' : event.reason === 'error' ? 'error' : 'not-sent';
      const attempts = view.attempts.some((a) => a.finishReason === null)
        ? view.attempts.map((a) => (a.finishReason === null ? { ...a, finishReason: unfinished } : a))
        : view.attempts;
      return {
        ...view,
        attempts,
        status,
        curve: { ...view.curve, earlyStop },
        streamingChars: {},
        budget: { ...view.budget, inFlightTokens: 0 },
      };
    }
    case 'error':
      return {
        ...view,
        status: {
          state: 'finished', phase: '', reason: 'error', message: event.message, errorKind: event.kind,
          finalSpend: finalSpend(view.budget),
        },
        streamingChars: {},
        budget: { ...view.budget, inFlightTokens: 0 },
      };
    default:
      return view;
  }
}

/** A value tree's steps are its reasoning, so they count with the chains; step values are "other". */
export function purposeOf(purpose: CallPurpose): SpendPurpose {
  if (purpose === 'step') {
    return 'attempt';
  }
  return purpose === 'estimate' || purpose === 'attempt' || purpose === 'forced-answer' ? purpose : 'other';
}

export function purposeLabel(purpose: CallPurpose): string {
  switch (purpose) {
    case 'estimate': return 'budget estimate';
    case 'attempt': return 'chain';
    case 'forced-answer': return 'forced answer';
    case 'select': return 'USC selection';
    case 'probe': return 'probe';
    case 'calibration': return 'calibration';
    case 'step': return 'tree step';
    case 'value': return 'step value';
  }
}

function inFlight(streamingChars: Record<string, number>): number {
  let chars = 0;
  for (const k of Object.keys(streamingChars)) {
    chars += streamingChars[k];
  }
  return approxTokens(chars);
}

function addSpend(b: BudgetView, r: SpendRecord): BudgetView {
  const reasoning = Math.min(r.reasoningTokens, r.completionTokens);
  const purpose = purposeOf(r.purpose);
  const tokens = billedTokens(r);
  return {
    ...b,
    spentTokens: b.spentTokens + tokens,
    promptTokens: b.promptTokens + r.promptTokens,
    completionTokens: b.completionTokens + r.completionTokens,
    reasoningTokens: b.reasoningTokens + reasoning,
    byPurpose: { ...b.byPurpose, [purpose]: b.byPurpose[purpose] + tokens - reasoning },
    dollars: b.dollars === null || r.dollars === null ? null : b.dollars + r.dollars,
    knownDollars: b.knownDollars + (r.dollars ?? 0),
    calls: b.calls + 1,
    estimatedCounts: b.estimatedCounts || r.estimated,
    byModel: addModelSpend(b.byModel, r),
  };
}

function addModelSpend(rows: readonly ModelSpendView[], r: SpendRecord): ModelSpendView[] {
  const i = rows.findIndex((row) => row.model === r.model);
  const row = i >= 0 ? rows[i] : { model: r.model, calls: 0, promptTokens: 0, completionTokens: 0, dollars: 0, knownDollars: 0 };
  const next: ModelSpendView = {
    model: row.model,
    calls: row.calls + 1,
    promptTokens: row.promptTokens + r.promptTokens,
    completionTokens: row.completionTokens + r.completionTokens,
    dollars: row.dollars === null || r.dollars === null ? null : row.dollars + r.dollars,
    knownDollars: row.knownDollars + (r.dollars ?? 0),
  };
  return i >= 0 ? rows.map((x, j) => (j === i ? next : x)) : [...rows, next];
}

function finalSpend(b: BudgetView): { tokens: number; dollars: number | null } {
  return { tokens: b.spentTokens, dollars: b.dollars };
}

/**
 * The panel's curve and its Anytime Index, by the run's own function (runAnytimeIndex): from the
 * origin through the answers to the billed tokens spent so far, the figure the log prints too.
 */
function curveOf(answers: readonly ProgressiveAnswer[], earlyStop: CurvePoint | null, spentTokens: number): CurveView {
  const raw = answers.map((a) => ({ tokens: a.tokensSoFar, quality: a.confidence }));
  const points = bestSoFarCurve(raw).map((p) => ({ tokens: p.tokens, confidence: p.quality }));
  return { points, anytimeIndex: points.length ? runAnytimeIndex(raw, spentTokens) : null, earlyStop };
}

/** The converged run's stop point: its spend at the stop, at the best confidence reached. */
function earlyStopPoint(view: RunView): CurvePoint | null {
  const last = view.curve.points[view.curve.points.length - 1];
  if (!last) {
    return null;
  }
  return { tokens: Math.max(last.tokens, view.budget.spentTokens), confidence: last.confidence };
}

// ---- Incremental updates: what changed between the view last sent and the current one ----

/** Reasoning text to append to what the receiver already has (same epoch), or to start over with. */
export interface ReasoningAppend {
  epoch: number;
  attempt: number | null;
  purpose: CallPurpose | null;
  /** True when `append` replaces the text (new attempt, or the tail moved past what was sent). */
  reset: boolean;
  append: string;
  /** The sender's character count after this update; the receiver checks its own against it. */
  totalChars: number;
  /** The attempt is streaming thinking now (its text ends inside an open `<think>` section). */
  thinking?: true;
}

export type RunViewChanges = Partial<Omit<RunView, 'reasoning' | 'version'>>;

const DIFFED_KEYS = ['header', 'budget', 'answers', 'attempts', 'curve', 'status', 'streamingChars'] as const;

/**
 * The changed parts between two views from the same reducer. Parts are compared by identity
 * (the reducer copies only what it changes), and reasoning becomes text to append.
 */
export function diffRunView(sent: RunView, now: RunView): { changes: RunViewChanges; reasoning?: ReasoningAppend } {
  const changes: Record<string, unknown> = {};
  for (const key of DIFFED_KEYS) {
    if (sent[key] !== now[key]) {
      changes[key] = now[key];
    }
  }
  const a = sent.reasoning;
  const b = now.reasoning;
  if (a === b || (a.epoch === b.epoch && a.totalChars === b.totalChars && a.thinking === b.thinking)) {
    return { changes: changes as RunViewChanges };
  }
  const growth = b.totalChars - a.totalChars;
  const appendOnly = a.epoch === b.epoch && growth > 0 && growth <= b.text.length;
  const reasoning: ReasoningAppend = {
    epoch: b.epoch, attempt: b.attempt, purpose: b.purpose,
    reset: !appendOnly,
    append: appendOnly ? b.text.slice(b.text.length - growth) : b.text,
    totalChars: b.totalChars,
    ...(b.thinking ? { thinking: true as const } : {}),
  };
  return { changes: changes as RunViewChanges, reasoning };
}

/**
 * Applies an update to the receiver's view. `consistent` is false when the reasoning text does not
 * line up with what the sender counted (a lost update): the receiver should ask for a snapshot.
 */
export function applyRunViewUpdate(view: RunView, changes: RunViewChanges, reasoning?: ReasoningAppend): { view: RunView; consistent: boolean } {
  const next: RunView = { ...view, ...changes };
  if (!reasoning) {
    return { view: next, consistent: true };
  }
  const r = view.reasoning;
  if (reasoning.reset) {
    next.reasoning = {
      epoch: reasoning.epoch, attempt: reasoning.attempt, purpose: reasoning.purpose,
      text: appendBounded('', reasoning.append), totalChars: reasoning.totalChars,
      ...(reasoning.thinking ? { thinking: true } : {}),
    };
    return { view: next, consistent: true };
  }
  const consistent = r.epoch === reasoning.epoch && r.totalChars + reasoning.append.length === reasoning.totalChars;
  const { thinking: _was, ...rest } = r;
  next.reasoning = {
    ...rest,
    attempt: reasoning.attempt, purpose: reasoning.purpose,
    text: appendBounded(r.text, reasoning.append), totalChars: reasoning.totalChars,
    ...(reasoning.thinking ? { thinking: true } : {}),
  };
  return { view: next, consistent };
}

// ---- Validation of a stored view (it comes back from the webview's setState, so it is untrusted) ----

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const numOr = (x: unknown, d: number): number => (isNum(x) ? x : d);
const strOr = (x: unknown, d: string): string => (isStr(x) ? x : d);
const oneOf = <T extends string>(x: unknown, values: readonly T[]): T | undefined => (values as readonly unknown[]).includes(x) ? x as T : undefined;

/** A stored list of model names: strings only, bounded; no field when there is none. */
function modelsOf(x: unknown): { models?: string[] } {
  const list = Array.isArray(x) ? x.filter(isStr).slice(0, MODELS_LIMIT).map((m) => m.slice(0, MODEL_NAME_LIMIT)) : [];
  return list.length ? { models: list } : {};
}

const modelOf = (o: Obj): { model?: string } => (isStr(o.model) ? { model: o.model.slice(0, MODEL_NAME_LIMIT) } : {});

/**
 * Rebuilds a RunView from untrusted data (the webview's stored state): every field is type-checked,
 * strings are bounded, and anything malformed is dropped or replaced by a neutral value.
 */
export function parseRunView(raw: unknown): RunView | undefined {
  if (!isObj(raw) || raw.version !== RUN_VIEW_VERSION || !isObj(raw.header)) {
    return undefined;
  }
  const h = raw.header;
  const strategy = oneOf(h.strategy, STRATEGY_NAMES);
  if (!isStr(h.runId) || !isStr(h.question) || !isStr(h.model) || !strategy) {
    return undefined;
  }
  const header: RunHeader = {
    runId: h.runId.slice(0, 200),
    question: h.question.slice(0, 100_000),
    model: h.model.slice(0, 200),
    strategy,
    caps: Array.isArray(h.caps) ? h.caps.filter(isStr).slice(0, 20).map((c) => c.slice(0, 200)) : [],
    providerBillsInDollars: h.providerBillsInDollars === true,
    ...(isNum(h.budgetTokens) ? { budgetTokens: h.budgetTokens } : {}),
    ...(isNum(h.dollarCap) ? { dollarCap: h.dollarCap } : {}),
    ...(isStr(h.stoppingRule) ? { stoppingRule: h.stoppingRule.slice(0, 200) } : {}),
    ...(isStr(h.levers) ? { levers: h.levers.slice(0, 200) } : {}),
    ...(Number.isSafeInteger(h.preferenceExamples) && (h.preferenceExamples as number) >= 0 && (h.preferenceExamples as number) <= 100 ? { preferenceExamples: h.preferenceExamples as number } : {}),
    ...modelsOf(h.models),
    ...(oneOf(h.answerKind, ANSWER_KINDS) ? { answerKind: oneOf(h.answerKind, ANSWER_KINDS) } : {}),
    ...(oneOf(h.answerKindSource, ANSWER_KIND_SOURCES) ? { answerKindSource: oneOf(h.answerKindSource, ANSWER_KIND_SOURCES) } : {}),
    ...(isStr(h.about) ? { about: h.about.slice(0, 1000) } : {}),
    ...contextOf(h.context),
  };
  const view = initialRunView(header);

  const b = isObj(raw.budget) ? raw.budget : {};
  const bp = isObj(b.byPurpose) ? b.byPurpose : {};
  const est = isObj(b.estimate) ? b.estimate : undefined;
  const estSource = est ? oneOf(est.source, BUDGET_SOURCES) : undefined;
  view.budget = {
    estimate: est && isNum(est.tokens) && estSource
      ? { tokens: est.tokens, source: estSource, ...(isStr(est.note) ? { note: est.note.slice(0, 500) } : {}) }
      : null,
    budgetTokens: isNum(b.budgetTokens) ? b.budgetTokens : view.budget.budgetTokens,
    spentTokens: numOr(b.spentTokens, 0),
    promptTokens: numOr(b.promptTokens, 0),
    completionTokens: numOr(b.completionTokens, 0),
    reasoningTokens: numOr(b.reasoningTokens, 0),
    byPurpose: { estimate: numOr(bp.estimate, 0), attempt: numOr(bp.attempt, 0), 'forced-answer': numOr(bp['forced-answer'], 0), other: numOr(bp.other, 0) },
    dollars: b.dollars === null ? null : numOr(b.dollars, 0),
    knownDollars: numOr(b.knownDollars, 0),
    calls: numOr(b.calls, 0),
    estimatedCounts: b.estimatedCounts === true,
    inFlightTokens: numOr(b.inFlightTokens, 0),
    byModel: (Array.isArray(b.byModel) ? b.byModel : []).flatMap((m): ModelSpendView[] =>
      isObj(m) && isStr(m.model) && isNum(m.calls) && isNum(m.promptTokens) && isNum(m.completionTokens)
        ? [{
          model: m.model.slice(0, MODEL_NAME_LIMIT), calls: m.calls, promptTokens: m.promptTokens, completionTokens: m.completionTokens,
          dollars: m.dollars === null ? null : numOr(m.dollars, 0), knownDollars: numOr(m.knownDollars, 0),
        }]
        : []).slice(0, MODELS_LIMIT),
  };

  view.answers = (Array.isArray(raw.answers) ? raw.answers : []).slice(-1000).flatMap((a): ProgressiveAnswer[] =>
    isObj(a) && isStr(a.answer) && isStr(a.text) && isNum(a.tokensSoFar) && isNum(a.confidence)
      ? [{
        answer: a.answer.slice(0, ANSWER_LIMIT_CHARS), text: a.text.slice(0, 200_000), tokensSoFar: a.tokensSoFar,
        confidence: a.confidence, changed: a.changed === true, ruleState: strOr(a.ruleState, '').slice(0, 200),
        ...modelOf(a),
        ...(oneOf(a.answerKind, ANSWER_KINDS) ? { answerKind: oneOf(a.answerKind, ANSWER_KINDS) } : {}),
        ...(isStr(a.language) ? { language: a.language.slice(0, 40) } : {}),
        ...(isNum(a.attempt) ? { attempt: a.attempt } : {}),
      }]
      : []);

  const r = isObj(raw.reasoning) ? raw.reasoning : {};
  const text = strOr(r.text, '').slice(-REASONING_LIMIT_CHARS);
  view.reasoning = {
    epoch: numOr(r.epoch, 0),
    attempt: isNum(r.attempt) ? r.attempt : null,
    purpose: oneOf(r.purpose, CALL_PURPOSES) ?? null,
    text,
    totalChars: Math.max(numOr(r.totalChars, text.length), text.length),
    ...(r.thinking === true ? { thinking: true } : {}),
  };

  /** A stored tree step's place and value, when it reads as one (a depth from 1, a value from 0 to 1). */
  const stepOf = (s: unknown): { step?: NonNullable<AttemptView['step']> } => (isObj(s) && Number.isSafeInteger(s.depth) && (s.depth as number) >= 1
    ? { step: { depth: s.depth as number, ...(isNum(s.parent) ? { parent: s.parent } : {}), ...(isNum(s.value) && s.value >= 0 && s.value <= 1 ? { value: s.value } : {}) } }
    : {});
  view.attempts = (Array.isArray(raw.attempts) ? raw.attempts : []).slice(-ATTEMPTS_LIMIT).flatMap((a): AttemptView[] => {
    const purpose = isObj(a) ? oneOf(a.purpose, CALL_PURPOSES) : undefined;
    return isObj(a) && isNum(a.attempt) && purpose && isNum(a.maxTokens)
      ? [{
        attempt: a.attempt, purpose, maxTokens: a.maxTokens,
        finishReason: isStr(a.finishReason) ? a.finishReason.slice(0, 100) : null,
        answer: isStr(a.answer) ? a.answer.slice(0, 10_000) : null,
        ...(isStr(a.text) ? { text: a.text.slice(0, ATTEMPT_TEXT_LIMIT_CHARS) } : {}),
        completionTokens: isNum(a.completionTokens) ? a.completionTokens : null,
        ...modelOf(a),
        ...(isNum(a.duplicateOf) ? { duplicateOf: a.duplicateOf } : {}),
        ...stepOf(a.step),
        ...(isNum(a.scored) ? { scored: a.scored } : {}),
      }]
      : [];
  });

  // The curve is derived data: recompute it rather than trust it.
  const c = isObj(raw.curve) ? raw.curve : {};
  const es = isObj(c.earlyStop) && isNum(c.earlyStop.tokens) && isNum(c.earlyStop.confidence)
    ? { tokens: c.earlyStop.tokens, confidence: c.earlyStop.confidence }
    : null;
  view.curve = curveOf(view.answers, es, view.budget.completionTokens);

  const s = isObj(raw.status) ? raw.status : {};
  const fs = isObj(s.finalSpend) && isNum(s.finalSpend.tokens) ? s.finalSpend : undefined;
  view.status = {
    state: oneOf(s.state, RUN_STATES) ?? 'interrupted',
    phase: strOr(s.phase, '').slice(0, 200),
    reason: oneOf(s.reason, STOP_REASONS) ?? null,
    message: strOr(s.message, '').slice(0, 5_000),
    errorKind: isStr(s.errorKind) ? s.errorKind.slice(0, 100) : null,
    finalSpend: fs ? { tokens: fs.tokens as number, dollars: isNum(fs.dollars) ? fs.dollars : null } : null,
  };
  const sc = isObj(raw.streamingChars) ? raw.streamingChars : {};
  view.streamingChars = Object.fromEntries(Object.entries(sc).filter(([k, v]) => /^\d+$/.test(k) && isNum(v)).slice(0, 100)) as Record<string, number>;
  return view;
}

/** A finished attempt's text kept for reading after the run. */
export const ATTEMPT_TEXT_LIMIT_CHARS = 100_000;

/** Code and prose answers are longer than values: a whole function, an explanation. */
export const ANSWER_LIMIT_CHARS = 100_000;

function contextOf(raw: unknown): { context?: QuestionContext } {
  if (!isObj(raw) || !isStr(raw.path) || !isStr(raw.languageId) || !isNum(raw.startLine) || !isNum(raw.endLine) || !isStr(raw.code)) {
    return {};
  }
  return {
    context: {
      path: raw.path.slice(0, 1000), languageId: raw.languageId.slice(0, 100), startLine: raw.startLine, endLine: raw.endLine,
      code: raw.code.slice(0, 500_000),
      ...(isStr(raw.before) ? { before: raw.before.slice(0, 20_000) } : {}),
      ...(isStr(raw.after) ? { after: raw.after.slice(0, 20_000) } : {}),
    },
  };
}

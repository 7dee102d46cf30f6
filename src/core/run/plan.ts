/**
 * The rules of a run, once: from the question, the settings, the models and today's spend to the
 * budgets, caps, cost preview and engine of a run, or a typed refusal. Pure: the host gathers the
 * facts (keys, prices, token counts, the ledger), the surfaces present what this decides, and the
 * benchmarks and tests plan their runs with it too.
 */
import { budgetLevers, leverFamily } from '../providers/budgetLevers';
import { THINKING_SHARE } from '../reasoning/reasoningRun';
import { budgetPromptLine } from '../budget/budgetTracker';
import { formatDollars } from '../tokens/amountText';
import { capsFromSettings, type SpendAmount, type SpendCaps } from '../budget/caps';
import { grantInModelTokens, IDENTITY_RATIO, toBilled, type ModelTokenRatio, type TokenRatios } from '../budget/tokenRatio';
import { costPreview, needsConfirmation, type CostPreview } from './costPreview';
import type { BudgetEstimate } from '../budget/localEstimator';
import { AUTO_LOCAL_AFTER_RUNS, taleEstimatePrompt } from '../budget/taleEstimator';
import type { ChainStrategyName, SelectorName, Settings, StoppingRuleName, StrategyName } from '../config';
import type { CountedChatMessage } from '../tokens/tokenCounter';
import { answerKindFor, SYSTEM_PROMPTS, type AnswerKind, type AnswerKindSource, type QuestionContext, type SelectionAction } from '../reasoning/answerKinds';
import { composeQuestion, describeContext } from './questionContext';
import { CODE_DEFAULTS } from '../reasoning/codeConsensus';
import { TREE_DEFAULTS } from '../reasoning/valueTree';
import type { ModelPrice } from '../tokens/prices';
import { contextProblem } from '../tokens/contextWindows';
import { checkQuestion, MAX_QUESTION_CHARS } from '../question';
import { chainPromptMessages, selectPreferenceExamples, type PreferencePair } from '../reasoning/preferenceExamples';
import { capRefusal, refusal, type Refusal } from './refusal';

/** Chains the auto budget plans for: the majority-of-8 anchor of the recorded traces. */
export const AUTO_CHAINS = 8;
/** The largest chain budget a TALE estimate may set (TaleBudgetEstimator's capTokens). */
export const TALE_MAX_CHAIN_TOKENS = 8192;
/** max_tokens of the TALE estimate call: the reply is only "[[N]]". */
export const TALE_ESTIMATE_MAX_TOKENS = 16;
/** A first chain shorter than this is not worth starting: the run is refused instead. */
export const MIN_CHAIN_TOKENS = 64;
/** The least answer room the context-window check insists on. */
export const MIN_ANSWER_TOKENS = 64;
/**
 * A fixed budget keeps preference examples only while this many chains with them fit in it: the
 * default strategy does not trust one chain alone, and examples that leave room for one would cost the second.
 */
export const MIN_CHAINS_WITH_EXAMPLES = 2;
/** The cascade settles at a cheaper model when its weighted votes reach this share. */
export const CASCADE_SETTLE_TEXT = 'a cheaper model settles it (weighted votes ≥ 0.8), else the next model';

/** The run budget `auto` plans: AUTO_CHAINS chains, each billed its prompt and its chain budget. */
export function autoRunBudget(chainTokens: number, promptTokens: number): number {
  return AUTO_CHAINS * (chainTokens + promptTokens);
}

/** Continue with more budget: the run's token cap rises in place (its calls see it at once); returns the new budget. */
export function continuedBudget(caps: SpendCaps, totalBudget: number, extraTokens: number): number {
  caps.requestTokens = (caps.requestTokens ?? totalBudget) + extraTokens;
  return caps.requestTokens;
}

/** What the planner needs to know of one model, gathered by the host (keys, availability, price, window). */
export interface PlanModel {
  /** The id as configured and shown (a VS Code model keeps its `vscode-lm/` prefix). */
  id: string;
  /** The endpoint it is called at (a VS Code model: none). */
  baseUrl?: string;
  /** A remote endpoint with no API key stored for it. */
  keyMissing?: boolean;
  /** A VS Code language model that is not available in this window. */
  unavailable?: boolean;
  /** Its price (the table, overrides, or $0 on a local endpoint); undefined = unknown. */
  price: ModelPrice | undefined;
  /** Tokens its context window holds; undefined = unknown (the endpoint will say). */
  contextWindow: number | undefined;
  /** False for providers that do not bill per token (the VS Code LM API). */
  billsInDollars: boolean;
}

/** The local tokenizer's counts, by model. */
export interface PlanTokens {
  countText(text: string, model: string): { tokens: number };
  countChatPrompt(messages: readonly CountedChatMessage[], model: string): { tokens: number };
}

export interface PlanRequest {
  /** The question as typed or selected; checked here. */
  question: string | undefined;
  settings: Settings;
  /** This run's strategy, when it differs from the settings' (Re-run, programmatic use). */
  strategy?: StrategyName;
  /** This run's token budget, when it differs from the settings' (`/budget N`, programmatic use). */
  budgetTokens?: number;
  /** The code the question is about (a selection, or the chat's references); sent with it and counted. */
  context?: QuestionContext;
  /** What the user chose to do with a selection (the quick pick): it decides the answer kind under `auto`. */
  action?: SelectionAction;
  /** This run's answer kind, when it differs from the settings' ("re-run as ..."). */
  answerKind?: AnswerKind;
  /** The models the run calls, cheapest first: one, or a cascade's tiers. */
  models: readonly PlanModel[];
  tokens: PlanTokens;
  /** The estimate of the (checked) question: the local estimator's before any call, TALE's once it was asked. */
  estimate: (question: string) => BudgetEstimate;
  /** Runs the local estimator has learned from (`auto` trusts it after AUTO_LOCAL_AFTER_RUNS). */
  learnedRuns: number;
  /** Today's spend in every window; undefined = not checked (a cost preview). */
  today?: SpendAmount;
  /** Billed tokens per local token of each model, as its calls taught them; without it the local count is taken as billed. */
  ratios?: Pick<TokenRatios, 'of'>;
  /** The user's preference pairs (the host keeps them); none: no examples. */
  preferencePairs?: readonly PreferencePair[];
  /** This run's choice of preference examples (Re-run's toggle), when it differs from the settings'. */
  preferenceExamples?: boolean;
}

/** How the chain budget is found: the configured number, the local estimator, or a TALE call first. */
export type EstimateStep = 'fixed' | 'local' | 'tale';

/** The engine a plan runs. */
export type EngineSpec =
  | {
      kind: 'chains';
      strategy: ChainStrategyName;
      answerKind: AnswerKind;
      selector: SelectorName;
      /** `auto` = the strategy's own tuned rule. */
      stoppingRule: StoppingRuleName;
      confidenceThreshold: number;
    }
  | {
      kind: 'cascade';
      /** The cascade's dollars: the budget priced at the strongest model, at most the per-request cap. */
      totalDollars: number;
      /** Dollars of one token at the strongest model's dearest rate: Continue's tokens become dollars at it. */
      dollarsPerToken: number;
    };

export interface RunPlan {
  /** The question as the user asked it. */
  question: string;
  /** What the chains are sent as their question: the question with its code context, if any. */
  prompt: string;
  context?: QuestionContext;
  answerKind: AnswerKind;
  strategy: StrategyName;
  systemPrompt: string;
  /** Cheapest first; the last is the strongest. */
  models: readonly PlanModel[];
  /** Prompt tokens of one chain at the first model (system prompt, preference examples and question), billed: the local count at the model's ratio. */
  promptTokens: number;
  /** The preference examples each chain is sent before its question (none when off, or no pair fits). */
  examples: readonly PreferencePair[];
  /** The budget set by the user (settings or this run), if any. */
  fixedBudget?: number;
  estimateStep: EstimateStep;
  /** The estimate the budgets below come from. */
  estimate: BudgetEstimate;
  /** Tokens one chain may use. */
  chainTokens: number;
  /** The run's budget in billed tokens (prompt + completion of all calls). */
  budgetTokens: number;
  /** Caps of the run's calls; Continue raises requestTokens in place. */
  caps: SpendCaps;
  /** Caps of the estimate call, made before the run budget is known: the settings' caps only. */
  estimateCaps: SpendCaps;
  /** What the run may cost, priced at its strongest model. */
  preview: CostPreview;
  /** Whether the user is asked before the run (its worst case is above confirmAboveUsd). */
  confirm: boolean;
  engine: EngineSpec;
  /** Temperature of the chains after the first (the setting); the engine leaves it out for models that reject it. */
  temperature: number;
  /** Whether a converged answer teaches the local estimator (not a cascade's: its models' needs differ). */
  learns: boolean;
  /** What the panel's header shows before the first event. */
  header: {
    question: string;
    /** "`src/x.ts` lines 12-30" for a question about code. */
    about?: string;
    context?: QuestionContext;
    answerKind: AnswerKind;
    /** Who chose the kind: the local classifier (`auto`), the setting, or this run ("re-run as"). */
    answerKindSource: AnswerKindSource;
    model: string;
    models?: string[];
    strategy: StrategyName;
    caps: string[];
    providerBillsInDollars: boolean;
    budgetTokens?: number;
    dollarCap?: number;
    /** Absent for a single chain: no rule decides when it stops. */
    stoppingRule?: string;
    /** How the budget bounds the model's thinking (budgetLevers.ts); absent for a VS Code model. */
    levers?: string;
    /** Preference examples before the question; absent when they are off for the run. */
    preferenceExamples?: number;
  };
}

export type PlanResult = { ok: true; plan: RunPlan } | { ok: false; refusal: Refusal; preview?: CostPreview };

/** Plans a run, or says why it cannot start; nothing here sends anything. */
export function planRun(request: PlanRequest): PlanResult {
  const { settings, models, tokens } = request;
  const checked = checkQuestion(request.question);
  if (!checked.ok) {
    return { ok: false, refusal: refusal('bad-question', checked.message) };
  }
  const question = checked.question;
  const context = request.context;
  const prompt = composeQuestion(question, context);
  if (prompt.length > MAX_QUESTION_CHARS) {
    return { ok: false, refusal: refusal('bad-question', `The question with its code is ${(prompt.length / 1e6).toFixed(1)} MB of text, more than the ${MAX_QUESTION_CHARS / 1000}k characters a request may carry. Select a smaller part.`) };
  }
  const answerKind = request.answerKind ?? answerKindFor(settings.answerKind, question, { ...(request.action ? { action: request.action } : {}), ...(context ? { context } : {}) });
  const strategy = request.strategy ?? settings.strategy;
  if (models.length === 0) {
    return { ok: false, refusal: refusal(strategy === 'cascade' ? 'cascade-config' : 'model-missing', strategy === 'cascade' ? CASCADE_TOO_SHORT : NO_MODEL, [strategy === 'cascade' ? 'edit-cascade' : 'select-model']) };
  }
  const first = models[0];
  const strongest = models[models.length - 1];
  if (strategy === 'cascade' && answerKind !== 'short') {
    return { ok: false, refusal: refusal('cascade-config', `The cascade votes on short answers (values) only, and this question wants ${answerKind}. Pick another strategy for it, or set "budgetReasoner.answerKind" to short.`, ['edit-cascade']) };
  }
  const systemPrompt = SYSTEM_PROMPTS[answerKind];
  const ratioOf = (model: PlanModel) => ratioFor(model, request);
  // Billed prompt tokens of a chain as sent, examples included: the expected figure sizes budgets, the upper bound checks what must fit.
  const promptWith = (examples: readonly PreferencePair[], model: PlanModel, bound: 'estimate' | 'upper') =>
    toBilled(tokens.countChatPrompt(chainPromptMessages(systemPrompt, examples, prompt), model.id).tokens, ratioOf(model).prompt[bound]);

  const fixedBudget = request.budgetTokens ?? (settings.requestBudget === 'auto' ? undefined : settings.requestBudget);
  // A fixed budget needs no estimate call under `auto`: the local estimate sizes the chain within it for free.
  const estimateStep: EstimateStep = settings.estimator === 'fixed' && fixedBudget !== undefined
    ? 'fixed'
    : settings.estimator === 'local' || settings.estimator === 'fixed' || (settings.estimator === 'auto' && (fixedBudget !== undefined || request.learnedRuns >= AUTO_LOCAL_AFTER_RUNS))
      ? 'local'
      : 'tale';
  const estimate: BudgetEstimate = estimateStep === 'fixed' ? { tokens: fixedBudget!, source: 'fixed' } : request.estimate(prompt);
  // Budgets count billed tokens (prompt + completion), as the caps and the meter do.
  const chainTokens = Math.min(estimate.tokens, fixedBudget ?? Number.POSITIVE_INFINITY);
  // A cascade's tiers and a value tree (which re-sends its prompt at every step and value call) go without examples.
  const examplesOn = strategy !== 'cascade' && strategy !== 'value-tree' && (request.preferenceExamples ?? settings.preferenceExamples === 'auto');
  // Examples never cause a refusal: they are dropped, the least similar first, until the prompt fits every model's window and a fixed budget.
  const examplesFit = (examples: readonly PreferencePair[]) =>
    models.every((m) => !contextProblem(promptWith(examples, m, 'upper'), MIN_ANSWER_TOKENS, m.id, m.contextWindow))
    && (fixedBudget === undefined || MIN_CHAINS_WITH_EXAMPLES * (promptWith(examples, first, 'estimate') + chainTokens) <= fixedBudget);
  const examples = examplesOn
    ? fitting(selectPreferenceExamples(request.preferencePairs ?? [], { question: prompt, answerKind, model: first.id, endpoint: first.baseUrl ?? '' }), examplesFit)
    : [];
  const localPrompt = (model: PlanModel) => tokens.countChatPrompt(chainPromptMessages(systemPrompt, examples, prompt), model.id).tokens;
  const chatPrompt = (model: PlanModel, bound: 'estimate' | 'upper') => promptWith(examples, model, bound);
  const promptTokens = chatPrompt(first, 'estimate');
  const budgetTokens = fixedBudget ?? autoRunBudget(chainTokens, promptTokens);
  // Priced at the strongest model: the most a cascade can cost.
  const preview = previewAt(strongest, chainPromptMessages(systemPrompt, examples, prompt), chainTokens, fixedBudget, estimateStep === 'tale', request);
  const refused = (r: Refusal): PlanResult => ({ ok: false, refusal: r, preview });

  const modelProblem = strategy === 'cascade' ? cascadeProblem(models) : singleModelProblem(first);
  if (modelProblem) {
    return refused(modelProblem);
  }
  for (const m of models) {
    const tooLong = contextProblem(chatPrompt(m, 'upper'), MIN_ANSWER_TOKENS, m.id, m.contextWindow);
    if (tooLong) {
      return refused(refusal('too-long', tooLong));
    }
  }

  const caps = capsFromSettings(settings, budgetTokens);
  // With today's spend (after the estimate call, if any): a run whose first chain cannot fit is refused, naming the cap, before the chain is sent.
  if (request.today) {
    // As the metered caller will grant it: the prompt at the upper ratio, max_tokens in the model's tokens.
    const wanted = Math.min(chainTokens, MIN_CHAIN_TOKENS);
    const ratio = ratioOf(first);
    const g = grantInModelTokens({
      caps,
      spent: { run: { tokens: 0, dollars: 0 }, today: request.today },
      promptTokens: toBilled(localPrompt(first) + tokens.countText(budgetPromptLine(chainTokens), first.id).tokens, ratio.prompt.upper),
      price: first.price,
      wanted,
      minUsefulTokens: wanted,
    }, ratio.completion);
    if (!g.ok) {
      return refused(capRefusal(g.refusal.message, g.refusal.cap));
    }
  }

  return {
    ok: true,
    plan: {
      question,
      prompt,
      ...(context ? { context } : {}),
      answerKind,
      strategy,
      systemPrompt,
      models,
      promptTokens,
      examples,
      ...(fixedBudget !== undefined ? { fixedBudget } : {}),
      estimateStep,
      estimate,
      chainTokens,
      budgetTokens,
      caps,
      estimateCaps: capsFromSettings(settings),
      preview,
      confirm: needsConfirmation(preview, settings.confirmAboveUsd),
      engine: strategy === 'cascade'
        ? cascadeSpec(strongest, budgetTokens, settings.requestCapUsd)
        : { kind: 'chains', strategy, answerKind, selector: settings.selector, stoppingRule: settings.stoppingRule, confidenceThreshold: settings.confidenceThreshold },
      temperature: settings.temperature,
      learns: strategy !== 'cascade',
      header: {
        question,
        ...(context ? { about: describeContext(context), context } : {}),
        answerKind,
        answerKindSource: request.answerKind ? 'run' : settings.answerKind === 'auto' ? 'auto' : 'setting',
        model: strongest.id,
        ...(strategy === 'cascade' ? { models: models.map((m) => m.id) } : {}),
        strategy,
        caps: describeCaps(settings),
        providerBillsInDollars: models.some((m) => m.billsInDollars && m.price?.source !== 'local'),
        ...(fixedBudget !== undefined ? { budgetTokens: fixedBudget } : {}),
        ...(settings.requestCapUsd > 0 ? { dollarCap: settings.requestCapUsd } : {}),
        ...stoppingRuleOf(strategy === 'cascade' ? CASCADE_SETTLE_TEXT : stoppingRuleText(settings, answerKind, strategy)),
        ...(strongest.baseUrl !== undefined ? { levers: budgetLevers(leverFamily(strongest.id, strongest.baseUrl, settings.budgetLevers), chainTokens, THINKING_SHARE).text } : {}),
        ...(examplesOn ? { preferenceExamples: examples.length } : {}),
      },
    },
  };
}

/**
 * What the run may cost, with the estimate in hand (never a call), at the model that costs most:
 * a fixed budget as set, else AUTO_CHAINS chains at the estimate; a TALE call first may set any
 * chain budget up to its cap, so the worst case assumes it does.
 */
function previewAt(model: PlanModel, chainPrompt: CountedChatMessage[], chainTokens: number, fixedBudget: number | undefined, callsTale: boolean, request: PlanRequest): CostPreview {
  const { tokens } = request;
  const ratio = ratioFor(model, request).prompt;
  const question = chainPrompt[chainPrompt.length - 1].content;
  const localPrompt = tokens.countChatPrompt(chainPrompt, model.id).tokens;
  const promptTokens = toBilled(localPrompt, ratio.estimate);
  return costPreview({
    chainTokens,
    promptTokens: toBilled(localPrompt + tokens.countText(budgetPromptLine(chainTokens), model.id).tokens, ratio.estimate),
    budgetTokens: fixedBudget ?? autoRunBudget(chainTokens, promptTokens),
    worstBudgetTokens: callsTale && fixedBudget === undefined ? autoRunBudget(TALE_MAX_CHAIN_TOKENS, promptTokens) : undefined,
    plannedChains: AUTO_CHAINS,
    // Billed outside the run's budget, so priced at what it may bill.
    estimateCall: callsTale
      ? { promptTokens: toBilled(tokens.countChatPrompt([{ role: 'user', content: taleEstimatePrompt(question) }], model.id).tokens, ratio.upper), maxTokens: TALE_ESTIMATE_MAX_TOKENS }
      : undefined,
    price: model.price,
    requestCapUsd: request.settings.requestCapUsd,
  });
}

/**
 * A cascade within the run's budget: its dollars are the budget's tokens at the strongest model's
 * dearest rate (never more than always-strong could cost), and never more than the per-request cap.
 * It splits the run's billed tokens among its models, as the caps count them.
 */
function cascadeSpec(strongest: PlanModel, budgetTokens: number, requestCapUsd: number): EngineSpec {
  const price = strongest.price!;
  const dollarsPerToken = Math.max(price.input, price.output) / 1e6;
  const alwaysStrong = budgetTokens * dollarsPerToken;
  return {
    kind: 'cascade',
    totalDollars: requestCapUsd > 0 ? Math.min(requestCapUsd, alwaysStrong) : alwaysStrong,
    dollarsPerToken,
  };
}

/** The longest head of `items` (ranked best first) that `fits` accepts; none when not even one does. */
function fitting<T>(items: readonly T[], fits: (items: readonly T[]) => boolean): T[] {
  for (let n = items.length; n > 0; n--) {
    if (fits(items.slice(0, n))) {
      return items.slice(0, n);
    }
  }
  return [];
}

/** A model's token ratio: the learned one when the host gave ratios, else the local count as billed. */
function ratioFor(model: PlanModel, request: PlanRequest): ModelTokenRatio {
  return request.ratios?.of(model.id) ?? IDENTITY_RATIO;
}

const NO_MODEL = 'No model is configured. Run "Budget Reasoner: Select Model".';
const CASCADE_TOO_SHORT = 'The cascade needs at least two models in "budgetReasoner.cascade", cheapest first.';

function singleModelProblem(model: PlanModel): Refusal | undefined {
  if (model.unavailable) {
    return refusal('model-missing', `The VS Code language model "${model.id}" is not available. Run "Budget Reasoner: Select Model".`, ['select-model']);
  }
  if (model.keyMissing) {
    return refusal('no-key', `no API key is set for ${model.baseUrl}.`, ['set-api-key', 'use-local-endpoint'], { baseUrl: model.baseUrl });
  }
  return undefined;
}

/** The cascade's models, cheapest first, each with its endpoint's key and a known price: it splits its dollars by price. */
function cascadeProblem(models: readonly PlanModel[]): Refusal | undefined {
  if (models.length < 2) {
    return refusal('cascade-config', CASCADE_TOO_SHORT, ['edit-cascade']);
  }
  for (const [i, m] of models.entries()) {
    if (m.keyMissing) {
      return refusal('no-key', `Cascade model ${i + 1} (${m.id}) needs an API key for ${m.baseUrl}: set the base URL to it and run "Budget Reasoner: Set API Key".`, ['set-api-key'], { baseUrl: m.baseUrl, tier: i + 1 });
    }
    if (!m.price) {
      return refusal('cascade-config', `No price is known for cascade model ${i + 1} (${m.id}): add "input" and "output" (dollars per 1M tokens) to its entry in "budgetReasoner.cascade".`, ['edit-cascade'], { tier: i + 1 });
    }
  }
  return undefined;
}

function describeCaps(s: Settings): string[] {
  const caps: string[] = [];
  if (s.requestCapUsd > 0) {
    caps.push(`${formatDollars(s.requestCapUsd)} per request`);
  }
  if (s.dailyCapUsd > 0) {
    caps.push(`${formatDollars(s.dailyCapUsd)} a day`);
  }
  if (s.dailyTokenCap > 0) {
    caps.push(`${s.dailyTokenCap.toLocaleString('en-US')} tokens a day`);
  }
  return caps;
}

function stoppingRuleOf(text: string | undefined): { stoppingRule?: string } {
  return text === undefined ? {} : { stoppingRule: text };
}

function stoppingRuleText(s: Settings, kind: AnswerKind, strategy: StrategyName): string | undefined {
  if (strategy === 'single') {
    return undefined; // one chain, then its forced answer if cut: no rule decides when to stop
  }
  if (strategy === 'value-tree') {
    return `the best path's answer, of step value ≥ ${TREE_DEFAULTS.clearValue}, reached by a second path`;
  }
  switch (s.stoppingRule) {
    case 'auto':
      if (strategy === 'anytime-sc' && kind === 'code') {
        return `tuned for code: broken-looking answers set aside; two whole answers that agree, or ${CODE_DEFAULTS.maxClean} whole ones, at most ${CODE_DEFAULTS.maxChains} chains`;
      }
      return kind === 'short' ? 'tuned: trust a first chain when this model\'s history confirms ones like it, else Beta posterior ≥ 0.8' : 'tuned: Beta posterior ≥ 0.8 over clusters of similar answers';
    case 'beta':
      return `Beta posterior ≥ ${s.confidenceThreshold}`;
    case 'esc':
      return 'a window of agreeing answers';
    case 'epsilon':
      return 'confidence gain below epsilon';
  }
}

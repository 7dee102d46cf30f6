/**
 * The strategies on a live OpenAI-compatible endpoint, through the product's own stack: planRun (the
 * question, the budgets and the caps) -> a TALE estimate call when the plan says so -> planRun again
 * with the estimate and today's spend -> createRunEngine -> meteredCallers (a file ledger in a temp
 * folder, the learned token ratios) -> OpenAICompatibleProvider (the openai SDK). Questions are a
 * seeded sample of the held-out recorded questions (MATH idx 60-99, GSM8K 800-1318), graded against
 * their recorded references. `--max-usd` is the plan's per-request and daily dollar caps: the bench
 * stops when the product refuses a call, never by a counter of its own.
 *
 * Run: npm run bench:live -- --base-url URL --model ID [--model ID2 ...] [--key-env VAR] --max-usd X --questions N
 *        [--data FILE ...] [--strategies a,b] [--estimators tale,local] [--preference-examples off,auto]
 *        [--price IN,OUT] [--seed N] [--label NAME] [--out DIR]
 * Writes DIR/live-<label>-<date>.{md,json,svg} (default bench/results, label = the first model id).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadGradedQuestions, shuffledOrder, type GradedQuestion } from '../tools/recordedData';
import { repoRoot } from '../tools/repoRoot';
import { scatterSvg, type PlotPoint } from './svgPlot';
import { LocalBudgetEstimator, type BudgetEstimate } from '../src/core/budget/localEstimator';
import { TaleBudgetEstimator } from '../src/core/budget/taleEstimator';
import { TokenRatios } from '../src/core/budget/tokenRatio';
import { checkBaseUrl, defaultSettings, isLocalEndpoint, isModelId, PREFERENCE_EXAMPLE_MODES, STRATEGY_NAMES, type PreferenceExampleMode, type PriceOverride, type Settings, type StrategyName } from '../src/core/config';
import { FileSpendLedger } from '../src/core/ledger/fileSpendLedger';
import { localDay } from '../src/core/ledger/spendLedger';
import { OpenAICompatibleProvider } from '../src/core/providers/openaiProvider';
import { answersEqual } from '../src/core/reasoning/answers';
import { runAnytimeIndex, type AnytimePoint } from '../src/core/reasoning/anytimeIndex';
import { FirstChainHistory } from '../src/core/reasoning/firstChainHistory';
import { buildPreferencePair, PreferencePairs, type PreferencePair } from '../src/core/reasoning/preferenceExamples';
import type { RunEvent, StopReason } from '../src/core/reasoning/runEvents';
import { meteredCallers, type CallableModel } from '../src/core/run/callers';
import { createRunEngine } from '../src/core/run/engine';
import { planRun, TALE_MAX_CHAIN_TOKENS, type PlanModel, type PlanRequest } from '../src/core/run/plan';
import type { Refusal } from '../src/core/run/refusal';
import { contextWindowOf } from '../src/core/tokens/contextWindows';
import { priceLookup } from '../src/core/tokens/prices';
import { TokenCounter } from '../src/core/tokens/tokenCounter';

/** The recorded question sets the bench samples by default (their held-out questions). */
export const DEFAULT_DATA = [
  path.join(repoRoot, 'bench', 'data', 'qwen25-math-cot', 'math_cot_100.jsonl'),
  path.join(repoRoot, 'bench', 'data', 'gsm8k', 'test.jsonl'),
];
/** The two ways `budgetReasoner.estimator` sizes a chain that the bench compares. */
export const LIVE_ESTIMATORS = ['tale', 'local'] as const;
export type LiveEstimator = typeof LIVE_ESTIMATORS[number];
/** Errors in a row after which the endpoint is taken to be down and the bench stops. */
const MAX_ERRORS_IN_A_ROW = 3;

/** The values of `budgetReasoner.preferenceExamples` the bench compares: PDP off and on. */
export function preferenceExampleValues(): string[] {
  return [...PREFERENCE_EXAMPLE_MODES];
}

export interface LiveOptions {
  baseUrl: string;
  /** The chain strategies run on the first; with two or more, `cascade` runs over all of them, cheapest first. */
  models: string[];
  /** The environment variable holding the API key; none for a local endpoint. Its value is never printed. */
  keyEnv?: string;
  maxUsd: number;
  questions: number;
  data: string[];
  strategies: StrategyName[];
  estimators: LiveEstimator[];
  /** Values of `preferenceExamples` to run; empty when the settings have no such setting. */
  preferenceExamples: string[];
  /** Dollars per 1M tokens of every model, as `budgetReasoner.prices` sets them; default: the price table ($0 on a local endpoint). */
  price?: PriceOverride;
  seed: number;
  /** The file name's model part (default: the first model id). */
  label: string;
  out: string;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export function parseLiveArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): LiveOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'base-url': { type: 'string' }, model: { type: 'string', multiple: true }, 'key-env': { type: 'string' },
      'max-usd': { type: 'string' }, questions: { type: 'string' }, data: { type: 'string', multiple: true },
      strategies: { type: 'string' }, estimators: { type: 'string' }, 'preference-examples': { type: 'string' },
      price: { type: 'string' }, seed: { type: 'string' }, label: { type: 'string' }, out: { type: 'string' },
    },
  });
  const usage = 'usage: npm run bench:live -- --base-url URL --model ID [--key-env VAR] --max-usd X --questions N [--data FILE ...]';
  const baseUrl = values['base-url'];
  const urlProblem = checkBaseUrl(baseUrl);
  if (urlProblem) {
    throw new Error(`${urlProblem.replace('"budgetReasoner.baseUrl"', '--base-url')}\n${usage}`);
  }
  const models = values.model ?? [];
  if (models.length === 0 || models.some((m) => !isModelId(m))) {
    throw new Error(`--model needs a model id such as gpt-4o-mini or qwen2.5:7b\n${usage}`);
  }
  const maxUsd = Number(values['max-usd']);
  if (!(maxUsd > 0) || !Number.isFinite(maxUsd)) {
    throw new Error(`--max-usd needs the most dollars the bench may spend, above 0\n${usage}`);
  }
  const questions = Number(values.questions);
  if (!Number.isInteger(questions) || questions < 1) {
    throw new Error(`--questions needs a whole number of questions, at least 1\n${usage}`);
  }
  const keyEnv = values['key-env'];
  if (keyEnv !== undefined && !env[keyEnv]) {
    throw new Error(`--key-env ${keyEnv}: that environment variable is not set`);
  }
  const list = (text: string | undefined) => text?.split(',').map((s) => s.trim()).filter(Boolean);
  const chainStrategies = STRATEGY_NAMES.filter((s) => s !== 'cascade' || models.length > 1);
  const strategies = (list(values.strategies) ?? chainStrategies) as StrategyName[];
  const unknownStrategy = strategies.find((s) => !chainStrategies.includes(s));
  if (unknownStrategy) {
    throw new Error(`--strategies: "${unknownStrategy}" is not one of ${chainStrategies.join(', ')}${unknownStrategy === 'cascade' ? ' (cascade needs two or more --model, cheapest first)' : ''}`);
  }
  const estimators = (list(values.estimators) ?? [...LIVE_ESTIMATORS]) as LiveEstimator[];
  if (estimators.length === 0 || estimators.some((e) => !LIVE_ESTIMATORS.includes(e))) {
    throw new Error(`--estimators takes ${LIVE_ESTIMATORS.join(', ')}`);
  }
  const known = preferenceExampleValues();
  const preferenceExamples = list(values['preference-examples']) ?? known;
  if (preferenceExamples.some((v) => !known.includes(v))) {
    throw new Error(known.length ? `--preference-examples takes ${known.join(', ')}` : '--preference-examples: this build has no preferenceExamples setting');
  }
  let price: PriceOverride | undefined;
  if (values.price !== undefined) {
    const [input, output] = values.price.split(',').map(Number);
    if (!(input >= 0) || !(output >= 0)) {
      throw new Error('--price takes INPUT,OUTPUT in dollars per 1M tokens, e.g. --price 0.15,0.6');
    }
    price = { input, output };
  }
  const seed = Number(values.seed ?? 1);
  if (!Number.isInteger(seed)) {
    throw new Error('--seed takes a whole number');
  }
  return {
    baseUrl: baseUrl!.trim().replace(/\/+$/, ''),
    models,
    ...(keyEnv !== undefined ? { keyEnv } : {}),
    maxUsd,
    questions,
    data: values.data?.length ? values.data.map((f) => path.resolve(f)) : DEFAULT_DATA,
    strategies,
    estimators,
    preferenceExamples,
    ...(price ? { price } : {}),
    seed,
    label: (values.label ?? models[0]).replace(/[^\w.-]+/g, '-'),
    out: path.resolve(values.out ?? path.join(repoRoot, 'bench', 'results')),
    log: (line) => console.error(line),
  };
}

/** One configuration compared: a strategy, how its chain budget is estimated, and preference examples on or off. */
export interface LiveConfig {
  name: string;
  strategy: StrategyName;
  estimator: LiveEstimator;
  preferenceExamples?: string;
}

export function liveConfigs(options: Pick<LiveOptions, 'strategies' | 'estimators' | 'preferenceExamples'>): LiveConfig[] {
  const pdp = options.preferenceExamples.length ? options.preferenceExamples : [undefined];
  return options.strategies.flatMap((strategy) => options.estimators.flatMap((estimator) => pdp.map((preferenceExamples): LiveConfig => ({
    name: [strategy, estimator === 'tale' ? 'TALE' : 'local', ...(preferenceExamples ? [`PDP ${preferenceExamples}`] : [])].join(' · '),
    strategy,
    estimator,
    ...(preferenceExamples ? { preferenceExamples } : {}),
  }))));
}

/** A seeded sample of the held-out questions of the files, taken from each file in turn. */
export function sampleQuestions(files: readonly string[], count: number, seed: number): GradedQuestion[] {
  const pools = files.map((file) => {
    const heldOut = loadGradedQuestions(file).filter((q) => q.split === 'heldout');
    return shuffledOrder(heldOut.length, seed + 1).map((i) => heldOut[i]);
  });
  const sample: GradedQuestion[] = [];
  for (let k = 0; sample.length < count && pools.some((p) => k < p.length); k++) {
    for (const pool of pools) {
      if (k < pool.length && sample.length < count) {
        sample.push(pool[k]);
      }
    }
  }
  return sample;
}

/** One question run once by one configuration. */
export interface LiveRun {
  question: string;
  dataset: string;
  config: string;
  correct: boolean;
  answered: boolean;
  answer?: string;
  reason: StopReason;
  /** How the run said it ended. */
  message: string;
  /** From the ledger: every call of the run, the estimate call included. */
  billedTokens: number;
  outputTokens: number;
  dollars: number;
  calls: number;
  chains: number;
  anytimeIndex: number;
  estimate: { tokens: number; source: BudgetEstimate['source'] };
  budgetTokens: number;
  /** Preference examples each chain was sent before the question. */
  examples: number;
  /** Output tokens of the shortest chain that ended by itself with the reference answer. */
  shortestCorrectChain?: number;
  /** False when the bench's money ran out during the run: it is left out of the tables. */
  complete: boolean;
}

export interface ConfigResult {
  config: string;
  strategy: StrategyName;
  estimator: LiveEstimator;
  preferenceExamples?: string;
  questions: number;
  accuracy: number;
  accuracyByDataset: Record<string, number>;
  outputTokensPerQuestion: number;
  billedTokensPerQuestion: number;
  dollarsPerQuestion: number;
  chainsPerQuestion: number;
  /** Preference examples a chain was sent, per question. */
  examplesPerQuestion: number;
  anytimeIndex: number;
  unanswered: number;
  stops: Partial<Record<StopReason, number>>;
}

export interface EstimatorResult {
  estimator: LiveEstimator;
  estimates: number;
  inRange: number;
  meanMiss: number;
  medianRatio: number;
  /** TALE calls whose reply held no usable budget (the local estimate stood in). */
  fellBack: number;
}

export interface LiveReport {
  files: { md: string; json: string; svg: string };
  day: string;
  /** Spend by the ledger, every call of the bench. */
  ledger: { tokens: number; dollars: number; calls: number };
  maxUsd: number;
  questionsAsked: number;
  /** Questions every configuration ran to its end. */
  questionsComplete: number;
  stoppedBy?: string;
  modelsListed: string;
  results: ConfigResult[];
  estimator: EstimatorResult[];
  runs: LiveRun[];
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : Number.NaN);
/** Text from the endpoint or the product, fit for one table cell or line of markdown. */
const cell = (text: string) => text.replace(/[\r\n|`<>]+/g, ' ').slice(0, 240);

export async function runLiveBench(options: LiveOptions): Promise<LiveReport> {
  const { baseUrl, models, log } = options;
  const apiKey = options.keyEnv ? process.env[options.keyEnv] : undefined;
  const settingsOverrides: Partial<Settings> = {
    baseUrl,
    model: models[0],
    requestBudget: 'auto',
    // --max-usd is the product's own dollar caps: a run may spend it, the day (the whole bench) no more.
    requestCapUsd: options.maxUsd,
    dailyCapUsd: options.maxUsd,
    dailyTokenCap: 0,
    confirmAboveUsd: 0,
    // The recorded sets are graded as values.
    answerKind: 'short',
    prices: options.price ? Object.fromEntries(models.map((m) => [m, options.price!])) : {},
    cascade: models.length > 1 ? models.map((model) => ({ model, baseUrl })) : [],
  };
  const base: Settings = { ...defaultSettings, ...settingsOverrides };
  const prices = priceLookup({ baseUrl, overrides: base.prices });
  const provider = new OpenAICompatibleProvider({ baseURL: baseUrl, apiKey, levers: base.budgetLevers });
  const planModels: PlanModel[] = models.map((id) => ({
    id, baseUrl, keyMissing: !apiKey && !isLocalEndpoint(baseUrl), price: prices(id), contextWindow: contextWindowOf(id), billsInDollars: true,
  }));
  const unpriced = planModels.find((m) => !m.price);
  if (unpriced) {
    throw new Error(`No price is known for ${unpriced.id}, so the dollar cap could not hold: pass --price INPUT,OUTPUT (dollars per 1M tokens).`);
  }
  const callable = (m: PlanModel): CallableModel => ({ id: m.id, provider, prices });
  const modelsListed = await checkModels(provider, models, options.signal);
  log(`models: ${modelsListed}`);

  const questions = sampleQuestions(options.data, options.questions, options.seed);
  const configs = liveConfigs(options);
  const tokens = new TokenCounter();
  const estimator = new LocalBudgetEstimator({ countTokens: (text) => tokens.countText(text, 'gpt-4o').tokens });
  const ratios = new TokenRatios();
  const histories = new Map(configs.map((c) => [c.name, new FirstChainHistory()]));
  // The pairs PDP-on runs make, as the product keeps them; a question's pairs join once every configuration has run it,
  // so no configuration is shown its own question's pair.
  const pairs = new PreferencePairs();
  const pendingPairs: PreferencePair[] = [];
  const ledgerDir = mkdtempSync(path.join(os.tmpdir(), 'bench-live-'));
  const ledger = new FileSpendLedger(path.join(ledgerDir, 'spend.jsonl'));
  const day = localDay(new Date());
  const runs: LiveRun[] = [];
  let stoppedBy: string | undefined;
  let errorsInARow = 0;

  /** One question by one configuration, or why the bench stops before it. */
  const runOne = async (q: GradedQuestion, config: LiveConfig): Promise<LiveRun | { stop: string }> => {
    const settings: Settings = { ...base, strategy: config.strategy, estimator: config.estimator, ...(config.preferenceExamples ? { preferenceExamples: config.preferenceExamples as PreferenceExampleMode } : {}) };
    const request: PlanRequest = {
      question: q.question, settings, strategy: config.strategy, models: config.strategy === 'cascade' ? planModels : planModels.slice(0, 1),
      tokens, ratios, estimate: (p) => estimator.estimate(p), learnedRuns: estimator.learnedRuns, preferencePairs: pairs.list,
    };
    const planned = planRun(request);
    if (!planned.ok) {
      return { stop: refusalText(planned.refusal) };
    }
    const runId = `${config.name} ${q.key}`;
    const callers = meteredCallers({ runId, sessionId: 'bench-live', ledger, tokens, ratios });
    const signal = options.signal ?? new AbortController().signal;
    const plan0 = planned.plan;
    let estimate: BudgetEstimate;
    try {
      estimate = plan0.estimateStep === 'tale'
        ? await new TaleBudgetEstimator({ caller: callers(callable(plan0.models[0]), plan0.estimateCaps), fallback: estimator, capTokens: TALE_MAX_CHAIN_TOKENS }).estimate(plan0.prompt, signal)
        : plan0.estimate;
    } catch (error) {
      // Only a stopped estimate call throws; any other failure falls back to the local estimate.
      if (signal.aborted) {
        return { stop: 'interrupted' };
      }
      throw error;
    }
    // As the product does once the estimate is in: plan again with it and today's spend, refused when the first chain cannot fit.
    const final = planRun({ ...request, estimate: () => estimate, today: await ledger.today() });
    if (!final.ok) {
      return { stop: refusalText(final.refusal) };
    }
    const plan = final.plan;
    const points: AnytimePoint[] = [];
    const purposes = new Map<number, string>();
    let shortestCorrectChain: number | undefined;
    const onEvent = (event: RunEvent) => {
      if (event.type === 'answer') {
        points.push({ tokens: event.tokensSoFar, quality: answersEqual(event.answer, q.gold) ? 1 : 0 });
      } else if (event.type === 'attempt-started') {
        purposes.set(event.attempt, event.purpose);
      } else if (event.type === 'attempt-finished' && purposes.get(event.attempt) === 'attempt' && event.finishReason === 'stop' && answersEqual(event.answer, q.gold)) {
        shortestCorrectChain = Math.min(shortestCorrectChain ?? Infinity, event.completionTokens);
      }
    };
    const history = histories.get(config.name)!;
    const engine = createRunEngine(plan, (m) => callers(callable(m), plan.caps), onEvent, { history: (m) => history.of(m.id) });
    const outcome = await engine.start(signal);
    const check = engine.firstChainCheck();
    if (check) {
      history.learn(plan.models[0].id, check);
    }
    // As the run registry does with `preferenceExamples: auto`: a converged run's chains may make a pair.
    const chains = settings.preferenceExamples === 'auto' && outcome.reason === 'converged' && outcome.answer !== undefined ? engine.preferenceChains?.(outcome.answer) : undefined;
    const pair = chains && buildPreferencePair({ question: q.question, answerKind: plan.answerKind, model: plan.models[0].id, endpoint: baseUrl, chains });
    if (pair) {
      pendingPairs.push(pair);
    }
    const totals = await ledger.totalsForRun(runId);
    return {
      question: q.key,
      dataset: q.dataset,
      config: config.name,
      correct: answersEqual(outcome.answer, q.gold),
      // A reply shown as it is, stating no value, is no answer.
      answered: outcome.answer !== undefined && outcome.confidence > 0,
      ...(outcome.answer !== undefined ? { answer: outcome.answer.slice(0, 200) } : {}),
      reason: outcome.reason,
      message: cell(outcome.message).slice(0, 300),
      billedTokens: totals.tokens,
      outputTokens: totals.completionTokens,
      dollars: totals.dollars,
      calls: totals.calls,
      chains: outcome.chains,
      anytimeIndex: runAnytimeIndex(points, outcome.tokensSpent),
      estimate: { tokens: estimate.tokens, source: estimate.source },
      budgetTokens: plan.budgetTokens,
      examples: plan.examples.length,
      ...(shortestCorrectChain !== undefined ? { shortestCorrectChain } : {}),
      // A cap that stopped a run is the bench's money running out (both dollar caps are --max-usd).
      complete: outcome.reason !== 'cap-reached' && outcome.reason !== 'stopped',
    };
  };

  try {
    questions: for (const [i, q] of questions.entries()) {
      for (const pair of pendingPairs.splice(0)) {
        pairs.add(pair);
      }
      for (const config of configs) {
        if (options.signal?.aborted) {
          stoppedBy = 'interrupted';
          break questions;
        }
        if (localDay(new Date()) !== day) {
          stoppedBy = 'the local day changed, and with it the daily cap the bench runs under';
          break questions;
        }
        const run = await runOne(q, config);
        if ('stop' in run) {
          stoppedBy = run.stop;
          break questions;
        }
        runs.push(run);
        log(`[${i + 1}/${questions.length}] ${q.key} ${config.name}: ${run.correct ? 'correct' : 'wrong'}, ${run.reason}, ${run.billedTokens} tokens, $${run.dollars.toFixed(5)}`);
        errorsInARow = run.reason === 'error' ? errorsInARow + 1 : 0;
        if (errorsInARow >= MAX_ERRORS_IN_A_ROW) {
          stoppedBy = `${MAX_ERRORS_IN_A_ROW} runs in a row ended in an error`;
          break questions;
        }
        if (!run.complete) {
          stoppedBy = run.reason === 'stopped' ? 'interrupted' : 'a dollar cap (--max-usd) ended a run';
          break questions;
        }
      }
    }
    const all = await ledger.today();
    const report = summarize(runs, configs, questions.length, {
      day, maxUsd: options.maxUsd, modelsListed, ...(stoppedBy ? { stoppedBy } : {}),
      ledger: { tokens: all.tokens, dollars: all.dollars, calls: all.calls },
    });
    const files = writeReport(report, options);
    log(`wrote ${files.md}`);
    return { ...report, files };
  } finally {
    rmSync(ledgerDir, { recursive: true, force: true });
  }
}

function refusalText(r: Refusal): string {
  return `${r.kind === 'cap' ? 'the product refused the next call by a cap' : `the product refused to plan a run (${r.kind})`}: ${cell(r.message)}`;
}

/** What the endpoint's model list says; a list that names other models only stops the bench before any spend. */
async function checkModels(provider: OpenAICompatibleProvider, models: readonly string[], signal?: AbortSignal): Promise<string> {
  let listed: string[];
  try {
    listed = await provider.listModels(signal ?? new AbortController().signal);
  } catch (error) {
    return `the endpoint did not list its models (${cell(error instanceof Error ? error.message : String(error))}); the ids are used as given`;
  }
  if (listed.length === 0) {
    return 'the endpoint lists no models; the ids are used as given';
  }
  const missing = models.filter((m) => !listed.includes(m));
  if (missing.length) {
    throw new Error(`The endpoint does not list ${missing.join(', ')}; it lists ${listed.slice(0, 20).join(', ')}${listed.length > 20 ? ', ...' : ''}.`);
  }
  return `listed by the endpoint (${listed.length} models)`;
}

type ReportCore = Omit<LiveReport, 'files' | 'results' | 'estimator' | 'runs' | 'questionsAsked' | 'questionsComplete'>;

export function summarize(runs: LiveRun[], configs: readonly LiveConfig[], questionsAsked: number, core: ReportCore): Omit<LiveReport, 'files'> {
  // Only questions every configuration ran to its end are compared.
  const byQuestion = new Map<string, LiveRun[]>();
  for (const r of runs) {
    byQuestion.set(r.question, [...(byQuestion.get(r.question) ?? []), r]);
  }
  const complete = new Set([...byQuestion].filter(([, rs]) => rs.length === configs.length && rs.every((r) => r.complete)).map(([q]) => q));
  const compared = runs.filter((r) => complete.has(r.question));
  const datasets = [...new Set(compared.map((r) => r.dataset))];
  const results = configs.map((c): ConfigResult => {
    const rs = compared.filter((r) => r.config === c.name);
    const stops: ConfigResult['stops'] = {};
    for (const r of rs) {
      stops[r.reason] = (stops[r.reason] ?? 0) + 1;
    }
    const share = (xs: LiveRun[]) => mean(xs.map((r) => (r.correct ? 1 : 0)));
    return {
      config: c.name, strategy: c.strategy, estimator: c.estimator, ...(c.preferenceExamples ? { preferenceExamples: c.preferenceExamples } : {}),
      questions: rs.length,
      accuracy: share(rs),
      accuracyByDataset: Object.fromEntries(datasets.map((d) => [d, share(rs.filter((r) => r.dataset === d))])),
      outputTokensPerQuestion: mean(rs.map((r) => r.outputTokens)),
      billedTokensPerQuestion: mean(rs.map((r) => r.billedTokens)),
      dollarsPerQuestion: mean(rs.map((r) => r.dollars)),
      chainsPerQuestion: mean(rs.map((r) => r.chains)),
      examplesPerQuestion: mean(rs.map((r) => r.examples)),
      anytimeIndex: mean(rs.map((r) => r.anytimeIndex)),
      unanswered: mean(rs.map((r) => (r.answered ? 0 : 1))),
      stops,
    };
  });
  // "Needed" per question: the shortest chain any configuration drew that ended by itself with the reference answer.
  const needed = new Map<string, number>();
  for (const r of compared) {
    if (r.shortestCorrectChain !== undefined) {
      needed.set(r.question, Math.min(needed.get(r.question) ?? Infinity, r.shortestCorrectChain));
    }
  }
  const estimatorResults = LIVE_ESTIMATORS.flatMap((e): EstimatorResult[] => {
    const rs = compared.filter((r) => configs.find((c) => c.name === r.config)?.estimator === e);
    if (rs.length === 0) {
      return [];
    }
    // The local estimate of a question is the same in every configuration: counted once.
    const estimates = e === 'local'
      ? [...new Map(rs.map((r) => [r.question, r])).values()]
      : rs.filter((r) => r.estimate.source === 'tale');
    return [{ estimator: e, fellBack: rs.filter((r) => r.estimate.source === 'fallback').length, ...inRange(estimates.flatMap((r) => (needed.has(r.question) ? [{ estimate: r.estimate.tokens, needed: needed.get(r.question)! }] : []))) }];
  });
  return { ...core, questionsAsked, questionsComplete: complete.size, results, estimator: estimatorResults, runs };
}

/** Share of estimates inside [needed, 2 x needed], the mean distance to that range of those outside it, the median estimate/needed. */
function inRange(pairs: Array<{ estimate: number; needed: number }>): Omit<EstimatorResult, 'estimator' | 'fellBack'> {
  const misses = pairs.filter((p) => p.estimate < p.needed || p.estimate > 2 * p.needed).map((p) => (p.estimate < p.needed ? p.needed - p.estimate : p.estimate - 2 * p.needed));
  const ratios = pairs.map((p) => p.estimate / p.needed).sort((a, b) => a - b);
  return {
    estimates: pairs.length,
    inRange: pairs.length ? (pairs.length - misses.length) / pairs.length : Number.NaN,
    meanMiss: misses.length ? mean(misses) : 0,
    medianRatio: ratios.length ? ratios[Math.floor(ratios.length / 2)] : Number.NaN,
  };
}

const COLORS = ['#d62728', '#7f7f7f', '#ff7f0e', '#1f77b4', '#2ca02c', '#9467bd', '#17becf'];

function writeReport(report: Omit<LiveReport, 'files'>, options: LiveOptions): LiveReport['files'] {
  mkdirSync(options.out, { recursive: true });
  const stem = path.join(options.out, `live-${options.label}-${report.day}`);
  const files = { md: `${stem}.md`, json: `${stem}.json`, svg: `${stem}.svg` };
  const strategies = [...new Set(report.results.map((r) => r.strategy))];
  const point = (r: ConfigResult, y: number): PlotPoint => ({
    x: r.billedTokensPerQuestion, y, label: r.config,
    color: COLORS[strategies.indexOf(r.strategy) % COLORS.length], filled: r.estimator === 'local', shape: r.preferenceExamples === 'auto' ? 'diamond' : 'circle',
  });
  const shown = report.results.filter((r) => r.questions > 0);
  writeFileSync(files.svg, `${scatterSvg({
    title: `bench:live on ${options.models.join(', ')}`,
    note: `${report.questionsComplete} held-out questions, every configuration; filled: local estimate, hollow: TALE-EP${options.preferenceExamples.length ? '; diamond: preference examples on' : ''}`,
    xLabel: 'billed tokens per question (log scale)',
    panels: [
      { title: 'Accuracy', yLabel: 'accuracy', points: shown.map((r) => point(r, r.accuracy)) },
      { title: 'Anytime Index', yLabel: 'Anytime Index', points: shown.map((r) => point(r, r.anytimeIndex)) },
    ],
  })}\n`);
  writeFileSync(files.json, `${JSON.stringify({ ...report, models: options.models, baseUrl: shownUrl(options.baseUrl), seed: options.seed, data: options.data.map(shownPath) }, null, 2)}\n`);
  writeFileSync(files.md, markdown(report, options, path.basename(files.svg)));
  return files;
}

/** The endpoint as shown: origin and path, nothing else it may carry. */
function shownUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  return `${url.origin}${url.pathname}`;
}

function shownPath(file: string): string {
  const relative = path.relative(repoRoot, file);
  return relative.startsWith('..') ? path.basename(file) : relative.split(path.sep).join('/');
}

/** The command that reproduces the run (the key's variable by name only). */
function commandLine(options: LiveOptions): string {
  const args = [
    `--base-url ${shownUrl(options.baseUrl)}`, ...options.models.map((m) => `--model ${m}`), ...(options.keyEnv ? [`--key-env ${options.keyEnv}`] : []),
    `--max-usd ${options.maxUsd}`, `--questions ${options.questions}`, ...(options.data === DEFAULT_DATA ? [] : options.data.map((f) => `--data ${shownPath(f)}`)),
    `--strategies ${options.strategies.join(',')}`, `--estimators ${options.estimators.join(',')}`,
    ...(options.preferenceExamples.length ? [`--preference-examples ${options.preferenceExamples.join(',')}`] : []),
    ...(options.price ? [`--price ${options.price.input},${options.price.output}`] : []), `--seed ${options.seed}`, `--label ${options.label}`,
  ];
  return `npm run bench:live -- ${args.join(' ')}`;
}

const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(x * 100).toFixed(1)}%`);
const num = (x: number, digits = 0) => (Number.isNaN(x) ? '-' : x.toFixed(digits));

function markdown(report: Omit<LiveReport, 'files'>, options: LiveOptions, svg: string): string {
  const datasets = [...new Set(report.runs.map((r) => r.dataset))];
  const stops = (s: ConfigResult['stops']) => Object.entries(s).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    `# bench:live: ${options.models.join(', ')}`,
    '',
    `Produced by \`bench/live.ts\` on ${report.day}: \`${commandLine(options)}\``,
    '',
    '## Summary',
    '',
    `- Endpoint: ${cell(shownUrl(options.baseUrl))}; models: ${report.modelsListed}.`,
    `- Questions: ${report.questionsComplete} of ${report.questionsAsked} sampled ran in every configuration (${liveConfigs(options).length} configurations) and are compared below.`,
    `- Spend by the ledger: $${report.ledger.dollars.toFixed(4)} of --max-usd $${report.maxUsd} (${report.ledger.calls} calls, ${report.ledger.tokens.toLocaleString('en-US')} billed tokens).`,
    `- ${report.stoppedBy ? `Stopped early: ${report.stoppedBy}.` : 'Every sampled question ran in every configuration.'}`,
    '',
    '## Configurations',
    '',
    '| configuration | questions | accuracy | output tokens/q | billed tokens/q | $/q | chains/q | examples/q | no answer | Anytime Index | how runs ended |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...report.results.map((r) => `| ${r.config} | ${r.questions} | ${num(r.accuracy, 3)} | ${num(r.outputTokensPerQuestion)} | ${num(r.billedTokensPerQuestion)} | ${num(r.dollarsPerQuestion, 5)} | ${num(r.chainsPerQuestion, 2)} | ${num(r.examplesPerQuestion, 2)} | ${pct(r.unanswered)} | ${num(r.anytimeIndex, 3)} | ${stops(r.stops)} |`),
    '',
    `![Accuracy and Anytime Index against billed tokens per question](${svg})`,
    '',
    '## Accuracy by data set',
    '',
    `| configuration | ${datasets.join(' | ')} |`,
    `|---|${datasets.map(() => '---|').join('')}`,
    ...report.results.map((r) => `| ${r.config} | ${datasets.map((d) => num(r.accuracyByDataset[d] ?? Number.NaN, 3)).join(' | ')} |`),
    '',
    '## Chain budget estimates',
    '',
    '| estimate | estimates | in range [needed, 2x needed] | mean miss (tokens) | median estimate/needed | TALE replies unusable (local estimate used) |',
    '|---|---|---|---|---|---|',
    ...report.estimator.map((e) => `| ${e.estimator === 'tale' ? 'TALE-EP (the model\'s estimate call)' : 'local estimator (no call)'} | ${e.estimates} | ${pct(e.inRange)} | ${num(e.meanMiss, 1)} | ${num(e.medianRatio, 2)} | ${e.estimator === 'tale' ? e.fellBack : '-'} |`),
    '| TALE-EP, GPT-4o-mini (published, arXiv 2412.18547) | - | 60.6% | 109.6 | - | - |',
    '',
    '## How it was measured',
    '',
    `- Data: a seeded sample (seed ${options.seed}) of the held-out questions of ${options.data.map((f) => `\`${shownPath(f)}\``).join(', ')} (MATH idx 60-99, GSM8K 800-1318; never the tune split), taken from each file in turn. Graded with \`answersEqual\` against the recorded reference (MATH \`gt\`, GSM8K's \`#### N\`), as bench:strategies and bench:cascade grade.`,
    '- Every run goes through the product\'s stack, as Reason with budget does: `planRun` (answer kind short, the auto run budget, the caps below) -> for TALE-EP the estimate call (`TaleBudgetEstimator`, purpose `estimate`, under the plan\'s estimate caps) -> `planRun` again with the estimate and today\'s spend -> `createRunEngine` -> `meteredCallers` (a file ledger in a temporary folder, the token ratios learned from the calls\' usage) -> `OpenAICompatibleProvider` (the openai SDK, streaming) -> the endpoint.',
    `- The money: --max-usd is both \`requestCapUsd\` and \`dailyCapUsd\` of the plan's caps; every grant, preflight and refusal is the product's. The bench stops at the first refusal (or a run a cap ended): spend by the ledger never passes --max-usd. Prices: ${options.price ? `--price $${options.price.input}/$${options.price.output} per 1M tokens` : 'the price table ($0 on a local endpoint)'}.`,
    '- Configurations: each strategy, with its chain budget from TALE-EP (`estimator: tale`) or the local estimator with its shipped prior (`estimator: local`; it does not learn during the bench, so every configuration sees the same local estimates)' + (options.preferenceExamples.length ? ', and preference examples off and on (`preferenceExamples`)' : '') + '. Each configuration keeps its own first-chain history, learned online as the product learns it. Questions are run in every configuration before the next question, so a cap that ends the bench leaves every configuration with the same questions; questions not run in every configuration are left out of the tables (their spend is in the ledger figure).',
    '- Tokens from the ledger, per run: billed = prompt + output of every call (the estimate call included), output = completion tokens (thinking and hidden reasoning included). Anytime Index: `runAnytimeIndex` over the correctness of the answer shown at each answer event, from 0 tokens to the run\'s end. "no answer": runs that ended stating no value.',
    '- Estimates: "needed" is the fewest output tokens of a chain, in any configuration, that ended by itself with the reference answer (questions with no such chain are left out); the chains were drawn under the estimates\' own budgets, so "needed" leans toward them.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseLiveArgs(process.argv.slice(2));
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const report = await runLiveBench({ ...options, signal: abort.signal });
  console.log(`${report.questionsComplete} of ${report.questionsAsked} questions in every configuration; $${report.ledger.dollars.toFixed(4)} of $${report.maxUsd} spent by the ledger${report.stoppedBy ? `; stopped: ${report.stoppedBy}` : ''}`);
  console.log(report.files.md);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}

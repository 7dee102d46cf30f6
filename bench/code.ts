/**
 * Code strategies on recorded HumanEval samples (CodeGen-16B, 100 per problem, labelled by HumanEval's
 * tests), through the product's stack: planRun (answer kind code) -> createRunEngine -> meteredCallers
 * -> OpenAICompatibleProvider (openai SDK, SSE) -> the loopback server's codegen16b-replay model.
 * Anchors (one sample, exact-match majority, similarity MBR@k, oracle) come from the data directly.
 * Run: npm run bench:code -- --data FILE (default: the tune file in bench/data/humaneval-codegen).
 * Writes bench/results/code.{md,json,svg} for the tune file, code-<dataset>.{md,json,svg} for another.
 * Tuning (prints only): --problems=N --rotations=N --strategies=default,single --params='{"maxClean":3}' --threshold=0.5
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CODE_QUESTION, CODE_REPLAY_MODEL, CodeReplay, codeQuestionContext, defaultCodeDataFile, loadHumanEval, sampleCode, sampleReply, type HumanEvalRow } from '../tools/codeReplay';
import { startModelServer, type ModelServer } from '../tools/modelServer';
import { countTokens } from '../tools/modelServerTokens';
import { LocalBudgetEstimator } from '../src/core/budget/localEstimator';
import { defaultSettings, type StrategyName } from '../src/core/config';
import { MemorySpendLedger } from '../src/core/ledger/spendLedger';
import { OpenAICompatibleProvider } from '../src/core/providers/openaiProvider';
import { runAnytimeIndex, type AnytimePoint } from '../src/core/reasoning/anytimeIndex';
import { CODE_DEFAULTS, chooseCodeAnswer, CodeConsensus, type CodeParams } from '../src/core/reasoning/codeConsensus';
import { codeDefects } from '../src/core/reasoning/codeChecks';
import type { RunEvent } from '../src/core/reasoning/runEvents';
import { CLUSTER_THRESHOLDS, codeTokens, similarityFor } from '../src/core/reasoning/similarity';
import { tallyVotes } from '../src/core/reasoning/stoppingRules';
import { AnytimeSelfConsistency, ANYTIME_DEFAULTS, commonAction, nextChainMaxTokens, type Assessment, type ReasoningStrategy, type RunAction, type RunProgress } from '../src/core/reasoning/strategies';
import { meteredCallers } from '../src/core/run/callers';
import { createRunEngine } from '../src/core/run/engine';
import { planRun, type RunPlan } from '../src/core/run/plan';
import { priceLookup } from '../src/core/tokens/prices';
import { TokenCounter } from '../src/core/tokens/tokenCounter';

const MODEL = CODE_REPLAY_MODEL;
/** Samples per rotation: rotation r serves samples 10r, 10r+1, ... first (cyclic). */
const ROTATION_STRIDE = 10;
const ROTATIONS = 10;
const MBR_K = 10;
const TARGET_RATIO = 0.5;

/** A fixed number of chains, then the MBR answer (over the clean answers, or over all of them). */
class FixedSamples implements ReasoningStrategy {
  readonly name = 'anytime-sc';
  constructor(private readonly k: number, private readonly clean: boolean) {}

  assess(state: RunProgress): Assessment {
    const chosen = chooseCodeAnswer(state, { clean: this.clean });
    const settled = state.chains.length >= this.k;
    return chosen
      ? { leader: chosen.vote, answerIndex: chosen.cluster, confidence: 0.5, ruleState: `${state.chains.length} of ${this.k} samples`, settled }
      : { confidence: 0, ruleState: 'no answers yet', settled };
  }

  next(state: RunProgress): RunAction {
    const common = commonAction(state, ANYTIME_DEFAULTS);
    if (common) {
      return common;
    }
    if (state.chains.length >= this.k) {
      return { kind: 'stop', reason: 'converged', message: `${this.k} samples drawn.` };
    }
    return { kind: 'chain', maxTokens: nextChainMaxTokens(state, ANYTIME_DEFAULTS), n: 1, promptBudget: state.chainBudget, logprobs: false };
  }
}

interface StrategyCase {
  name: string;
  description: string;
  /** The plan's strategy setting (default: anytime-sc, the product default). */
  planStrategy?: StrategyName;
  /** A strategy other than the plan's own, on the same plan. */
  make?: () => ReasoningStrategy;
  /** Without the plan's run budget (no caps): a fixed number of chains always gets them all. */
  uncapped?: boolean;
}

/** The default with one tunable moved: where the neighbouring settings lie (the tunables' frontier). */
const TUNABLE_VARIANTS: Array<{ name: string; over: Partial<CodeParams>; description: string }> = [
  { name: 'default-2of4', over: { maxClean: 2, maxChains: 4 }, description: '`default` stopping at 2 clean answers, at most 4 chains' },
  { name: 'default-4of6', over: { maxClean: 4, maxChains: 6 }, description: '`default` stopping at 4 clean answers, at most 6 chains' },
  { name: 'default-apart', over: { apart: 0.1 }, description: '`default` also stopping when the clean answers are far apart (mean similarity < 0.1)' },
  { name: 'default-no-agree', over: { agree: Number.POSITIVE_INFINITY }, description: '`default` without the stop on two agreeing answers' },
];

function strategyCases(params: CodeParams): StrategyCase[] {
  return [
    { name: 'default', description: 'what the product runs for code under its default settings (anytime-sc, stopping rule auto: CodeConsensus, CODE_DEFAULTS)', make: params === CODE_DEFAULTS ? undefined : () => new CodeConsensus(params) },
    ...TUNABLE_VARIANTS.map(({ name, over, description }) => ({ name, description, make: () => new CodeConsensus({ ...params, ...over }) })),
    { name: 'single', description: "one chain (the product's `single` strategy)", planStrategy: 'single' },
    { name: 'beta-clusters', description: 'anytime-sc with its tuned Beta rule over similarity-cluster votes (what the product ran for code before CodeConsensus, here with the current similarity and cluster threshold)', make: () => new AnytimeSelfConsistency() },
    { name: 'mbr-3', description: '3 chains, similarity MBR over them', make: () => new FixedSamples(3, false), uncapped: true },
    { name: 'mbr-5', description: '5 chains, similarity MBR', make: () => new FixedSamples(5, false), uncapped: true },
    { name: 'mbr-10', description: '10 chains, similarity MBR (the `mbr10` anchor through the stack)', make: () => new FixedSamples(10, false), uncapped: true },
    { name: 'clean-mbr-3', description: '3 chains, MBR over the answers without defects', make: () => new FixedSamples(3, true), uncapped: true },
    { name: 'clean-mbr-5', description: '5 chains, MBR over the answers without defects', make: () => new FixedSamples(5, true), uncapped: true },
  ];
}

/** One problem run once by one strategy (or anchor) in one rotation. */
interface Measure {
  task: string;
  rotation: number;
  strategy: string;
  passed: boolean;
  outputTokens: number;
  chains: number;
  anytimeIndex: number;
  /** Chains the run drew whose answer showed a defect. */
  flagged: number;
}

export interface CodeResult {
  dataset: string;
  strategy: string;
  passRate: number;
  tokensPerQuestion: number;
  medianTokensPerQuestion: number;
  ratioToMbr10: number;
  chainsPerQuestion: number;
  anytimeIndex: number;
  /** Lowest and highest pass rate of one rotation. */
  passRange: [number, number];
  runs: number;
}

interface Options {
  data: string;
  dataset: string;
  rotations: number;
  problems?: number;
  strategies?: string[];
  params: CodeParams;
  write: boolean;
  dump?: string;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const at = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (at < 0) {
      return undefined;
    }
    return argv[at].includes('=') ? argv[at].slice(name.length + 3) : argv[at + 1];
  };
  const data = path.resolve(value('data') ?? defaultCodeDataFile);
  const rotations = Math.max(1, Math.min(ROTATIONS, Math.floor(Number(value('rotations') ?? ROTATIONS))));
  const problems = value('problems') ? Math.max(1, Math.floor(Number(value('problems')))) : undefined;
  const overrides = value('params');
  const threshold = value('threshold');
  if (threshold !== undefined) {
    // Tuning only: the code cluster threshold the runs (not the anchors' MBR) use.
    CLUSTER_THRESHOLDS.code = Number(threshold);
  }
  return {
    data,
    dataset: path.basename(data).replace(/\.jsonl$/, ''),
    rotations,
    ...(problems ? { problems } : {}),
    ...(value('strategies') ? { strategies: value('strategies')!.split(',') } : {}),
    ...(value('dump') ? { dump: value('dump') } : {}),
    params: overrides ? { ...CODE_DEFAULTS, ...(JSON.parse(overrides) as Partial<CodeParams>) } : CODE_DEFAULTS,
    // Results files hold every strategy over every problem and rotation with the shipped tunables.
    write: !problems && !value('strategies') && !overrides && threshold === undefined && rotations === ROTATIONS,
  };
}

function order(rotation: number, count: number, length = count): number[] {
  return Array.from({ length }, (_, k) => (rotation * ROTATION_STRIDE + k) % count);
}

interface Bench {
  server: ModelServer;
  replay: CodeReplay;
  provider: OpenAICompatibleProvider;
  tokens: TokenCounter;
  estimator: LocalBudgetEstimator;
}

function plan(bench: Bench, row: HumanEvalRow, strategy: StrategyName = 'anytime-sc'): RunPlan {
  const prices = priceLookup({ baseUrl: bench.server.url });
  const planned = planRun({
    question: CODE_QUESTION,
    context: codeQuestionContext(row),
    strategy,
    settings: { ...defaultSettings, requestCapUsd: 0, dailyCapUsd: 0, dailyTokenCap: 0, confirmAboveUsd: 0, estimator: 'local', answerKind: 'code' },
    models: [{ id: MODEL, price: prices(MODEL), contextWindow: undefined, billsInDollars: true }],
    tokens: bench.tokens,
    estimate: (q) => bench.estimator.estimate(q),
    learnedRuns: bench.estimator.learnedRuns,
  });
  if (!planned.ok) {
    throw new Error(`${row.task_id}: ${planned.refusal.message}`);
  }
  return planned.plan;
}

async function runProblem(bench: Bench, row: HumanEvalRow, rotation: number, strategyCase: StrategyCase, runId: string): Promise<Measure> {
  const { server, replay, provider, tokens } = bench;
  server.reset();
  replay.seek(row.task_id, rotation * ROTATION_STRIDE);
  const planned = plan(bench, row, strategyCase.planStrategy);
  const runPlan: RunPlan = strategyCase.uncapped ? { ...planned, caps: {}, budgetTokens: Number.MAX_SAFE_INTEGER } : planned;
  if (runPlan.answerKind !== 'code') {
    throw new Error(`${row.task_id}: planned as ${runPlan.answerKind}`);
  }
  const prices = priceLookup({ baseUrl: server.url });
  const ledger = new MemorySpendLedger();
  const caller = meteredCallers({ runId, ledger, tokens })({ id: MODEL, provider, prices }, runPlan.caps);
  const chainAttempts: number[] = [];
  const answers: Array<{ attempt?: number; tokens: number; answer: string }> = [];
  const listener = (event: RunEvent) => {
    if (event.type === 'attempt-started' && event.purpose === 'attempt') {
      chainAttempts.push(event.attempt);
    } else if (event.type === 'answer') {
      answers.push({ attempt: event.attempt, tokens: event.tokensSoFar, answer: event.answer });
    }
  };
  const engine = createRunEngine(runPlan, () => caller, listener, strategyCase.make ? { strategy: strategyCase.make() } : {});
  const outcome = await engine.start();
  if (outcome.reason === 'error') {
    throw new Error(`${row.task_id} ${strategyCase.name}: ${outcome.message}`);
  }
  // Which recorded sample each chain was: the server says, in the order the chains were asked for.
  const served = server.responses.filter((r) => r.kind === 'recorded').flatMap((r) => r.chainIndexes ?? []);
  const expected = order(rotation, row.completions.length, served.length);
  if (served.join() !== expected.join()) {
    throw new Error(`${row.task_id} rotation ${rotation}: expected samples ${expected.join(',')}, the server served ${served.join(',')}`);
  }
  const sampleOf = (attempt: number | undefined) => {
    const at = attempt === undefined ? -1 : chainAttempts.indexOf(attempt);
    return at >= 0 ? served[at] : undefined;
  };
  const passedAt = (attempt: number | undefined) => {
    const sample = sampleOf(attempt);
    return sample !== undefined && row.passed[sample];
  };
  const points: AnytimePoint[] = answers.map((a) => ({ tokens: a.tokens, quality: passedAt(a.attempt) ? 1 : 0 }));
  const final = answers[answers.length - 1];
  if (outcome.answer !== undefined) {
    const sample = sampleOf(final?.attempt);
    if (final?.answer !== outcome.answer || sample === undefined || sampleCode(row, sample) !== outcome.answer) {
      throw new Error(`${row.task_id} ${strategyCase.name}: the final answer does not map to a served sample`);
    }
  }
  return {
    task: row.task_id,
    rotation,
    strategy: strategyCase.name,
    passed: outcome.answer !== undefined && passedAt(final?.attempt),
    outputTokens: (await ledger.totalsForRun(runId)).completionTokens,
    chains: outcome.chains,
    anytimeIndex: runAnytimeIndex(points, outcome.tokensSpent),
    flagged: served.filter((i) => codeDefects(sampleCode(row, i), 'python', runPlan.prompt).length > 0).length,
  };
}

/** MBR over a list of sample indexes: the highest summed similarity to the others (ties: the earliest). */
function mbr(indexes: readonly number[], sim: (i: number, j: number) => number): number {
  let best = indexes[0];
  let bestScore = -Infinity;
  for (const i of indexes) {
    const score = indexes.reduce((s, j) => s + (i === j ? 0 : sim(i, j)), 0);
    if (score > bestScore + 1e-12) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}

/** The anchors and the MBR@k curves, from the data: same answers, same similarity, same token counts as the runs. */
/** Similarity bins of clean sample pairs, for the report: how often a pair of that similarity passes or fails alike. */
const PAIR_BINS = [0, 0.3, 0.7, 0.9] as const;

function anchorMeasures(
  bench: Bench, rows: HumanEvalRow[], rotations: number,
  defectStats: Map<string, { samples: number; passed: number }>, pairStats: Array<{ pairs: number; alike: number }>,
): Measure[] {
  const out: Measure[] = [];
  const count = (key: string, passed: boolean) => {
    const entry = defectStats.get(key) ?? { samples: 0, passed: 0 };
    entry.samples++;
    entry.passed += passed ? 1 : 0;
    defectStats.set(key, entry);
  };
  for (const row of rows) {
    const prompt = plan(bench, row).prompt;
    const samples = row.completions.length;
    const codes = row.completions.map((_, i) => sampleCode(row, i));
    const lengths = row.completions.map((_, i) => countTokens(sampleReply(row, i)));
    const defects = codes.map((c) => codeDefects(c, 'python', prompt));
    defects.forEach((found, i) => {
      count(found.length ? 'any defect' : 'no defect', row.passed[i]);
      found.forEach((d) => count(d, row.passed[i]));
      if (found.includes('stub') && found.includes('runaway')) {
        count('stub and runaway', row.passed[i]);
      }
    });
    const clean = defects.map((found) => found.length === 0);
    const cached = (similarity: (a: string, b: string) => number) => {
      const cache = new Map<number, number>();
      return (i: number, j: number) => {
        const key = Math.min(i, j) * samples + Math.max(i, j);
        let s = cache.get(key);
        if (s === undefined) {
          s = similarity(codes[i], codes[j]);
          cache.set(key, s);
        }
        return s;
      };
    };
    const sim = cached(similarityFor('code', prompt));
    // As first measured: the same Jaccard over the whole answer, the question's code included.
    const simWithQuestion = cached(similarityFor('code'));
    const exact = codes.map((c) => codeTokens(c).join(' '));
    const push = (rotation: number, strategy: string, picks: number[], drawn: number[]) => {
      // picks[k] = the answer shown after the (k+1)-th sample: the best-so-far curve of a run drawing them in order.
      let spent = 0;
      const points = drawn.map((s, k) => ({ tokens: (spent += lengths[s]), quality: row.passed[picks[k]] ? 1 : 0 }));
      out.push({
        task: row.task_id, rotation, strategy, passed: row.passed[picks[picks.length - 1]], outputTokens: spent,
        chains: drawn.length, anytimeIndex: runAnytimeIndex(points, spent), flagged: drawn.filter((s) => !clean[s]).length,
      });
    };
    const all = order(0, samples);
    const mbrAll = mbr(all, sim);
    // Pairs of clean samples of problems the samples split on: does similarity say they behave alike?
    if (row.passed.includes(true) && row.passed.includes(false)) {
      for (let i = 0; i < samples; i++) {
        for (let j = 0; j < i; j++) {
          if (clean[i] && clean[j]) {
            const bin = PAIR_BINS.filter((edge) => sim(i, j) >= edge).length - 1;
            pairStats[bin].pairs++;
            pairStats[bin].alike += row.passed[i] === row.passed[j] ? 1 : 0;
          }
        }
      }
    }
    for (let rotation = 0; rotation < rotations; rotation++) {
      const drawn = order(rotation, samples, MBR_K);
      const running = (choose: (sub: number[]) => number) => drawn.map((_, k) => choose(drawn.slice(0, k + 1)));
      const plain = running((sub) => mbr(sub, sim));
      const cleanPicks = running((sub) => mbr(sub.filter((s) => clean[s]).length ? sub.filter((s) => clean[s]) : sub, sim));
      for (let k = 1; k <= MBR_K; k++) {
        push(rotation, `MBR@${k}`, plain.slice(0, k), drawn.slice(0, k));
        push(rotation, `clean-MBR@${k}`, cleanPicks.slice(0, k), drawn.slice(0, k));
      }
      push(rotation, 'one-sample', [drawn[0]], [drawn[0]]);
      push(rotation, 'mbr10-whole-answer', running((sub) => mbr(sub, simWithQuestion)), drawn);
      push(rotation, 'majority-10', running((sub) => sub[tallyVotes(sub.map((s) => exact[s]))[0].first]), drawn);
      push(rotation, 'oracle-10', running((sub) => sub.find((s) => row.passed[s]) ?? sub[0]), drawn);
      out.push({
        task: row.task_id, rotation, strategy: 'mbr100', passed: row.passed[mbrAll], outputTokens: lengths.reduce((s, x) => s + x, 0),
        chains: samples, anytimeIndex: Number.NaN, flagged: clean.filter((c) => !c).length,
      });
    }
  }
  return out;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : Number.NaN);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : Number.NaN;
};

function summarize(measures: Measure[], strategies: string[], dataset: string): CodeResult[] {
  const mbr10Tokens = mean(measures.filter((m) => m.strategy === `MBR@${MBR_K}`).map((m) => m.outputTokens));
  return strategies.flatMap((strategy) => {
    const ms = measures.filter((m) => m.strategy === strategy);
    if (ms.length === 0) {
      return [];
    }
    const rotations = [...new Set(ms.map((m) => m.rotation))];
    const perRotation = rotations.map((r) => mean(ms.filter((m) => m.rotation === r).map((m) => (m.passed ? 1 : 0))));
    const tokensPerQuestion = mean(ms.map((m) => m.outputTokens));
    return [{
      dataset,
      strategy,
      passRate: mean(ms.map((m) => (m.passed ? 1 : 0))),
      tokensPerQuestion,
      medianTokensPerQuestion: median(ms.map((m) => m.outputTokens)),
      ratioToMbr10: tokensPerQuestion / mbr10Tokens,
      chainsPerQuestion: mean(ms.map((m) => m.chains)),
      anytimeIndex: mean(ms.map((m) => m.anytimeIndex)),
      passRange: [Math.min(...perRotation), Math.max(...perRotation)],
      runs: ms.length,
    }];
  });
}

/** The MBR@k curve's pass rate at a token cost, linear between its points (its last point beyond them). */
function curveAt(curve: CodeResult[], tokens: number): number {
  if (tokens <= curve[0].tokensPerQuestion) {
    return curve[0].passRate;
  }
  for (let k = 1; k < curve.length; k++) {
    const [a, b] = [curve[k - 1], curve[k]];
    if (tokens <= b.tokensPerQuestion) {
      return a.passRate + ((b.passRate - a.passRate) * (tokens - a.tokensPerQuestion)) / (b.tokensPerQuestion - a.tokensPerQuestion);
    }
  }
  return curve[curve.length - 1].passRate;
}

function verdict(results: CodeResult[]): { met: boolean; text: string } {
  const ours = results.find((r) => r.strategy === 'default');
  const mbr10 = results.find((r) => r.strategy === `MBR@${MBR_K}`);
  const curve = results.filter((r) => /^MBR@\d+$/.test(r.strategy));
  if (!ours || !mbr10) {
    return { met: false, text: 'not measured (`default` not run)' };
  }
  const atCost = curveAt(curve, ours.tokensPerQuestion);
  const above = ours.passRate > atCost + 1e-9;
  const reaches = ours.passRate >= mbr10.passRate - 1e-9;
  const cheap = ours.ratioToMbr10 <= TARGET_RATIO;
  const met = above && reaches && cheap;
  const gap = Math.round((ours.passRate - mbr10.passRate) * ours.runs);
  return {
    met,
    text: `${met ? 'MET' : 'MISSED'}: \`default\` passes ${ours.passRate.toFixed(3)} at ${(ours.ratioToMbr10 * 100).toFixed(1)}% of MBR@10's tokens `
      + `(${ours.tokensPerQuestion.toFixed(0)} vs ${mbr10.tokensPerQuestion.toFixed(0)} per question; target <= ${TARGET_RATIO * 100}%, ${cheap ? 'within' : 'over'}); `
      + `MBR@10 passes ${mbr10.passRate.toFixed(3)} (${reaches ? 'reached' : 'not reached'}: ${gap >= 0 ? '+' : ''}${gap} of ${ours.runs} runs); `
      + `the MBR@k curve at the same tokens passes ${atCost.toFixed(3)} (${above ? 'above it' : 'not above it'}).`,
  };
}

function table(results: CodeResult[]): string {
  const lines = [
    '| strategy | pass rate (min-max over rotations) | output tokens/q (median) | ratio to MBR@10 tokens | chains/q | Anytime Index |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const ai = Number.isNaN(r.anytimeIndex) ? '-' : r.anytimeIndex.toFixed(3);
    lines.push(`| ${r.strategy} | ${r.passRate.toFixed(3)} (${r.passRange[0].toFixed(3)}-${r.passRange[1].toFixed(3)}) | ${r.tokensPerQuestion.toFixed(0)} (${r.medianTokensPerQuestion.toFixed(0)}) | ${(r.ratioToMbr10 * 100).toFixed(1)}% | ${r.chainsPerQuestion.toFixed(2)} | ${ai} |`);
  }
  return lines.join('\n');
}

// ---------- SVG: pass rate vs output tokens per question ----------

const COLORS: Record<string, string> = {
  default: '#d62728', single: '#7f7f7f', 'beta-clusters': '#1f77b4', 'mbr-3': '#9467bd', 'mbr-5': '#8c564b', 'mbr-10': '#e377c2',
  'clean-mbr-3': '#17becf', 'clean-mbr-5': '#2ca02c', 'one-sample': '#000000', 'majority-10': '#000000', 'oracle-10': '#000000', 'mbr100': '#000000',
};

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function svgChart(results: CodeResult[], strategies: string[], anchors: string[], dataset: string): string {
  const width = 1000;
  const height = 580;
  const left = 80;
  const top = 70;
  const panelW = 640;
  const panelH = 440;
  const curve = results.filter((r) => /^MBR@\d+$/.test(r.strategy));
  const cleanCurve = results.filter((r) => /^clean-MBR@\d+$/.test(r.strategy));
  const points = results.filter((r) => strategies.includes(r.strategy) || anchors.includes(r.strategy));
  const shown = [...curve, ...cleanCurve, ...points];
  const xMin = Math.min(...shown.map((r) => r.tokensPerQuestion)) / 1.2;
  const xMax = Math.max(...shown.map((r) => r.tokensPerQuestion)) * 1.2;
  const yMin = Math.max(0, Math.floor((Math.min(...shown.map((r) => r.passRate)) - 0.02) * 20) / 20);
  const yMax = Math.min(1, Math.ceil((Math.max(...shown.map((r) => r.passRate)) + 0.02) * 20) / 20);
  const xAt = (x: number) => left + ((Math.log(x) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin))) * panelW;
  const yAt = (y: number) => top + panelH - ((y - yMin) / (yMax - yMin)) * panelH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Liberation Sans, Arial, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="17" font-weight="bold">Code strategies on recorded HumanEval samples (CodeGen-16B, ${escapeXml(dataset)})</text>`,
    `<text x="${width / 2}" y="44" text-anchor="middle" font-size="12" fill="#444">pass rate of the chosen answer vs output tokens per question, mean of ${ROTATIONS} sample rotations; shaded: the target zone</text>`,
  ];
  const mbr10 = curve[curve.length - 1];
  if (mbr10) {
    const xHalf = xAt(mbr10.tokensPerQuestion * TARGET_RATIO);
    const yAcc = yAt(mbr10.passRate);
    parts.push(`<rect x="${left}" y="${top}" width="${xHalf - left}" height="${yAcc - top}" fill="#2ca02c" fill-opacity="0.10"/>`);
    parts.push(`<line x1="${left}" x2="${left + panelW}" y1="${yAcc}" y2="${yAcc}" stroke="#000" stroke-dasharray="5,4" stroke-opacity="0.5"/>`);
    parts.push(`<line x1="${xHalf}" x2="${xHalf}" y1="${top}" y2="${top + panelH}" stroke="#2ca02c" stroke-dasharray="5,4"/>`);
    parts.push(`<text x="${xHalf + 4}" y="${top + panelH - 6}" font-size="11" fill="#2ca02c">50% of MBR@10 tokens</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${panelW}" height="${panelH}" fill="none" stroke="#333"/>`);
  for (const t of [100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000, 20000].filter((t) => t >= xMin && t <= xMax)) {
    const x = xAt(t);
    parts.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${top + panelH}" stroke="#ddd"/>`);
    parts.push(`<text x="${x}" y="${top + panelH + 18}" text-anchor="middle">${t}</text>`);
  }
  for (let y = yMin; y <= yMax + 1e-9; y += 0.05) {
    parts.push(`<line x1="${left}" x2="${left + panelW}" y1="${yAt(y)}" y2="${yAt(y)}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 8}" y="${yAt(y) + 4}" text-anchor="end">${y.toFixed(2)}</text>`);
  }
  parts.push(`<text x="${left + panelW / 2}" y="${top + panelH + 40}" text-anchor="middle">output tokens per question (log scale)</text>`);
  parts.push(`<text transform="translate(${left - 50},${top + panelH / 2}) rotate(-90)" text-anchor="middle">pass rate</text>`);
  const polyline = (c: CodeResult[], color: string, dash: string) => {
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}" ` : ''}points="${c.map((r) => `${xAt(r.tokensPerQuestion).toFixed(1)},${yAt(r.passRate).toFixed(1)}`).join(' ')}"/>`);
    for (const r of c) {
      parts.push(`<circle cx="${xAt(r.tokensPerQuestion)}" cy="${yAt(r.passRate)}" r="3" fill="${color}"><title>${escapeXml(`${r.strategy}: ${r.passRate.toFixed(3)} at ${r.tokensPerQuestion.toFixed(0)} tokens`)}</title></circle>`);
    }
  };
  polyline(curve, '#555', '');
  polyline(cleanCurve, '#2ca02c', '6,4');
  curve.forEach((r, k) => {
    if (k === 0 || k === 4) {
      parts.push(`<text x="${xAt(r.tokensPerQuestion) + 5}" y="${yAt(r.passRate) + 16}" font-size="11" fill="#555">${r.strategy}</text>`);
    } else if (k === curve.length - 1) {
      parts.push(`<text x="${xAt(r.tokensPerQuestion) - 6}" y="${yAt(r.passRate) - 6}" font-size="11" fill="#555" text-anchor="end">${r.strategy}</text>`);
    }
  });
  const marker = (strategy: string, x: number, y: number, title?: string) => {
    const color = COLORS[strategy] ?? '#333';
    const tip = title ? `<title>${escapeXml(title)}</title>` : '';
    if (anchors.includes(strategy)) {
      return `<rect x="${x - 5}" y="${y - 5}" width="10" height="10" fill="#fff" stroke="${color}" stroke-width="2">${tip}</rect>`;
    }
    if (strategy.startsWith('default-')) {
      return `<circle cx="${x}" cy="${y}" r="5" fill="#fff" stroke="${COLORS.default}" stroke-width="2">${tip}</circle>`;
    }
    return `<circle cx="${x}" cy="${y}" r="${strategy === 'default' ? 8 : 6}" fill="${color}" fill-opacity="0.85" stroke="#fff">${tip}</circle>`;
  };
  for (const r of points) {
    const x = xAt(r.tokensPerQuestion);
    const y = yAt(r.passRate);
    parts.push(marker(r.strategy, x, y, `${r.strategy}: ${r.passRate.toFixed(3)} at ${r.tokensPerQuestion.toFixed(0)} tokens`));
    if (anchors.includes(r.strategy)) {
      const nearRight = x > left + panelW - 80;
      parts.push(`<text x="${nearRight ? x - 8 : x + 8}" y="${y - 8}" font-size="11"${nearRight ? ' text-anchor="end"' : ''}>${escapeXml(r.strategy)}</text>`);
    }
  }
  // Legend on the right: the curves, then the strategies run through the stack.
  const lx = left + panelW + 30;
  let ly = top + 10;
  parts.push(`<line x1="${lx - 8}" x2="${lx + 8}" y1="${ly}" y2="${ly}" stroke="#555" stroke-width="2"/><text x="${lx + 14}" y="${ly + 4}">MBR@k (k = 1..10), from the data</text>`);
  ly += 22;
  parts.push(`<line x1="${lx - 8}" x2="${lx + 8}" y1="${ly}" y2="${ly}" stroke="#2ca02c" stroke-width="2" stroke-dasharray="6,4"/><text x="${lx + 14}" y="${ly + 4}">MBR@k over clean answers</text>`);
  ly += 22;
  parts.push(`${marker('one-sample', lx, ly)}<text x="${lx + 14}" y="${ly + 4}">anchors, from the data</text>`);
  for (const s of strategies.filter((name) => !name.startsWith('default-') || name === 'default-2of4')) {
    ly += 22;
    if (s === 'default-2of4') {
      parts.push(`${marker(s, lx, ly)}<text x="${lx + 14}" y="${ly + 4}">default, one tunable moved</text>`);
      continue;
    }
    parts.push(`${marker(s, lx, ly)}<text x="${lx + 14}" y="${ly + 4}">${escapeXml(s)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const rows = loadHumanEval(options.data).slice(0, options.problems);
  const cases = strategyCases(options.params).filter((c) => !options.strategies || options.strategies.includes(c.name));
  const tokens = new TokenCounter();
  const replay = new CodeReplay(options.data);
  const server = await startModelServer({ tokensPerSecond: 0, codeReplay: replay });
  const bench: Bench = {
    server, replay, tokens,
    provider: new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 }),
    estimator: new LocalBudgetEstimator({ countTokens: (text) => tokens.countText(text, 'gpt-4o').tokens }),
  };
  const defectStats = new Map<string, { samples: number; passed: number }>();
  const pairStats = PAIR_BINS.map(() => ({ pairs: 0, alike: 0 }));
  const measures: Measure[] = anchorMeasures(bench, rows, options.rotations, defectStats, pairStats);
  let calls = 0;
  try {
    for (const strategyCase of cases) {
      const t0 = performance.now();
      for (let rotation = 0; rotation < options.rotations; rotation++) {
        for (const row of rows) {
          measures.push(await runProblem(bench, row, rotation, strategyCase, `${strategyCase.name}-${rotation}-${row.task_id}`));
          calls += server.responses.length;
        }
      }
      console.error(`${strategyCase.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await server.close();
  }
  const anchors = ['one-sample', 'majority-10', 'mbr10-whole-answer', 'oracle-10', 'mbr100'];
  const curveNames = Array.from({ length: MBR_K }, (_, k) => `MBR@${k + 1}`);
  const cleanNames = Array.from({ length: MBR_K }, (_, k) => `clean-MBR@${k + 1}`);
  const strategies = cases.map((c) => c.name);
  const results = summarize(measures, [...strategies, ...anchors, ...curveNames, ...cleanNames], options.dataset);
  // The curve's last point is the `mbr10` anchor; it is listed under that name too.
  const mbr10Point = results.find((r) => r.strategy === `MBR@${MBR_K}`);
  if (mbr10Point) {
    results.splice(results.findIndex((r) => r.strategy === 'mbr10-whole-answer'), 0, { ...mbr10Point, strategy: 'mbr10' });
  }
  const v = verdict(results);
  const main = results.filter((r) => strategies.includes(r.strategy) || anchors.includes(r.strategy) || r.strategy === 'mbr10');
  console.log(table(main));
  console.log(`\n${table(results.filter((r) => curveNames.includes(r.strategy) || cleanNames.includes(r.strategy)))}`);
  console.log(`\n${defectTable(defectStats)}\n\n${v.text}`);
  const wallSeconds = (performance.now() - started) / 1000;
  console.log(`\n${calls} model calls through the real stack, wall time ${wallSeconds.toFixed(1)} s`);
  if (options.dump) {
    writeFileSync(options.dump, JSON.stringify(measures));
  }
  if (!options.write) {
    return;
  }
  const base = options.data === path.resolve(defaultCodeDataFile) ? 'code' : `code-${options.dataset}`;
  const out = path.join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, `${base}.md`), markdown({ options, cases, results, main, curveNames, cleanNames, verdict: v, wallSeconds, calls, rows: rows.length, defectStats, pairStats, base }));
  const json = results.map((r) => ({
    dataset: r.dataset, strategy: r.strategy, passRate: round(r.passRate, 4), tokensPerQuestion: round(r.tokensPerQuestion, 1),
    ratioToMbr10: round(r.ratioToMbr10, 4), chainsPerQuestion: round(r.chainsPerQuestion, 3), anytimeIndex: Number.isNaN(r.anytimeIndex) ? null : round(r.anytimeIndex, 4),
  }));
  writeFileSync(path.join(out, `${base}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(path.join(out, `${base}.svg`), `${svgChart(results, strategies, anchors, options.dataset)}\n`);
}

interface Report {
  options: Options;
  cases: StrategyCase[];
  results: CodeResult[];
  main: CodeResult[];
  curveNames: string[];
  cleanNames: string[];
  verdict: { met: boolean; text: string };
  wallSeconds: number;
  calls: number;
  rows: number;
  defectStats: Map<string, { samples: number; passed: number }>;
  pairStats: Array<{ pairs: number; alike: number }>;
  /** The results files' name: `code`, or `code-<dataset>` for another data file. */
  base: string;
}

/** A data file as the report names it: repo-relative inside the repository, else by its name only (no machine's paths). */
function shownPath(file: string): string {
  const relative = path.relative(path.join(__dirname, '..'), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? path.basename(file) : relative;
}

function defectTable(stats: Map<string, { samples: number; passed: number }>): string {
  const all = (stats.get('any defect')?.samples ?? 0) + (stats.get('no defect')?.samples ?? 0);
  const lines = ['| answers | samples | share | pass rate |', '|---|---|---|---|'];
  const keys = ['no defect', 'any defect', ...[...stats.keys()].filter((k) => !['no defect', 'any defect', 'stub and runaway'].includes(k)).sort((a, b) => stats.get(b)!.samples - stats.get(a)!.samples)];
  for (const key of keys) {
    const e = stats.get(key)!;
    lines.push(`| ${key === 'no defect' || key === 'any defect' ? key : `\`${key}\``} | ${e.samples} | ${((e.samples / all) * 100).toFixed(1)}% | ${(e.passed / e.samples).toFixed(3)} |`);
  }
  return lines.join('\n');
}

function pairTable(stats: Array<{ pairs: number; alike: number }>): string {
  const lines = ['| similarity of two clean samples | pairs | both pass or both fail |', '|---|---|---|'];
  stats.forEach((bin, k) => {
    const range = k + 1 < PAIR_BINS.length ? `${PAIR_BINS[k]}-${PAIR_BINS[k + 1]}` : `>= ${PAIR_BINS[k]}`;
    lines.push(`| ${range} | ${bin.pairs} | ${bin.pairs ? ((bin.alike / bin.pairs) * 100).toFixed(1) : '-'}% |`);
  });
  return lines.join('\n');
}

function markdown(r: Report): string {
  const date = new Date().toISOString().slice(0, 10);
  const data = shownPath(r.options.data);
  const get = (name: string) => r.results.find((x) => x.strategy === name);
  const fmt = (name: string) => {
    const x = get(name);
    return x ? `${x.passRate.toFixed(3)} at ${(x.ratioToMbr10 * 100).toFixed(0)}% of the tokens` : '-';
  };
  const clean = r.defectStats.get('no defect');
  const flagged = r.defectStats.get('any defect');
  const rate = (e?: { samples: number; passed: number }) => (e ? `${((e.passed / e.samples) * 100).toFixed(1)}%` : '-');
  const stubs = r.defectStats.get('stub');
  const stubsRanOn = r.defectStats.get('stub and runaway');
  const share = clean && flagged ? `${((flagged.samples / (clean.samples + flagged.samples)) * 100).toFixed(0)}%` : '-';
  return [
    '# Code strategies on recorded HumanEval samples',
    '',
    `Produced by \`bench/code.ts\` (\`npm run bench:code -- --data ${data}\`) on ${date}, wall time ${r.wallSeconds.toFixed(0)} s on ${os.cpus().length} cores, ${r.calls} model calls; dataset \`${r.options.dataset}\`, ${r.rows} problems x ${r.options.rotations} rotations.`,
    '',
    '## Target',
    '',
    'The default code strategy lies above the MBR@k curve (at its own token cost it passes more often than similarity MBR over as many samples) and reaches MBR@10\'s pass rate at no more than 50% of MBR@10\'s tokens.',
    '',
    `- **${r.verdict.text}**`,
    '',
    '## Results',
    '',
    table(r.main),
    '',
    'Through the stack: ' + r.cases.map((c) => `\`${c.name}\` = ${c.description}`).join('; ') + '.',
    '',
    'From the data: `one-sample` = the rotation\'s first sample (pass@1); `majority-10` = exact-match majority of 10 after normalisation (`codeTokens`: comments and spacing dropped, local names canonicalised; ties to the first seen); `mbr10` (the MBR@10 point of the curve) = similarity MBR over the rotation\'s first 10 samples with the product\'s similarity; `mbr10-whole-answer` = the same with the question\'s code left in the comparison (token-trigram Jaccard over the whole answer, as first measured); `mbr100` = MBR over all 100 samples; `oracle-10` = any of the 10 passes.',
    '',
    `![pass rate vs tokens](${r.base}.svg)`,
    '',
    '## Why the default works: broken answers are visible in their text',
    '',
    `Lexical agreement alone falls short with a weak model: MBR needs many samples before the right program is the most typical one (${fmt('MBR@5')} for MBR@5, ${fmt('MBR@10')} for MBR@10), and stopping on agreement rarely fires (\`default-no-agree\`, which never stops on it, passes ${fmt('default-no-agree')}, against \`default\`'s ${fmt('default')}). Below near copies, two samples' similarity says less than it seems about whether they behave alike (pairs of clean samples of the problems whose samples both pass and fail):`,
    '',
    pairTable(r.pairStats),
    '',
    `What a live run does see is that many samples are broken in ways their text shows: ${share} of the samples have a defect (\`codeDefects\`, src/core/reasoning/codeChecks.ts), and ${rate(flagged)} of those pass, against ${rate(clean)} of the clean ones:`,
    '',
    defectTable(r.defectStats),
    '',
    `(A sample may show several defects; \`no defect\` and \`any defect\` split all ${(clean?.samples ?? 0) + (flagged?.samples ?? 0)}. \`runaway\`: a run of one character of 120 or more, the model stuck in a loop until its 300-token limit; \`stub\`: a body that is only its docstring, \`pass\` or the like (${stubsRanOn?.samples ?? 0} of the ${stubs?.samples ?? 0} are samples that ran on in a comment); \`undefined-name\`: a call of a helper nobody wrote (\`is_prime\`) or a module never imported (\`hashlib\`, \`re\`, \`math\`); the question's own words count as defined.)`,
    '',
    `So the default sets flagged answers aside and picks by MBR among the clean ones (\`clean-MBR@k\` below is that selection at a fixed k: ${fmt('clean-MBR@3')} for 3 samples, ${fmt('clean-MBR@5')} for 5). Its stopping rule then spends samples where they help: two clean answers that agree (similarity >= ${CODE_DEFAULTS.agree}) or ${CODE_DEFAULTS.maxClean} clean answers end the run, and no run draws more than ${CODE_DEFAULTS.maxChains} chains, so a problem whose samples keep breaking costs at most ${CODE_DEFAULTS.maxChains} chains. Comparing answers on what they add to the question's code (the body, not the repeated signature and docstring) also lifts plain MBR: \`mbr10-whole-answer\` ${fmt('mbr10-whole-answer')} vs \`MBR@10\` ${fmt('MBR@10')}; the target is measured against the stronger of the two, the product's.`,
    '',
    '## MBR@k curves (from the data)',
    '',
    table(r.results.filter((x) => r.curveNames.includes(x.strategy) || r.cleanNames.includes(x.strategy))),
    '',
    '`clean-MBR@k` is MBR@k over the answers without defects (all of them when none is clean): the default\'s selection with k fixed.',
    '',
    '## Tuning',
    '',
    `CODE_DEFAULTS (src/core/reasoning/codeConsensus.ts) were chosen on the tune file (bench/data/humaneval-codegen) only: ${JSON.stringify(CODE_DEFAULTS)}. The \`default-*\` rows move one tunable each (try others with \`--params='{...}'\`, which prints only): stopping at 2 clean answers (at most 4 chains) passes ${fmt('default-2of4')}, at 4 (at most 6 chains) ${fmt('default-4of6')}; the far-apart stop (\`apart\` 0.1) passes ${fmt('default-apart')}, on the same frontier, so it is off; without the stop on agreement, ${fmt('default-no-agree')}. They were picked for a margin on both sides of the target on the tune file; the held-out half is measured with the same command on its own file.`,
    '',
    '## How it was measured',
    '',
    `- Data: \`${data}\` (see bench/data/README.md): per problem 100 CodeGen-16B completions, each labelled by HumanEval's tests. The tune file holds the even task ids; the odd ones are held out and not in this repository; nothing was tuned on them.`,
    `- Every call goes through the product's stack: \`planRun\` (question "${CODE_QUESTION}" with the problem's prompt as the selected code, answer kind \`code\`, local estimator, the auto run budget as the only cap) -> \`createRunEngine\` -> \`meteredCallers\` (in-memory ledger, o200k counter) -> \`OpenAICompatibleProvider\` (openai SDK, streaming) -> the loopback server's \`${MODEL}\` model (tools/codeReplay.ts), which answers with one sentence and the whole function (prompt + recorded completion) in a python block.`,
    '- Run budget: the plan\'s (`AUTO_CHAINS` x (chain budget + prompt) billed tokens, enforced by the metered caller); the fixed-k rows (`mbr-*`, `clean-mbr-*`) run without it, so that every run draws its k chains.',
    `- Rotations: rotation r (r = 0..${r.options.rotations - 1}) serves samples 10r, 10r+1, ... (cyclic) in that order, so the first 10 samples of the 10 rotations are all 100 samples once. Every strategy and every anchor sees the same samples in the same order; the bench checks the server's chainIndexes against that order and maps the chosen answer to its sample's \`passed\` label.`,
    '- Output tokens/q: completion tokens of every call as the server counts them (o200k); the anchors count the same replies. Ratio to MBR@10 tokens: tokens/q over MBR@10\'s. The median is over runs. Timings are reported, never asserted.',
    '- Anytime Index: `runAnytimeIndex` (src/core/reasoning/anytimeIndex.ts) on the correctness curve: from (0 tokens, 0) through every answer the run showed (1 when that answer passes) to its end; for the anchors, the answer after each sample in order. A run whose only answer comes at its end scores half its pass rate.',
    '- Similarity: the product\'s (`similarityFor(\'code\', question)`, src/core/reasoning/similarity.ts): token-trigram Jaccard after normalisation, without the trigrams of the question\'s own code. Defects: `codeDefects`, from the text only. Labels are used only to score the chosen answer; no strategy sees them.',
    '',
  ].join('\n');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

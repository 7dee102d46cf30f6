/**
 * A model cascade under a budget on real recorded GSM8K solutions of four GPT-3 models (6B and 175B,
 * fine-tuned and verifier-selected), through the real stack: CascadeRun / ReasoningRun ->
 * MeteredCaller -> OpenAICompatibleProvider (openai SDK, SSE) -> the loopback model server.
 * Writes bench/results/cascade.{md,json}. Run: npx tsx bench/cascade.ts
 *
 * Method: (1) every single model answers every question through the real stack (the always-X
 * policies); (2) the cascade's parameters are tuned on the tune split (GSM8K 0-799) by replaying the
 * calls recorded in (1) in process (a pure state machine fed recorded results); (3) the tuned
 * cascade runs through the real stack on both splits, and the replay's prediction is checked against it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startModelServer } from '../tools/modelServer';
import { gsmSplit, loadGsmSolutions } from '../tools/recordedData';
import { LocalBudgetEstimator } from '../src/core/budget/localEstimator';
import { MemorySpendLedger } from '../src/core/ledger/spendLedger';
import type { CallPurpose } from '../src/core/ledger/spendRecord';
import type { ChatMessage } from '../src/core/providers/chatProvider';
import { OpenAICompatibleProvider } from '../src/core/providers/openaiProvider';
import { answersEqual } from '../src/core/reasoning/answers';
import { CascadeRun } from '../src/core/reasoning/cascade';
import type { CascadeOutcome } from '../src/core/reasoning/cascade';
import type { CallResult, CallSpec, ModelCaller } from '../src/core/budget/modelCaller';
import { defaultSettings } from '../src/core/config';
import { ReasoningRun } from '../src/core/reasoning/reasoningRun';
import { meteredCallers } from '../src/core/run/callers';
import { AUTO_CHAINS, planRun } from '../src/core/run/plan';
import { SingleChainStrategy } from '../src/core/reasoning/strategies';
import type { ModelPrice, TokenPrice } from '../src/core/tokens/prices';
import { TokenCounter } from '../src/core/tokens/tokenCounter';

/** Replay model ids (tools/modelServer.ts replayModels) and prices in the ratio of the model sizes. */
const MODELS = {
  '6b-ft': { id: 'gpt3-6b-finetuning', price: 0.06 },
  '6b-ver': { id: 'gpt3-6b-verification', price: 0.06 },
  '175b-ft': { id: 'gpt3-175b-finetuning', price: 1.75 },
  '175b-ver': { id: 'gpt3-175b-verification', price: 1.75 },
} as const;
type ModelKey = keyof typeof MODELS;
const MODEL_KEYS = Object.keys(MODELS) as ModelKey[];
const priceOfKey = (k: ModelKey): TokenPrice => ({ input: MODELS[k].price, cachedInput: MODELS[k].price, output: MODELS[k].price });
const keyOfId = (id: string) => MODEL_KEYS.find((k) => MODELS[k].id === id)!;
const STRONGEST: ModelKey = '175b-ver';

/** Ladders tried on the tune split, cheapest first. The two 6B models are the same price: the second is the cheap tier's "second sample". */
const LADDERS: Record<string, ModelKey[]> = {
  '6b-ver → 175b-ver': ['6b-ver', '175b-ver'],
  '6b-ft → 6b-ver → 175b-ver': ['6b-ft', '6b-ver', '175b-ver'],
  '6b-ver → 6b-ft → 175b-ver': ['6b-ver', '6b-ft', '175b-ver'],
  '6b-ft → 6b-ver → 175b-ver → 175b-ft': ['6b-ft', '6b-ver', '175b-ver', '175b-ft'],
  '6b-ver → 6b-ft → 175b-ver → 175b-ft': ['6b-ver', '6b-ft', '175b-ver', '175b-ft'],
  '6b-ft → 6b-ver → 175b-ft → 175b-ver': ['6b-ft', '6b-ver', '175b-ft', '175b-ver'],
};
const THRESHOLDS = [0.7, 0.76, 0.8, 0.85, 0.9, 0.95];
const WEIGHTS = [0.25, 0.5, 0.75, 1];

interface Row {
  index: number;
  split: 'tune' | 'heldout';
  question: string;
  gold: string;
  chainTokens: number;
  budgetDollars: number;
}

interface CascadeConfig {
  ladder: string;
  threshold: number;
  weight: number;
}

interface Measure {
  index: number;
  split: 'tune' | 'heldout';
  policy: string;
  correct: boolean;
  answered: boolean;
  dollars: number;
  outputTokens: number;
  billedTokens: number;
  calls: number;
  /** Whether a 175B model was called. */
  usedStrong: boolean;
  /** The model whose chain the final answer came from. */
  answeredBy?: string;
  budgetDollars: number;
}

/** One call as the real stack made it, for in-process replay. */
interface RecordedCall {
  purpose: CallPurpose;
  maxTokens: number;
  result: CallResult;
}

/** Records what the real stack answered, keyed by question and model. */
class RecordingCaller implements ModelCaller {
  readonly model: string;
  constructor(private readonly inner: ModelCaller, private readonly log: RecordedCall[]) {
    this.model = inner.model;
  }

  async call(spec: CallSpec, purpose: CallPurpose, signal: AbortSignal, onDelta?: (choice: number, text: string) => void): Promise<CallResult> {
    const result = await this.inner.call(spec, purpose, signal, onDelta);
    this.log.push({ purpose, maxTokens: spec.maxTokens, result });
    return result;
  }

  room(messages: ChatMessage[]): Promise<number> {
    return this.inner.room(messages);
  }
}

class ReplayMismatch extends Error {}

/**
 * Serves a model's recorded calls again, in order. Valid only while the grant would not change the
 * reply: a chain that finished is served to any max_tokens that holds it, a cut one only to the same max_tokens.
 */
class ReplayCaller implements ModelCaller {
  private next = 0;
  constructor(readonly model: string, private readonly calls: readonly RecordedCall[]) {}

  async call(spec: CallSpec, purpose: CallPurpose): Promise<CallResult> {
    const recorded = this.calls[this.next++];
    const finished = recorded?.result.choices.every((c) => c.finishReason !== 'length');
    if (!recorded || recorded.purpose !== purpose || (finished ? spec.maxTokens < recorded.result.usage.completionTokens : spec.maxTokens !== recorded.maxTokens)) {
      throw new ReplayMismatch(`${this.model}: call ${this.next} not replayable`);
    }
    return recorded.result;
  }

  async room(): Promise<number> {
    return Number.POSITIVE_INFINITY;
  }
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : Number.NaN);

function loadRows(tokens: TokenCounter, estimator: LocalBudgetEstimator): Row[] {
  return loadGsmSolutions().map((r, index) => {
    // The product's plan of a cascade over the four models: its chain budget and its dollars.
    const planned = planRun({
      question: r.question,
      settings: { ...defaultSettings, requestCapUsd: 0, dailyCapUsd: 0, dailyTokenCap: 0, confirmAboveUsd: 0, estimator: 'local', strategy: 'cascade' },
      models: MODEL_KEYS.map((k) => ({ id: MODELS[k].id, price: { ...priceOfKey(k), matched: MODELS[k].id, source: 'override' }, contextWindow: undefined, billsInDollars: true })),
      tokens,
      estimate: (q) => estimator.estimate(q),
      learnedRuns: estimator.learnedRuns,
    });
    if (!planned.ok || planned.plan.engine.kind !== 'cascade') {
      throw new Error(`gsm8k:${index}: ${planned.ok ? 'not a cascade plan' : planned.refusal.message}`);
    }
    const { chainTokens } = planned.plan;
    return {
      index,
      split: gsmSplit(index),
      question: r.question,
      gold: /A:\s*(.+?)\s*$/.exec(r.ground_truth)?.[1] ?? '',
      chainTokens,
      budgetDollars: planned.plan.engine.totalDollars,
    };
  });
}

function cascadeMeasure(row: Row, policy: string, outcome: CascadeOutcome, totals: { tokens: number; completionTokens: number }, calls: number, dollars = outcome.dollarsSpent): Measure {
  return {
    index: row.index, split: row.split, policy,
    correct: answersEqual(outcome.answer, row.gold), answered: outcome.answer !== undefined,
    dollars, outputTokens: totals.completionTokens, billedTokens: totals.tokens, calls,
    usedStrong: outcome.tiers.some((t) => t.model.startsWith('175b') && t.chains > 0),
    ...(outcome.model ? { answeredBy: outcome.model } : {}),
    budgetDollars: row.budgetDollars,
  };
}

function cascadeTiers(ladder: ModelKey[], callerOf: (k: ModelKey) => ModelCaller) {
  return ladder.map((k) => ({ caller: callerOf(k), name: k, price: priceOfKey(k), strategy: () => new SingleChainStrategy() }));
}

function configName(c: CascadeConfig): string {
  return `cascade ${c.ladder} (threshold ${c.threshold}, carried weight ${c.weight})`;
}

interface Summary {
  split: 'tune' | 'heldout';
  policy: string;
  accuracy: number;
  dollarsPerQuestion: number;
  ratioToStrong: number;
  outputTokensPerQuestion: number;
  billedTokensPerQuestion: number;
  callsPerQuestion: number;
  usedStrong: number;
  unanswered: number;
  maxBudgetUsed: number;
  questions: number;
}

function summarize(measures: Measure[], policies: string[], splits: Array<'tune' | 'heldout'>): Summary[] {
  const out: Summary[] = [];
  for (const split of splits) {
    const inSplit = measures.filter((m) => m.split === split);
    const strongDollars = mean(inSplit.filter((m) => m.policy === `always ${STRONGEST}`).map((m) => m.dollars));
    for (const policy of policies) {
      const ms = inSplit.filter((m) => m.policy === policy);
      if (!ms.length) {
        continue;
      }
      const dollars = mean(ms.map((m) => m.dollars));
      out.push({
        split, policy,
        accuracy: mean(ms.map((m) => (m.correct ? 1 : 0))),
        dollarsPerQuestion: dollars,
        ratioToStrong: dollars / strongDollars,
        outputTokensPerQuestion: mean(ms.map((m) => m.outputTokens)),
        billedTokensPerQuestion: mean(ms.map((m) => m.billedTokens)),
        callsPerQuestion: mean(ms.map((m) => m.calls)),
        usedStrong: mean(ms.map((m) => (m.usedStrong ? 1 : 0))),
        unanswered: mean(ms.map((m) => (m.answered ? 0 : 1))),
        maxBudgetUsed: Math.max(...ms.map((m) => m.dollars / m.budgetDollars)),
        questions: ms.length,
      });
    }
  }
  return out;
}

const usd = (x: number) => `$${(x * 1e6).toFixed(2)}`;

function table(summaries: Summary[]): string {
  const lines = [
    '| split | policy | accuracy | $ per 1M questions | cost vs always-strong | output tokens/q | billed tokens/q | calls/q | reached 175B | no answer | max share of budget spent |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of summaries) {
    lines.push(`| ${s.split} (${s.questions} q) | ${s.policy} | ${s.accuracy.toFixed(3)} | ${usd(s.dollarsPerQuestion)} | ${(s.ratioToStrong * 100).toFixed(1)}% | ${s.outputTokensPerQuestion.toFixed(0)} | ${s.billedTokensPerQuestion.toFixed(0)} | ${s.callsPerQuestion.toFixed(2)} | ${(s.usedStrong * 100).toFixed(1)}% | ${(s.unanswered * 100).toFixed(1)}% | ${(s.maxBudgetUsed * 100).toFixed(1)}% |`);
  }
  return lines.join('\n');
}

interface GridPoint extends CascadeConfig {
  accuracy: number;
  dollarsPerQuestion: number;
  ratioToStrong: number;
  mismatches: number;
}

/** Cheapest config at least as accurate as always-strong on the tune split; else the most accurate. */
function pickConfig(grid: GridPoint[], strongAccuracy: number): GridPoint {
  const valid = grid.filter((g) => g.mismatches === 0);
  const good = valid.filter((g) => g.accuracy >= strongAccuracy - 1e-12).sort((a, b) => a.dollarsPerQuestion - b.dollarsPerQuestion || b.accuracy - a.accuracy);
  return good[0] ?? [...valid].sort((a, b) => b.accuracy - a.accuracy || a.dollarsPerQuestion - b.dollarsPerQuestion)[0];
}

/** The configs no other config beats on both accuracy and cost (tune split). */
function paretoFront(grid: GridPoint[]): GridPoint[] {
  const sorted = [...grid].filter((g) => g.mismatches === 0).sort((a, b) => a.dollarsPerQuestion - b.dollarsPerQuestion || b.accuracy - a.accuracy);
  const front: GridPoint[] = [];
  for (const g of sorted) {
    if (!front.length || g.accuracy > front[front.length - 1].accuracy + 1e-12) {
      front.push(g);
    }
  }
  return front;
}

async function main(): Promise<void> {
  const started = performance.now();
  const tokens = new TokenCounter();
  const estimator = new LocalBudgetEstimator({ countTokens: (text) => tokens.countText(text, 'gpt-4o').tokens });
  const rows = loadRows(tokens, estimator);
  let server = await startModelServer({ tokensPerSecond: 0 });
  let provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 });
  // The loopback endpoint would price at $0 (local); the benchmark's own prices stand in for a paid API.
  const prices = (model: string): ModelPrice | undefined => {
    const k = keyOfId(model);
    return k ? { ...priceOfKey(k), matched: model, source: 'override' } : undefined;
  };
  const promptCounts = new Map<string, number>();
  const countPromptTokens = (messages: ChatMessage[], model: string) => {
    const key = `${model}\u0000${messages.map((m) => `${m.role}\u0000${m.content}`).join('\u0001')}`;
    let n = promptCounts.get(key);
    if (n === undefined) {
      n = tokens.countChatPrompt(messages, model).tokens;
      promptCounts.set(key, n);
    }
    return n;
  };
  let runs = 0;
  const stack = (row: Row) => {
    server.reset();
    const ledger = new MemorySpendLedger();
    const runId = `cascade-bench-${runs++}`;
    const callers = meteredCallers({ runId, ledger, tokens });
    const callerOf = (k: ModelKey) => callers({ id: MODELS[k].id, provider, prices }, { requestDollars: row.budgetDollars });
    return { ledger, runId, callerOf };
  };

  const measures: Measure[] = [];
  const recorded = new Map<string, RecordedCall[]>();
  const recordKey = (row: Row, k: ModelKey) => `${row.index}|${k}`;
  let calls = 0;
  try {
    // (1) Always one model: a single chain on that model with the whole budget, as ReasoningRun runs it.
    for (const k of MODEL_KEYS) {
      const t0 = performance.now();
      for (const row of rows) {
        const { ledger, runId, callerOf } = stack(row);
        const log: RecordedCall[] = [];
        recorded.set(recordKey(row, k), log);
        const caller = new RecordingCaller(callerOf(k), log);
        const run = new ReasoningRun(caller, {
          question: row.question,
          strategy: new SingleChainStrategy(),
          budget: { chainTokens: row.chainTokens, totalTokens: Math.floor((row.budgetDollars * 1e6) / MODELS[k].price), source: 'local' },
        });
        const outcome = await run.start();
        if (outcome.reason === 'error') {
          throw new Error(`gsm8k:${row.index} ${k}: ${outcome.message}`);
        }
        const totals = await ledger.totalsForRun(runId);
        calls += log.length;
        measures.push({
          index: row.index, split: row.split, policy: `always ${k}`,
          correct: answersEqual(outcome.answer, row.gold), answered: outcome.answer !== undefined,
          dollars: totals.dollars, outputTokens: totals.completionTokens, billedTokens: totals.tokens, calls: log.length,
          usedStrong: k.startsWith('175b'), answeredBy: k, budgetDollars: row.budgetDollars,
        });
      }
      console.error(`always ${k}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }

    // (2) Tune on the tune split only, replaying the recorded calls in process.
    const t1 = performance.now();
    const tuneRows = rows.filter((r) => r.split === 'tune');
    const strongTune = mean(measures.filter((m) => m.split === 'tune' && m.policy === `always ${STRONGEST}`).map((m) => (m.correct ? 1 : 0)));
    const strongTuneDollars = mean(measures.filter((m) => m.split === 'tune' && m.policy === `always ${STRONGEST}`).map((m) => m.dollars));
    const replayCascade = async (row: Row, config: CascadeConfig) => {
      const cascade = new CascadeRun(
        cascadeTiers(LADDERS[config.ladder], (k) => new ReplayCaller(k, recorded.get(recordKey(row, k))!)),
        { question: row.question, budget: { chainTokens: row.chainTokens, totalDollars: row.budgetDollars, source: 'local' }, confidenceThreshold: config.threshold, carriedVoteWeight: config.weight, countPromptTokens },
      );
      return cascade.start();
    };
    const grid: GridPoint[] = [];
    for (const ladder of Object.keys(LADDERS)) {
      for (const threshold of THRESHOLDS) {
        for (const weight of WEIGHTS) {
          const config = { ladder, threshold, weight };
          let correct = 0;
          let dollars = 0;
          let mismatches = 0;
          for (const row of tuneRows) {
            try {
              const outcome = await replayCascade(row, config);
              correct += answersEqual(outcome.answer, row.gold) ? 1 : 0;
              dollars += outcome.dollarsSpent;
            } catch (error) {
              if (!(error instanceof ReplayMismatch)) {
                throw error;
              }
              mismatches++;
            }
          }
          grid.push({ ...config, accuracy: correct / tuneRows.length, dollarsPerQuestion: dollars / tuneRows.length, ratioToStrong: dollars / tuneRows.length / strongTuneDollars, mismatches });
        }
      }
    }
    const chosen = pickConfig(grid, strongTune);
    console.error(`tuning grid (${grid.length} configs x ${tuneRows.length} questions, replayed): ${((performance.now() - t1) / 1000).toFixed(1)} s; chosen: ${configName(chosen)}`);

    // (3) The tuned cascade through the real stack, both splits; check the replay's prediction on the tune split.
    // A fresh server and client: the keep-alive sockets of step (1) went stale while the grid ran.
    await server.close();
    server = await startModelServer({ tokensPerSecond: 0 });
    provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 });
    const t2 = performance.now();
    const policy = 'cascade (tuned)';
    let replayAgreed = 0;
    for (const row of rows) {
      const { ledger, runId, callerOf } = stack(row);
      const cascade = new CascadeRun(cascadeTiers(LADDERS[chosen.ladder], callerOf), {
        question: row.question,
        budget: { chainTokens: row.chainTokens, totalDollars: row.budgetDollars, source: 'local' },
        confidenceThreshold: chosen.threshold, carriedVoteWeight: chosen.weight, countPromptTokens,
      });
      const outcome = await cascade.start();
      if (outcome.reason === 'error') {
        throw new Error(`gsm8k:${row.index} cascade: ${outcome.message}`);
      }
      const totals = await ledger.totalsForRun(runId);
      const made = server.responses.length;
      calls += made;
      measures.push(cascadeMeasure(row, policy, outcome, totals, made, totals.dollars));
      if (row.split === 'tune') {
        const replayed = await replayCascade(row, chosen);
        replayAgreed += replayed.answer === outcome.answer && Math.abs(replayed.dollarsSpent - totals.dollars) < 1e-12 ? 1 : 0;
      }
    }
    console.error(`${policy}: ${((performance.now() - t2) / 1000).toFixed(1)} s`);

    // Where the cascade stayed cheap: its accuracy there against always-strong's on the same questions.
    const stayedCheap = (['tune', 'heldout'] as const).map((split) => {
      const cheap = measures.filter((m) => m.split === split && m.policy === policy && !m.usedStrong);
      const strongOnSame = cheap.map((c) => measures.find((m) => m.policy === `always ${STRONGEST}` && m.index === c.index)!);
      return `${split}: stayed on the 6B models for ${cheap.length} questions (${((cheap.length / measures.filter((m) => m.split === split && m.policy === policy).length) * 100).toFixed(1)}%), `
        + `accuracy there ${mean(cheap.map((m) => (m.correct ? 1 : 0))).toFixed(3)} vs always ${STRONGEST}'s ${mean(strongOnSame.map((m) => (m.correct ? 1 : 0))).toFixed(3)} on the same questions`;
    });
    const policies = [...MODEL_KEYS.map((k) => `always ${k}`), policy];
    const summaries = summarize(measures, policies, ['tune', 'heldout']);
    const wallSeconds = (performance.now() - started) / 1000;
    const front = paretoFront(grid);
    const gridTable = (points: GridPoint[]) => [
      '| ladder | threshold | carried weight | tune accuracy | tune $ per 1M q | cost vs always-strong |',
      '|---|---|---|---|---|---|',
      ...points.map((g) => `| ${g.ladder} | ${g.threshold} | ${g.weight} | ${g.accuracy.toFixed(3)} | ${usd(g.dollarsPerQuestion)} | ${(g.ratioToStrong * 100).toFixed(1)}% |`),
    ].join('\n');
    console.log(table(summaries));
    console.log(`\nChosen on the tune split: ${configName(chosen)}. Replay matched the real stack on ${replayAgreed}/${tuneRows.length} tune questions.`);
    console.log(stayedCheap.join('\n'));
    console.log(`\nTune-split Pareto front of the grid:\n${gridTable(front)}`);
    console.log(`\n${calls} model calls through the real stack, wall time ${wallSeconds.toFixed(1)} s`);

    const date = new Date().toISOString().slice(0, 10);
    const heldStrong = summaries.find((s) => s.split === 'heldout' && s.policy === `always ${STRONGEST}`)!;
    const heldCascade = summaries.find((s) => s.split === 'heldout' && s.policy === policy)!;
    const md = [
      '# Model cascade under a budget (GSM8K, four GPT-3 models)',
      '',
      `Produced by \`bench/cascade.ts\` (\`npx tsx bench/cascade.ts\`) on ${date}, wall time ${wallSeconds.toFixed(0)} s on ${os.cpus().length} cores, ${calls} model calls through the real stack.`,
      '',
      '## Result',
      '',
      `On the held-out split (GSM8K 800-1318) the tuned cascade scores ${heldCascade.accuracy.toFixed(3)} against always-175B-verification's ${heldStrong.accuracy.toFixed(3)}, at ${(heldCascade.ratioToStrong * 100).toFixed(1)}% of its dollars (${usd(heldCascade.dollarsPerQuestion)} vs ${usd(heldStrong.dollarsPerQuestion)} per million questions); it called a 175B model on ${(heldCascade.usedStrong * 100).toFixed(1)}% of the questions.`,
      '',
      table(summaries),
      '',
      ...stayedCheap.map((line) => `- ${line}.`),
      '',
      `Tuned cascade: **${configName(chosen)}**, each tier one chain (\`SingleChainStrategy\`). "always X" = one chain on model X with the whole budget (\`ReasoningRun\`). Dollars are per question, shown per million questions; "cost vs always-strong" divides by always 175b-ver's dollars on the same split. "max share of budget spent" is the largest spend/budget of any question (never above 100%).`,
      '',
      '## Method',
      '',
      '- Data: bench/data/gsm8k/example_model_solutions.jsonl, the 1319 GSM8K test problems, each with one recorded solution from four GPT-3 models (Cobbe et al. 2021): 6B and 175B, each fine-tuned (`ft`) and verifier-selected (`ver`: best of many samples by a trained verifier). The loopback server serves them as model ids `gpt3-6b-finetuning`, `gpt3-6b-verification`, `gpt3-175b-finetuning`, `gpt3-175b-verification`. Gold answer: the `A: N` of `ground_truth`, compared with `answersEqual`.',
      `- Prices in the ratio of the model sizes: 6B $${MODELS['6b-ft'].price}/1M tokens in and out, 175B $${MODELS['175b-ver'].price}/1M (hypothetical; GPT-3 was never sold at these rates). Dollars are the \`MeteredCaller\` ledger's (prompt + completion tokens at those rates, usage as the server reports it, o200k).`,
      `- Budget per question: the product's cascade plan (\`planRun\`): its run budget, ${AUTO_CHAINS} x (local estimate + prompt tokens), priced at the 175B rate, the same for every policy; passed to the run and enforced as the request dollar cap of every \`MeteredCaller\` (one ledger and run id per question, shared by the tiers).`,
      '- Samples: the replay has one recorded solution per model, and a second call to the same model replays the same text, which is no independent sample. So every tier draws one chain, and "more cheap samples" means the other model of the same size and price: the second 6B model is the cheap tier\'s second sample, the second 175B model the strong tier\'s.',
      '- Cascade rule (`CascadeRun`, src/core/reasoning/cascade.ts): tiers run cheapest first. Each tier gets a share of what is left of the budget: dollars in proportion to its price per token among the tiers still to come (each tier can afford about as many tokens as any other; a 6B tier gets 0.06/(sum of the remaining tiers\' prices) of it), billed tokens (prompts included) split evenly; its calls are clamped to that share, and what it leaves passes up. After a tier, all answers so far vote, each weighted by `carried weight`^(tiers below the strongest tier that answered); the posterior P(leader is the majority) of Beta(a+1, b+1) on the two leading weighted counts is the confidence. The cascade stops when it reaches `threshold`; else it escalates. One vote alone has posterior 0.75, two agreeing 0.875.',
      `- Tuning (tune split, GSM8K 0-799, only): ${Object.keys(LADDERS).length} ladders x thresholds {${THRESHOLDS.join(', ')}} x carried weights {${WEIGHTS.join(', ')}} = ${grid.length} configs, by replaying in process the calls the real stack made for the always-X policies (the cascade is deterministic given the replies; a call the replay could not serve identically would be flagged and the config dropped: ${grid.filter((g) => g.mismatches > 0).length} were). Choice: the cheapest config at least as accurate on the tune split as always 175b-ver (else the most accurate). The chosen config then ran through the real stack on both splits; the replay predicted the same answer and dollars on ${replayAgreed}/${tuneRows.length} tune questions. Nothing was tuned on the held-out split.`,
      '- Stack: `CascadeRun` / `ReasoningRun` -> `MeteredCaller` (in-memory ledger, o200k counter, dollar cap) -> `OpenAICompatibleProvider` (openai SDK, streaming SSE) -> tools/modelServer.ts at full speed (tokensPerSecond 0), server cursors reset before every question.',
      '- The budget never bound here (GSM8K solutions are ~100 tokens; see the last column): the saving comes from the escalation rule, not from the split. The unit tests (test/unit/cascade.test.ts) cover a binding budget, share exhaustion and the never-exceed property.',
      '- Output tokens/q: completion tokens; billed tokens/q: prompt + completion, as the ledger records them. "reached 175B": questions where a 175B model answered at least one chain.',
      '',
      '## Tune-split grid: the Pareto front (accuracy vs dollars)',
      '',
      gridTable(front),
      '',
    ].join('\n');
    const outDir = path.join(__dirname, 'results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'cascade.md'), md);
    const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;
    writeFileSync(path.join(outDir, 'cascade.json'), `${JSON.stringify({
      date,
      prices: Object.fromEntries(MODEL_KEYS.map((k) => [MODELS[k].id, priceOfKey(k)])),
      chosen: { ...chosen, replayAgreedOnTune: replayAgreed },
      results: summaries.map((s) => ({ ...s, accuracy: round(s.accuracy), dollarsPerQuestion: round(s.dollarsPerQuestion, 10), ratioToStrong: round(s.ratioToStrong), outputTokensPerQuestion: round(s.outputTokensPerQuestion, 1), billedTokensPerQuestion: round(s.billedTokensPerQuestion, 1), callsPerQuestion: round(s.callsPerQuestion, 3), usedStrong: round(s.usedStrong), unanswered: round(s.unanswered), maxBudgetUsed: round(s.maxBudgetUsed) })),
      tuneGrid: grid.map((g) => ({ ...g, accuracy: round(g.accuracy), dollarsPerQuestion: round(g.dollarsPerQuestion, 10), ratioToStrong: round(g.ratioToStrong) })),
    }, null, 2)}\n`);
  } finally {
    await server.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

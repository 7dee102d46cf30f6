/**
 * The stress property over caps, shared by test/server/stress.property.test.ts and bench/caps.ts:
 * random strategies, budgets, caps, replies (faults, runaway streams, thinking) and Stops, through the
 * real openai SDK to the loopback server in each of its modes, checked against the ledger and the
 * server's own count.
 */
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import type { SpendCaps } from '../../src/core/budget/caps';
import { TokenRatios } from '../../src/core/budget/tokenRatio';
import { meteredCallers } from '../../src/core/run/callers';
import type { ChainStrategyName } from '../../src/core/config';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import type { SpendLedger } from '../../src/core/ledger/spendLedger';
import type { SpendRecord } from '../../src/core/ledger/spendRecord';
import { OpenAICompatibleProvider } from '../../src/core/providers/openaiProvider';
import type { ModelCaller } from '../../src/core/budget/modelCaller';
import { ReasoningRun, type RunEngine, type RunListener } from '../../src/core/reasoning/reasoningRun';
import { ValueTreeRun } from '../../src/core/reasoning/valueTree';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { createStrategy } from '../../src/core/reasoning/strategies';
import { priceLookup, type TokenPrice } from '../../src/core/tokens/prices';
import { readTraceQuestion } from '../../tools/recordedData';
import { startModelServer, THINKING_FORMATS, type ModelServer, type ModelServerOptions, type ScriptedReply } from '../../tools/modelServer';
import { REPLAY_MODEL, sharedTokenCounter, spendOf } from './faultTable';
import { spendRecord } from './scripted';

/** Printed with the results, so that any failing or slow run can be replayed with FC_SEED. */
export const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

const RECORDED_QUESTION = readTraceQuestion(67).text;
const WORDS = ['We', 'compute', '6', '*', '7', '=', '42.', '\n', 'so', 'the', 'sum', 'is', 'x', '+', '1', 'Step', ':', 'é', '数', '🙂'];

const text = (maxWords: number) => fc.array(fc.constantFrom(...WORDS), { maxLength: maxWords }).map((w) => w.join(' '));
const answered = fc.tuple(text(120), fc.constantFrom('42', '8', '\\frac{1}{2}', 'x+1'), fc.boolean())
  .map(([body, answer, boxed]) => (boxed ? `${body}\nSo the answer is \\boxed{${answer}}.` : `${body}\nThe answer is ${answer}.`));

/** One reply of the endpoint: a scripted text (maybe cut by max_tokens), or one of the fast faults. */
export const replyArb: fc.Arbitrary<ScriptedReply> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ content: fc.oneof(text(150), answered) }, { requiredKeys: ['content'] }) },
  { weight: 1, arbitrary: fc.record({ content: answered, finishReason: fc.constantFrom('stop', 'length', 'content_filter') }) },
  { weight: 1, arbitrary: fc.record({ status: fc.constantFrom(401, 403, 404, 429, 500, 503) }) },
  { weight: 1, arbitrary: fc.record({ disconnectAfterTokens: fc.integer({ min: 0, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ malformedChunk: fc.oneof(fc.constant(true), fc.integer({ min: 0, max: 200 })) }) },
  { weight: 1, arbitrary: fc.record({ noUsage: fc.constant(true) }) },
  { weight: 1, arbitrary: fc.record({ ignoreMaxTokens: fc.integer({ min: 1, max: 1500 }) }) },
);

/** Dollars per 1M tokens, in cents so that prices look like real ones (fast-check's doubles favour extremes). */
const priceArb: fc.Arbitrary<TokenPrice> = fc.record({
  input: fc.integer({ min: 0, max: 3000 }).map((c) => c / 100),
  output: fc.integer({ min: 0, max: 12_000 }).map((c) => c / 100),
}).map((p) => ({ ...p, cachedInput: p.input }));

const dollars = (min: number, max: number) => fc.integer({ min: Math.round(min * 1e8), max: Math.round(max * 1e8) }).map((x) => x / 1e8);

/** Mostly caps that leave room for a few calls, sometimes ones that refuse the first. */
const capsArb: fc.Arbitrary<SpendCaps> = fc.record({
  requestTokens: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 200, max: 12_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }) }),
  dailyTokens: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 400, max: 30_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }) }),
  requestDollars: fc.oneof({ weight: 4, arbitrary: dollars(0.01, 1) }, { weight: 1, arbitrary: dollars(1e-8, 0.01) }),
  dailyDollars: fc.oneof({ weight: 4, arbitrary: dollars(0.02, 2) }, { weight: 1, arbitrary: dollars(1e-8, 0.02) }),
}, { requiredKeys: [] });

export const caseArb = fc.record({
  strategy: fc.constantFrom<ChainStrategyName>('single', 'anytime-sc', 'value-guided', 'value-tree'),
  chainTokens: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 16, max: 800 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 16 }) }),
  totalTokens: fc.option(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 64, max: 8000 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 }) }), { nil: undefined, freq: 3 }),
  parallel: fc.integer({ min: 1, max: 3 }),
  caps: capsArb,
  price: priceArb,
  /** Spend earlier today, as a share of each daily cap (so the day starts under its caps). */
  earlierShare: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100 }).map((p) => p / 100)),
  /** The replies of the in-memory property (the HTTP property takes its server mode's). */
  replies: fc.array(replyArb, { maxLength: 6 }),
  recordedQuestion: fc.boolean(),
  /** Stop after this many deltas. */
  stopAfterDeltas: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
});

export type StressCase = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** The case's run: whole chains by its strategy, or a value tree over steps. */
export function stressRun(c: StressCase, caller: ModelCaller, question: string, listener: RunListener): RunEngine {
  const budget = { chainTokens: c.chainTokens, ...(c.totalTokens !== undefined ? { totalTokens: c.totalTokens } : {}), source: 'fixed' as const };
  return c.strategy === 'value-tree'
    ? new ValueTreeRun(caller, { question, budget, parallel: c.parallel }, listener)
    : new ReasoningRun(caller, { question, strategy: createStrategy(c.strategy), budget, parallel: c.parallel }, listener);
}

export const DAY = () => new Date();

/** A record of earlier spend today, sized as a share of the daily caps. */
export function earlierSpend(c: StressCase): SpendRecord | undefined {
  const tokens = c.caps.dailyTokens !== undefined ? Math.floor(c.caps.dailyTokens * c.earlierShare) : 0;
  const dollars = c.caps.dailyDollars !== undefined ? c.caps.dailyDollars * c.earlierShare * 0.999 : 0;
  if (!tokens && !dollars) {
    return undefined;
  }
  return spendRecord({
    time: DAY().toISOString(), runId: 'earlier', sessionId: undefined, providerId: 'earlier', model: REPLAY_MODEL,
    promptTokens: tokens, completionTokens: 0, dollars,
  });
}

/** Scripted replies of a server that streams its thinking first (and may ignore max_tokens while it thinks). */
const thinkingReplyArb: fc.Arbitrary<ScriptedReply> = fc.tuple(replyArb, fc.option(text(120), { nil: undefined, freq: 1 })).map(([reply, thinking]) => (thinking === undefined ? reply : { ...reply, thinking }));

export type CapKey = 'requestTokens' | 'dailyTokens' | 'requestDollars' | 'dailyDollars';
export const CAP_KEYS: readonly CapKey[] = ['requestTokens', 'dailyTokens', 'requestDollars', 'dailyDollars'];

/** A run's spend against each cap (earlier spend today counts toward the daily caps), and how far over each it is. */
function againstCaps(run: { tokens: number; dollars: number }, caps: SpendCaps, earlier: SpendRecord | undefined) {
  const spent: Record<CapKey, number> = {
    requestTokens: run.tokens,
    dailyTokens: run.tokens + (earlier ? earlier.promptTokens + earlier.completionTokens : 0),
    requestDollars: run.dollars,
    dailyDollars: run.dollars + (earlier?.dollars ?? 0),
  };
  const over = Object.fromEntries(CAP_KEYS.map((k) => {
    const cap = caps[k];
    return [k, cap === undefined ? 0 : Math.max(0, spent[k] - cap - (k.endsWith('Dollars') ? 1e-9 : 0))];
  })) as Record<CapKey, number>;
  return { spent, over };
}

/** Every cap holds: tokens exactly, dollars within 1e-9. */
export async function assertCapsHeld(ledger: SpendLedger, runId: string, caps: SpendCaps): Promise<void> {
  const run = await ledger.totalsForRun(runId);
  const today = await ledger.today();
  const where = `run ${run.tokens} tok $${run.dollars}, today ${today.tokens} tok $${today.dollars}, caps ${JSON.stringify(caps)}`;
  if (caps.requestTokens !== undefined) {assert.ok(run.tokens <= caps.requestTokens, `request token cap: ${where}`);}
  if (caps.dailyTokens !== undefined) {assert.ok(today.tokens <= caps.dailyTokens, `daily token cap: ${where}`);}
  if (caps.requestDollars !== undefined) {assert.ok(run.dollars <= caps.requestDollars + 1e-9, `request dollar cap: ${where}`);}
  if (caps.dailyDollars !== undefined) {assert.ok(today.dollars <= caps.dailyDollars + 1e-9, `daily dollar cap: ${where}`);}
}

/** A loopback server mode the HTTP property runs against, and how the client meters it. */
export interface ServerMode {
  name: string;
  server: ModelServerOptions;
  replies: fc.Arbitrary<ScriptedReply[]>;
  /** Learned token ratios: none (the local count is billed), one fresh per case (unlearned), or one shared by all cases (learning). */
  ratios: 'none' | 'fresh' | 'shared';
}

export const SERVER_MODES: readonly ServerMode[] = [
  { name: 'o200k server', server: {}, replies: fc.array(replyArb, { maxLength: 6 }), ratios: 'none' },
  { name: 'foreign-tokenizer server, unlearned ratios', server: { tokenizer: 'foreign' }, replies: fc.array(replyArb, { maxLength: 6 }), ratios: 'fresh' },
  { name: 'foreign-tokenizer server, learning ratios', server: { tokenizer: 'foreign' }, replies: fc.array(replyArb, { maxLength: 6 }), ratios: 'shared' },
  ...THINKING_FORMATS.map((format): ServerMode => ({ name: `${format} thinking server`, server: { thinking: format }, replies: fc.array(thinkingReplyArb, { maxLength: 6 }), ratios: 'shared' })),
];

/** Figures of one mode's property run: cases, calls, and the most by which the server's count passed each cap. */
export interface ServerPropertyResult {
  cases: number;
  calls: number;
  /** The most over each cap by the server's count, over all cases (goal: 0). */
  over: Record<CapKey, number>;
  /** Cases over any cap by the server's count. */
  casesOver: number;
  /** The most billed (server's count) against each cap, as a share of it, and how many cases had each cap. */
  used: Record<CapKey, { maxShare: number; cases: number }>;
  /** Calls the client ended (Stop, or the cut of a server that ignored max_tokens), and the most the server sent past what the client read. */
  clientEnded: { calls: number; maxUnreadTokens: number };
  summary: string;
}

/**
 * The property over one server mode: random strategies, budgets, caps, replies (faults, runaway
 * streams, thinking) and Stops, through the real SDK to the loopback server. Asserts inside each case
 * what must hold exactly (the ledger file, the caps by the ledger); returns the caps by the server's count.
 */
export async function serverProperty(mode: ServerMode, dir: string, runs: number, seed = SEED): Promise<ServerPropertyResult> {
  const server: ModelServer = await startModelServer(mode.server);
  const provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0, timeoutMs: 5000, idleTimeoutMs: 5000 });
  const shared = new TokenRatios();
  const over = { requestTokens: 0, dailyTokens: 0, requestDollars: 0, dailyDollars: 0 };
  const used = { requestTokens: { maxShare: 0, cases: 0 }, dailyTokens: { maxShare: 0, cases: 0 }, requestDollars: { maxShare: 0, cases: 0 }, dailyDollars: { maxShare: 0, cases: 0 } };
  let cases = 0;
  let calls = 0;
  let faults = 0;
  let stops = 0;
  let casesOver = 0;
  const clientEnded = { calls: 0, maxUnreadTokens: 0 };
  const reasons = new Map<string, number>();
  const started = performance.now();
  try {
    await fc.assert(
      fc.asyncProperty(caseArb, mode.replies, async (c, replies) => {
        cases++;
        server.reset();
        server.script(...replies);
        const runId = `stress-${cases}`;
        const file = path.join(dir, `${runId}.jsonl`);
        const ledger = new FileSpendLedger(file, { durable: false });
        const earlier = earlierSpend(c);
        if (earlier) {
          await ledger.append(earlier);
        }
        const ratios = mode.ratios === 'none' ? undefined : mode.ratios === 'fresh' ? new TokenRatios() : shared;
        const caller = meteredCallers({ runId, ledger, tokens: sharedTokenCounter, ...(ratios ? { ratios } : {}) })(
          { id: REPLAY_MODEL, provider, prices: priceLookup({ overrides: { [REPLAY_MODEL]: c.price } }) }, c.caps);
        const stop = new AbortController();
        let deltas = 0;
        const events: RunEvent[] = [];
        const run = stressRun(c, caller, c.recordedQuestion ? RECORDED_QUESTION : 'What is 6 * 7? (no recorded answer)', (e) => {
          events.push(e);
          if (e.type === 'delta' && ++deltas === c.stopAfterDeltas) {
            stop.abort();
          }
        });
        // A run that hangs (Stop not reaching the SDK) shows up here rather than as a bare mocha timeout.
        const watchdog = setTimeout(() => console.log(`    still running after 10 s: ${JSON.stringify([c, replies])}`), 10_000);
        const outcome = await run.start(stop.signal).finally(() => clearTimeout(watchdog));
        reasons.set(outcome.reason, (reasons.get(outcome.reason) ?? 0) + 1);
        calls += server.requests.length;
        faults += events.filter((e) => e.type === 'error').length;
        stops += outcome.reason === 'stopped' ? 1 : 0;

        // Nothing lost: the file holds exactly the spend the run reported, one record per call made.
        const onDisk = (await new FileSpendLedger(file, { durable: false }).records()).filter((r) => r.runId === runId);
        const reported = events.filter((e): e is Extract<RunEvent, { type: 'spend' }> => e.type === 'spend').map((e) => e.record);
        assert.deepEqual(onDisk, reported);
        assert.ok(onDisk.length >= server.requests.length, `${onDisk.length} records for ${server.requests.length} requests`);
        onDisk.forEach((r, i) => {
          assert.ok(Number.isInteger(r.promptTokens) && Number.isInteger(r.completionTokens), `record ${i}: whole tokens`);
          const body = server.requests[i]?.body as { max_tokens?: number; n?: number } | undefined;
          const response = server.responses[i];
          // The server's usage, when it sent one, is what the record says.
          if (response?.usage && !r.estimated) {
            assert.deepEqual([r.promptTokens, r.completionTokens], [response.usage.prompt_tokens, response.usage.completion_tokens], `record ${i}: the billed figures`);
          }
          // No call ever recorded more output than it was granted (a cut stream's estimate may reach the room a ratio's spread allows).
          // A server that ignores max_tokens is held by the cut at the room instead, which may lie a ratio's spread above
          // max_tokens: what it bills up to there is bounded by the caps, checked below (seed 896915383 billed 65 of a 64 grant).
          if (body?.max_tokens !== undefined && (!ratios || !r.estimated) && replies[i]?.ignoreMaxTokens === undefined) {
            assert.ok(r.completionTokens <= body.max_tokens * (body.n ?? 1), `record ${i}: ${r.completionTokens} > granted ${body.max_tokens} x ${body.n ?? 1}`);
          }
        });
        // Nothing overspent, re-read from the file.
        await assertCapsHeld(new FileSpendLedger(file, { durable: false }), runId, c.caps);
        // And by the server's own count: its usage, or what it generated, for every call it ended itself. A call the
        // client ended (Stop, or the cut of a server ignoring max_tokens) counts what the client read: a loopback that
        // generates without pause has sent the rest before it sees the client leave, which no client can hold back.
        const bill = { tokens: 0, dollars: 0 };
        onDisk.forEach((r, i) => {
          const response = server.responses[i];
          const endedByClient = r.outcome === 'aborted' || (r.estimated && replies[i]?.ignoreMaxTokens !== undefined);
          const theirs = response ? spendOf([response], c.price) : { tokens: 0, dollars: 0 };
          if (endedByClient) {
            clientEnded.calls++;
            clientEnded.maxUnreadTokens = Math.max(clientEnded.maxUnreadTokens, theirs.tokens - (r.promptTokens + r.completionTokens));
          }
          const counted = endedByClient || !response ? { tokens: r.promptTokens + r.completionTokens, dollars: r.dollars ?? 0 } : theirs;
          bill.tokens += counted.tokens;
          bill.dollars += counted.dollars;
        });
        const by = againstCaps(bill, c.caps, earlier);
        for (const cap of CAP_KEYS) {
          over[cap] = Math.max(over[cap], by.over[cap]);
          const limit = c.caps[cap];
          if (limit !== undefined) {
            used[cap].cases++;
            used[cap].maxShare = Math.max(used[cap].maxShare, by.spent[cap] / limit);
          }
        }
        casesOver += Object.values(by.over).some((x) => x > 0) ? 1 : 0;
        await fs.rm(file, { force: true });
      }),
      { numRuns: runs, seed },
    );
  } finally {
    await server.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const summary = `${cases} generated cases, ${calls} model calls, ${faults} provider errors, ${stops} Stops; ` +
    `outcomes ${JSON.stringify(Object.fromEntries(reasons))}; over the caps by the server's count ${JSON.stringify(over)} in ${casesOver} cases; ` +
    `${clientEnded.calls} calls ended by the client (at most ${clientEnded.maxUnreadTokens} tokens sent past what it read); ` +
    `${seconds.toFixed(1)} s (${((seconds * 1000) / cases).toFixed(1)} ms/case)`;
  return { cases, calls, over, casesOver, used, clientEnded, summary };
}

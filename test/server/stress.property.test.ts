import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import type { SpendCaps } from '../../src/core/budget/caps';
import { meteredCallers } from '../../src/core/run/callers';
import type { ChainStrategyName } from '../../src/core/config';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import { MemorySpendLedger } from '../../src/core/ledger/spendLedger';
import type { SpendLedger } from '../../src/core/ledger/spendLedger';
import type { SpendRecord } from '../../src/core/ledger/spendRecord';
import type { FinishReason } from '../../src/core/providers/chatProvider';
import { ProviderError } from '../../src/core/providers/chatProvider';
import { OpenAICompatibleProvider } from '../../src/core/providers/openaiProvider';
import { ReasoningRun } from '../../src/core/reasoning/reasoningRun';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { createStrategy } from '../../src/core/reasoning/strategies';
import { priceLookup, type TokenPrice } from '../../src/core/tokens/prices';
import { readTraceQuestion } from '../../tools/recordedData';
import { REPLAY_MODEL, sharedTokenCounter, silenceSdkLog } from '../support/faultTable';
import { startModelServer, type ModelServer, type ScriptedReply } from '../../tools/modelServer';
import { ScriptedProvider, spendRecord, type ProviderStep } from '../support/scripted';

/** FC_RUNS=10000 (npm run test:stress) for the long mode; the default keeps CI fast. */
const RUNS = Math.max(1, Number(process.env.FC_RUNS) || 60);
/** The in-memory property is ~100x cheaper per case, so it runs more cases by default. */
const LOGIC_RUNS = Math.max(1, Number(process.env.FC_RUNS) || 300);
/** Printed with the results, so that any failing or slow run can be replayed with FC_SEED. */
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

const RECORDED_QUESTION = readTraceQuestion(67).text;
const WORDS = ['We', 'compute', '6', '*', '7', '=', '42.', '\n', 'so', 'the', 'sum', 'is', 'x', '+', '1', 'Step', ':', 'é', '数', '🙂'];

const text = (maxWords: number) => fc.array(fc.constantFrom(...WORDS), { maxLength: maxWords }).map((w) => w.join(' '));
const answered = fc.tuple(text(120), fc.constantFrom('42', '8', '\\frac{1}{2}', 'x+1'), fc.boolean())
  .map(([body, answer, boxed]) => (boxed ? `${body}\nSo the answer is \\boxed{${answer}}.` : `${body}\nThe answer is ${answer}.`));

/** One reply of the endpoint: a scripted text (maybe cut by max_tokens), or one of the fast faults. */
const replyArb: fc.Arbitrary<ScriptedReply> = fc.oneof(
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

const caseArb = fc.record({
  strategy: fc.constantFrom<ChainStrategyName>('single', 'anytime-sc', 'value-guided'),
  chainTokens: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 16, max: 800 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 16 }) }),
  totalTokens: fc.option(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 64, max: 8000 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 }) }), { nil: undefined, freq: 3 }),
  parallel: fc.integer({ min: 1, max: 3 }),
  caps: capsArb,
  price: priceArb,
  /** Spend earlier today, as a share of each daily cap (so the day starts under its caps). */
  earlierShare: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100 }).map((p) => p / 100)),
  replies: fc.array(replyArb, { maxLength: 6 }),
  recordedQuestion: fc.boolean(),
  /** Stop after this many deltas. */
  stopAfterDeltas: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
});

type StressCase = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

const DAY = () => new Date();

/** A record of earlier spend today, sized as a share of the daily caps. */
function earlierSpend(c: StressCase): SpendRecord | undefined {
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

/** Every cap holds: tokens exactly, dollars within 1e-9. */
async function assertCapsHeld(ledger: SpendLedger, runId: string, caps: SpendCaps): Promise<void> {
  const run = await ledger.totalsForRun(runId);
  const today = await ledger.today();
  const where = `run ${run.tokens} tok $${run.dollars}, today ${today.tokens} tok $${today.dollars}, caps ${JSON.stringify(caps)}`;
  if (caps.requestTokens !== undefined) {assert.ok(run.tokens <= caps.requestTokens, `request token cap: ${where}`);}
  if (caps.dailyTokens !== undefined) {assert.ok(today.tokens <= caps.dailyTokens, `daily token cap: ${where}`);}
  if (caps.requestDollars !== undefined) {assert.ok(run.dollars <= caps.requestDollars + 1e-9, `request dollar cap: ${where}`);}
  if (caps.dailyDollars !== undefined) {assert.ok(today.dollars <= caps.dailyDollars + 1e-9, `daily dollar cap: ${where}`);}
}

describe('Stress: random strategies, budgets, caps, replies, faults and Stops never overspend', function () {
  this.timeout(Math.max(60_000, RUNS * 2_000));
  let server: ModelServer;
  let dir: string;
  let provider: OpenAICompatibleProvider;

  let restoreSdkLog: () => void;
  before(async () => {
    restoreSdkLog = silenceSdkLog();
    server = await startModelServer();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'br-stress-'));
    provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0, timeoutMs: 5000, idleTimeoutMs: 5000 });
  });
  after(async () => {
    restoreSdkLog();
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it(`over the real SDK and loopback server: ledger spend stays within every cap (FC_RUNS=${RUNS})`, async () => {
    let cases = 0;
    let calls = 0;
    let faults = 0;
    let stops = 0;
    const reasons = new Map<string, number>();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        cases++;
        server.reset();
        server.script(...c.replies);
        const runId = `stress-${cases}`;
        const file = path.join(dir, `${runId}.jsonl`);
        const ledger = new FileSpendLedger(file, { durable: false });
        const earlier = earlierSpend(c);
        if (earlier) {
          await ledger.append(earlier);
        }
        const caller = meteredCallers({ runId, ledger, tokens: sharedTokenCounter })(
          { id: REPLAY_MODEL, provider, prices: priceLookup({ overrides: { [REPLAY_MODEL]: c.price } }) }, c.caps);
        const stop = new AbortController();
        let deltas = 0;
        const events: RunEvent[] = [];
        const run = new ReasoningRun(caller, {
          question: c.recordedQuestion ? RECORDED_QUESTION : 'What is 6 * 7? (no recorded answer)',
          strategy: createStrategy(c.strategy),
          budget: { chainTokens: c.chainTokens, ...(c.totalTokens !== undefined ? { totalTokens: c.totalTokens } : {}), source: 'fixed' },
          parallel: c.parallel,
        }, (e) => {
          events.push(e);
          if (e.type === 'delta' && ++deltas === c.stopAfterDeltas) {
            stop.abort();
          }
        });
        // A run that hangs (Stop not reaching the SDK) shows up here rather than as a bare mocha timeout.
        const watchdog = setTimeout(() => console.log(`    still running after 10 s: ${JSON.stringify(c)}`), 10_000);
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
        // No call ever recorded more output than it was granted.
        onDisk.forEach((r, i) => {
          const body = server.requests[i]?.body as { max_tokens?: number; n?: number } | undefined;
          if (body?.max_tokens !== undefined) {
            assert.ok(r.completionTokens <= body.max_tokens * (body.n ?? 1), `record ${i}: ${r.completionTokens} > granted ${body.max_tokens} x ${body.n ?? 1}`);
          }
        });
        // Nothing overspent, re-read from the file.
        await assertCapsHeld(new FileSpendLedger(file, { durable: false }), runId, c.caps);
        await fs.rm(file, { force: true });
      }),
      { numRuns: RUNS, seed: SEED },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`    stress (real HTTP, seed ${SEED}): ${cases} generated cases, ${calls} model calls, ${faults} provider errors, ${stops} Stops; ` +
      `outcomes ${JSON.stringify(Object.fromEntries(reasons))}; ${seconds.toFixed(1)} s (${((seconds * 1000) / cases).toFixed(1)} ms/case)`);
    assert.equal(cases, RUNS);
  });

  it(`over an in-memory scripted provider: the same caps hold at 100x the speed (FC_RUNS=${LOGIC_RUNS})`, async () => {
    let cases = 0;
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        cases++;
        const runId = `logic-${cases}`;
        const ledger = new MemorySpendLedger(DAY);
        const earlier = earlierSpend(c);
        if (earlier) {
          await ledger.append(earlier);
        }
        const caller = meteredCallers({ runId, ledger, tokens: sharedTokenCounter })(
          { id: REPLAY_MODEL, provider: scriptedEndpoint(c.replies), prices: priceLookup({ overrides: { [REPLAY_MODEL]: c.price } }) }, c.caps);
        const stop = new AbortController();
        let deltas = 0;
        const run = new ReasoningRun(caller, {
          question: 'What is 6 * 7?',
          strategy: createStrategy(c.strategy),
          budget: { chainTokens: c.chainTokens, ...(c.totalTokens !== undefined ? { totalTokens: c.totalTokens } : {}), source: 'fixed' },
          parallel: c.parallel,
        }, (e) => {
          if (e.type === 'delta' && ++deltas === c.stopAfterDeltas) {
            stop.abort();
          }
        });
        await run.start(stop.signal);
        await assertCapsHeld(ledger, runId, c.caps);
      }),
      { numRuns: LOGIC_RUNS, seed: SEED },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`    stress (in-memory, seed ${SEED}): ${cases} generated cases; ${seconds.toFixed(1)} s (${((seconds * 1000) / cases).toFixed(2)} ms/case)`);
    assert.equal(cases, LOGIC_RUNS);
  });
});

/**
 * The loopback server's behaviour for the same scripted replies, without HTTP: text in 3-token
 * chunks up to max_tokens, usage unless told not to, faults as ProviderErrors. Pure state machine
 * input for the fast property; the HTTP property above checks the real thing.
 */
function scriptedEndpoint(replies: readonly ScriptedReply[]): ScriptedProvider {
  // map() copies: the generated case must stay intact for fast-check's report and shrinking.
  return new ScriptedProvider({
    id: 'scripted:stress', models: [REPLAY_MODEL], replies: replies.map(loopbackStream),
    otherwise: loopbackStream({ content: 'Work.\nSo the answer is \\boxed{42}.' }),
  });
}

function loopbackStream(reply: ScriptedReply): ProviderStep {
  return async function* (request, signal) {
    if (reply.status) {
      throw new ProviderError(reply.status === 401 ? 'auth' : reply.status >= 500 ? 'server' : 'rate-limited', `scripted ${reply.status}`, reply.status);
    }
    const n = Math.max(1, request.n ?? 1);
    const base = typeof reply.content === 'string' ? reply.content : 'Work.\nSo the answer is \\boxed{42}.';
    const runaway = typeof reply.ignoreMaxTokens === 'number' ? reply.ignoreMaxTokens : undefined;
    const pieces = chunks(runaway !== undefined ? `${base}\n\n`.repeat(Math.ceil(runaway / Math.max(1, count(base)))) : base);
    const limit = runaway ?? request.maxTokens;
    const breakAt = reply.disconnectAfterTokens ?? (reply.malformedChunk === true ? 0 : typeof reply.malformedChunk === 'number' ? reply.malformedChunk : undefined);
    let sent = 0;
    const reasons: FinishReason[] = [];
    for (let i = 0; i < n; i++) {
      let own = 0;
      for (const piece of pieces) {
        if (signal.aborted) {
          throw new ProviderError('aborted', 'Stopped.');
        }
        if (breakAt !== undefined && sent >= breakAt) {
          throw new ProviderError(reply.malformedChunk !== undefined ? 'protocol' : 'network', 'scripted break');
        }
        const k = count(piece);
        if (own + k > limit) {
          break;
        }
        own += k;
        sent += k;
        yield { kind: 'delta', choice: i, text: piece };
      }
      reasons[i] = (reply.finishReason as FinishReason | undefined) ?? (own < count(pieces.join('')) ? 'length' : 'stop');
    }
    await Promise.resolve();
    const usage = reply.noUsage ? undefined : {
      promptTokens: sharedTokenCounter.countChatPrompt(request.messages, REPLAY_MODEL).tokens, cachedPromptTokens: 0,
      completionTokens: sent, reasoningTokens: 0, estimated: false,
    };
    yield { kind: 'done', finishReasons: reasons, usage };
  };
}

function count(text: string): number {
  return sharedTokenCounter.countText(text, REPLAY_MODEL).tokens;
}

/** Splits text into pieces of about three words, as a server streams it. */
function chunks(text: string): string[] {
  return text.match(/(?:\S+\s*){1,3}|\s+/g) ?? [];
}

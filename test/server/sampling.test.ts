import * as assert from 'node:assert/strict';
import type { ChatStreamEvent } from '../../src/core/providers/chatProvider';
import { MemorySpendLedger } from '../../src/core/ledger/spendLedger';
import { OpenAICompatibleProvider, samplingTemperature } from '../../src/core/providers/openaiProvider';
import { ReasoningRun, type ReasoningRunOptions } from '../../src/core/reasoning/reasoningRun';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { AnytimeSelfConsistency, ANYTIME_DEFAULTS } from '../../src/core/reasoning/strategies';
import { BetaStoppingRule } from '../../src/core/reasoning/stoppingRules';
import { FIRST_CHAIN_PRIOR } from '../../src/core/reasoning/firstChainHistory';
import { meteredCallers } from '../../src/core/run/callers';
import { priceLookup } from '../../src/core/tokens/prices';
import { initialRunView, reduceRunView } from '../../src/core/view/runView';
import { statusText } from '../../src/core/view/runViewText';
import { attemptLine } from '../../src/webview/panelText';
import { readTraceQuestion } from '../../tools/recordedData';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { REPLAY_MODEL, sharedTokenCounter } from '../support/faultTable';

const question = readTraceQuestion(67);

async function texts(stream: AsyncIterable<ChatStreamEvent>): Promise<{ texts: string[]; done?: Extract<ChatStreamEvent, { kind: 'done' }> }> {
  const out: string[] = [];
  let done: Extract<ChatStreamEvent, { kind: 'done' }> | undefined;
  for await (const e of stream) {
    if (e.kind === 'delta') {
      out[e.choice] = (out[e.choice] ?? '') + e.text;
    } else if (e.kind === 'done') {
      done = e;
    }
  }
  return { texts: out, done };
}

/** One run through the product's stack: ReasoningRun -> MeteredCaller -> the real openai client -> the loopback server. */
async function run(server: ModelServer, options: Partial<ReasoningRunOptions> = {}) {
  const provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 });
  const ledger = new MemorySpendLedger();
  const caller = meteredCallers({ runId: 'r', ledger, tokens: sharedTokenCounter })({ id: REPLAY_MODEL, provider, prices: priceLookup({ baseUrl: server.url }) }, {});
  const events: RunEvent[] = [];
  const reasoning = new ReasoningRun(caller, {
    question: question.text,
    budget: { chainTokens: 400, totalTokens: 20_000, source: 'local' },
    temperature: 0.7,
    ...options,
  }, (e) => events.push(e));
  const outcome = await reasoning.start();
  const view = events.reduce(reduceRunView, initialRunView({ runId: 'r', question: question.text, model: REPLAY_MODEL, strategy: 'anytime-sc', caps: [], providerBillsInDollars: false }));
  return { outcome, events, view, run: reasoning, records: await ledger.totalsForRun('r') };
}

describe('sampling against the loopback server (real openai client)', function () {
  this.timeout(20_000);

  describe('a greedy server (the same chain whatever the temperature)', () => {
    let server: ModelServer;
    before(async () => {
      server = await startModelServer({ greedy: true });
    });
    after(() => server.close());
    beforeEach(() => server.reset());

    it('answers a question with one chain on every call and in every choice, at any temperature', async () => {
      const provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 });
      const ask = (temperature: number | undefined, n = 1) => texts(provider.stream({
        model: REPLAY_MODEL, messages: [{ role: 'user', content: question.text }], maxTokens: 2000, n, ...(temperature !== undefined ? { temperature } : {}),
      }, new AbortController().signal));
      const first = await ask(undefined);
      const hot = await ask(1.2, 2);
      assert.deepEqual(hot.texts, [first.texts[0], first.texts[0]]);
      assert.deepEqual(server.responses.map((r) => r.chainIndexes), [[0], [0, 0]]);
      assert.equal(server.requests[1].body.temperature, 1.2);
    });

    it('a run stops after its third chain as not sampling, spending nothing more, with one chain\'s confidence', async () => {
      const { outcome, events, view, run: r } = await run(server);
      assert.equal(outcome.reason, 'not-sampling', outcome.message);
      assert.equal(outcome.message, 'This endpoint is not sampling: extra chains add nothing (chains 2 and 3 repeated chain 1).');
      assert.equal(server.requests.length, 3, 'three chains, nothing after');
      assert.deepEqual(server.requests.map((q) => q.body.temperature), [undefined, 0.7, 0.7], 'the first at the server default, the rest sampled');
      assert.equal(outcome.answer, question.gold);
      assert.ok(outcome.confidence <= FIRST_CHAIN_PRIOR.mean, `copies add no confidence: ${outcome.confidence}`);
      const finished = events.filter((e): e is Extract<RunEvent, { type: 'attempt-finished' }> => e.type === 'attempt-finished');
      assert.deepEqual(finished.map((e) => e.duplicateOf), [undefined, 1, 1]);
      assert.match(attemptLine(view.attempts[2], false), /same as #1, not counted$/);
      assert.match(statusText(view.status, false), /^Repeated chains: This endpoint is not sampling: extra chains add nothing/);
      assert.equal(r.state.chains.length, 1);
      assert.equal(r.firstChainCheck(), undefined);
    });

    it('parallel: two alike choices after a like first chain stop the run at once', async () => {
      const { outcome } = await run(server, { parallel: 2 });
      assert.equal(outcome.reason, 'not-sampling');
      assert.equal(server.requests.length, 2);
      assert.equal(server.requests[1].body.n, 2);
    });
  });

  describe('a sampling server (the recorded chains, one after another)', () => {
    let server: ModelServer;
    before(async () => {
      server = await startModelServer();
    });
    after(() => server.close());
    beforeEach(() => server.reset());

    it('the same run counts distinct chains as votes and converges; its first chain is checked for the history', async () => {
      const { outcome, events, run: r } = await run(server, { strategy: new AnytimeSelfConsistency(new BetaStoppingRule(0.8), ANYTIME_DEFAULTS, true) });
      assert.equal(outcome.reason, 'converged');
      assert.equal(outcome.answer, question.gold);
      assert.equal(outcome.message, '2 of 2 agree, P(majority) 0.88.');
      assert.ok(events.every((e) => e.type !== 'attempt-finished' || e.duplicateOf === undefined));
      assert.deepEqual(server.responses.map((q) => q.chainIndexes), [[0], [1]]);
      assert.equal(r.firstChainCheck()?.confirmed, true);
    });
  });

  describe('a server that ignores n', () => {
    let server: ModelServer;
    before(async () => {
      server = await startModelServer({ ignoreN: true });
    });
    after(() => server.close());
    beforeEach(() => server.reset());

    it('one choice whatever n: the provider ends cleanly with it, and the run goes on one chain a call', async () => {
      const provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 });
      const asked = await texts(provider.stream({ model: REPLAY_MODEL, messages: [{ role: 'user', content: question.text }], maxTokens: 2000, n: 3 }, new AbortController().signal));
      assert.equal(asked.texts.length, 1);
      assert.deepEqual(asked.done?.finishReasons, ['stop']);
      server.reset();
      const { outcome, view } = await run(server, { parallel: 3, strategy: new AnytimeSelfConsistency(new BetaStoppingRule(0.9), ANYTIME_DEFAULTS, false) });
      assert.notEqual(outcome.reason, 'error', outcome.message);
      assert.equal(server.requests[1].body.n, 3);
      assert.ok(server.requests.slice(2).every((q) => q.body.n === undefined), 'after one short answer, one choice a call');
      assert.deepEqual(view.attempts.filter((a) => a.finishReason === 'not-returned').map((a) => a.attempt), [3, 4]);
      assert.ok(view.attempts.every((a) => a.finishReason !== null), 'no row left streaming');
    });
  });

  describe('a model that refuses a temperature', () => {
    let server: ModelServer;
    before(async () => {
      server = await startModelServer({ rejectTemperature: [REPLAY_MODEL] });
    });
    after(() => server.close());
    beforeEach(() => server.reset());

    it('is asked again at once without it, and not sent one again this session (by any provider sharing the memory)', async () => {
      const noTemperature = new Set<string>();
      const provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0, noTemperature });
      const ask = (p: OpenAICompatibleProvider) => texts(p.stream({ model: REPLAY_MODEL, messages: [{ role: 'user', content: question.text }], maxTokens: 2000, temperature: 0.7 }, new AbortController().signal));
      const first = await ask(provider);
      assert.match(first.texts[0], /\\boxed/);
      assert.deepEqual(server.responses.map((r) => r.status), [400, 200]);
      assert.deepEqual(server.requests.map((r) => r.body.temperature), [0.7, undefined]);
      await ask(new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0, noTemperature }));
      assert.deepEqual(server.requests.map((r) => r.body.temperature), [0.7, undefined, undefined], 'remembered: one request, no temperature');
      const { outcome } = await run(server);
      assert.notEqual(outcome.reason, 'error', outcome.message);
    });

    it('OpenAI reasoning models are never sent one', () => {
      assert.equal(samplingTemperature('o4-mini', 0.7), undefined);
      assert.equal(samplingTemperature('openai/gpt-5-mini', 0.7), undefined);
      assert.equal(samplingTemperature('gpt-4o-mini', 0.7), 0.7);
    });
  });
});

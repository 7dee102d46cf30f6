import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SpendCaps } from '../../src/core/budget/caps';
import { MeteredCaller } from '../../src/core/budget/meteredCaller';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import { MemorySpendLedger, type SpendLedger } from '../../src/core/ledger/spendLedger';
import type { SpendRecord } from '../../src/core/ledger/spendRecord';
import type { ChatMessage, ChatProvider, Usage } from '../../src/core/providers/chatProvider';
import { ProviderError } from '../../src/core/providers/chatProvider';
import { CallFailure, CapRefusal } from '../../src/core/budget/modelCaller';
import { costOf, priceLookup, priceOf } from '../../src/core/tokens/prices';
import { TokenCounter } from '../../src/core/tokens/tokenCounter';
import { TokenRatios, toBilled } from '../../src/core/budget/tokenRatio';
import { ScriptedProvider, spendRecord, streamReply, type ProviderStep } from '../support/scripted';

/** Every call of a provider plays the same scripted stream. */
const scripted = (script: ProviderStep, billsInDollars = true) => new ScriptedProvider({ otherwise: script, billsInDollars });

const tokens = new TokenCounter('gpt-tokenizer');
const model = 'gpt-4o-mini';
const messages: ChatMessage[] = [{ role: 'system', content: 'Reason step by step.' }, { role: 'user', content: 'What is 6 * 7?' }];
const promptTokens = tokens.countChatPrompt(messages, model).tokens;
const now = () => new Date(2025, 5, 1, 12);

function caller(provider: ChatProvider, ledger: SpendLedger, caps: SpendCaps = {}, prices = priceLookup({})): MeteredCaller {
  return new MeteredCaller({ provider, model, runId: 'run-1', sessionId: 'session-1', caps, ledger, prices, tokens, clock: now });
}

const never = new AbortController().signal;

describe('MeteredCaller', () => {
  it("sends the granted max_tokens, streams deltas, and records the provider's usage (provider numbers win)", async () => {
    const usage: Usage = { promptTokens: 42, cachedPromptTokens: 10, completionTokens: 9, reasoningTokens: 3, estimated: false };
    const provider = scripted(streamReply(['6 * 7', ' = 42.', ' \\boxed{42}'], usage));
    const ledger = new MemorySpendLedger(now);
    const seen: string[] = [];
    const result = await caller(provider, ledger, { requestTokens: promptTokens + 300 }).call({ messages, maxTokens: 1000, temperature: 0.7 }, 'attempt', never, (_c, t) => seen.push(t));
    assert.equal(provider.requests[0].maxTokens, 300);
    assert.equal(provider.requests[0].temperature, 0.7);
    assert.equal(result.grantedMaxTokens, 300);
    assert.deepEqual(seen, ['6 * 7', ' = 42.', ' \\boxed{42}']);
    assert.deepEqual(result.choices, [{ text: '6 * 7 = 42. \\boxed{42}', finishReason: 'stop' }]);
    assert.deepEqual(result.usage, usage);
    const expected: SpendRecord = {
      time: now().toISOString(), runId: 'run-1', sessionId: 'session-1', purpose: 'attempt', providerId: 'scripted:test', model,
      promptTokens: 42, cachedPromptTokens: 10, completionTokens: 9, reasoningTokens: 3,
      dollars: costOf(usage, priceOf(model)), estimated: false, outcome: 'stop',
    };
    assert.deepEqual(result.record, expected);
    assert.deepEqual(await ledger.records(), [expected]);
  });

  it('records its own counts, marked estimated, when the provider reports no usage', async () => {
    const text = 'First, 6 * 7 = 42.\nSo the answer is \\boxed{42}.';
    const provider = scripted(streamReply(text.match(/.{1,5}/gs)!, undefined));
    const ledger = new MemorySpendLedger(now);
    const result = await caller(provider, ledger).call({ messages, maxTokens: 200 }, 'attempt', never);
    assert.deepEqual(result.usage, { promptTokens, cachedPromptTokens: 0, completionTokens: tokens.countText(text, model).tokens, reasoningTokens: 0, estimated: true });
    assert.equal(result.record.estimated, true);
    assert.equal(result.record.dollars, costOf(result.usage, priceOf(model)));
  });

  it('records dollars as null for a model with no known price, and 0 for a provider that does not bill per token', async () => {
    const unknown = await new MeteredCaller({ provider: scripted(streamReply(['hi'])), model: 'mystery-7b', runId: 'r', caps: {}, ledger: new MemorySpendLedger(now), prices: priceLookup({}), tokens, clock: now })
      .call({ messages, maxTokens: 50 }, 'attempt', never);
    assert.equal(unknown.record.dollars, null);
    const lm = await caller(scripted(streamReply(['hi']), false), new MemorySpendLedger(now)).call({ messages, maxTokens: 50 }, 'attempt', never);
    assert.equal(lm.record.dollars, 0);
  });

  it('refuses at the cap without sending anything or appending anything', async () => {
    const provider = scripted(streamReply(['never']));
    const ledger = new MemorySpendLedger(now);
    await ledger.append(spendRecord({ time: now().toISOString(), runId: 'earlier', sessionId: undefined, providerId: 'p', model, promptTokens: 1000, completionTokens: 0, dollars: 2 }));
    const metered = caller(provider, ledger, { dailyDollars: 2 });
    await assert.rejects(metered.call({ messages, maxTokens: 500 }, 'attempt', never), (e: unknown) => e instanceof CapRefusal && e.cap === 'daily-dollars');
    assert.equal(provider.requests.length, 0);
    assert.equal((await ledger.records()).length, 1);
    assert.equal(await metered.room(messages), 0);
  });

  it("uses the provider's own prompt count where it gives one (VS Code LM API), else the local tokenizer", async () => {
    const ledger = new MemorySpendLedger(now);
    const own = (n: number | undefined) => new MeteredCaller({
      provider: scripted(streamReply(['ok'])), model, runId: 'run-1', caps: { requestTokens: 500 }, ledger, prices: priceLookup({}), tokens, clock: now,
      countPrompt: async () => n,
    });
    assert.equal(await own(100).room(messages), 400);
    assert.equal(await own(undefined).room(messages), 500 - promptTokens);
    const result = await own(100).call({ messages, maxTokens: 50 }, 'attempt', never);
    assert.equal(result.grantedMaxTokens, 50);
    assert.equal(result.usage.promptTokens, 100, 'no usage from the provider: the provider count is what is recorded');
  });

  it('reports room as the grant for a prompt, Infinity when uncapped', async () => {
    const ledger = new MemorySpendLedger(now);
    assert.equal(await caller(scripted(streamReply([])), ledger, { requestTokens: 500 }).room(messages), 500 - promptTokens);
    assert.equal(await caller(scripted(streamReply([])), ledger).room(messages), Number.POSITIVE_INFINITY);
  });

  it('on Stop mid-stream records the partial spend, then rejects with CallFailure(aborted) carrying the partial text', async () => {
    const stop = new AbortController();
    const provider = scripted(async function* (_request, signal) {
      yield { kind: 'delta', choice: 0, text: 'Let us compute 6 * 7' };
      yield { kind: 'delta', choice: 0, text: ' step by step' };
      if (!signal.aborted) {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      }
      throw new ProviderError('aborted', 'Stopped.');
    });
    const ledger = new MemorySpendLedger(now);
    const pending = caller(provider, ledger).call({ messages, maxTokens: 500 }, 'attempt', stop.signal, (_c, t) => {
      if (t === ' step by step') {
        stop.abort();
      }
    });
    const failure = await pending.then(() => assert.fail('should reject'), (e: unknown) => e as CallFailure);
    assert.ok(failure instanceof CallFailure);
    assert.ok(failure.cause instanceof ProviderError && failure.cause.kind === 'aborted');
    assert.deepEqual(failure.partialTexts, ['Let us compute 6 * 7 step by step']);
    assert.deepEqual(await ledger.records(), [failure.record]);
    assert.equal(failure.record.outcome, 'aborted');
    assert.equal(failure.record.estimated, true);
    assert.equal(failure.record.promptTokens, promptTokens);
    assert.equal(failure.record.completionTokens, tokens.countText('Let us compute 6 * 7 step by step', model).tokens);
    assert.ok(provider.signals[0].aborted, "the provider's signal was aborted");
  });

  it('records a provider error mid-stream, and no prompt tokens when the endpoint refused before generating', async () => {
    const ledger = new MemorySpendLedger(now);
    const midStream = scripted(async function* () {
      yield { kind: 'delta', choice: 0, text: 'partial answer' };
      throw new ProviderError('server', 'boom', 502);
    });
    const e1 = await caller(midStream, ledger).call({ messages, maxTokens: 100 }, 'attempt', never).catch((e: unknown) => e as CallFailure);
    assert.ok(e1 instanceof CallFailure);
    assert.deepEqual([e1.record.outcome, e1.record.promptTokens, e1.record.completionTokens], ['server', promptTokens, tokens.countText('partial answer', model).tokens]);
    // eslint-disable-next-line require-yield
    const refused = scripted(async function* () {
      throw new ProviderError('rate-limited', 'slow down', 429);
    });
    const e2 = await caller(refused, ledger).call({ messages, maxTokens: 100 }, 'attempt', never).catch((e: unknown) => e as CallFailure);
    assert.ok(e2 instanceof CallFailure);
    assert.deepEqual([e2.record.outcome, e2.record.promptTokens, e2.record.completionTokens, e2.partialTexts], ['rate-limited', 0, 0, ['']]);
    assert.equal((await ledger.records()).length, 2);
  });

  it('aborts a server that ignores max_tokens at the grant: text truncated to the grant, finish reason length', async () => {
    const long = 'The product of six and seven is computed by adding seven to itself six times. '.repeat(40);
    let pulled = 0;
    const provider = scripted(async function* (_request, signal) {
      for (let i = 0; i < long.length; i += 16) {
        if (signal.aborted) {
          throw new ProviderError('aborted', 'Stopped.');
        }
        pulled++;
        yield { kind: 'delta', choice: 0, text: long.slice(i, i + 16) };
      }
      yield { kind: 'done', finishReasons: ['stop'], usage: { promptTokens, cachedPromptTokens: 0, completionTokens: 999, reasoningTokens: 0, estimated: false } };
    });
    const ledger = new MemorySpendLedger(now);
    const shown: string[] = [];
    const result = await caller(provider, ledger, { requestTokens: promptTokens + 50 }).call({ messages, maxTokens: 4000 }, 'attempt', never, (_c, t) => shown.push(t));
    assert.equal(result.grantedMaxTokens, 50);
    const text = result.choices[0].text;
    assert.equal(result.choices[0].finishReason, 'length');
    assert.ok(long.startsWith(text));
    assert.equal(shown.join(''), text);
    assert.ok(tokens.countText(text, model).tokens <= 50);
    assert.ok(tokens.countText(long.slice(0, text.length + 1), model).tokens > 50, 'truncated at the grant, not before');
    assert.ok(provider.signals[0].aborted);
    assert.ok(pulled * 16 < text.length + 32, `stopped reading right after the grant (pulled ${pulled} chunks)`);
    const [record] = await ledger.records();
    assert.equal(record.estimated, true);
    assert.equal(record.outcome, 'length');
    assert.ok(record.completionTokens >= 50 && record.completionTokens <= 50 + 8, `records what was received: ${record.completionTokens}`);
  });

  it('appends the record to the ledger before the call resolves', async () => {
    const events: string[] = [];
    const inner = new MemorySpendLedger(now);
    const slowLedger: SpendLedger = Object.assign(Object.create(inner) as SpendLedger, {
      async append(record: SpendRecord) {
        events.push('append-start');
        await new Promise((r) => setTimeout(r, 20));
        await inner.append(record);
        events.push('append-done');
      },
    });
    const result = await caller(scripted(streamReply(['42'])), slowLedger).call({ messages, maxTokens: 20 }, 'attempt', never);
    events.push('resolved');
    assert.deepEqual(events, ['append-start', 'append-done', 'resolved']);
    assert.deepEqual(await inner.records(), [result.record]);
  });

  it('counts calls in flight against the caps, so parallel calls cannot together pass one', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const provider = scripted(async function* () {
      await gate;
      yield { kind: 'delta', choice: 0, text: 'ok' };
      yield { kind: 'done', finishReasons: ['stop'], usage: undefined };
    });
    const cap = 2 * promptTokens + 600 + 300;
    const metered = caller(provider, new MemorySpendLedger(now), { requestTokens: cap });
    const first = metered.call({ messages, maxTokens: 600 }, 'attempt', never);
    await new Promise((r) => setImmediate(r));
    const second = metered.call({ messages, maxTokens: 600 }, 'attempt', never);
    await new Promise((r) => setImmediate(r));
    release();
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual([a.grantedMaxTokens, b.grantedMaxTokens], [600, 300]);
    assert.deepEqual(provider.requests.map((r) => r.maxTokens), [600, 300]);
  });

  it('meters n parallel choices: the grant is per choice and every choice is counted', async () => {
    const provider = scripted(async function* () {
      yield { kind: 'delta', choice: 0, text: 'The answer is 42.' };
      yield { kind: 'delta', choice: 1, text: 'It is 42' };
      yield { kind: 'done', finishReasons: ['stop', 'length'], usage: undefined };
    });
    const ledger = new MemorySpendLedger(now);
    const result = await caller(provider, ledger, { requestTokens: promptTokens + 200 }).call({ messages, maxTokens: 500, n: 2 }, 'attempt', never);
    assert.equal(provider.requests[0].maxTokens, 100);
    assert.equal(provider.requests[0].n, 2);
    assert.deepEqual(result.choices.map((c) => [c.text, c.finishReason]), [['The answer is 42.', 'stop'], ['It is 42', 'length']]);
    assert.equal(result.usage.completionTokens, tokens.countText('The answer is 42.', model).tokens + tokens.countText('It is 42', model).tokens);
    assert.equal(result.record.outcome, 'stop,length');
  });

  it('keeps a daily cap across callers sharing one ledger file (two windows)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'metered-'));
    try {
      const file = path.join(dir, 'spend.jsonl');
      const usage: Usage = { promptTokens: 1000, cachedPromptTokens: 0, completionTokens: 1000, reasoningTokens: 0, estimated: false };
      const windowA = caller(scripted(streamReply(['a'], usage)), new FileSpendLedger(file, { durable: false, now }), { dailyTokens: 3000 });
      const windowB = caller(scripted(streamReply(['b'], usage)), new FileSpendLedger(file, { durable: false, now }), { dailyTokens: 3000 });
      await windowA.call({ messages, maxTokens: 1000 }, 'attempt', never);
      assert.equal(await windowB.room(messages), 1000 - promptTokens);
      await windowB.call({ messages, maxTokens: 1000 }, 'attempt', never);
      await assert.rejects(windowA.call({ messages, maxTokens: 1000 }, 'attempt', never), CapRefusal);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('does not send a call whose signal is already aborted', async () => {
    const stop = new AbortController();
    stop.abort();
    const provider = scripted(streamReply(['x']));
    const ledger = new MemorySpendLedger(now);
    const e = await caller(provider, ledger).call({ messages, maxTokens: 20 }, 'attempt', stop.signal).catch((err: unknown) => err as CallFailure);
    assert.ok(e instanceof CallFailure && (e.cause as ProviderError).kind === 'aborted');
    assert.equal(provider.requests.length, 0);
    assert.equal((await ledger.records()).length, 0);
  });
});

describe('MeteredCaller with learned token ratios (caps in the server\'s count)', () => {
  // An unknown tokenizer: until learned it may bill up to 2x the local count.
  const foreign = 'llama-3.1-8b';
  const localPrompt = tokens.countChatPrompt(messages, foreign).tokens;
  const ratioCaller = (provider: ChatProvider, ledger: SpendLedger, caps: SpendCaps, ratios: TokenRatios) =>
    new MeteredCaller({ provider, model: foreign, runId: 'run-1', caps, ledger, prices: priceLookup({}), tokens, clock: now, ratios });

  it('counts the prompt at the upper ratio, sends max_tokens below the room, and learns from the usage', async () => {
    const ratios = new TokenRatios();
    const text = 'Six times seven: add seven six times, which gives forty-two. So the answer is \\boxed{42}.';
    const billed: Usage = { promptTokens: Math.round(localPrompt * 1.5), cachedPromptTokens: 0, completionTokens: Math.round(tokens.countText(text, foreign).tokens * 1.4), reasoningTokens: 0, estimated: false };
    const provider = scripted(streamReply([text], billed));
    const ledger = new MemorySpendLedger(now);
    const cap = 2 * localPrompt + 400;
    const metered = ratioCaller(provider, ledger, { requestTokens: cap }, ratios);
    // Unlearned: the prompt may bill 2x; max_tokens is the room over the spread of 2.
    assert.equal(await metered.room(messages), Math.floor(400 / 2));
    const result = await metered.call({ messages, maxTokens: 4000 }, 'attempt', never);
    assert.equal(provider.requests[0].maxTokens, 200);
    assert.deepEqual(result.usage, billed, 'the billed figures reach the ledger');
    assert.equal(result.record.estimated, false);
    assert.deepEqual(await ledger.records(), [result.record]);
    const learned = ratios.of(foreign);
    assert.equal(learned.prompt.estimate, billed.promptTokens / localPrompt);
    assert.ok(learned.prompt.upper < 2 && learned.completion.upper < 2);
    // The next grant counts the prompt at the learned upper bound.
    const spent = billed.promptTokens + billed.completionTokens;
    const room = cap - spent - toBilled(localPrompt, learned.prompt.upper);
    assert.equal(await metered.room(messages), Math.floor(room * learned.completion.lower / learned.completion.upper + 1e-9));
  });

  it('lets a stream the server ends at max_tokens finish with its usage, and cuts one that runs past the room', async () => {
    const ratios = new TokenRatios();
    const long = 'The product of six and seven is computed by adding seven to itself six times. '.repeat(40);
    const cap = 2 * localPrompt + 300;
    // An honest server: it ends at max_tokens of its own tokens (1.5 of ours each) and sends usage.
    const honest = scripted(async function* (request) {
      const kept = tokens.truncateToTokens(long, Math.floor(request.maxTokens / 1.5), foreign);
      for (let i = 0; i < kept.length; i += 16) {
        yield { kind: 'delta', choice: 0, text: kept.slice(i, i + 16) };
      }
      yield { kind: 'done', finishReasons: ['length'], usage: { promptTokens: localPrompt, cachedPromptTokens: 0, completionTokens: request.maxTokens, reasoningTokens: 0, estimated: false } };
    });
    const ended = await ratioCaller(honest, new MemorySpendLedger(now), { requestTokens: cap }, ratios).call({ messages, maxTokens: 4000 }, 'attempt', never);
    assert.equal(ended.record.estimated, false, 'not cut: the usage arrived');
    assert.equal(ended.record.completionTokens, honest.requests[0].maxTokens);
    // A server that ignores max_tokens: cut where its stream passes the room at the upper ratio.
    const fresh = new TokenRatios();
    const runaway = scripted(async function* (_request, signal) {
      for (let i = 0; i < long.length; i += 16) {
        if (signal.aborted) {
          throw new ProviderError('aborted', 'Stopped.');
        }
        yield { kind: 'delta', choice: 0, text: long.slice(i, i + 16) };
      }
      yield { kind: 'done', finishReasons: ['stop'], usage: { promptTokens: localPrompt, cachedPromptTokens: 0, completionTokens: 9999, reasoningTokens: 0, estimated: false } };
    });
    const ledger = new MemorySpendLedger(now);
    const cut = await ratioCaller(runaway, ledger, { requestTokens: cap }, fresh).call({ messages, maxTokens: 4000 }, 'attempt', never);
    assert.equal(cut.choices[0].finishReason, 'length');
    assert.ok(runaway.signals[0].aborted);
    const kept = tokens.countText(cut.choices[0].text, foreign).tokens;
    assert.ok(kept <= 150 && kept >= 140, `kept ${kept} local tokens of 300 billed at 2x`);
    assert.equal(cut.record.estimated, true);
    assert.ok(cut.record.completionTokens <= 300 && cut.record.completionTokens >= 2 * kept, String(cut.record.completionTokens));
    assert.ok((await ledger.totalsForRun('run-1')).tokens <= cap);
    assert.deepEqual(fresh.toJSON().models, {}, 'nothing learned from a stream without usage');
  });

  it("uses the provider's own prompt count as billed and learns no prompt ratio from it", async () => {
    const ratios = new TokenRatios();
    const usage: Usage = { promptTokens: 70, cachedPromptTokens: 0, completionTokens: 30, reasoningTokens: 0, estimated: false };
    const metered = new MeteredCaller({
      provider: scripted(streamReply(['Forty-two is six times seven, as the table shows.'], usage)), model: foreign, runId: 'run-1', caps: { requestTokens: 500 },
      ledger: new MemorySpendLedger(now), prices: priceLookup({}), tokens, clock: now, ratios, countPrompt: async () => 70,
    });
    assert.equal(await metered.room(messages), Math.floor(430 / 2));
    await metered.call({ messages, maxTokens: 50 }, 'attempt', never);
    assert.equal(ratios.samples(foreign), 0);
    assert.ok(ratios.of(foreign).completion.estimate > 2, 'the completion side still learns');
  });
});

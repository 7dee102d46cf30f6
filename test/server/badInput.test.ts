import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { capsFromSettings } from '../../src/core/budget/caps';
import { meteredCallers } from '../../src/core/run/callers';
import { defaultSettings, parseSettings, type Settings } from '../../src/core/config';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import { ProviderError } from '../../src/core/providers/chatProvider';
import { OpenAICompatibleProvider } from '../../src/core/providers/openaiProvider';
import { CallFailure } from '../../src/core/budget/modelCaller';
import { ReasoningRun } from '../../src/core/reasoning/reasoningRun';
import { createRunEngine } from '../../src/core/run/engine';
import { planRun } from '../../src/core/run/plan';
import type { RefusalKind } from '../../src/core/run/refusal';
import type { RunOutcome } from '../../src/core/reasoning/reasoningRun';
import { contextWindowOf } from '../../src/core/tokens/contextWindows';
import { priceLookup } from '../../src/core/tokens/prices';
import { readTraceQuestion } from '../../tools/recordedData';
import { REPLAY_MODEL, REPLAY_PRICE, meteredStack, sharedTokenCounter } from '../support/faultTable';
import { replayModels, startModelServer, type ModelServer } from '../../tools/modelServer';

const REPLAY_WINDOW = replayModels.find((m) => m.id === REPLAY_MODEL)!.contextWindow;

type Gate = { refused: string; kind: RefusalKind } | { outcome: RunOutcome };

describe('Bad input is refused before any request and costs nothing', function () {
  this.timeout(20_000);
  let server: ModelServer;
  let dir: string;
  let ledgerFile: string;
  let ledger: FileSpendLedger;

  before(async () => {
    server = await startModelServer();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'br-bad-input-'));
  });
  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  beforeEach(async function () {
    server.reset();
    ledgerFile = path.join(dir, `${this.currentTest?.title.replace(/\W+/g, '-').slice(0, 60)}.jsonl`);
    ledger = new FileSpendLedger(ledgerFile, { durable: false });
  });

  /** Nothing reached the server and nothing was spent. */
  async function assertNothingSent(): Promise<void> {
    assert.equal(server.requests.length, 0, 'the server received no request');
    const records = await new FileSpendLedger(ledgerFile, { durable: false }).records();
    assert.deepEqual(records.map((r) => r.completionTokens + r.promptTokens), records.map(() => 0), 'nothing was spent');
  }

  /**
   * The Reason command's way: the run plan's checks (the question, the model's window, the caps'
   * room for a first chain), then the planned run over the metered stack.
   */
  async function reason(input: string | undefined, model = REPLAY_MODEL, windows: Record<string, number> = { [REPLAY_MODEL]: REPLAY_WINDOW }, requestBudget: Settings['requestBudget'] = 'auto'): Promise<Gate> {
    const planned = planRun({
      question: input,
      settings: { ...defaultSettings, requestCapUsd: 0, dailyCapUsd: 0, dailyTokenCap: 0, confirmAboveUsd: 0, estimator: 'local', requestBudget },
      models: [{ id: model, price: undefined, contextWindow: contextWindowOf(model, windows), billsInDollars: true }],
      tokens: sharedTokenCounter,
      estimate: () => ({ tokens: 300, source: 'fixed' }),
      learnedRuns: 0,
      today: { tokens: 0, dollars: 0 },
    });
    if (!planned.ok) {
      return { refused: planned.refusal.message, kind: planned.refusal.kind };
    }
    const stack = meteredStack({ baseURL: server.url, ledger, runId: 'bad-input', caps: planned.plan.caps });
    return { outcome: await createRunEngine(planned.plan, () => stack.caller, () => undefined).start() };
  }

  const questions: Array<[string, string | undefined, RegExp]> = [
    ['no question at all', undefined, /No question: select text in the editor or type a question/],
    ['an empty question', '', /empty.*Nothing was sent/],
    ['whitespace only', ' \n\t \r\n ', /empty.*Nothing was sent/],
    ['a 2 MB selection', 'What is 6 * 7? '.repeat(140_000), /2\.1 MB of text.*Select a smaller part\. Nothing was sent/],
    ['binary text', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1'), /binary data.*Nothing was sent/],
    ['a NUL byte in text', 'What is 6 * 7?\u0000', /binary data/],
  ];
  for (const [name, input, message] of questions) {
    it(`refuses ${name} before any request`, async () => {
      const gate = await reason(input);
      assert.ok('refused' in gate, 'refused');
      assert.match(gate.refused, message);
      await assertNothingSent();
    });
  }

  it("refuses a question over the model's context window, counted locally, before any request", async () => {
    // Under the 500k-character limit, but numbers cost a token per 3 digits: far past 32k and 128k tokens.
    const numbers = Array.from({ length: 42_000 }, (_, i) => String(100_003 * i)).join(' ');
    const gate = await reason(`Sum these: ${numbers}`);
    assert.ok('refused' in gate);
    assert.match(gate.refused, /tokens, more than "qwen2\.5-math-replay" can take with room to answer \(context window 32,768 tokens\).*Nothing was sent/);
    const gpt = await reason(`Sum these: ${numbers}`, 'gpt-4o-mini', {});
    assert.ok('refused' in gpt);
    assert.match(gpt.refused, /context window 128,000 tokens/);
    await assertNothingSent();
  });

  it('agrees with the server about the window: a question that just fits goes out, and a too-long one the server refuses costs nothing', async () => {
    const fits = await reason(readTraceQuestion(67).text);
    assert.ok('outcome' in fits && fits.outcome.reason === 'converged');
    server.reset();
    // Unknown window locally (no override): the endpoint refuses, and the refusal is free and explained.
    const words = Array.from({ length: 40_000 }, (_, i) => String(100_003 * i)).join(' ');
    const sent = await reason(`Sum these: ${words}`, REPLAY_MODEL, {});
    assert.ok('outcome' in sent);
    assert.equal(sent.outcome.reason, 'error');
    assert.match(sent.outcome.message, /too long for "qwen2\.5-math-replay".*maximum context length is 32768 tokens.*Shorten the selection or pick a model with a larger context window/);
    assert.equal(server.requests.length, 1);
    const [record] = (await new FileSpendLedger(ledgerFile, { durable: false }).records()).filter((r) => r.outcome === 'context-length');
    assert.deepEqual([record.promptTokens, record.completionTokens, record.dollars], [0, 0, 0], 'a refused request costs nothing');
  });

  const budgets: Array<[string, unknown]> = [
    ['negative', -500], ['zero', 0], ['below the minimum', 5], ['huge', 10_000_000_000], ['fractional', 1234.5], ['not a number', 'lots'], ['NaN', Number.NaN], ['Infinity', Number.POSITIVE_INFINITY],
  ];
  for (const [name, requestBudget] of budgets) {
    it(`reports a ${name} request budget in settings and falls back to "auto"`, async () => {
      const { settings, problems } = parseSettings({ requestBudget });
      assert.equal(settings.requestBudget, 'auto');
      assert.equal(problems.length, 1);
      assert.match(problems[0], /"budgetReasoner\.requestBudget" must be "auto" or a whole number of tokens from 10 to 999999/);
      await assertNothingSent();
    });
  }

  it('reports negative, NaN and infinite caps and keeps the safe defaults', () => {
    const { settings, problems } = parseSettings({ requestCapUsd: -1, dailyCapUsd: Number.NaN, dailyTokenCap: Number.NEGATIVE_INFINITY });
    assert.equal(problems.length, 3);
    assert.deepEqual([settings.requestCapUsd, settings.dailyCapUsd, settings.dailyTokenCap], [defaultSettings.requestCapUsd, defaultSettings.dailyCapUsd, defaultSettings.dailyTokenCap]);
    assert.ok(problems.every((p) => /must be a number of at least 0/.test(p)));
    assert.deepEqual(capsFromSettings(settings), { requestDollars: 0.25, dailyDollars: 2 }, 'a bad value never turns a cap off');
  });

  it('refuses a zero, negative or NaN chain budget in the run itself, before any request', async () => {
    const stack = meteredStack({ baseURL: server.url, ledger, runId: 'bad-budget', caps: {} });
    for (const chainTokens of [0, -10, Number.NaN]) {
      assert.throws(() => new ReasoningRun(stack.caller, { question: 'What is 6 * 7?', budget: { chainTokens, source: 'fixed' } }), RangeError);
    }
    await assertNothingSent();
  });

  it('refuses a run whose token budget cannot hold the prompt, naming the cap, and sends nothing', async () => {
    const gate = await reason('What is 6 * 7?', REPLAY_MODEL, {}, 20);
    assert.ok('refused' in gate);
    assert.equal(gate.kind, 'cap');
    assert.match(gate.refused, /^Not sent: this request's token budget \(20 tokens\) leaves no room .*Raise budgetReasoner\.requestBudget\.$/);
    await assertNothingSent();
  });

  const urls: Array<[string, unknown, RegExp]> = [
    ['empty', '  ', /is empty: set it to an OpenAI-compatible URL/],
    ['not a URL', 'api.openai.com/v1', /is not a valid URL/],
    ['another protocol', 'ftp://example.com/v1', /must start with http:\/\/ or https:\/\/ \(got ftp:\)/],
    ['with credentials', 'https://me:sk-test-SECRET-123456789@example.com/v1', /must not contain credentials: store the key with "Budget Reasoner: Set API Key"/],
    ['not a string', 42, /is empty/],
  ];
  for (const [name, baseUrl, message] of urls) {
    it(`reports an invalid base URL (${name}) and keeps the default endpoint`, async () => {
      const { settings, problems } = parseSettings({ baseUrl });
      assert.equal(settings.baseUrl, defaultSettings.baseUrl);
      assert.equal(problems.length, 1);
      assert.match(problems[0], message);
      assert.ok(!problems[0].includes('SECRET'), 'a key in the URL is not echoed');
      await assertNothingSent();
    });
  }

  it('reports a malformed model id in settings', () => {
    const { settings, problems } = parseSettings({ model: 'gpt 4o; rm -rf /' });
    assert.equal(settings.model, defaultSettings.model);
    assert.match(problems[0], /must be a model id such as gpt-4o-mini/);
  });

  it('explains an unknown model id (the server\'s 404) with "Select Model", and records 0 tokens', async () => {
    const caller = meteredCallers({ runId: 'unknown-model', ledger, tokens: sharedTokenCounter })({
      id: 'gpt-9-imaginary',
      provider: new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 }),
      prices: priceLookup({ overrides: { 'gpt-9-imaginary': REPLAY_PRICE } }),
    }, { requestDollars: 1 });
    const events: string[] = [];
    const outcome = await new ReasoningRun(caller, { question: 'What is 6 * 7?', budget: { chainTokens: 300, source: 'fixed' } }, (e) => events.push(e.type)).start();
    assert.equal(outcome.reason, 'error');
    assert.match(outcome.message, /The endpoint has no model "gpt-9-imaginary" \(404\)\. Run "Budget Reasoner: Select Model" to pick one it serves/);
    assert.equal(server.requests.length, 1, 'one request, answered 404');
    const records = await new FileSpendLedger(ledgerFile, { durable: false }).records();
    assert.equal(records.length, 1);
    assert.deepEqual([records[0].outcome, records[0].promptTokens, records[0].completionTokens, records[0].dollars], ['model-not-found', 0, 0, 0]);

    // The same error straight from a call, as the model picker's callers see it.
    const failure = await caller.call({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 50 }, 'probe', new AbortController().signal).catch((e: unknown) => e);
    assert.ok(failure instanceof CallFailure && failure.cause instanceof ProviderError && failure.cause.kind === 'model-not-found');
    assert.ok(events.includes('error'));
  });
});

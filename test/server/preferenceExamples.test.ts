import * as assert from 'node:assert/strict';
import { defaultSettings, type Settings } from '../../src/core/config';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import { SYSTEM_PROMPTS } from '../../src/core/reasoning/answerKinds';
import { budgetPromptLine } from '../../src/core/budget/budgetTracker';
import { buildPreferencePair, PreferencePairs, preferenceExampleBlock } from '../../src/core/reasoning/preferenceExamples';
import { createRunEngine } from '../../src/core/run/engine';
import { planRun, type PlanRequest } from '../../src/core/run/plan';
import { contextWindowOf } from '../../src/core/tokens/contextWindows';
import { readTraceQuestion } from '../../tools/recordedData';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { REPLAY_MODEL, meteredStack, sharedTokenCounter } from '../support/faultTable';

/**
 * Preference examples through the product's own stack: a finished run's chains make a pair, and the
 * next question's plan sends it (plan, engine, metered caller, the real openai client, the loopback server).
 */
describe('preference examples against the loopback server', function () {
  this.timeout(30_000);
  let server: ModelServer;
  let dir: string;

  before(async () => {
    server = await startModelServer();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'br-pdp-'));
  });
  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => server.reset());

  async function run(question: string, patch: Partial<Settings> = {}, request: Partial<PlanRequest> = {}) {
    const planned = planRun({
      question,
      settings: { ...defaultSettings, requestCapUsd: 0, dailyCapUsd: 0, confirmAboveUsd: 0, estimator: 'local', ...patch },
      models: [{ id: REPLAY_MODEL, baseUrl: server.url, price: undefined, contextWindow: contextWindowOf(REPLAY_MODEL, {}), billsInDollars: true }],
      tokens: sharedTokenCounter,
      estimate: () => ({ tokens: 600, source: 'local' }),
      learnedRuns: 0,
      today: { tokens: 0, dollars: 0 },
      ...request,
    });
    assert.ok(planned.ok, planned.ok ? '' : planned.refusal.message);
    const ledger = new FileSpendLedger(path.join(dir, `${Math.random().toString(36).slice(2)}.jsonl`), { durable: false });
    const stack = meteredStack({ baseURL: server.url, ledger, runId: 'pdp', caps: planned.plan.caps });
    const engine = createRunEngine(planned.plan, () => stack.caller, () => undefined);
    const outcome = await engine.start();
    const [requests, responses] = [server.requests.slice(), server.responses.slice()];
    server.reset();
    return { plan: planned.plan, engine, outcome, requests, responses, records: await ledger.records() };
  }

  it('a finished run\'s chains make a pair, which the next similar question sends and the ledger bills', async () => {
    // Recorded MATH question 25: the first recorded chain agrees with the third, the second is cut at max_tokens.
    const source = await run(readTraceQuestion(25).text);
    assert.equal(source.outcome.reason, 'converged', source.outcome.message);
    assert.deepEqual(source.plan.examples, [], 'no pairs yet: nothing added');
    assert.equal(source.requests[0].body.messages[0].content, SYSTEM_PROMPTS.short, 'the prompt as without examples');
    const pair = buildPreferencePair({ question: source.plan.prompt, answerKind: source.plan.answerKind, model: REPLAY_MODEL, endpoint: server.url, chains: source.engine.preferenceChains!(source.outcome.answer!) });
    assert.ok(pair, 'a pair: the agreed answer within b, and a chain cut at the same b');
    assert.equal(pair.reason, 'cut');
    const store = new PreferencePairs();
    store.add(pair);

    const question = readTraceQuestion(0).text;
    const on = await run(question, { preferenceExamples: 'auto' }, { preferencePairs: store.list });
    const off = await run(question, { preferenceExamples: 'off' }, { preferencePairs: store.list });
    assert.equal(on.plan.header.preferenceExamples, 1);
    // The request carries the example in its system message; the question is still what the server answers.
    const sent = on.requests[0].body.messages;
    assert.equal(sent[0].content, `${SYSTEM_PROMPTS.short}\n\n${preferenceExampleBlock([pair])}`);
    assert.ok(sent[0].content.includes(pair.efficient) && sent[0].content.includes(pair.inefficient));
    assert.equal(sent[1].content, `${question}\n${budgetPromptLine(on.plan.chainTokens)}`);
    assert.deepEqual([on.responses[0].kind, on.responses[0].questionKey], ['recorded', 'math:0'], 'the question asked, not the example\'s, is answered');
    assert.equal(on.outcome.answer, off.outcome.answer);
    assert.equal(off.requests[0].body.messages[0].content, SYSTEM_PROMPTS.short, 'off sends none');

    // The ledger bills the examples: the first chain's prompt tokens are the plan's, examples included, plus the budget line.
    const firstAttempt = (records: typeof on.records) => records.find((r) => r.purpose === 'attempt')!;
    const budgetLine = sharedTokenCounter.countText(`\n${budgetPromptLine(on.plan.chainTokens)}`, REPLAY_MODEL).tokens;
    assert.ok(Math.abs(firstAttempt(on.records).promptTokens - (on.plan.promptTokens + budgetLine)) <= 1, `${firstAttempt(on.records).promptTokens} vs ${on.plan.promptTokens} + ${budgetLine}`);
    const exampleTokens = on.plan.promptTokens - off.plan.promptTokens;
    assert.ok(exampleTokens > sharedTokenCounter.countText(pair.efficient, REPLAY_MODEL).tokens, `${exampleTokens}`);
    assert.equal(firstAttempt(on.records).promptTokens - firstAttempt(off.records).promptTokens, exampleTokens, 'the ledger\'s prompt tokens carry exactly the examples');
    assert.equal(on.plan.budgetTokens - off.plan.budgetTokens, 8 * exampleTokens, 'and the run budget plans for them');
  });
});

import * as assert from 'node:assert/strict';
import { MemorySpendLedger } from '../../src/core/ledger/spendLedger';
import { OpenAICompatibleProvider } from '../../src/core/providers/openaiProvider';
import { normalizeAnswer } from '../../src/core/reasoning/answers';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { STEP_BREAK, ValueTreeRun, type ValueTreeOptions } from '../../src/core/reasoning/valueTree';
import { meteredCallers } from '../../src/core/run/callers';
import { continuedBudget } from '../../src/core/run/plan';
import type { SpendCaps } from '../../src/core/budget/caps';
import { priceLookup } from '../../src/core/tokens/prices';
import { initialRunView, reduceRunView } from '../../src/core/view/runView';
import { readTraceQuestion } from '../../tools/recordedData';
import { startModelServer, type ModelServer, type ModelServerOptions } from '../../tools/modelServer';
import { REPLAY_MODEL, sharedTokenCounter } from '../support/faultTable';

/** MATH 17: four of its eight recorded chains are right, and the reward model scores them higher (6 against 4 or 2). */
const split = readTraceQuestion(17);
/** MATH 46: every chain right, in four paragraphs. */
const short = readTraceQuestion(46);

/** A whole tree run through the product's stack: ValueTreeRun -> MeteredCaller -> the openai client -> the loopback server. */
async function treeRun(server: ModelServer, question: string, budget: number, options: Partial<ValueTreeOptions> = {}) {
  const provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 });
  const ledger = new MemorySpendLedger();
  // The request cap is the run's budget, as the plan sets it.
  const caps: SpendCaps = { requestTokens: budget };
  const caller = meteredCallers({ runId: 'r', ledger, tokens: sharedTokenCounter })({ id: REPLAY_MODEL, provider, prices: priceLookup({ baseUrl: server.url }) }, caps);
  const events: RunEvent[] = [];
  const run = new ValueTreeRun(caller, { question, budget: { chainTokens: 400, totalTokens: budget, source: 'fixed' }, parallel: 3, temperature: 0.7, ...options }, (e) => events.push(e));
  const outcome = await run.start();
  const view = events.reduce(reduceRunView, initialRunView({ runId: 'r', question, model: REPLAY_MODEL, strategy: 'value-tree', caps: [], providerBillsInDollars: false }));
  return { run, outcome, events, view, ledger, caps, records: await ledger.records() };
}

describe('value tree against the loopback server (real openai client)', function () {
  this.timeout(30_000);
  const servers: Record<string, ModelServer> = {};
  const serve = async (name: string, options: ModelServerOptions = {}) => (servers[name] ??= await startModelServer(options));
  after(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
  });

  it('the server replays a step at a time: the next paragraph of a chain that goes the way of the steps so far, cut at the stop sequence', async () => {
    const server = await serve('plain');
    server.reset();
    const r = await treeRun(server, short.text, 6000);
    const steps = server.requests.filter((_q, i) => server.responses[i].kind === 'step');
    assert.ok(steps.length >= 3);
    assert.ok(steps.every((q) => JSON.stringify(q.body.stop) === JSON.stringify([STEP_BREAK])), 'every step request carries the paragraph break as its stop');
    const sent = server.responses.filter((s) => s.kind === 'step').flatMap((s) => s.choices.map((c) => c.text));
    assert.ok(sent.every((t) => !t.includes(STEP_BREAK)), 'no step reply runs past a paragraph break');
    assert.ok(server.responses.some((s) => s.kind === 'value'), 'value requests are scored');
    assert.equal(r.outcome.answer, normalizeAnswer(short.gold));
  });

  it('a whole run: steps, values and forced answers metered and in the ledger with their purposes, within the budget, progressive answers shown', async () => {
    const server = await serve('plain');
    server.reset();
    const budget = 8000;
    const { outcome, records, view, events } = await treeRun(server, split.text, budget);
    assert.equal(records.length, server.requests.length, 'one ledger record a call');
    const purposes = new Set(records.map((x) => x.purpose));
    assert.deepEqual([...purposes].sort(), ['forced-answer', 'step', 'value']);
    const spent = records.reduce((s, x) => s + x.promptTokens + x.completionTokens, 0);
    assert.equal(outcome.tokensSpent, spent);
    assert.ok(spent <= budget, `${spent} billed of ${budget}`);
    // The server's own count agrees with the ledger.
    const billed = server.responses.reduce((s, x) => s + (x.usage ? x.usage.prompt_tokens + x.usage.completion_tokens : 0), 0);
    assert.equal(billed, spent);
    // The reward model prefers the right chains: the tree's answer is the right one.
    assert.equal(outcome.answer, normalizeAnswer(split.gold), outcome.message);
    assert.ok(outcome.confidence > 0 && outcome.confidence < 1);
    const answers = events.filter((e) => e.type === 'answer');
    assert.ok(answers.length >= 2, `${answers.length} answers`);
    assert.equal(view.status.state, 'finished');
    assert.equal(view.answers.length, answers.length, 'the panel\'s view shows every answer');
    assert.ok(view.attempts.some((a) => a.purpose === 'step') && view.attempts.some((a) => a.purpose === 'value'));
    assert.equal(view.budget.spentTokens, spent);
  });

  it('against a server that ignores n: one step a call after the first, and the tree still grows to an answer', async () => {
    const server = await serve('ignore-n', { ignoreN: true });
    server.reset();
    const { outcome, run } = await treeRun(server, short.text, 6000);
    const stepBodies = server.requests.filter((_q, i) => server.responses[i].kind === 'step').map((q) => q.body.n);
    assert.equal(stepBodies[0], 3);
    assert.ok(stepBodies.slice(1).every((n) => n === undefined), JSON.stringify(stepBodies));
    assert.ok(run.nodes.length > 3);
    assert.equal(outcome.answer, normalizeAnswer(short.gold));
  });

  it('a tight budget ends with the best path\'s forced answer, inside the cap', async () => {
    const server = await serve('plain');
    server.reset();
    const budget = 1500;
    const { outcome, records } = await treeRun(server, split.text, budget);
    assert.equal(outcome.reason, 'budget-exhausted', outcome.message);
    assert.equal(records.at(-1)!.purpose, 'forced-answer');
    assert.ok(outcome.tokensSpent <= budget, `${outcome.tokensSpent}`);
  });

  it('Continue grows the same tree on the server', async () => {
    const server = await serve('plain');
    server.reset();
    const first = await treeRun(server, split.text, 1500);
    const nodes = first.run.nodes.length;
    const requests = server.requests.length;
    // As the registry continues a run: the run's cap rises in place.
    continuedBudget(first.caps, first.run.totalBudget, 4000);
    const more = await first.run.continueWith(4000);
    assert.ok(first.run.nodes.length > nodes);
    const continued = server.requests.slice(requests).filter((_q, i) => server.responses[requests + i].kind === 'step');
    assert.ok(continued.length > 0);
    assert.ok(more.tokensSpent <= 5500, `${more.tokensSpent}`);
  });
});

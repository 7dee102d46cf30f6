import * as assert from 'node:assert/strict';
import type { SpendRecord } from '../../src/core/ledger/spendRecord';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import {
  MODELS_LIMIT, MODEL_NAME_LIMIT, applyRunViewUpdate, diffRunView, initialRunView, parseRunView, reduceRunView,
  type RunHeader, type RunView,
} from '../../src/core/view/runView';
import {
  exactTokens, headerParts, modelCostRows, modelDollarsText, modelOrder, preciseDollars, showsModels,
} from '../../src/core/view/runViewText';
import { CASCADE_LADDER, recordCascadeRun, type RecordedCascade } from '../../tools/cascadeRun';

const LADDER = CASCADE_LADDER.map((r) => r.model);
const fold = (header: RunHeader, events: readonly RunEvent[]) => events.reduce(reduceRunView, initialRunView(header));

/** The ledger's records summed per model by hand, in the order the models were first billed. */
function perModel(records: readonly SpendRecord[]) {
  const rows = new Map<string, { calls: number; promptTokens: number; completionTokens: number; dollars: number | null }>();
  for (const r of records) {
    const row = rows.get(r.model) ?? { calls: 0, promptTokens: 0, completionTokens: 0, dollars: 0 };
    row.calls++;
    row.promptTokens += r.promptTokens;
    row.completionTokens += r.completionTokens;
    row.dollars = row.dollars === null || r.dollars === null ? null : row.dollars + r.dollars;
    rows.set(r.model, row);
  }
  return [...rows.entries()];
}

// The view of a real cascade: CascadeRun through MeteredCaller and the openai SDK to the loopback
// model server, three GPT-3 models replaying their recorded GSM8K solutions.
describe('runView of a model cascade', function () {
  let priced: RecordedCascade;
  let unpriced: RecordedCascade;

  before(async function () {
    this.timeout(60_000);
    priced = await recordCascadeRun();
    unpriced = await recordCascadeRun({ unpriced: ['gpt3-175b-verification'] });
  });

  it('the recorded cascade climbs all three models (the premise of the tests below)', () => {
    assert.equal(priced.outcome.reason, 'converged');
    assert.equal(priced.outcome.answer, priced.gold);
    assert.deepEqual(priced.outcome.tiers.map((t) => t.model), LADDER);
    assert.ok(priced.records.some((r) => r.purpose === 'estimate'), 'the TALE estimate call is billed too');
  });

  it('labels every attempt and every answer with the model that produced it', () => {
    const v = fold(priced.header, priced.events);
    const started = priced.events.filter((e): e is Extract<RunEvent, { type: 'attempt-started' }> => e.type === 'attempt-started');
    assert.deepEqual(v.attempts.map((a) => [a.attempt, a.model]), started.map((e) => [e.attempt, e.model]));
    assert.deepEqual(v.attempts.map((a) => a.model), LADDER);
    assert.deepEqual(v.answers.map((a) => [a.answer, a.model]), [['144', LADDER[0]], ['36', LADDER[1]], ['7', LADDER[2]]]);
    assert.equal(v.answers.at(-1)!.model, priced.outcome.model);
  });

  it('splits the spend by model exactly as the ledger records it, in the order the models were called', () => {
    const v = fold(priced.header, priced.events);
    const expected = perModel(priced.records);
    assert.deepEqual(v.budget.byModel.map((m) => m.model), LADDER);
    assert.deepEqual(v.budget.byModel.map((m) => m.model), expected.map(([model]) => model));
    for (const [i, [model, e]] of expected.entries()) {
      const m = v.budget.byModel[i];
      assert.equal(m.calls, e.calls, model);
      assert.equal(m.promptTokens, e.promptTokens, model);
      assert.equal(m.completionTokens, e.completionTokens, model);
      assert.ok(m.dollars !== null && e.dollars !== null && Math.abs(m.dollars - e.dollars) < 1e-15, model);
    }
    // The cheapest model also made the estimate call: two calls.
    assert.equal(v.budget.byModel[0].calls, 2);
    // The rows add up to the run's totals.
    const sum = (f: (m: RunView['budget']['byModel'][number]) => number) => v.budget.byModel.reduce((s, m) => s + f(m), 0);
    assert.equal(sum((m) => m.calls), v.budget.calls);
    assert.equal(sum((m) => m.promptTokens + m.completionTokens), v.budget.spentTokens);
    assert.ok(Math.abs(sum((m) => m.dollars ?? Number.NaN) - v.budget.dollars!) < 1e-15);
    // The strong model costs the most though it wrote fewer tokens than the 6B verifier.
    assert.ok(v.budget.byModel[2].dollars! > 10 * v.budget.byModel[1].dollars!);
  });

  it('writes the cost table from those numbers, with two significant digits for fractions of a cent', () => {
    const v = fold(priced.header, priced.events);
    const { rows, total } = modelCostRows(v.budget, true);
    const expected = perModel(priced.records);
    assert.deepEqual(rows, expected.map(([model, e]) => ({
      model, calls: String(e.calls), tokensIn: exactTokens(e.promptTokens), tokensOut: exactTokens(e.completionTokens), dollars: preciseDollars(e.dollars!),
    })));
    assert.match(rows[2].dollars!, /^\$0\.000\d\d$/, 'the 175B call costs a few hundredths of a cent');
    assert.deepEqual(total, {
      model: 'Total', calls: String(priced.records.length), tokensIn: exactTokens(v.budget.promptTokens),
      tokensOut: exactTokens(v.budget.completionTokens), dollars: preciseDollars(v.budget.dollars!),
    });
    // A local endpoint bills no dollars: tokens only.
    assert.ok(modelCostRows(v.budget, false).rows.every((r) => r.dollars === undefined));
  });

  it('says "unpriced" for a model without a price, never $0, and keeps the priced part of the total', () => {
    const v = fold(unpriced.header, unpriced.events);
    const strong = v.budget.byModel.find((m) => m.model === 'gpt3-175b-verification')!;
    assert.equal(strong.dollars, null);
    assert.equal(strong.knownDollars, 0);
    assert.equal(v.budget.dollars, null);
    const { rows, total } = modelCostRows(v.budget, true);
    assert.equal(rows[2].dollars, 'unpriced');
    assert.match(rows[0].dollars!, /^\$0\.0000\d\d$/);
    assert.equal(total!.dollars, `${preciseDollars(v.budget.knownDollars)} + unpriced`);
    assert.ok(v.budget.knownDollars > 0);
  });

  it('shows the models: the header as a ladder, and models in ladder order', () => {
    const v = fold(priced.header, priced.events);
    assert.equal(showsModels(v), true);
    assert.equal(headerParts(v)[0], 'gpt3-6b-finetuning → gpt3-6b-verification → gpt3-175b-verification');
    assert.equal(headerParts(v)[1], 'model cascade');
    assert.deepEqual(modelOrder(v), LADDER);
    // Without the header's list, events alone name the models, in the order they ran.
    const { models: _models, ...plain } = priced.header;
    const bare = fold({ ...plain, strategy: 'anytime-sc' }, priced.events);
    assert.equal(showsModels(bare), true);
    assert.deepEqual(modelOrder(bare), LADDER);
    assert.equal(headerParts(bare)[0], priced.header.model);
  });

  it('reaches a receiver through batched updates, and restores from stored state', () => {
    let sent = initialRunView(priced.header);
    let received: RunView = structuredClone(sent);
    for (let i = 0; i < priced.events.length; i += 5) {
      const now = priced.events.slice(i, i + 5).reduce(reduceRunView, sent);
      const { changes, reasoning } = diffRunView(sent, now);
      const r = applyRunViewUpdate(received, structuredClone(changes), reasoning && structuredClone(reasoning));
      assert.equal(r.consistent, true);
      received = r.view;
      sent = now;
    }
    assert.deepEqual(received, sent);
    assert.deepEqual(parseRunView(JSON.parse(JSON.stringify(sent))), sent);
  });
});

describe('runView of a single-model run', () => {
  const header: RunHeader = {
    runId: 'r1', question: 'What is 2+2?', model: 'gpt-4o-mini', strategy: 'anytime-sc', caps: [], providerBillsInDollars: true,
  };
  const spend = (model: string, purpose: SpendRecord['purpose'], dollars: number | null): RunEvent => ({
    type: 'spend',
    record: {
      time: '2025-01-01T00:00:00Z', runId: 'r1', purpose, providerId: 'p', model, promptTokens: 20, cachedPromptTokens: 0,
      completionTokens: 30, reasoningTokens: 0, dollars, estimated: false, outcome: 'stop',
    },
  });
  const events: RunEvent[] = [
    spend('gpt-4o-mini', 'estimate', 0.0001),
    { type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 200 },
    { type: 'attempt-finished', attempt: 1, finishReason: 'stop', answer: '4', completionTokens: 30 },
    spend('gpt-4o-mini', 'attempt', 0.0002),
    { type: 'answer', answer: '4', text: 'so 4', confidence: 0.75, tokensSoFar: 60, changed: true, ruleState: '1 of 1' },
  ];

  it('looks as before: no model on attempts or answers, no badges, no table', () => {
    const v = fold(header, events);
    assert.deepEqual(v.attempts[0], { attempt: 1, purpose: 'attempt', maxTokens: 200, finishReason: 'stop', answer: '4', completionTokens: 30 });
    assert.equal('model' in v.answers[0], false);
    assert.equal(v.budget.byModel.length, 1);
    assert.equal(v.budget.byModel[0].calls, 2);
    assert.equal(showsModels(v), false);
    assert.equal(headerParts(v)[0], 'gpt-4o-mini');
  });

  it('shows the models once its calls are billed to two (an estimate asked of another model)', () => {
    const v = fold(header, [spend('gpt-4.1-nano', 'estimate', null), ...events.slice(1)]);
    assert.equal(showsModels(v), true);
    assert.deepEqual(v.budget.byModel.map((m) => [m.model, m.calls, m.dollars]), [['gpt-4.1-nano', 1, null], ['gpt-4o-mini', 1, 0.0002]]);
    assert.equal(modelCostRows(v.budget, true).rows[0].dollars, 'unpriced');
  });
});

describe('model names in stored state (untrusted)', () => {
  const header: RunHeader = {
    runId: 'r', question: 'q', model: 'm', strategy: 'cascade', caps: [], providerBillsInDollars: true, models: ['a', 'b'],
  };
  const view = fold(header, [
    { type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 10, model: 'a' },
    { type: 'answer', answer: '1', text: '', confidence: 0.5, tokensSoFar: 3, changed: true, ruleState: '', model: 'a' },
  ]);

  it('restores a cascade view, model list and labels included', () => {
    const v = parseRunView(JSON.parse(JSON.stringify(view)))!;
    assert.equal(v.header.strategy, 'cascade');
    assert.deepEqual(v.header.models, ['a', 'b']);
    assert.equal(v.attempts[0].model, 'a');
    assert.equal(v.answers[0].model, 'a');
  });

  it('keeps only strings, bounded in length and number, and drops malformed cost rows', () => {
    const raw = JSON.parse(JSON.stringify(view));
    const long = 'x'.repeat(10_000);
    raw.header.models = ['a', 42, { evil: true }, long, ...Array.from({ length: 100 }, (_, i) => `m${i}`)];
    raw.attempts[0].model = { toString: 'evil' };
    raw.answers[0].model = long;
    raw.budget.byModel = [
      { model: long, calls: 1, promptTokens: 2, completionTokens: 3, dollars: 0.5, knownDollars: 0.5 },
      { model: 'b', calls: '1', promptTokens: 2, completionTokens: 3, dollars: 0 },
      { model: 7, calls: 1, promptTokens: 2, completionTokens: 3, dollars: 0 },
      'junk',
      { model: 'c', calls: 1, promptTokens: 2, completionTokens: 3, dollars: null, knownDollars: 'x' },
      ...Array.from({ length: 100 }, (_, i) => ({ model: `n${i}`, calls: 1, promptTokens: 1, completionTokens: 1, dollars: 0, knownDollars: 0 })),
    ];
    const v = parseRunView(raw)!;
    assert.equal(v.header.models!.length, MODELS_LIMIT);
    assert.deepEqual(v.header.models!.slice(0, 3), ['a', long.slice(0, MODEL_NAME_LIMIT), 'm0']);
    assert.equal('model' in v.attempts[0], false);
    assert.equal(v.answers[0].model, long.slice(0, MODEL_NAME_LIMIT));
    assert.equal(v.budget.byModel.length, MODELS_LIMIT);
    assert.equal(v.budget.byModel[0].model.length, MODEL_NAME_LIMIT);
    assert.deepEqual(v.budget.byModel[1], { model: 'c', calls: 1, promptTokens: 2, completionTokens: 3, dollars: null, knownDollars: 0 });
  });

  it('drops an empty model list and still rejects an unknown strategy', () => {
    assert.equal('models' in parseRunView({ ...JSON.parse(JSON.stringify(view)), header: { ...header, models: [1, 2] } })!.header, false);
    assert.equal(parseRunView({ ...JSON.parse(JSON.stringify(view)), header: { ...header, strategy: 'evil' } }), undefined);
  });
});

describe('preciseDollars', () => {
  it('keeps two significant digits below a cent and the usual format above', () => {
    assert.equal(preciseDollars(0), '$0');
    assert.equal(preciseDollars(0.000018), '$0.000018');
    assert.equal(preciseDollars(0.0000141599), '$0.000014');
    assert.equal(preciseDollars(0.00287), '$0.0029');
    assert.equal(preciseDollars(0.0099), '$0.0099');
    assert.equal(preciseDollars(0.25), '$0.25');
    assert.equal(preciseDollars(12.5), '$12.50');
    assert.equal(preciseDollars(1e-12), '<$0.00000001');
    assert.equal(modelDollarsText(null, 0), 'unpriced');
    assert.equal(modelDollarsText(null, 0.000018), '$0.000018 + unpriced');
  });
});

import * as assert from 'assert';
import { ProviderError } from '../../src/core/providers/chatProvider';
import { CallFailure } from '../../src/core/budget/modelCaller';
import { LocalBudgetEstimator, questionFeatures, ridgeToward } from '../../src/core/budget/localEstimator';
import { TaleBudgetEstimator, estimateBudget, parseTaleBudget, taleEstimatePrompt } from '../../src/core/budget/taleEstimator';
import { budgetLevel, budgetPromptLine, budgetTrackerBlock } from '../../src/core/budget/budgetTracker';
import { SCRIPTED_RECORD, ScriptedCaller, spendRecord } from '../support/scripted';

const countWords = (t: string): number => t.split(/\s+/).filter(Boolean).length;

/** A model that gives every call the same reply (or throws the same error). */
const oneReplyCaller = (reply: string | Error) => new ScriptedCaller({
  model: 'm', otherwise: reply instanceof Error ? reply : { text: reply, tokens: 6 }, promptTokens: 50, roomTokens: 1000,
});

describe('parseTaleBudget', () => {
  const cases: Array<[string, number | undefined]> = [
    ['Budget: [[120]]', 120],
    ['[[ 80 ]] tokens', 80],
    ['I think about 200 tokens', undefined], // a number in prose is not an estimate
    ["First, let's rate be \\( 2 \\times 5 = 6\\)", undefined], // the model answering, not sizing
    ['120', 120],
    ['Budget: 120 tokens.', 120],
    ['Budget: [[126.4]]', 126],
    ['[[5]]', 32], // clamped up to min
    ['[[20000]]', 8192], // clamped down to cap
    ['[[99999999]]', undefined], // absurd
    ['[[0]]', undefined],
    ['[[-5]]', undefined],
    ['no idea', undefined],
    ['', undefined],
  ];
  for (const [reply, expected] of cases) {
    it(JSON.stringify(reply), () => assert.strictEqual(parseTaleBudget(reply, 32, 8192).tokens, expected));
  }
  it('takes the first [[N]] even after other numbers', () => assert.strictEqual(parseTaleBudget('For 3 steps: [[150]] or [[90]]', 32, 8192).tokens, 150));
});

describe('TaleBudgetEstimator', () => {
  const local = new LocalBudgetEstimator({ countTokens: countWords });

  it('makes one small estimate call and returns a tale budget with its spend', async () => {
    const caller = oneReplyCaller('Budget: [[140]]');
    const est = await new TaleBudgetEstimator({ caller, fallback: local }).estimate('What is 2+2?', new AbortController().signal);
    assert.strictEqual(est.source, 'tale');
    assert.strictEqual(est.tokens, 140);
    assert.strictEqual(caller.calls.length, 1);
    assert.strictEqual(caller.calls[0].purpose, 'estimate');
    assert.ok(caller.calls[0].spec.maxTokens <= 16);
    assert.strictEqual(caller.calls[0].spec.messages[0].content, taleEstimatePrompt('What is 2+2?'));
    assert.strictEqual(est.records?.length, 1);
  });

  it('falls back to the local estimate on garbage and says so', async () => {
    const est = await new TaleBudgetEstimator({ caller: oneReplyCaller('¯\\_(ツ)_/¯'), fallback: local }).estimate('What is 2+2?', new AbortController().signal);
    assert.strictEqual(est.source, 'fallback');
    assert.strictEqual(est.tokens, local.predict('What is 2+2?'));
    assert.match(est.note ?? '', /^estimate failed: the model said "¯\\_\(ツ\)_\/¯", with no \[\[N\]\]; using the local estimate of \d+ tokens\.$/);
    assert.strictEqual(est.records?.length, 1, 'the wasted call is still reported');
  });

  it('falls back when the call fails, but rethrows an abort', async () => {
    const failure = new CallFailure(new ProviderError('server', 'HTTP 503'), [], spendRecord({ ...SCRIPTED_RECORD, purpose: 'estimate', model: 'm', promptTokens: 50, completionTokens: 0, dollars: 0 }));
    const est = await new TaleBudgetEstimator({ caller: oneReplyCaller(failure), fallback: local }).estimate('q', new AbortController().signal);
    assert.strictEqual(est.source, 'fallback');
    assert.match(est.note ?? '', /HTTP 503/);
    const aborted = new CallFailure(new ProviderError('aborted', 'aborted'), [], spendRecord({ ...SCRIPTED_RECORD, purpose: 'estimate', model: 'm', promptTokens: 50, completionTokens: 0, dollars: 0 }));
    await assert.rejects(new TaleBudgetEstimator({ caller: oneReplyCaller(aborted), fallback: local }).estimate('q', new AbortController().signal));
  });
});

describe('LocalBudgetEstimator', () => {
  it('predicts larger budgets for longer, formula-heavy questions', () => {
    const local = new LocalBudgetEstimator({ countTokens: countWords });
    const short = local.predict('What is 2 + 3?');
    const long = local.predict('Let $f(x) = \\frac{x^2 + 3x}{x - 1}$ for $x \\ne 1$. Find all $x$ such that $f(f(x)) = x$, and then compute the sum of $x^2$ over all such $x$. Express your answer as a common fraction.');
    assert.ok(long > short, `${long} > ${short}`);
    assert.strictEqual(local.estimate('q').source, 'local');
  });

  it('learns from completed runs and moves toward what they needed', () => {
    const local = new LocalBudgetEstimator({ countTokens: countWords });
    const question = 'How many apples are left if Tom has 12 and eats 5?';
    const before = local.predict(question);
    for (let i = 0; i < 30; i++) {
      local.learn(question, 2000);
    }
    const after = local.predict(question);
    assert.ok(after > before * 3, `${before} -> ${after}`);
    assert.strictEqual(local.learnedRuns, 30);
  });

  it('serialises its state to JSON, bounded, without question text', () => {
    const local = new LocalBudgetEstimator({ countTokens: countWords, maxHistory: 5 });
    for (let i = 0; i < 9; i++) {
      local.learn(`secret question ${i}`, 100 + i);
    }
    const json = JSON.stringify(local);
    assert.ok(!json.includes('secret'));
    const restored = new LocalBudgetEstimator({ countTokens: countWords, state: JSON.parse(json), maxHistory: 5 });
    assert.strictEqual(restored.learnedRuns, 5);
    assert.strictEqual(restored.predict('secret question 3'), local.predict('secret question 3'));
    assert.deepStrictEqual(local.toJSON().history.map((h) => h.needed), [104, 105, 106, 107, 108]);
  });

  it('ignores nonsense observations and corrupt state', () => {
    const local = new LocalBudgetEstimator({ countTokens: countWords, state: { version: 1, history: [{ features: [1], needed: 5 }] } });
    assert.strictEqual(local.learnedRuns, 0);
    local.learn('q', -3);
    local.learn('q', NaN);
    assert.strictEqual(local.learnedRuns, 0);
  });

  it('features have the documented length', () => {
    assert.strictEqual(questionFeatures('Prove that 1 + 1 = 2.', countWords).length, 8);
  });

  it('ridgeToward recovers an exact linear relation', () => {
    const rows = [[1, 0], [1, 1], [1, 2], [1, 3]];
    const w = ridgeToward([0, 0], 1e-9, rows, rows.map((x) => 2 + 3 * x[1]));
    assert.ok(Math.abs(w[0] - 2) < 1e-6 && Math.abs(w[1] - 3) < 1e-6);
  });
});

describe('estimateBudget modes', () => {
  const signal = new AbortController().signal;
  it('fixed, local, tale and auto', async () => {
    const local = new LocalBudgetEstimator({ countTokens: countWords });
    const caller = oneReplyCaller('[[77]]');
    const tale = new TaleBudgetEstimator({ caller, fallback: local });
    assert.deepStrictEqual(await estimateBudget('fixed', 'q', { local, tale, fixedTokens: 4000 }, signal), { tokens: 4000, source: 'fixed' });
    assert.strictEqual((await estimateBudget('local', 'q', { local, tale }, signal)).source, 'local');
    assert.strictEqual((await estimateBudget('tale', 'q', { local, tale }, signal)).tokens, 77);
    assert.strictEqual((await estimateBudget('auto', 'q', { local, tale, autoLocalAfterRuns: 2 }, signal)).source, 'tale');
    local.learn('q', 100);
    local.learn('q', 120);
    assert.strictEqual((await estimateBudget('auto', 'q', { local, tale, autoLocalAfterRuns: 2 }, signal)).source, 'local');
    assert.strictEqual(caller.calls.length, 2);
  });
});

describe('budget tracker', () => {
  it('states the TALE budget line', () => assert.strictEqual(budgetPromptLine(150), "Let's think step by step and use less than 150 tokens:"));
  it('levels by share left', () => {
    assert.strictEqual(budgetLevel(0, 1000), 'HIGH');
    assert.strictEqual(budgetLevel(300, 1000), 'HIGH');
    assert.strictEqual(budgetLevel(301, 1000), 'MEDIUM');
    assert.strictEqual(budgetLevel(700, 1000), 'MEDIUM');
    assert.strictEqual(budgetLevel(701, 1000), 'LOW');
    assert.strictEqual(budgetLevel(901, 1000), 'CRITICAL');
    assert.strictEqual(budgetLevel(5000, 1000), 'CRITICAL');
  });
  it('block says used, remaining and to answer now when critical', () => {
    const block = budgetTrackerBlock(950, 1000);
    assert.match(block, /^<budget>Tokens used: 950, Tokens remaining: 50 \(CRITICAL\)\. .*final answer now.*<\/budget>$/);
  });
});

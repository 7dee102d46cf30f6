import * as assert from 'assert';
import { ProviderError } from '../../src/core/providers/chatProvider';
import { CallFailure } from '../../src/core/budget/modelCaller';
import { countTokens } from 'gpt-tokenizer/cjs/encoding/o200k_base';
import { LOCAL_ESTIMATOR_FEATURES, LocalBudgetEstimator, questionDomain, questionFeatures, ridgeToward, type EstimatorPrior, type LocalEstimatorState } from '../../src/core/budget/localEstimator';
import { localEstimatorPrior } from '../../src/core/budget/localEstimatorPrior';
import { composeQuestion } from '../../src/core/run/questionContext';
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

describe('questionFeatures', () => {
  const feature = (x: number[], name: typeof LOCAL_ESTIMATOR_FEATURES[number]) => x[LOCAL_ESTIMATOR_FEATURES.indexOf(name)];
  const codeQuestion = composeQuestion('Complete this function.', {
    path: 'a.py', languageId: 'python', startLine: 1, endLine: 4,
    code: 'def add(a, b):\n    """Add two numbers and return the sum."""\n    # keep it short\n',
  });

  it('tells math notation, word problems (money is not math) and code apart', () => {
    assert.strictEqual(questionDomain('Let $f(x) = x^2$. Find $f(3)$.'), 'math');
    assert.strictEqual(questionDomain('Compute \\frac{1}{2} + 1.'), 'math');
    assert.strictEqual(questionDomain('What is $x$ if 2x = 6?'), 'math');
    assert.strictEqual(questionDomain('Eggs cost $2 each and milk $3. How much are 4 eggs and a milk?'), 'text');
    assert.strictEqual(questionDomain('Two fair dice are rolled. What is the probability the sum is 9?'), 'text');
    assert.strictEqual(questionDomain(codeQuestion), 'code');
  });

  it("sets one domain's block: its indicator, its prose tokens and its numbers, the shared level always 1", () => {
    const x = questionFeatures('Tom has 12 apples and eats 5.', countWords);
    assert.strictEqual(x.length, LOCAL_ESTIMATOR_FEATURES.length);
    assert.deepStrictEqual([feature(x, 'level'), feature(x, 'text'), feature(x, 'math'), feature(x, 'code')], [1, 1, 0, 0]);
    assert.strictEqual(feature(x, 'text.logProseTokens'), Math.log1p(7));
    assert.strictEqual(feature(x, 'text.logNumbers'), Math.log1p(2));
    assert.strictEqual(feature(x, 'math.logProseTokens'), 0);
  });

  it("measures a code question's code and its docstrings and comments apart from its prose", () => {
    const x = questionFeatures(codeQuestion, countWords);
    assert.deepStrictEqual([feature(x, 'code'), feature(x, 'text'), feature(x, 'math')], [1, 0, 0]);
    assert.strictEqual(feature(x, 'code.logCodeTokens'), Math.log1p(countWords('def add(a, b):\n    """Add two numbers and return the sum."""\n    # keep it short')));
    assert.strictEqual(feature(x, 'code.logDocTokens'), Math.log1p(countWords('"""Add two numbers and return the sum."""\n # keep it short')));
    // A longer docstring asks for more: the same function with a longer description.
    const longer = questionFeatures(codeQuestion.replace('return the sum.', 'return the sum. Raise a ValueError when either is not a number, and round the sum to two places.'), countWords);
    assert.ok(feature(longer, 'code.logDocTokens') > feature(x, 'code.logDocTokens'));
  });
});

describe('LocalBudgetEstimator', () => {
  /** A hand-made prior: text questions need 10 x (1 + prose tokens)^0.5 tokens; headroom ln 1.5. */
  const handPrior: EstimatorPrior = {
    features: [...LOCAL_ESTIMATOR_FEATURES],
    weights: LOCAL_ESTIMATOR_FEATURES.map((f) => ({ text: Math.log(10), 'text.logProseTokens': 0.5, math: Math.log(100), code: Math.log(50) } as Record<string, number>)[f] ?? 0),
    priorStrength: 20,
    levelStrength: 1,
    logHeadroom: { math: 0, text: Math.log(1.5), code: 0 },
    fittedOn: 'by hand',
  };

  it('predicts exp(w . x + headroom) from its table', () => {
    const local = new LocalBudgetEstimator({ countTokens: countWords, prior: handPrior });
    // 99 words: 10 x 100^0.5 x 1.5 = 150.
    assert.strictEqual(local.predict(Array.from({ length: 99 }, () => 'word').join(' ')), 150);
    assert.strictEqual(local.predict('Find $x^2$.'), 100);
    assert.strictEqual(local.predict('tiny'), 32, 'clamped up to minTokens');
  });

  it('the shipped prior: a word problem, a harder math question, code with more to say', () => {
    const local = new LocalBudgetEstimator({ countTokens });
    const word = local.predict('Janet has 16 eggs. She eats 3 and bakes with 4. She sells the rest for $2 each. How much does she make?');
    const math = local.predict('Let $f(x) = \\frac{x^2 + 3x}{x - 1}$ for $x \\ne 1$. Find all $x$ such that $f(f(x)) = x$, and then compute the sum of $x^2$ over all such $x$. Express your answer as a common fraction.');
    assert.ok(word >= 60 && word <= 250, `a short word problem: ${word}`);
    assert.ok(math > 2 * word, `${math} > 2 x ${word}`);
    const code = (doc: string) => local.predict(composeQuestion('Complete this function.', { path: 'f.py', languageId: 'python', startLine: 1, endLine: 3, code: `def f(xs):\n    """${doc}"""\n` }));
    const short = code('Return the sum.');
    const long = code('Return the sum of the even numbers at odd positions of xs, skipping negatives, or -1 when there are none. Example: f([1, 2, 3, 4]) == 6');
    assert.ok(long > short, `${long} > ${short}`);
    assert.strictEqual(local.estimate('q').source, 'local');
    assert.strictEqual(localEstimatorPrior.weights[LOCAL_ESTIMATOR_FEATURES.indexOf('level')], 0, "the shared level is left to the user's runs");
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

  it("learns a wordier model's level from a few runs, for other questions too", () => {
    const local = new LocalBudgetEstimator({ countTokens: countWords, prior: handPrior });
    const other = 'Sam reads 20 pages a day for 6 days. How many pages is that?';
    const mathQuestion = 'Find $x^2$.';
    const before = [local.predict(other), local.predict(mathQuestion)];
    // Five different word problems, each needing three times the prior's guess.
    for (let words = 10; words <= 50; words += 10) {
      local.learn(Array.from({ length: words }, () => 'word').join(' '), 3 * 10 * Math.sqrt(1 + words));
    }
    const after = [local.predict(other), local.predict(mathQuestion)];
    assert.ok(after[0] > 2 * before[0], `a new word problem: ${before[0]} -> ${after[0]}`);
    assert.ok(after[1] > 1.5 * before[1], `a math question shares the level: ${before[1]} -> ${after[1]}`);
  });

  it('a question asked again moves toward what it needed more than a different one', () => {
    // The regression spreads what a run teaches over every question (the shared level learns fast);
    // similar past questions' needs add their own part, so a question asked again gets more of it.
    const local = new LocalBudgetEstimator({ countTokens, prior: handPrior });
    const asked = 'A train leaves at 3 pm going 60 miles an hour. When has it gone 150 miles?';
    const different = 'Mia has 4 boxes of 12 pencils and gives away a third of them. How many pencils does she keep, and how many boxes would they fill?';
    const before = [local.predict(asked), local.predict(different)];
    for (let i = 0; i < 3; i++) {
      local.learn(asked, 8 * before[0]);
    }
    const after = [local.predict(asked), local.predict(different)];
    assert.ok(after[0] >= 8 * before[0] && after[0] <= 16 * before[0], `in range of what it needed: ${before[0]} -> ${after[0]}`);
    assert.ok(after[0] / before[0] > after[1] / before[1], `the same: ${before[0]} -> ${after[0]}, the other: ${before[1]} -> ${after[1]}`);
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

  it('ignores nonsense observations, corrupt state and the old features (version 1)', () => {
    const local = new LocalBudgetEstimator({ countTokens: countWords, state: { version: 2, history: [{ features: [1], needed: 5 }] } });
    assert.strictEqual(local.learnedRuns, 0);
    local.learn('q', -3);
    local.learn('q', NaN);
    assert.strictEqual(local.learnedRuns, 0);
    const old = { version: 1, history: [{ features: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], needed: 50 }] } as unknown as LocalEstimatorState;
    assert.strictEqual(new LocalBudgetEstimator({ countTokens: countWords, state: old }).learnedRuns, 0);
  });

  it('ridgeToward recovers an exact linear relation', () => {
    const rows = [[1, 0], [1, 1], [1, 2], [1, 3]];
    const w = ridgeToward([0, 0], 1e-9, rows, rows.map((x) => 2 + 3 * x[1]));
    assert.ok(Math.abs(w[0] - 2) < 1e-6 && Math.abs(w[1] - 3) < 1e-6);
  });

  it('ridgeToward holds a weight of great strength at its prior value', () => {
    const rows = [[1, 1, 0], [1, 1, 1], [1, 1, 2]];
    const w = ridgeToward([0, 0, 0], [1e9, 1e-9, 1e-9], rows, rows.map((x) => 2 + 3 * x[2]));
    assert.ok(Math.abs(w[0]) < 1e-6 && Math.abs(w[1] - 2) < 1e-6 && Math.abs(w[2] - 3) < 1e-6, String(w));
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

import * as assert from 'assert';
import type { CodeDefect } from '../../src/core/reasoning/codeChecks';
import { AnswerClusters } from '../../src/core/reasoning/clusters';
import { CODE_DEFAULTS, CodeConsensus, chooseCodeAnswer, cleanAgreement } from '../../src/core/reasoning/codeConsensus';
import { ReasoningRun } from '../../src/core/reasoning/reasoningRun';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { AnytimeSelfConsistency, type ChainRecord, type RunProgress } from '../../src/core/reasoning/strategies';
import { strategyOf } from '../../src/core/run/engine';
import { ScriptedCaller, workOf, type CallerStep } from '../support/scripted';

// ---- stop decisions on hand-made runs: answers named by letters, similarities given per pair ----

function progress(answers: Array<{ name: string; defects?: CodeDefect[] }>, sims: Record<string, number>, chains = answers.length): RunProgress {
  const clusters = new AnswerClusters((a, b) => (a === b ? 1 : sims[[a, b].sort().join('')] ?? 0), 0.5);
  const records: ChainRecord[] = answers.map((a, i) => ({
    attempt: i + 1, text: a.name, finishReason: 'stop', answer: a.name, cluster: i, vote: clusters.add(a.name), defects: a.defects ?? [],
    form: 'code-block', completionTokens: 100, maxTokens: 1024, promptBudget: 300, forced: false,
  }));
  const unanswered: ChainRecord[] = Array.from({ length: chains - answers.length }, (_, i) => ({
    attempt: answers.length + i + 1, text: 'no code', finishReason: 'stop', completionTokens: 100, maxTokens: 1024, promptBudget: 300, forced: false,
  }));
  return { chainBudget: 300, totalBudget: 10_000, tokensSpent: 100 * chains, chains: [...records, ...unanswered], extraChainsOwed: 0, parallel: 1, answerKind: 'code', clusters };
}
const broken: CodeDefect[] = ['undefined-name'];

describe('CodeConsensus stop decisions', () => {
  const strategy = new CodeConsensus();

  it('keeps drawing while fewer than two answers look whole, however many broken ones agree', () => {
    const state = progress([{ name: 'a', defects: broken }, { name: 'b', defects: broken }, { name: 'c' }], { ab: 1, ac: 0.2, bc: 0.2 });
    const a = strategy.assess(state);
    assert.strictEqual(a.settled, false);
    assert.strictEqual(a.answerIndex, 2, 'the whole-looking answer is shown, not the broken pair');
    assert.deepStrictEqual(strategy.next(state).kind, 'chain');
  });

  it('stops when two whole answers agree, else at three, and never past five chains', () => {
    assert.strictEqual(strategy.assess(progress([{ name: 'a' }, { name: 'b' }], { ab: 0.7 })).settled, true);
    assert.match(strategy.assess(progress([{ name: 'a' }, { name: 'b' }], { ab: 0.7 })).ruleState, /agree/);
    assert.strictEqual(strategy.assess(progress([{ name: 'a' }, { name: 'b' }], { ab: 0.69 })).settled, false);
    assert.strictEqual(strategy.assess(progress([{ name: 'a' }, { name: 'b' }, { name: 'c' }], {})).settled, true);
    const allBroken = progress(Array.from({ length: 5 }, (_, i) => ({ name: 'abcde'[i], defects: broken })), {});
    assert.strictEqual(strategy.assess(allBroken).settled, false);
    assert.deepStrictEqual(strategy.next(allBroken), { kind: 'stop', reason: 'max-chains', message: '5 chains without settling.' });
    assert.strictEqual(strategy.next(progress([{ name: 'a', defects: broken }], {}, 4)).kind, 'chain', 'chains without code count towards the cap only');
  });

  it('is never certain: two agreeing whole answers are a strong majority, not 100%', () => {
    const two = strategy.assess(progress([{ name: 'a' }, { name: 'b' }], { ab: 0.9 }));
    assert.match(two.ruleState, /two whole-looking answers agree/);
    assert.ok(Math.abs(two.confidence - 0.875) < 1e-9, `2 of 2 agree: the Beta posterior of the majority, got ${two.confidence}`);
    const twoOfThree = strategy.assess(progress([{ name: 'a' }, { name: 'b' }, { name: 'c' }], { ab: 0.9 }));
    assert.ok(twoOfThree.confidence < two.confidence, 'a third answer that disagrees lowers it');
    const lone = strategy.assess(progress([{ name: 'a' }], {}));
    assert.ok(lone.confidence <= 0.5, 'one whole answer is no more than an even bet');
    const many = strategy.assess(progress(Array.from({ length: 12 }, (_, i) => ({ name: 'abcdefghijkl'[i] })), Object.fromEntries(Array.from({ length: 12 }, (_, i) => ['a' + 'abcdefghijkl'[i], 0.9]))));
    assert.ok(many.confidence <= 0.99, `12 agreeing answers still show at most 99%, got ${many.confidence}`);
  });

  it('stops on whole answers that are far apart when asked to', () => {
    const apart = new CodeConsensus({ ...CODE_DEFAULTS, apart: 0.15 });
    assert.strictEqual(apart.assess(progress([{ name: 'a' }, { name: 'b' }], { ab: 0.1 })).settled, true);
    assert.match(apart.assess(progress([{ name: 'a' }, { name: 'b' }], { ab: 0.1 })).ruleState, /far apart/);
    assert.strictEqual(apart.assess(progress([{ name: 'a' }, { name: 'b' }], { ab: 0.2 })).settled, false);
    assert.strictEqual(strategy.assess(progress([{ name: 'a' }, { name: 'b' }], { ab: 0 })).settled, false, 'off by default');
  });

  it('shows the whole answer most alike the other whole ones; ties go to the earliest', () => {
    const state = progress([{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd', defects: broken }], { ab: 0.3, ac: 0.1, bc: 0.6, ad: 0.9, bd: 0.9, cd: 0.9 });
    assert.strictEqual(chooseCodeAnswer(state)?.answer, 'b');
    assert.strictEqual(chooseCodeAnswer(state, { clean: false })?.answer, 'd', 'plain MBR over all answers');
    assert.strictEqual(chooseCodeAnswer(progress([{ name: 'a' }, { name: 'b' }], { ab: 0.4 }))?.answer, 'a');
    assert.strictEqual(chooseCodeAnswer(progress([{ name: 'a', defects: broken }, { name: 'b', defects: broken }, { name: 'c', defects: broken }], { ab: 0.2, ac: 0.5, bc: 0.5 }))?.answer, 'c', 'no whole answer: MBR over all');
    assert.deepStrictEqual(cleanAgreement(state), { clean: 3, closest: 0.6, mean: (0.3 + 0.1 + 0.6) / 3 });
  });
});

// ---- whole runs: ReasoningRun with scripted replies, the product's code path ----

const prompt = 'def count_primes(n):\n    """Return how many primes are below n."""';
const question = `Complete this function.\n\n\`\`\`python\n${prompt}\n\`\`\``;
/** A reply with `body`, introduced anew on each call (copies of one text would not be counted). */
const reply = (body: string, tokens = 80): CallerStep => (_spec, _purpose, call) => ({ text: `${workOf(call)} Here it is:\n\n\`\`\`python\n${prompt}\n${body}\n\`\`\``, tokens });
const usesHelper = reply('    return sum(1 for k in range(n) if is_prime(k))');
const trial = reply('    count = 0\n    for k in range(2, n):\n        if all(k % d for d in range(2, k)):\n            count += 1\n    return count');
const trialRenamed = reply('    total = 0\n    for m in range(2, n):\n        if all(m % q for q in range(2, m)):\n            total += 1\n    return total');
const sieve = reply('    flags = [True] * n\n    for k in range(2, n):\n        for j in range(k * k, n, k):\n            flags[j] = False\n    return sum(flags[2:])');
const ranOn = reply(`    count = 0\n    ${'#'.repeat(200)}`);

function codeRun(replies: CallerStep[]) {
  const caller = new ScriptedCaller({ replies });
  const events: RunEvent[] = [];
  const run = new ReasoningRun(caller, { question, answerKind: 'code', strategy: new CodeConsensus(), budget: { chainTokens: 300, totalTokens: 20_000, source: 'local' } }, (e) => events.push(e));
  return { run, caller, events };
}

describe('CodeConsensus in a run', () => {
  it('sets a broken first answer aside and stops when two whole answers agree', async () => {
    const { run, caller, events } = codeRun([usesHelper, trial, trialRenamed, sieve]);
    const outcome = await run.start();
    assert.strictEqual(caller.calls.length, 3);
    assert.strictEqual(outcome.reason, 'converged');
    assert.ok(outcome.answer?.includes('for k in range(2, n)'), 'the first whole answer');
    assert.deepStrictEqual(run.state.chains.map((c) => c.defects), [['undefined-name'], [], []]);
    const answers = events.filter((e): e is Extract<RunEvent, { type: 'answer' }> => e.type === 'answer');
    assert.ok(answers[0].answer.includes('is_prime'), 'the first answer still shows at once');
    assert.ok(answers[answers.length - 1].answer === outcome.answer);
  });

  it('shows a whole answer rather than the broken ones that agree with each other', async () => {
    const { run, caller } = codeRun([ranOn, ranOn, sieve, usesHelper, usesHelper]);
    const outcome = await run.start();
    assert.strictEqual(caller.calls.length, 5);
    assert.ok(outcome.answer?.includes('flags = [True] * n'));
  });

  it('is what the engine runs for code under the default settings, and only then', () => {
    const spec = { kind: 'chains', strategy: 'anytime-sc', answerKind: 'code', selector: 'medoid', stoppingRule: 'auto', confidenceThreshold: 0.95 } as const;
    assert.ok(strategyOf(spec) instanceof CodeConsensus);
    assert.ok(strategyOf({ ...spec, answerKind: 'short' }) instanceof AnytimeSelfConsistency);
    assert.ok(strategyOf({ ...spec, answerKind: 'prose' }) instanceof AnytimeSelfConsistency);
    assert.ok(strategyOf({ ...spec, stoppingRule: 'beta' }) instanceof AnytimeSelfConsistency);
    assert.strictEqual(strategyOf({ ...spec, strategy: 'single' }).name, 'single');
  });
});

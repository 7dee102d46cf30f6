import * as assert from 'node:assert/strict';
import type { CallSpec } from '../../src/core/budget/modelCaller';
import { CALL_PURPOSES, type CallPurpose } from '../../src/core/ledger/spendRecord';
import { toCompletionParams } from '../../src/core/providers/openaiProvider';
import { FORCED_ANSWER_PROMPTS, FORCED_ANSWER_TOKENS } from '../../src/core/reasoning/answerKinds';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import {
  backUp, bestPath, budgetShares, cutStep, frontier, NEXT_STEP_PROMPT, parseStepValue, pathText, pickIndex, seededRandom,
  selectionWeights, STEP_BREAK, STEP_INSTRUCTION, TREE_DEFAULTS, VALUE_INSTRUCTION, ValueTreeRun, type TreeNode, type ValueTreeOptions,
} from '../../src/core/reasoning/valueTree';
import { purposeLabel, purposeOf } from '../../src/core/view/runView';
import { ScriptedCaller, type CallerReply } from '../support/scripted';

/** A hand-built node. */
function node(id: number, parent: number | undefined, reward: number, children: number[] = []): TreeNode {
  return { id, ...(parent !== undefined ? { parent } : {}), depth: 0, step: `step ${id}`, tokens: 10, reward, value: reward, children, expanded: children.length > 0 };
}

/** The steps so far of a step request (the assistant's turn), one a paragraph. */
function pathOf(spec: CallSpec): string[] {
  const assistant = spec.messages.find((m) => m.role === 'assistant');
  return assistant ? assistant.content.split(STEP_BREAK) : [];
}

/** The step a value request scores. */
function scoredStep(spec: CallSpec): string {
  return /Next step:\n([\s\S]*?)\n\n/.exec(spec.messages[0].content)?.[1] ?? '';
}

interface TreeModel {
  /** The next steps after a path (one per choice asked for; the last repeats when fewer are given). */
  steps: (path: string[], call: number) => string[];
  /** The reply to a value request for a step. */
  value: (step: string) => string;
  /** The reply to a forced answer (given the path it is forced from). */
  forced?: string | ((path: string[]) => string);
}

/** A scripted model that answers the tree's three kinds of request. */
function treeCaller(model: TreeModel, over: { onlyOneChoice?: boolean } = {}): ScriptedCaller {
  return new ScriptedCaller({
    // About a token per four characters, as a tokenizer would count the prompt.
    promptTokens: (messages) => Math.ceil(messages.reduce((n, m) => n + m.content.length, 0) / 4),
    otherwise: (spec, purpose, call): CallerReply => {
      if (purpose === 'value') {
        return { text: model.value(scoredStep(spec)), tokens: 1 };
      }
      if (purpose === 'forced-answer') {
        const forced = typeof model.forced === 'function' ? model.forced(pathOf(spec)) : model.forced;
        return { text: forced ?? '\\boxed{0}', tokens: 5 };
      }
      const wanted = over.onlyOneChoice ? 1 : spec.n ?? 1;
      const texts = model.steps(pathOf(spec), call);
      return { text: Array.from({ length: wanted }, (_, i) => texts[Math.min(i, texts.length - 1)]), tokens: 20 * wanted };
    },
  });
}

function makeRun(caller: ScriptedCaller, options: Partial<ValueTreeOptions> = {}) {
  const events: RunEvent[] = [];
  const run = new ValueTreeRun(caller, {
    question: 'What is 6 * 7?',
    budget: { chainTokens: 300, totalTokens: 20_000, source: 'local' },
    ...options,
  }, (e) => events.push(e));
  const of = <T extends RunEvent['type']>(type: T) => events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
  const purposes = () => caller.calls.map((c) => c.purpose);
  return { run, events, of, purposes };
}

/** Two ways in: "Multiply" (worth 9) reaches 42, "Guess" (worth 1) reaches 7. */
const twoWays: TreeModel = {
  steps: (path) => {
    if (path.length === 0) {
      return ['Multiply 6 by 7.', 'Guess a number.'];
    }
    return path[0].startsWith('Multiply') ? ['So the answer is \\boxed{42}.'] : ['So the answer is \\boxed{7}.'];
  },
  value: (step) => (step.includes('Guess') || step.includes('{7}') ? '1' : '9'),
};

describe('value tree: its parts on hand-worked trees', () => {
  it('reads a step value on the 0-10 scale, and says so when the reply is garbage', () => {
    assert.deepEqual(parseStepValue('7'), { value: 0.7 });
    assert.deepEqual(parseStepValue(' Score: 8/10'), { value: 0.8 });
    assert.deepEqual(parseStepValue('10'), { value: 1 });
    assert.deepEqual(parseStepValue('0'), { value: 0 });
    for (const garbage of ['banana', '', '12', 'ten', '-']) {
      const read = parseStepValue(garbage);
      assert.equal(read.value, TREE_DEFAULTS.neutralValue, garbage);
      assert.match(read.note ?? '', /unreadable step value .*taken as neutral/, garbage);
    }
  });

  it('weighs a score by the probability of its token when logprobs come back', () => {
    // p = 0.5: halfway between the score 0.8 and the neutral 0.5.
    assert.ok(Math.abs(parseStepValue('8', [{ token: '8', logprob: Math.log(0.5) }]).value - 0.65) < 1e-12);
    assert.ok(Math.abs(parseStepValue('10', [{ token: '10', logprob: 0 }]).value - 1) < 1e-12);
    // Logprobs of other tokens only: the score as read.
    assert.equal(parseStepValue('3', [{ token: 'x', logprob: -5 }]).value, 0.3);
  });

  it('a step is the text up to the first paragraph break', () => {
    assert.equal(cutStep('\n\nFirst we multiply.\nStill the step.\n\nThen more.'), 'First we multiply.\nStill the step.');
    assert.equal(cutStep('All of it.'), 'All of it.');
    assert.equal(cutStep('  \n'), '');
  });

  it('splits the remaining budget by value: B(n_i) = B_rem * V(n_i) / sum V(n_j)', () => {
    assert.deepEqual(budgetShares([0.8, 0.4, 0.4], 1600), [800, 400, 400]);
    assert.deepEqual(budgetShares([0, 0], 100), [50, 50], 'no value anywhere: even shares');
  });

  it('selects by V^(1/r): by value while the budget is whole, all but greedy as it runs out', () => {
    const values = [0.8, 0.4];
    const at = (r: number) => selectionWeights(values, r).map((w) => Number(w.toFixed(6)));
    assert.deepEqual(at(1), [0.666667, 0.333333]);
    // r = 0.5: 0.64 against 0.16.
    assert.deepEqual(at(0.5), [0.8, 0.2]);
    // r = 0.1: 2^10 to 1.
    assert.deepEqual(at(0.1), [Number((1024 / 1025).toFixed(6)), Number((1 / 1025).toFixed(6))]);
    // Below the floor of r the weights stop sharpening; values above 1 (backed up) do not overflow.
    assert.deepEqual(selectionWeights(values, 0), selectionWeights(values, TREE_DEFAULTS.minRatio));
    assert.ok(selectionWeights([40, 20], 0.01).every(Number.isFinite));
    assert.deepEqual(pickIndex([0.8, 0.2], 0.79), 0);
    assert.deepEqual(pickIndex([0.8, 0.2], 0.8), 1);
  });

  it('draws the same numbers from the same seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const draws = Array.from({ length: 5 }, () => a());
    assert.deepEqual(draws, Array.from({ length: 5 }, () => b()));
    assert.ok(draws.every((x) => x >= 0 && x < 1));
    assert.notDeepEqual(draws, Array.from({ length: 5 }, seededRandom(8)));
  });

  it('backs values up as V(n) = R(n) + gamma * max V(children) and follows the best path', () => {
    // root(0.5) -> a(0.6) -> {b(0.8), c(0.4)};  root -> d(0.9), unexpanded.
    const nodes = [node(0, undefined, 0.5, [1, 4]), node(1, 0, 0.6, [2, 3]), node(2, 1, 0.8), node(3, 1, 0.4), node(4, 0, 0.9)];
    backUp(nodes, 2, 0.9);
    backUp(nodes, 4, 0.9);
    assert.ok(Math.abs(nodes[1].value - (0.6 + 0.9 * 0.8)) < 1e-12, 'a: 1.32');
    assert.ok(Math.abs(nodes[0].value - (0.5 + 0.9 * 1.32)) < 1e-12, 'root: through a, worth more than d');
    assert.deepEqual(bestPath(nodes).map((n) => n.id), [0, 1, 2]);
    assert.equal(pathText(nodes, 2), `step 1${STEP_BREAK}step 2`);
    assert.deepEqual(frontier(nodes).map((n) => n.id), [2, 3, 4]);
  });
});

describe('value tree: whole runs', () => {
  it('expands a node into k children with one call of n, each scored by its own value call', async () => {
    const caller = treeCaller(twoWays);
    const { run, of } = makeRun(caller, { parallel: 2 });
    await run.start();
    const first = caller.calls[0];
    assert.equal(first.purpose, 'step');
    assert.equal(first.spec.n, TREE_DEFAULTS.maxChildren, 'k children in one call, as the budget share allows');
    assert.deepEqual(first.spec.stop, [STEP_BREAK], 'a step ends at a paragraph break');
    assert.ok(first.spec.messages[1].content.includes(STEP_INSTRUCTION));
    // The third choice repeats the second: no child, and no value call.
    assert.deepEqual(caller.calls.slice(1, 4).map((c) => [c.purpose, c.spec.maxTokens, c.spec.logprobs]), [['value', 8, true], ['value', 8, true], ['forced-answer', FORCED_ANSWER_TOKENS.short, undefined]]);
    assert.ok(caller.calls[1].spec.messages[0].content.endsWith(VALUE_INSTRUCTION));
    const depth1 = run.nodes.filter((n) => n.depth === 1);
    assert.deepEqual(depth1.map((n) => [n.step, n.reward]), [['Multiply 6 by 7.', 0.9], ['Guess a number.', 0.1]]);
    // Later steps go with the path so far as the assistant's turn.
    const later = caller.calls.find((c, i) => i > 0 && c.purpose === 'step')!;
    assert.equal(later.spec.messages.at(-1)!.content, NEXT_STEP_PROMPT);
    assert.deepEqual(of('attempt-started').map((e) => e.purpose).slice(0, 5), ['step', 'step', 'step', 'value', 'value']);
    assert.equal(of('attempt-finished')[2].duplicateOf, of('attempt-finished')[1].attempt);
    // The panel's rows read as the tree: each step's depth and parent step, each value call's step and value.
    const finished = of('attempt-finished');
    assert.deepEqual(finished.slice(0, 2).map((e) => e.step), [{ depth: 1 }, { depth: 1 }]);
    assert.deepEqual(finished.slice(3, 5).map((e) => e.scores), [{ attempt: 1, value: 0.9 }, { attempt: 2, value: 0.1 }]);
    const deeper = finished.find((e) => e.step?.depth === 2)!;
    assert.equal(deeper.step!.parent, 1, 'the valuable first step is continued');
  });

  it('reads a path that ends by itself as a whole chain (its last number), and with no answer at all shows the best path as it is', async () => {
    // One step states the value only as a last number (no box, no "the answer is"); then the model has nothing more.
    const whole: TreeModel = { steps: (path) => (path.length === 0 ? ['6 times 7 makes 42 cookies in all. A: 42'] : ['']), value: () => '8', forced: 'unknown' };
    const { run, of } = makeRun(treeCaller(whole), { parallel: 1 });
    const outcome = await run.start();
    assert.equal(outcome.answer, '42', 'the whole path states it, as a whole chain would');
    assert.equal(of('answer').at(-1)!.answerKind, 'short');

    const prose: TreeModel = { steps: (path) => (path.length === 0 ? ['Think about the shelves first.'] : ['']), value: () => '8', forced: 'unknown' };
    const shown = makeRun(treeCaller(prose), { parallel: 1 });
    const none = await shown.run.start();
    assert.equal(none.answer, 'Think about the shelves first.', 'never "unknown": the best path\'s steps, readable');
    assert.equal(none.answerKind, 'prose');
    assert.equal(none.confidence, 0);
    assert.match(shown.of('answer').at(-1)!.ruleState, /no path stated a value/);
  });

  it('asks k calls one by one where the endpoint cannot sample in parallel, and copes with one that ignores n', async () => {
    const sequential = treeCaller(twoWays);
    await makeRun(sequential, { parallel: 1 }).run.start();
    assert.deepEqual(sequential.calls.slice(0, 3).map((c) => [c.purpose, c.spec.n]), [['step', undefined], ['step', undefined], ['step', undefined]]);

    const ignoring = treeCaller(twoWays, { onlyOneChoice: true });
    const { run } = makeRun(ignoring, { parallel: 3 });
    await run.start();
    const steps = ignoring.calls.filter((c) => c.purpose === 'step');
    assert.equal(steps[0].spec.n, 3);
    assert.ok(steps.slice(1).every((c) => c.spec.n === undefined), 'after one choice came back, one step a call');
    assert.ok(run.nodes.length > 2, 'the tree still grows');
  });

  it('follows the valuable branch to its answer, says a lone answered path is an even bet, and stops when a second path confirms it', async () => {
    const model: TreeModel = {
      steps: (path) => (path.length === 0 ? ['Multiply 6 by 7.', 'Compute 7 times 6.', 'Guess a number.'] : path[0].startsWith('Guess') ? ['So the answer is \\boxed{7}.'] : ['So the answer is \\boxed{42}.']),
      value: (step) => (step.includes('Guess') || step.includes('{7}') ? '1' : '9'),
    };
    const caller = treeCaller(model);
    const { run, of } = makeRun(caller, { parallel: 3 });
    const outcome = await run.start();
    assert.equal(outcome.reason, 'converged', outcome.message);
    assert.equal(outcome.answer, '42');
    const answers = of('answer');
    assert.equal(answers[0].confidence, 0.5, 'one answered path');
    assert.match(answers[0].ruleState, /one answered path/);
    const last = answers.at(-1)!;
    assert.ok(last.confidence > 0.5 && last.confidence < 1, `never certain: ${last.confidence}`);
    assert.match(last.ruleState, /2 of 2 answered paths agree/);
    assert.ok(!run.nodes.some((n) => n.step.includes('{7}')), 'the branch worth 1 was never expanded');
    assert.match(outcome.message, /2 paths reach it/);
  });

  it('an unreadable step value is taken as neutral, and the run says so', async () => {
    const caller = treeCaller({ ...twoWays, value: () => 'I would say it is good' });
    const { run, of } = makeRun(caller, { parallel: 2 });
    await run.start();
    assert.ok(run.nodes.slice(1).every((n) => n.reward === TREE_DEFAULTS.neutralValue && /unreadable/.test(n.valueNote ?? '')));
    assert.match(of('answer').at(-1)!.ruleState, /step values? unreadable, taken as neutral/);
  });

  it('ends at its budget with the answer forced from the best path, within the budget', async () => {
    // Steps that never state an answer: the budget runs out first.
    const model: TreeModel = { steps: (path) => [`Step ${path.length + 1}: keep working on it, there is more to do here.`], value: () => '6', forced: '\\boxed{41}' };
    const caller = treeCaller(model);
    const { run, of, purposes } = makeRun(caller, { budget: { chainTokens: 300, totalTokens: 1200, source: 'fixed' }, params: { forcedShare: 0 } });
    const outcome = await run.start();
    assert.equal(outcome.reason, 'budget-exhausted', outcome.message);
    assert.ok(outcome.tokensSpent <= 1200, `${outcome.tokensSpent} billed`);
    assert.equal(purposes().at(-1), 'forced-answer', 'the finish is a forced answer');
    assert.equal(purposes().filter((p) => p === 'forced-answer').length, 1, 'none during the search at a forced share of 0');
    const forced = caller.calls.at(-1)!.spec;
    assert.equal(forced.maxTokens, FORCED_ANSWER_TOKENS.short);
    assert.equal(forced.messages.at(-1)!.content, FORCED_ANSWER_PROMPTS.short);
    assert.equal(forced.messages.at(-2)!.content, pathText(run.nodes, bestPath(run.nodes).at(-1)!.id), 'forced from the best path');
    assert.equal(outcome.answer, '41');
    assert.match(of('answer').at(-1)!.text, /Final answer \(forced\):\*\* 41/);
    assert.ok(outcome.confidence <= 0.5);
  });

  it('shows the best path\'s forced answer as the search goes, within its share of the budget', async () => {
    // A guess that changes as the path grows.
    const model: TreeModel = { steps: (path) => [`Step ${path.length + 1}: more work.`], value: () => '6', forced: (path) => `\\boxed{${40 + path.length}}` };
    const caller = treeCaller(model);
    const { run, of, events } = makeRun(caller, { budget: { chainTokens: 300, totalTokens: 3000, source: 'fixed' } });
    await run.start();
    const forced = caller.calls.map((c, i) => ({ ...c, record: events.filter((e) => e.type === 'spend')[i] })).filter((c) => c.purpose === 'forced-answer');
    assert.ok(forced.length >= 3, `${forced.length} forced answers`);
    const searchSpend = forced.slice(0, -1).reduce((s, c) => s + (c.record?.type === 'spend' ? c.record.record.promptTokens + c.record.record.completionTokens : 0), 0);
    assert.ok(searchSpend <= TREE_DEFAULTS.forcedShare * 3000, `${searchSpend} tokens of forced answers during the search`);
    const shown = of('answer').map((a) => a.answer);
    assert.ok(shown.length >= 3 && new Set(shown).size === shown.length, `a new answer each time the best path's changes: ${shown.join(', ')}`);
  });

  it('Continue grows the same tree', async () => {
    const model: TreeModel = { steps: (path) => [`Step ${path.length + 1}: more work.`], value: () => '6', forced: '\\boxed{41}' };
    const caller = treeCaller(model);
    const { run } = makeRun(caller, { budget: { chainTokens: 300, totalTokens: 800, source: 'fixed' } });
    await run.start();
    const before = run.nodes.map((n) => n.step);
    const deepest = Math.max(...run.nodes.map((n) => n.depth));
    const outcome = await run.continueWith(800);
    assert.deepEqual(run.nodes.slice(0, before.length).map((n) => n.step), before, 'the earlier nodes are kept');
    assert.ok(run.nodes.length > before.length && Math.max(...run.nodes.map((n) => n.depth)) > deepest, 'and the tree went deeper');
    assert.equal(run.totalBudget, 1600);
    assert.ok(outcome.tokensSpent <= 1600);
  });

  it('a run with no more to expand ends with the answer of its one path', async () => {
    const caller = treeCaller({ steps: () => ['A: 42'], value: () => '8' });
    const { run } = makeRun(caller, { parallel: 3 });
    const outcome = await run.start();
    assert.equal(run.nodes.length, 2, 'three copies of one step are one child');
    assert.equal(outcome.reason, 'converged');
    assert.equal(outcome.answer, '42');
    assert.equal(outcome.confidence, 0.5, 'a lone path is capped');
  });

  it('Stop ends the run at once, keeping what it has', async () => {
    const caller = new ScriptedCaller({ replies: [{ text: ['Multiply 6 by 7.'], tokens: 20 }, { text: '9', tokens: 1 }, { text: '\\boxed{42}', tokens: 5 }, { hang: true, partial: 'So' }] });
    const { run, of } = makeRun(caller, { params: { maxChildren: 1 } });
    const started = run.start();
    await new Promise<void>((resolve) => {
      const wait = () => (caller.calls.length >= 4 ? resolve() : setImmediate(wait));
      wait();
    });
    run.stop();
    const outcome = await started;
    assert.equal(outcome.reason, 'stopped');
    assert.equal(outcome.answer, '42', 'the forced answer of the path so far is kept');
    assert.equal(of('stopped').length, 1);
  });

  it('a cap that refuses a step ends the run as cap-reached, with what it has', async () => {
    const caller = new ScriptedCaller({ replies: [{ text: ['Multiply 6 by 7.'], tokens: 20 }, { text: '9', tokens: 1 }, { text: '\\boxed{42}', tokens: 5 }, { cap: true }] });
    const outcome = await makeRun(caller, { params: { maxChildren: 1 } }).run.start();
    assert.equal(outcome.reason, 'cap-reached');
    assert.equal(outcome.answer, '42');
  });

  it('the same seed makes the same run', async () => {
    const model: TreeModel = { steps: (path, call) => [`Way ${call} at depth ${path.length}.`, `Other ${call} at depth ${path.length}.`], value: (step) => String(step.length % 10) };
    const callsOf = async () => {
      const caller = treeCaller(model);
      await makeRun(caller, { parallel: 2, budget: { chainTokens: 300, totalTokens: 3000, source: 'fixed' } }).run.start();
      return caller.calls.map((c) => [c.purpose, c.spec.messages.map((m) => m.content).join('|')]);
    };
    assert.deepEqual(await callsOf(), await callsOf());
  });
});

describe('value tree: purposes and stop sequences', () => {
  it('step and value calls have purposes of their own, shown and counted in the budget bar', () => {
    for (const p of ['step', 'value'] as CallPurpose[]) {
      assert.ok(CALL_PURPOSES.includes(p));
    }
    assert.equal(purposeLabel('step'), 'tree step');
    assert.equal(purposeLabel('value'), 'step value');
    assert.equal(purposeOf('step'), 'attempt', 'steps are the reasoning');
    assert.equal(purposeOf('value'), 'other');
  });

  it('stop sequences are sent, except to OpenAI reasoning models, which take none', () => {
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'x' }], maxTokens: 10, stop: [STEP_BREAK] };
    assert.deepEqual(toCompletionParams(request).stop, [STEP_BREAK]);
    assert.equal(toCompletionParams({ ...request, model: 'o4-mini' }, 'openai-reasoning').stop, undefined);
    assert.equal(toCompletionParams({ ...request, stop: [] }).stop, undefined);
  });
});

import * as assert from 'node:assert/strict';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { ReasoningRun, type ReasoningRunOptions } from '../../src/core/reasoning/reasoningRun';
import { ANYTIME_DEFAULTS, AnytimeSelfConsistency, SingleChainStrategy } from '../../src/core/reasoning/strategies';
import { BetaStoppingRule, EpsilonStoppingRule, EscStoppingRule } from '../../src/core/reasoning/stoppingRules';
import { SYSTEM_PROMPTS, FORCED_ANSWER_PROMPTS } from '../../src/core/reasoning/answerKinds';
import { ScriptedCaller, workOf, type CallerStep } from '../support/scripted';
import { initialRunView, reduceRunView } from '../../src/core/view/runView';

/** A code reply with `body`, explained anew on each call. */
const code = (body: string): CallerStep => (_spec, _purpose, call) => ({ text: `${workOf(call)} The loop starts at 1, so the first element is skipped.\n\n\`\`\`ts\n${body}\n\`\`\``, tokens: 120 });
const fixA = 'function sum(xs: number[]) {\n  let s = 0;\n  for (let i = 0; i < xs.length; i++) s += xs[i];\n  return s;\n}';
const fixB = 'function sum(values: number[]) {\n  let total = 0; // from the start\n  for (let k = 0; k < values.length; k++) total += values[k];\n  return total;\n}';
const other = 'function sum(xs: number[]) {\n  return xs.reduce((a, b) => a + b, 0);\n}';

const prose1 = { text: '`const` makes a binding that cannot be reassigned, while `let` makes one that can be reassigned later. Both are block scoped.', tokens: 60 };
const prose2 = { text: 'A `const` binding cannot be reassigned, while a `let` binding can be reassigned later. Both are block scoped.', tokens: 60 };
const prose3 = { text: 'Both `let` and `const` are block scoped; `const` binding cannot be reassigned, `let` can be reassigned later.', tokens: 60 };

function makeRun(replies: CallerStep[], options: Partial<ReasoningRunOptions>) {
  const caller = new ScriptedCaller({ replies });
  const events: RunEvent[] = [];
  const run = new ReasoningRun(caller, {
    question: 'Find the bug.',
    budget: { chainTokens: 300, totalTokens: 20_000, source: 'local' },
    ...options,
  }, (e) => events.push(e));
  const of = <T extends RunEvent['type']>(type: T) => events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
  return { caller, run, of };
}

describe('ReasoningRun with code and prose answers', () => {
  it('code: the code prompt, votes by cluster, the medoid shown as code with its language', async () => {
    const { run, caller, of } = makeRun([code(fixA), code(other), code(fixB), code(fixA)], {
      answerKind: 'code',
      strategy: new AnytimeSelfConsistency(new EscStoppingRule(2), ANYTIME_DEFAULTS),
    });
    const outcome = await run.start();
    assert.equal(caller.calls[0].spec.messages[0].content, SYSTEM_PROMPTS.code);
    assert.deepEqual(of('attempt-finished').map((e) => e.answer), ['A', 'B', 'A', 'A']);
    assert.equal(outcome.reason, 'converged');
    assert.equal(outcome.answerKind, 'code');
    assert.ok(outcome.answer === fixA || outcome.answer === fixB, outcome.answer);
    const last = of('answer').at(-1)!;
    assert.equal(last.answerKind, 'code');
    assert.equal(last.language, 'ts');
    assert.equal(last.ruleState.split(';')[0], '3 of 4 similar');
    assert.ok(last.confidence <= 0.75 + 1e-9, 'confidence is at most the cluster share');
    assert.ok(of('attempt-finished').every((e) => e.text && e.text.includes('```ts')), 'every chain keeps its text');
  });

  it('one code chain is never shown as certain, and is not trusted alone', async () => {
    const { run, caller, of } = makeRun([code(fixA), code(fixA)], { answerKind: 'code', strategy: new AnytimeSelfConsistency() });
    await run.start();
    assert.ok(caller.calls.length >= 2, 'the first chain was not trusted alone');
    const first = of('answer')[0];
    assert.ok(first.confidence < 1, `${first.confidence}`);
    const single = makeRun([code(fixA)], { answerKind: 'code', strategy: new SingleChainStrategy() });
    const outcome = await single.run.start();
    assert.equal(outcome.confidence, 0.5);
  });

  it('a code chain cut inside its block gets a forced answer that asks for the code', async () => {
    const { run, caller } = makeRun([
      { text: 'Fix:\n```ts\nfunction sum(xs) {\n  let s = 0;', finishReason: 'length' },
      { text: `\`\`\`ts\n${fixA}\n\`\`\``, tokens: 80 },
    ], { answerKind: 'code', strategy: new SingleChainStrategy() });
    const outcome = await run.start();
    const forced = caller.calls[1];
    assert.equal(forced.purpose, 'forced-answer');
    assert.equal(forced.spec.messages.at(-1)!.content, FORCED_ANSWER_PROMPTS.code);
    assert.ok(forced.spec.maxTokens >= 256, `${forced.spec.maxTokens}`);
    assert.equal(outcome.answer, fixA);
  });

  it('prose: paraphrases form one cluster and the run stops before its budget with an answer', async () => {
    const { run, of } = makeRun([prose1, prose2, prose3, prose1, prose2, prose3, prose1, prose2], {
      answerKind: 'prose',
      question: 'Explain the difference between let and const in JavaScript',
      strategy: new AnytimeSelfConsistency(),
    });
    const outcome = await run.start();
    assert.equal(outcome.reason, 'converged');
    assert.ok(outcome.chains < 8, `${outcome.chains} chains`);
    assert.ok(outcome.tokensSpent < 20_000);
    assert.ok([prose1.text, prose2.text, prose3.text].includes(outcome.answer!));
    assert.equal(new Set(of('attempt-finished').map((e) => e.answer)).size, 1);
    assert.ok(of('answer')[0].confidence <= 0.5, `a lone prose answer is at most an even bet (${of('answer')[0].confidence})`);
  });

  it('prose: a chain cut by max_tokens still answers with its text (the answer comes first)', async () => {
    const { run, caller } = makeRun([{ text: '`const` cannot be reassigned; `let` can. In detail', finishReason: 'length' }], { answerKind: 'prose', strategy: new SingleChainStrategy() });
    const outcome = await run.start();
    assert.equal(caller.calls.length, 1, 'no forced answer for prose');
    assert.match(outcome.answer!, /^`const` cannot be reassigned/);
  });

  it('each stopping rule runs over clusters', async () => {
    for (const rule of [new BetaStoppingRule(0.8), new EscStoppingRule(2), new EpsilonStoppingRule(0.05, 3, 2)]) {
      const { run } = makeRun([code(fixA), code(fixB), code(fixA), code(fixB), code(fixA), code(fixB), code(fixA), code(fixB)], {
        answerKind: 'code',
        strategy: new AnytimeSelfConsistency(rule, ANYTIME_DEFAULTS),
      });
      const outcome = await run.start();
      assert.equal(outcome.reason, 'converged', rule.name);
      assert.ok(outcome.chains < 8, `${rule.name}: ${outcome.chains}`);
    }
  });

  it('a short run never shows "unknown" from a forced answer', async () => {
    const { run, of } = makeRun([{ text: 'Long work', finishReason: 'length' }, { text: '\\boxed{unknown}', tokens: 5 }], {
      strategy: new SingleChainStrategy(),
      budget: { chainTokens: 300, totalTokens: 2000, source: 'local' },
    });
    const outcome = await run.start();
    assert.equal(outcome.answer, undefined);
    assert.equal(of('answer').length, 0);
  });

  it('a value question answered in prose still shows the reply, with no confidence, and says why', async () => {
    const { run, of } = makeRun([{ text: 'It depends on the rounding mode; usually about three.', tokens: 20 }], { strategy: new SingleChainStrategy() });
    const outcome = await run.start();
    assert.equal(outcome.answer, 'It depends on the rounding mode; usually about three.');
    assert.equal(outcome.confidence, 0);
    const shown = of('answer')[0];
    assert.equal(shown.answerKind, 'prose');
    assert.match(shown.ruleState, /no chain stated a value; the last reply, as it is/);
  });

  it('the estimator learns from the chains of the shown code cluster', async () => {
    const { run } = makeRun([code(fixA), code(fixB), code(fixA)], { answerKind: 'code', strategy: new AnytimeSelfConsistency(new EscStoppingRule(3), ANYTIME_DEFAULTS) });
    const outcome = await run.start();
    assert.deepEqual(run.agreeingChainTokens(outcome.answer!), [120, 120, 120]);
  });
});

describe('one Anytime Index', () => {
  it('the panel shows the index the run reports (and the log prints)', async () => {
    const events: RunEvent[] = [];
    const caller = new ScriptedCaller({ replies: [code(fixA), code(other), code(fixB), code(fixA)] });
    const run = new ReasoningRun(caller, {
      question: 'Find the bug.', answerKind: 'code', budget: { chainTokens: 300, totalTokens: 20_000, source: 'local' },
      strategy: new AnytimeSelfConsistency(new EscStoppingRule(2), ANYTIME_DEFAULTS),
    }, (e) => events.push(e));
    const outcome = await run.start();
    const view = events.reduce(reduceRunView, initialRunView({ runId: 'r', question: 'q', model: 'm', strategy: 'anytime-sc', caps: [], providerBillsInDollars: false }));
    assert.ok(outcome.anytimeIndex > 0 && outcome.anytimeIndex < 1);
    assert.equal(view.curve.anytimeIndex, outcome.anytimeIndex);
  });
});

describe('attempt rows stay true', () => {
  it('a chain the caps refused is "not-sent", never "streaming", and a stopped run leaves no row streaming', async () => {
    const events: RunEvent[] = [];
    const caller = new ScriptedCaller({ replies: [code(fixA), { cap: true }] });
    const run = new ReasoningRun(caller, {
      question: 'Find the bug.', answerKind: 'code', budget: { chainTokens: 300, totalTokens: 20_000, source: 'local' },
      strategy: new AnytimeSelfConsistency(new EscStoppingRule(2), ANYTIME_DEFAULTS),
    }, (e) => events.push(e));
    const outcome = await run.start();
    assert.equal(outcome.reason, 'cap-reached');
    const view = events.reduce(reduceRunView, initialRunView({ runId: 'r', question: 'q', model: 'm', strategy: 'anytime-sc', caps: [], providerBillsInDollars: false }));
    assert.deepEqual(view.attempts.map((a) => a.finishReason), ['stop', 'not-sent']);
    const stopped = [{ type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 100 }, { type: 'stopped', reason: 'stopped', message: 'Stopped.' }] as RunEvent[];
    const afterStop = stopped.reduce(reduceRunView, initialRunView({ runId: 'r', question: 'q', model: 'm', strategy: 'single', caps: [], providerBillsInDollars: false }));
    assert.equal(afterStop.attempts[0].finishReason, 'stopped');
  });
});

describe('Universal Self-Consistency selector', () => {
  const usc = (reply: CallerStep) => makeRun([code(fixA), code(other), code(other), reply], {
    answerKind: 'code',
    selector: 'usc',
    strategy: new AnytimeSelfConsistency(new EscStoppingRule(2), ANYTIME_DEFAULTS),
  });

  it('one `select` call names the most consistent answer; it is shown and metered', async () => {
    const { run, caller, of } = usc({ text: 'The most consistent response is Response 1.', tokens: 9 });
    const outcome = await run.start();
    assert.equal(caller.calls.length, 4);
    assert.equal(caller.calls[3].purpose, 'select');
    assert.match(caller.calls[3].spec.messages[1].content, /Response 3:/);
    assert.equal(outcome.answer, fixA);
    assert.match(of('answer').at(-1)!.ruleState, /USC chose response 1 of 3/);
    assert.ok(of('spend').some((e) => e.record.purpose === 'select'));
  });

  it('a garbage reply falls back to the medoid and says so', async () => {
    const { run, of } = usc({ text: 'Hmm, all of them look fine to me!', tokens: 9 });
    const outcome = await run.start();
    assert.equal(outcome.answer, other);
    assert.match(of('answer').at(-1)!.ruleState, /USC reply named no candidate; showing the medoid/);
  });

  it('a cap that leaves no room keeps the medoid', async () => {
    const { run, of } = usc({ cap: true });
    const outcome = await run.start();
    assert.equal(outcome.reason, 'converged');
    assert.equal(outcome.answer, other);
    assert.match(of('answer').at(-1)!.ruleState, /no room left for the USC call/);
  });

  it('broken-looking code is no candidate when whole-looking answers differ', async () => {
    const broken = 'function sum(xs: number[]) {\n  return xs.reduce((a, b) => a + b, 0;';
    const { run, caller } = makeRun([code(fixA), code(broken), code(other), { text: 'The most consistent response is Response 2.', tokens: 9 }], {
      answerKind: 'code',
      selector: 'usc',
      strategy: new AnytimeSelfConsistency(new EscStoppingRule(2), ANYTIME_DEFAULTS),
    });
    const outcome = await run.start();
    const prompt = caller.calls.at(-1)!.spec.messages[1].content;
    assert.equal(caller.calls.at(-1)!.purpose, 'select');
    assert.ok(!prompt.includes('reduce((a, b) => a + b, 0;'), 'the broken answer is not shown to the selector');
    assert.equal(outcome.answer, other);
    assert.match(prompt, /Response 2:\n/);
    assert.ok(!prompt.includes('Response 3:'), 'two whole-looking candidates');
  });

  it('no call when all answers agree', async () => {
    const { run, caller } = makeRun([code(fixA), code(fixB)], { answerKind: 'code', selector: 'usc', strategy: new AnytimeSelfConsistency(new EscStoppingRule(2), ANYTIME_DEFAULTS) });
    await run.start();
    assert.equal(caller.calls.length, 2);
  });
});

import * as assert from 'assert';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { FORCED_ANSWER_PROMPT, FORCED_ANSWER_RESERVE_TOKENS, FORCED_ANSWER_TAIL_CHARS, ReasoningRun, reasoningTail } from '../../src/core/reasoning/reasoningRun';
import type { ReasoningRunOptions } from '../../src/core/reasoning/reasoningRun';
import {
  ANYTIME_DEFAULTS, AnytimeSelfConsistency, SingleChainStrategy, ValueGuidedStrategy, answerLogprob, chainReliability,
} from '../../src/core/reasoning/strategies';
import { FIRST_CHAIN_PRIOR, FirstChainHistory } from '../../src/core/reasoning/firstChainHistory';
import { BetaStoppingRule, EscStoppingRule } from '../../src/core/reasoning/stoppingRules';
import { SCRIPTED_RECORD, ScriptedCaller, spendRecord, workOf, type CallerReply, type CallerStep } from '../support/scripted';

/** A chain that reaches `answer`, its reasoning worded anew on each call. */
const boxed = (answer: string, tokens = 100): CallerStep => (_spec, _purpose, call) => ({ text: `${workOf(call)}\nSo the answer is $\\boxed{${answer}}$.`, tokens });

function makeRun(replies: CallerStep[], options: Partial<ReasoningRunOptions> = {}) {
  const caller = new ScriptedCaller({ replies });
  const events: RunEvent[] = [];
  const run = new ReasoningRun(caller, {
    question: 'What is 6 * 7?',
    budget: { chainTokens: 300, totalTokens: 20_000, source: 'local' },
    strategy: new AnytimeSelfConsistency(new BetaStoppingRule(0.95), ANYTIME_DEFAULTS, false),
    ...options,
  }, (e) => events.push(e));
  const of = <T extends RunEvent['type']>(type: T) => events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
  return { caller, events, run, of };
}

describe('ReasoningRun', () => {
  it('gives the first answer right after the first chain, then progressive answers', async () => {
    const { run, events, of } = makeRun([boxed('42'), boxed('41'), boxed('42'), boxed('42'), boxed('42'), boxed('42'), boxed('42'), boxed('42')]);
    const outcome = await run.start();
    const firstAnswer = events.findIndex((e) => e.type === 'answer');
    const secondAttempt = events.findIndex((e) => e.type === 'attempt-started' && e.attempt === 2);
    assert.ok(firstAnswer > 0 && firstAnswer < secondAttempt, 'first answer precedes the second attempt');
    const answers = of('answer');
    assert.strictEqual(answers[0].answer, '42');
    assert.strictEqual(answers[0].tokensSoFar, 110, 'billed: the 10-token prompt and 100 output tokens');
    assert.ok(answers.length >= 3, 'answers arrive as votes accumulate');
    assert.ok(answers.every((a, i) => i === 0 || a.tokensSoFar > answers[i - 1].tokensSoFar));
    assert.strictEqual(outcome.reason, 'converged');
    assert.strictEqual(outcome.answer, '42');
    assert.strictEqual(outcome.chains, 7); // 5 vs 1 is 120/128 < 0.95; 6 vs 1 is 247/256
    assert.strictEqual(of('stopped')[0].reason, 'converged');
    assert.strictEqual(of('spend').length, 7);
    assert.ok(run.anytimeIndex > 0 && run.anytimeIndex < 1);
  });

  it('stops early on agreement (ESC window 2)', async () => {
    const { run, caller } = makeRun([boxed('7'), boxed('7'), boxed('9')], { strategy: new AnytimeSelfConsistency(new EscStoppingRule(2), ANYTIME_DEFAULTS, false) });
    const outcome = await run.start();
    assert.strictEqual(outcome.chains, 2);
    assert.strictEqual(caller.calls.length, 2);
    assert.strictEqual(outcome.answer, '7');
  });

  it('with no history for the model, takes a second chain after a clean first one and shows the lone chain below certainty (default strategy)', async () => {
    const { run, caller, of } = makeRun([boxed('42', 120), boxed('42', 110)], { strategy: new AnytimeSelfConsistency() });
    const outcome = await run.start();
    assert.strictEqual(caller.calls.length, 2);
    const first = of('answer')[0];
    assert.ok(first.confidence <= FIRST_CHAIN_PRIOR.mean, `a lone chain is at most the prior: ${first.confidence}`);
    assert.strictEqual(first.ruleState, 'one chain; no history for this model yet');
    assert.strictEqual(outcome.reason, 'converged');
    assert.match(outcome.message, /^2 of 2 agree, P\(majority\) 0\.88\.$/);
    assert.deepStrictEqual(run.firstChainCheck(), { score: chainReliability(run.state.chains[0]), confirmed: true });
  });

  it('trusts a lone first chain once the model\'s first chains like it were confirmed, and says so (default strategy)', async () => {
    const history = new FirstChainHistory();
    const { run: probe } = makeRun([boxed('42', 120)], { strategy: new SingleChainStrategy() });
    await probe.start();
    const score = chainReliability(probe.state.chains[0]);
    for (let i = 0; i < 10; i++) {
      history.learn('scripted-model', { score, confirmed: i !== 3 });
    }
    const { run, caller, of } = makeRun([boxed('42', 120)], { strategy: new AnytimeSelfConsistency(undefined, ANYTIME_DEFAULTS, true, history.of('scripted-model')) });
    const outcome = await run.start();
    assert.strictEqual(caller.calls.length, 1);
    assert.strictEqual(outcome.reason, 'converged');
    assert.strictEqual(outcome.message, 'One chain, trusted because its earlier first chains like it were confirmed 9 of 10 times.');
    assert.ok(of('answer')[0].confidence < 1 && of('answer')[0].confidence >= ANYTIME_DEFAULTS.trustFirstChain);
    assert.strictEqual(run.firstChainCheck(), undefined, 'no later chain checked it');
  });

  it('a lone chain rises with confirming history and falls with contradicting history, never to 100%', async () => {
    const loneConfidence = async (history: FirstChainHistory) => {
      const { run, of } = makeRun([boxed('42', 120)], { strategy: new SingleChainStrategy(ANYTIME_DEFAULTS, history.of('scripted-model')) });
      await run.start();
      return { confidence: of('answer')[0].confidence, ruleState: of('answer')[0].ruleState, score: chainReliability(run.state.chains[0]) };
    };
    const none = await loneConfidence(new FirstChainHistory());
    const confirming = new FirstChainHistory();
    const contradicting = new FirstChainHistory();
    for (let i = 0; i < 500; i++) {
      confirming.learn('scripted-model', { score: none.score, confirmed: true });
      contradicting.learn('scripted-model', { score: none.score, confirmed: i % 2 === 0 });
    }
    const up = await loneConfidence(confirming);
    const down = await loneConfidence(contradicting);
    assert.ok(none.confidence < up.confidence && up.confidence < 1, `${none.confidence} < ${up.confidence} < 1`);
    assert.ok(down.confidence < none.confidence, `${down.confidence} < ${none.confidence}`);
    assert.strictEqual(up.ruleState, 'one chain; its earlier first chains like it were confirmed 100 of 100 times', 'single never trusts, it just reports');
  });

  it('samples more when the first chain ran long past its budget (default strategy)', async () => {
    const { run, caller } = makeRun([boxed('42', 1500), boxed('42', 300)], { strategy: new AnytimeSelfConsistency() });
    const outcome = await run.start();
    assert.strictEqual(caller.calls.length, 2);
    assert.strictEqual(outcome.answer, '42');
  });

  it('puts the TALE budget line in the prompt and the system prompt first', async () => {
    const { run, caller } = makeRun([boxed('1')], { strategy: new SingleChainStrategy() });
    await run.start();
    const messages = caller.calls[0].spec.messages;
    assert.strictEqual(messages[0].role, 'system');
    assert.match(messages[0].content, /\\boxed\{\}/);
    assert.match(messages[1].content, /use less than 300 tokens:$/);
  });

  it('truncation: forced answer, then the next chain gets a larger budget', async () => {
    const { run, caller, of } = makeRun([
      { text: 'Long reasoning without an end', finishReason: 'length' },
      { text: '\\boxed{42}', tokens: 6 },
      boxed('42'), boxed('42'), boxed('42'), boxed('42'),
    ]);
    const outcome = await run.start();
    assert.strictEqual(caller.calls[1].purpose, 'forced-answer');
    const forced = caller.calls[1].spec;
    assert.ok(forced.maxTokens <= 64);
    assert.deepStrictEqual(forced.messages.slice(-2).map((m) => m.role), ['assistant', 'user']);
    assert.strictEqual(forced.messages[forced.messages.length - 2].content, 'Long reasoning without an end');
    assert.strictEqual(forced.messages[forced.messages.length - 1].content, FORCED_ANSWER_PROMPT);
    const chainBudgets = caller.calls.filter((c) => c.purpose === 'attempt').map((c) => c.spec.maxTokens);
    assert.ok(chainBudgets[1] > chainBudgets[0], `elastic: ${chainBudgets}`);
    assert.ok(chainBudgets.every((b, i) => i === 0 || b >= chainBudgets[i - 1]), 'never smaller');
    assert.strictEqual(of('answer')[0].answer, '42');
    assert.strictEqual(outcome.answer, '42');
  });

  it('shortens the forced-answer tail until the caps leave room for the answer', async () => {
    const long = `${'a line of working\n'.repeat(300)}so far x = 41`;
    const { run, caller } = makeRun([{ text: long, finishReason: 'length' }, { text: '\\boxed{41}', tokens: 6 }], { strategy: new SingleChainStrategy() });
    caller.roomForChars = 900;
    const outcome = await run.start();
    const forced = caller.calls[1];
    assert.strictEqual(forced.purpose, 'forced-answer');
    const sent = forced.spec.messages.reduce((n, m) => n + m.content.length, 0);
    assert.ok(sent <= 900, `the forced prompt fits the room (${sent} chars)`);
    assert.match(forced.spec.messages[forced.spec.messages.length - 2].content, /so far x = 41$/);
    assert.strictEqual(outcome.answer, '41');
  });

  it('tells follow-up chains what the run has used and has left', async () => {
    const { run, caller } = makeRun([boxed('1'), boxed('2'), boxed('1'), boxed('1'), boxed('1'), boxed('1')]);
    await run.start();
    const users = caller.calls.filter((c) => c.purpose === 'attempt').map((c) => c.spec.messages[1].content);
    assert.ok(!users[0].includes('<budget>'), 'the first chain has only the TALE line');
    assert.match(users[1], /<budget>Tokens used: 110, Tokens remaining: 19890 \(HIGH\)\./);
  });

  it('shortens a chain near the end of the budget so its forced answer still fits', async () => {
    const { run, caller } = makeRun([{ text: 'cut short', finishReason: 'length' }, { text: '\\boxed{7}', tokens: 3 }], { strategy: new SingleChainStrategy() });
    caller.roomTokens = 500;
    const outcome = await run.start();
    assert.strictEqual(caller.calls[0].spec.maxTokens, 500 - FORCED_ANSWER_RESERVE_TOKENS);
    assert.strictEqual(caller.calls[1].purpose, 'forced-answer');
    assert.strictEqual(outcome.answer, '7');
  });

  it('a forced answer of "unknown" gives no vote', async () => {
    const { run } = makeRun([{ text: 'cut', finishReason: 'length' }, { text: 'unknown', tokens: 2 }], { strategy: new SingleChainStrategy() });
    const outcome = await run.start();
    assert.strictEqual(outcome.answer, undefined);
  });

  it('a cap refusal mid-run ends with cap-reached and keeps the answers', async () => {
    const { run, of } = makeRun([boxed('5'), boxed('6'), { cap: true }]);
    const outcome = await run.start();
    assert.strictEqual(outcome.reason, 'cap-reached');
    assert.strictEqual(outcome.answer, '5');
    assert.strictEqual(of('stopped')[0].reason, 'cap-reached');
    assert.match(of('stopped')[0].message, /daily cap/);
  });

  it('stop() aborts the call in flight, ends with stopped and keeps partial answers', async () => {
    const { run, of } = makeRun([boxed('5'), { hang: true, partial: 'thinking...' }]);
    const done = run.start();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    run.stop();
    const outcome = await done;
    assert.strictEqual(outcome.reason, 'stopped');
    assert.strictEqual(outcome.answer, '5');
    assert.strictEqual(of('spend').length, 2, 'the aborted call\'s spend is reported');
    assert.strictEqual(of('error').length, 0);
  });

  it('an external abort signal stops the run too', async () => {
    const { run } = makeRun([boxed('5'), { hang: true, partial: 'thinking...' }]);
    const controller = new AbortController();
    const done = run.start(controller.signal);
    setImmediate(() => setImmediate(() => controller.abort()));
    assert.strictEqual((await done).reason, 'stopped');
  });

  it('a provider error emits error, then stopped with reason error, keeping answers', async () => {
    const { run, events } = makeRun([boxed('5'), { fail: 'HTTP 500 from the endpoint', kind: 'server' }]);
    const outcome = await run.start();
    assert.strictEqual(outcome.reason, 'error');
    assert.strictEqual(outcome.answer, '5');
    const tail = events.slice(-2);
    assert.deepStrictEqual(tail.map((e) => e.type), ['error', 'stopped']);
    assert.strictEqual((tail[0] as Extract<RunEvent, { type: 'error' }>).kind, 'server');
  });

  it('continueWith adds chains to the same votes', async () => {
    const { run, caller } = makeRun([boxed('3'), boxed('3'), boxed('4'), boxed('3'), boxed('3')], {
      strategy: new AnytimeSelfConsistency(new EscStoppingRule(2), ANYTIME_DEFAULTS, false),
    });
    const first = await run.start();
    assert.strictEqual(first.chains, 2);
    const second = await run.continueWith(2000);
    assert.ok(second.chains > first.chains);
    // One owed chain (4) regardless of the rule, then until the last two agree again (3, 3).
    assert.strictEqual(second.chains, 5);
    assert.strictEqual(second.reason, 'converged');
    assert.strictEqual(second.answer, '3');
    assert.strictEqual(caller.calls.length, 5);
  });

  it('never grants more than the run budget, even when every call uses all it is given', async () => {
    const replies: CallerReply[] = Array.from({ length: 40 }, (_, i) => ({ text: `cut ${i}`, finishReason: 'length' as const }));
    const { run, caller } = makeRun(replies, { budget: { chainTokens: 300, totalTokens: 5000, source: 'fixed' } });
    const outcome = await run.start();
    const granted = caller.calls.reduce((s, c) => s + c.spec.maxTokens, 0);
    assert.ok(granted <= 5000, `granted ${granted}`);
    assert.strictEqual(outcome.reason, 'budget-exhausted');
    assert.ok(outcome.tokensSpent <= 5000);
  });

  it('counts the estimate call against the run and reports its spend', async () => {
    const { run, of } = makeRun([boxed('1')], {
      budget: { chainTokens: 300, totalTokens: 5000, source: 'tale', records: [spendRecord({ ...SCRIPTED_RECORD, purpose: 'estimate', model: 'm', promptTokens: 10, completionTokens: 9, dollars: 0 })] },
      strategy: new SingleChainStrategy(),
    });
    const outcome = await run.start();
    assert.strictEqual(of('budget-estimated')[0].source, 'tale');
    assert.strictEqual(of('spend')[0].record.purpose, 'estimate');
    assert.strictEqual(outcome.tokensSpent, 129, 'billed: the estimate (10 + 9) and the chain (10 + 100)');
  });

  it('parallel sampling asks for n > 1 after the first chain', async () => {
    const { run, caller } = makeRun([boxed('2'), { text: ['\\boxed{2}', '\\boxed{2}', '\\boxed{2}'], tokens: 300 }], { parallel: 3 });
    const outcome = await run.start();
    assert.strictEqual(caller.calls[0].spec.n, undefined);
    assert.strictEqual(caller.calls[1].spec.n, 3);
    assert.strictEqual(outcome.chains, 4);
    assert.strictEqual(outcome.tokensSpent, 420);
  });

  it('value-guided requests logprobs; a clearly good lone chain stops the run only when the model\'s history trusts it', async () => {
    const logprobs = [{ token: 'So \\boxed{', logprob: -0.5 }, { token: '42', logprob: -0.01 }, { token: '}', logprob: -0.2 }];
    const good: CallerStep = (_s, _p, call) => ({ text: `${workOf(call)} So \\boxed{42}`, tokens: 50, logprobs: [{ token: `${workOf(call)} `, logprob: -0.1 }, ...logprobs] });
    const fresh = makeRun([good, good], { strategy: new ValueGuidedStrategy() });
    await fresh.run.start();
    assert.strictEqual(fresh.caller.calls[0].spec.logprobs, true);
    assert.strictEqual(fresh.caller.calls.length, 2, 'no history: a token probability alone does not end the run');
    assert.ok(fresh.of('answer')[0].confidence <= FIRST_CHAIN_PRIOR.mean);
    assert.match(fresh.of('answer')[0].ruleState, /^one chain; no history for this model yet; a chain is 99% sure of its answer$/);
    const history = new FirstChainHistory();
    for (let i = 0; i < 10; i++) {
      history.learn('scripted-model', fresh.run.firstChainCheck()!);
    }
    const trusted = makeRun([good], { strategy: new ValueGuidedStrategy(undefined, ANYTIME_DEFAULTS, 0.9, history.of('scripted-model')) });
    const outcome = await trusted.run.start();
    assert.strictEqual(trusted.caller.calls.length, 1);
    assert.ok(outcome.confidence > 0.85 && outcome.confidence < 1);
  });

  it('value-guided without logprobs falls back to votes', async () => {
    const { run, caller } = makeRun([boxed('8'), boxed('8'), boxed('8')], { strategy: new ValueGuidedStrategy(new BetaStoppingRule(0.8)) });
    const outcome = await run.start();
    assert.strictEqual(caller.calls.length, 2);
    assert.strictEqual(outcome.answer, '8');
  });

  it('cannot start twice', async () => {
    const { run } = makeRun([boxed('1')], { strategy: new SingleChainStrategy() });
    await run.start();
    await assert.rejects(run.start());
  });
});

describe('forced-answer prompt', () => {
  it('re-sends only the tail of a long cut chain, from a line break', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `step ${i}: some working`);
    const tail = reasoningTail(lines.join('\n'));
    assert.ok(tail.length <= FORCED_ANSWER_TAIL_CHARS + 1);
    assert.ok(tail.startsWith('…\n') || tail.startsWith('…step'));
    assert.ok(tail.endsWith('step 399: some working'));
  });

  it('keeps a short chain whole', () => {
    assert.strictEqual(reasoningTail('x = 5, so \\boxed{5}'), 'x = 5, so \\boxed{5}');
  });
});

describe('answerLogprob', () => {
  it('averages the logprobs of the tokens spelling the answer', () => {
    const text = 'x \\boxed{12}';
    const lp = [{ token: 'x \\boxed{', logprob: -1 }, { token: '1', logprob: -0.2 }, { token: '2', logprob: -0.4 }, { token: '}', logprob: -3 }];
    assert.ok(Math.abs(answerLogprob(text, text.indexOf('12'), 2, lp)! + 0.3) < 1e-12);
    assert.strictEqual(answerLogprob(text, 0, 1, undefined), undefined);
  });
});

describe('sampling: repeated chains and endpoints that do not sample', () => {
  const copy = (answer: string) => `Work.\nSo the answer is $\\boxed{${answer}}$.`;
  const same = (answer: string): CallerReply => ({ text: copy(answer), tokens: 100 });

  it('samples the chains after the first at the run\'s temperature, the first at the endpoint\'s default', async () => {
    const { run, caller } = makeRun([boxed('4'), boxed('5'), boxed('5')], { temperature: 0.7, strategy: new AnytimeSelfConsistency(new EscStoppingRule(2), ANYTIME_DEFAULTS, false) });
    await run.start();
    assert.deepStrictEqual(caller.calls.map((c) => c.spec.temperature), [undefined, 0.7, 0.7]);
    const none = makeRun([boxed('4'), boxed('4')], { strategy: new AnytimeSelfConsistency(new EscStoppingRule(2), ANYTIME_DEFAULTS, false) });
    await none.run.start();
    assert.ok(none.caller.calls.every((c) => c.spec.temperature === undefined), 'no temperature given, none sent');
  });

  it('a chain identical to an earlier one is no vote: shown as a copy in its row and in the rule\'s state', async () => {
    const { run, of } = makeRun([same('4'), same('4'), boxed('4'), boxed('4')], { strategy: new AnytimeSelfConsistency(new BetaStoppingRule(0.8), ANYTIME_DEFAULTS, false) });
    const outcome = await run.start();
    const finished = of('attempt-finished');
    assert.deepStrictEqual(finished.map((e) => e.duplicateOf), [undefined, 1, undefined]);
    assert.strictEqual(finished[1].answer, '4', 'the copy says what it said');
    assert.strictEqual(run.state.chains.length, 2, 'two votes from three chains');
    assert.strictEqual(outcome.chains, 3);
    assert.strictEqual(outcome.reason, 'converged');
    assert.match(outcome.message, /^2 of 2 agree/);
    assert.match(of('answer').at(-1)!.ruleState, /; 1 repeated chain not counted$/);
    assert.ok(of('answer').at(-1)!.confidence < 0.9);
  });

  it('a near copy of a long chain (whitespace and a word apart) is a copy; a long chain worded differently is not', async () => {
    const steps = Array.from({ length: 60 }, (_, i) => `Step ${i}: add ${i} to the running total and carry on.`).join('\n');
    const long = { text: `${steps}\nSo the answer is $\\boxed{1770}$.`, tokens: 900 };
    const near = { text: `${steps.replace('Step 7:', 'Step  7 :').replace(/\n/g, '\n\n')}\nThus the answer is $\\boxed{1770}$.`, tokens: 900 };
    const other = { text: `Pair the numbers from both ends: 0 + 59, 1 + 58, and so on, 30 pairs of 59.\nSo the answer is $\\boxed{1770}$.`, tokens: 60 };
    const { run, of } = makeRun([long, near, other, boxed('1770')], { strategy: new AnytimeSelfConsistency(new BetaStoppingRule(0.8), ANYTIME_DEFAULTS, false) });
    await run.start();
    assert.deepStrictEqual(of('attempt-finished').map((e) => e.duplicateOf), [undefined, 1, undefined]);
  });

  it('the second and third chains both copies: stops, spending nothing more, and says the endpoint is not sampling', async () => {
    const { run, caller, of } = makeRun([same('4'), same('4'), same('4')], { strategy: new AnytimeSelfConsistency() });
    const outcome = await run.start();
    assert.strictEqual(caller.calls.length, 3);
    assert.strictEqual(outcome.reason, 'not-sampling');
    assert.strictEqual(outcome.message, 'This endpoint is not sampling: extra chains add nothing (chains 2 and 3 repeated chain 1).');
    assert.strictEqual(of('stopped')[0].reason, 'not-sampling');
    assert.strictEqual(outcome.answer, '4');
    assert.ok(outcome.confidence <= FIRST_CHAIN_PRIOR.mean, 'one chain\'s worth of evidence');
    assert.strictEqual(run.firstChainCheck(), undefined, 'copies confirm nothing');
  });

  it('the first two choices of a parallel call alike, and like chain 1: not sampling', async () => {
    const { run, caller } = makeRun([same('4'), { text: [copy('4'), copy('4')] }], { parallel: 2 });
    const outcome = await run.start();
    assert.strictEqual(caller.calls.length, 2);
    assert.strictEqual(caller.calls[1].spec.n, 2);
    assert.strictEqual(outcome.reason, 'not-sampling');
    assert.match(outcome.message, /\(chains 2 and 3 repeated chain 1\)\.$/);
  });

  it('chain 1 apart (its prompt differs), then the samples all alike: not sampling after the third', async () => {
    const { run, caller } = makeRun([boxed('4'), same('4'), same('4'), same('4')], { temperature: 0.7 });
    const outcome = await run.start();
    assert.strictEqual(caller.calls.length, 4);
    assert.strictEqual(outcome.reason, 'not-sampling');
    assert.match(outcome.message, /\(chains 2, 3 and 4 came back the same\)\.$/);
  });

  it('once samples have differed, a later run of copies is no vote but no stop either (a peaked model samples alike)', async () => {
    const { run, of } = makeRun([boxed('19'), boxed('31'), same('19'), same('19'), same('19'), boxed('31'), boxed('19'), boxed('19')], { strategy: new AnytimeSelfConsistency(new BetaStoppingRule(0.8), ANYTIME_DEFAULTS, false) });
    const outcome = await run.start();
    assert.strictEqual(outcome.reason, 'max-chains', 'drawn out, not converged');
    assert.strictEqual(outcome.message, '8 chains without settling.', 'copies count as drawn');
    assert.deepStrictEqual(of('attempt-finished').map((e) => e.duplicateOf ?? null), [null, null, null, 3, 3, null, null, null]);
    assert.strictEqual(run.state.chains.length, 6);
  });

  it('an endpoint that ignores n: the missing choices are "not-returned", and the run asks for one at a time', async () => {
    const { run, caller, of } = makeRun([boxed('4'), { text: [`${workOf(9)} $\\boxed{4}$`, '', ''], finishReason: 'unknown' }, boxed('4'), boxed('4')], {
      parallel: 3, strategy: new AnytimeSelfConsistency(new BetaStoppingRule(0.9), ANYTIME_DEFAULTS, false),
    });
    await run.start();
    assert.deepStrictEqual(of('attempt-finished').slice(1, 4).map((e) => e.finishReason), ['unknown', 'not-returned', 'not-returned']);
    assert.ok(caller.calls.slice(2).every((c) => c.spec.n === undefined), 'later calls ask for one choice');
    assert.strictEqual(run.state.parallel, 1);
  });
});

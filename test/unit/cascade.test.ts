import * as assert from 'assert';
import * as fc from 'fast-check';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { CascadeRun, promptTokensUpperBound, weightedMajorityPosterior, weightedVerdict } from '../../src/core/reasoning/cascade';
import type { CascadeOptions, CascadeTier } from '../../src/core/reasoning/cascade';
import { SingleChainStrategy } from '../../src/core/reasoning/strategies';
import { betaMajorityPosterior } from '../../src/core/reasoning/stoppingRules';
import type { TokenPrice } from '../../src/core/tokens/prices';
import { costOf } from '../../src/core/tokens/prices';
import { ScriptedCaller, type CallerStep } from '../support/scripted';

type Reply = { answer: string; tokens?: number } | { cap: true } | { fail: string } | { hang: true };

const CHEAP: TokenPrice = { input: 0.06, cachedInput: 0.06, output: 0.06 };
const STRONG: TokenPrice = { input: 1.75, cachedInput: 1.75, output: 1.75 };

/**
 * A cascade tier's model: replays queued answers (then "unscripted"), honouring max_tokens as a
 * server does (a longer chain is cut off), unpriced, with the prompt tokens the cascade bounds.
 */
function scriptedModel(model: string, replies: Reply[]): ScriptedCaller {
  const step = (reply: Reply): CallerStep => ('answer' in reply ? (spec, purpose) => {
    const wanted = reply.tokens ?? 100;
    const cut = wanted > spec.maxTokens;
    const text = purpose === 'forced-answer' ? `\\boxed{${reply.answer}}` : cut ? 'Work that ran out of room' : `Work.\nA: ${reply.answer}`;
    return { text, tokens: wanted, finishReason: cut ? 'length' : 'stop' };
  } : reply);
  return new ScriptedCaller({
    model, replies: replies.map(step), otherwise: step({ answer: 'unscripted' }),
    promptTokens: promptTokensUpperBound, dollars: null,
  });
}

const single = () => new SingleChainStrategy();

function makeCascade(tiers: Array<{ name: string; price: TokenPrice; replies: Reply[]; strategy?: CascadeTier['strategy'] }>, options: Partial<CascadeOptions> = {}) {
  const models = tiers.map((t) => scriptedModel(t.name, t.replies));
  const events: RunEvent[] = [];
  const cascade = new CascadeRun(
    tiers.map((t, i) => ({ caller: models[i], name: t.name, price: t.price, ...(t.strategy ? { strategy: t.strategy } : {}) })),
    { question: 'What is 6 * 7?', budget: { chainTokens: 200, totalDollars: 0.01, source: 'local' }, ...options },
    (e) => events.push(e),
  );
  const of = <T extends RunEvent['type']>(type: T) => events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
  return { cascade, models, events, of };
}

describe('weighted votes', () => {
  it('matches the closed-form Beta posterior on whole counts and is continuous between them', () => {
    for (const [a, b] of [[1, 0], [2, 1], [4, 0], [3, 3]]) {
      assert.strictEqual(weightedMajorityPosterior(a, b), betaMajorityPosterior(a, b));
      assert.ok(Math.abs(weightedMajorityPosterior(a + 1e-7, b) - betaMajorityPosterior(a, b)) < 1e-5, `near (${a}, ${b})`);
    }
  });

  it('grows with the leader, shrinks with the runner-up, and is symmetric', () => {
    assert.ok(weightedMajorityPosterior(1.5, 0) > weightedMajorityPosterior(1, 0));
    assert.ok(weightedMajorityPosterior(1.5, 0) < weightedMajorityPosterior(2, 0));
    assert.ok(weightedMajorityPosterior(1, 0.5) < weightedMajorityPosterior(1, 0.25));
    fc.assert(fc.property(fc.double({ min: 0, max: 12, noNaN: true }), fc.double({ min: 0, max: 12, noNaN: true }), (a, b) => {
      return Math.abs(weightedMajorityPosterior(a, b) + weightedMajorityPosterior(b, a) - 1) < 1e-6;
    }), { numRuns: 50 });
  });

  it('leads with the heaviest answer; ties go to the answer seen first', () => {
    assert.deepStrictEqual(weightedVerdict([{ answer: '41', weight: 0.5 }, { answer: '42', weight: 1 }]).leader, '42');
    assert.deepStrictEqual(weightedVerdict([{ answer: '41', weight: 1 }, { answer: '42', weight: 1 }]).leader, '41');
    assert.strictEqual(weightedVerdict([]).leader, undefined);
  });
});

describe('CascadeRun', () => {
  it('stays on the cheap model when its votes converge', async () => {
    const { cascade, models, of } = makeCascade([
      { name: 'cheap', price: CHEAP, replies: [{ answer: '42' }, { answer: '42' }] },
      { name: 'strong', price: STRONG, replies: [{ answer: '41' }] },
    ]);
    const outcome = await cascade.start();
    assert.strictEqual(outcome.reason, 'converged');
    assert.strictEqual(outcome.answer, '42');
    assert.strictEqual(outcome.model, 'cheap');
    assert.strictEqual(models[0].calls.length, 2);
    assert.strictEqual(models[1].calls.length, 0, 'the strong model is never called');
    assert.deepStrictEqual(outcome.tiers.map((t) => t.model), ['cheap']);
    assert.ok(of('attempt-started').every((e) => e.model === 'cheap'));
    assert.strictEqual(of('answer').at(-1)!.model, 'cheap');
    assert.ok(Math.abs(outcome.confidence - betaMajorityPosterior(2, 0)) < 1e-12);
  });

  it('escalates when the cheap model does not converge within its share, numbering attempts on', async () => {
    const { cascade, models, of } = makeCascade([
      // Each chain costs ~0.06 * (prompt + 100) / 1e6 dollars; the share pays for a few, all disagreeing.
      { name: 'cheap', price: CHEAP, replies: ['1', '2', '3', '4', '5', '6', '7', '8'].map((answer) => ({ answer })) },
      { name: 'strong', price: STRONG, replies: [{ answer: '42' }, { answer: '42' }] },
    ], { shares: [0.005], budget: { chainTokens: 100, totalDollars: 0.01, totalTokens: 1e6, source: 'local' } });
    const outcome = await cascade.start();
    const cheapCalls = models[0].calls.length;
    assert.ok(cheapCalls >= 2 && cheapCalls < 8, `the cheap share paid for ${cheapCalls} calls`);
    assert.ok(['cap-reached', 'budget-exhausted'].includes(outcome.tiers[0].reason), outcome.tiers[0].reason);
    assert.ok(outcome.tiers[0].shareSpent);
    assert.ok(outcome.tiers[0].dollarsSpent <= outcome.tiers[0].dollarShare);
    assert.strictEqual(models[1].calls.length, 2);
    assert.strictEqual(outcome.reason, 'converged');
    assert.strictEqual(outcome.answer, '42');
    assert.strictEqual(outcome.model, 'strong');
    const started = of('attempt-started');
    assert.deepStrictEqual(started.map((e) => e.attempt), started.map((_, i) => i + 1), 'attempts numbered across tiers');
    // As in ReasoningRun, an attempt the share refused was announced before it was refused.
    const refused = outcome.tiers[0].reason === 'cap-reached' ? 1 : 0;
    assert.deepStrictEqual(started.map((e) => e.model), [...Array(cheapCalls + refused).fill('cheap'), 'strong', 'strong']);
    assert.strictEqual(of('budget-estimated').length, 1);
    assert.strictEqual(of('stopped').length, 1);
  });

  it('a free local model first: it runs within its token share, and the paid model gets every dollar', async () => {
    const FREE: TokenPrice = { input: 0, cachedInput: 0, output: 0 };
    const { cascade, models } = makeCascade([
      { name: 'local', price: FREE, replies: ['1', '2', '3', '4', '5', '6', '7', '8'].map((answer) => ({ answer })) },
      { name: 'strong', price: STRONG, replies: [{ answer: '42' }, { answer: '42' }] },
    ], { budget: { chainTokens: 100, totalDollars: 0.01, totalTokens: 1600, source: 'local' } });
    const outcome = await cascade.start();
    assert.ok(models[0].calls.length >= 2, `the free model was used (${models[0].calls.length} calls)`);
    assert.ok(outcome.tiers[0].tokensSpent <= outcome.tiers[0].tokenShare, 'within its token share');
    assert.strictEqual(outcome.tiers[0].dollarsSpent, 0);
    assert.strictEqual(outcome.tiers[1].dollarShare, 0.01, 'the free model took none of the dollars');
    assert.strictEqual(outcome.answer, '42');
    assert.strictEqual(outcome.model, 'strong');
  });

  it('escalates when one cheap answer is not confident enough, and carries it at a lower weight', async () => {
    const { cascade, models, of } = makeCascade([
      { name: 'cheap', price: CHEAP, replies: [{ answer: '41' }], strategy: single },
      { name: 'strong', price: STRONG, replies: [{ answer: '42' }], strategy: single },
    ], { confidenceThreshold: 0.8, carriedVoteWeight: 0.5 });
    const outcome = await cascade.start();
    assert.strictEqual(models[1].calls.length, 1, 'P(majority) of one vote is 0.75 < 0.8: escalated');
    assert.strictEqual(outcome.answer, '42');
    assert.strictEqual(outcome.model, 'strong');
    assert.ok(Math.abs(outcome.confidence - weightedMajorityPosterior(1, 0.5)) < 1e-12);
    assert.strictEqual(outcome.reason, 'converged');
    const answers = of('answer');
    assert.deepStrictEqual(answers.map((a) => [a.answer, a.model]), [['41', 'cheap'], ['42', 'strong']]);
    assert.match(answers[1].ruleState, /cheap 0\/1 ×0\.5, strong 1\/1/);
  });

  it('weighs votes by the number of tiers below the strongest', async () => {
    const ladder = (carriedVoteWeight: number) => makeCascade([
      { name: 'cheap-a', price: CHEAP, replies: [{ answer: '41' }], strategy: single },
      { name: 'cheap-b', price: CHEAP, replies: [{ answer: '43' }], strategy: single },
      { name: 'strong', price: STRONG, replies: [{ answer: '42' }], strategy: single },
    ], { carriedVoteWeight, confidenceThreshold: 0.99 });
    // Two cheap answers that agree with each other outvote the strong one only when carried votes weigh enough.
    const agreeing = (carriedVoteWeight: number) => makeCascade([
      { name: 'cheap-a', price: CHEAP, replies: [{ answer: '41' }], strategy: single },
      { name: 'cheap-b', price: CHEAP, replies: [{ answer: '41' }], strategy: single },
      { name: 'strong', price: STRONG, replies: [{ answer: '42' }], strategy: single },
    ], { carriedVoteWeight, confidenceThreshold: 0.99 });
    assert.strictEqual((await agreeing(0.5).cascade.start()).answer, '42'); // 0.25 + 0.5 < 1
    assert.strictEqual((await agreeing(0.75).cascade.start()).answer, '41'); // 0.5625 + 0.75 > 1
    const zero = await ladder(0).cascade.start();
    assert.strictEqual(zero.answer, '42');
    assert.strictEqual(zero.confidence, 0.75, 'weight 0 drops carried votes');
    const full = await ladder(1).cascade.start();
    assert.strictEqual(full.answer, '41', 'weight 1: a three-way tie goes to the answer seen first');
    assert.strictEqual(full.reason, 'converged');
    assert.deepStrictEqual(full.tiers.map((t) => t.model), ['cheap-a', 'cheap-b', 'strong']);
  });

  it('never spends more than its dollars or billed tokens, whatever the models answer', async () => {
    const reply = fc.oneof(
      fc.record({ answer: fc.constantFrom('41', '42', '43'), tokens: fc.integer({ min: 1, max: 3000 }) }),
    );
    await fc.assert(fc.asyncProperty(
      fc.array(reply, { minLength: 10, maxLength: 10 }), fc.array(reply, { minLength: 10, maxLength: 10 }),
      fc.double({ min: 1e-6, max: 0.01, noNaN: true }), fc.integer({ min: 1, max: 5000 }),
      fc.option(fc.double({ min: 0.05, max: 1, noNaN: true }), { nil: undefined }),
      async (cheapReplies, strongReplies, totalDollars, totalTokens, firstShare) => {
        const { cascade, of } = makeCascade([
          { name: 'cheap', price: CHEAP, replies: cheapReplies },
          { name: 'strong', price: STRONG, replies: strongReplies },
        ], { budget: { chainTokens: 150, totalDollars, totalTokens, source: 'local' }, ...(firstShare ? { shares: [firstShare] } : {}) });
        const outcome = await cascade.start();
        const records = of('spend').map((e) => e.record);
        const dollars = records.reduce((s, r) => s + (costOf(r, r.model === 'cheap' ? CHEAP : STRONG) ?? 0), 0);
        const tokens = records.reduce((s, r) => s + r.promptTokens + r.completionTokens, 0);
        assert.ok(dollars <= totalDollars, `spent $${dollars} of $${totalDollars}`);
        assert.ok(tokens <= totalTokens, `spent ${tokens} of ${totalTokens} billed tokens`);
        assert.ok(Math.abs(outcome.dollarsSpent - dollars) < 1e-12);
        assert.strictEqual(outcome.tokensSpent, tokens);
        assert.notStrictEqual(outcome.reason, 'error');
      },
    ), { numRuns: 60 });
  });

  it('skips a tier whose share cannot pay for one call and still answers', async () => {
    const { cascade, models } = makeCascade([
      { name: 'cheap', price: CHEAP, replies: [{ answer: '41' }] },
      { name: 'strong', price: STRONG, replies: [{ answer: '42' }, { answer: '42' }] },
    ], { shares: [1e-9] });
    const outcome = await cascade.start();
    assert.strictEqual(models[0].calls.length, 0);
    assert.strictEqual(outcome.tiers[0].chains, 0);
    assert.strictEqual(outcome.answer, '42');
    assert.strictEqual(outcome.reason, 'converged');
  });

  it("stops at a cap refusal from the model's own caps without escalating, like ReasoningRun", async () => {
    const { cascade, models, of } = makeCascade([
      { name: 'cheap', price: CHEAP, replies: [{ answer: '41' }, { cap: true }] },
      { name: 'strong', price: STRONG, replies: [{ answer: '42' }] },
    ]);
    const outcome = await cascade.start();
    assert.strictEqual(outcome.reason, 'cap-reached');
    assert.match(outcome.message, /daily cap/);
    assert.strictEqual(models[1].calls.length, 0);
    assert.strictEqual(outcome.answer, '41', 'the answers so far are kept');
    assert.strictEqual(of('stopped')[0].reason, 'cap-reached');
  });

  it('stops on abort mid-call without escalating, and on an error with an error event', async () => {
    const aborted = makeCascade([
      { name: 'cheap', price: CHEAP, replies: [{ answer: '41' }, { hang: true }] },
      { name: 'strong', price: STRONG, replies: [{ answer: '42' }] },
    ]);
    const controller = new AbortController();
    const pending = aborted.cascade.start(controller.signal);
    while (aborted.models[0].calls.length < 2) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    controller.abort();
    const outcome = await pending;
    assert.strictEqual(outcome.reason, 'stopped');
    assert.strictEqual(aborted.models[1].calls.length, 0);
    assert.strictEqual(outcome.answer, '41');
    assert.strictEqual(aborted.of('spend').length, 2, 'the aborted call is still recorded');

    const failing = makeCascade([
      { name: 'cheap', price: CHEAP, replies: [{ fail: 'boom' }] },
      { name: 'strong', price: STRONG, replies: [{ answer: '42' }] },
    ]);
    const failed = await failing.cascade.start();
    assert.strictEqual(failed.reason, 'error');
    assert.strictEqual(failing.of('error')[0].message, 'boom');
    assert.strictEqual(failing.models[1].calls.length, 0);
  });

  it('stop() ends the cascade before the next tier starts', async () => {
    const { cascade, models } = makeCascade([
      { name: 'cheap', price: CHEAP, replies: [{ hang: true }] },
      { name: 'strong', price: STRONG, replies: [{ answer: '42' }] },
    ]);
    const pending = cascade.start();
    while (models[0].calls.length < 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    cascade.stop();
    assert.strictEqual((await pending).reason, 'stopped');
    assert.strictEqual(models[1].calls.length, 0);
  });

  it('continues on the strongest tier that ran with extra dollars', async () => {
    const { cascade, models, of } = makeCascade([
      { name: 'cheap', price: CHEAP, replies: [{ answer: '41' }], strategy: single },
      { name: 'strong', price: STRONG, replies: [{ answer: '42' }, { answer: '42' }], strategy: single },
    ]);
    await cascade.start();
    const outcome = await cascade.continueWith(0.01);
    assert.strictEqual(models[0].calls.length, 1);
    assert.strictEqual(models[1].calls.length, 2);
    assert.strictEqual(outcome.answer, '42');
    assert.strictEqual(outcome.tiers.length, 2);
    assert.strictEqual(outcome.tiers[1].chains, 2);
    assert.strictEqual(of('attempt-started').at(-1)!.attempt, 3);
  });

  it('rejects a cascade without models or with a bad weight', () => {
    assert.throws(() => new CascadeRun([], { question: 'q', budget: { chainTokens: 100, totalDollars: 1, source: 'fixed' } }), RangeError);
    assert.throws(() => makeCascade([{ name: 'm', price: CHEAP, replies: [] }], { carriedVoteWeight: 2 }), RangeError);
  });
});

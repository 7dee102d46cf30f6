import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { grant, type GrantRequest } from '../../src/core/budget/caps';
import {
  grantInModelTokens, IDENTITY_RATIO, MIN_SAMPLE_TOKENS, priorRatio, toBilled, toLocal, TokenRatios, UNKNOWN_TOKENIZER_PRIOR,
  type RatioBounds,
} from '../../src/core/budget/tokenRatio';
import { priceOf } from '../../src/core/tokens/prices';

const nothingSpent = { run: { tokens: 0, dollars: 0 }, today: { tokens: 0, dollars: 0 } };
const ask = (over: Partial<GrantRequest>): GrantRequest => ({ caps: {}, spent: nothingSpent, promptTokens: 100, price: priceOf('gpt-4o'), wanted: 1000, ...over });

describe('token ratio (billed per local token)', () => {
  it('starts at 1 for known OpenAI models and with a margin up to 2x for unknown tokenizers', () => {
    assert.deepEqual(priorRatio('gpt-4o-mini'), IDENTITY_RATIO.prompt);
    assert.deepEqual(priorRatio('llama-3.1-8b-instruct'), UNKNOWN_TOKENIZER_PRIOR);
    const ratios = new TokenRatios();
    assert.deepEqual(ratios.of('gpt-4o'), IDENTITY_RATIO);
    assert.deepEqual(ratios.of('qwen3:8b'), { prompt: UNKNOWN_TOKENIZER_PRIOR, completion: UNKNOWN_TOKENIZER_PRIOR });
  });

  it('learns prompt and completion separately, the margin shrinking as samples accumulate', () => {
    const ratios = new TokenRatios();
    ratios.observe('llama', { prompt: { local: 88, billed: 132 }, completion: { local: 100, billed: 140 } });
    const one = ratios.of('llama');
    assert.equal(one.prompt.estimate, 1.5);
    assert.equal(one.completion.estimate, 1.4);
    // One sample keeps half of the prior's margin beyond it.
    assert.equal(one.prompt.upper, 1.75);
    assert.equal(one.completion.upper, 1.7);
    assert.equal(one.completion.lower, 1.2);
    for (let i = 0; i < 9; i++) {
      ratios.observe('llama', { prompt: { local: 88, billed: 132 }, completion: { local: 100, billed: 140 } });
    }
    const ten = ratios.of('llama');
    assert.ok(Math.abs(ten.prompt.upper - (1.5 + 0.5 / 11)) < 1e-12, String(ten.prompt.upper));
    assert.ok(ten.completion.upper < one.completion.upper && ten.completion.lower > one.completion.lower);
    assert.deepEqual(ratios.of('other-model'), { prompt: UNKNOWN_TOKENIZER_PRIOR, completion: UNKNOWN_TOKENIZER_PRIOR }, 'per model');
  });

  it('never bounds inside the extremes it saw, and ignores texts too short to tell', () => {
    const ratios = new TokenRatios();
    for (let i = 0; i < 100; i++) {
      ratios.observe('m', { completion: { local: 100, billed: i % 2 ? 130 : 170 } });
    }
    ratios.observe('m', { completion: { local: MIN_SAMPLE_TOKENS - 1, billed: 100 } });
    const { completion } = ratios.of('m');
    assert.ok(completion.lower <= 1.3 && completion.upper >= 1.7, JSON.stringify(completion));
    assert.ok(Math.abs(completion.estimate - 1.5) < 1e-12);
    assert.equal(ratios.samples('m'), 0, 'no prompt samples');
  });

  it('a model that bills fewer tokens than o200k is learned too', () => {
    const ratios = new TokenRatios();
    for (let i = 0; i < 20; i++) {
      ratios.observe('gemma', { prompt: { local: 100, billed: 90 }, completion: { local: 200, billed: 180 } });
    }
    const { prompt } = ratios.of('gemma');
    assert.ok(prompt.upper < 1 && prompt.upper >= 0.9 && prompt.lower <= 0.9, JSON.stringify(prompt));
  });

  it('round-trips through JSON and skips what it cannot read', () => {
    const ratios = new TokenRatios();
    ratios.observe('llama', { prompt: { local: 88, billed: 132 }, completion: { local: 100, billed: 140 } });
    const again = new TokenRatios(JSON.parse(JSON.stringify(ratios.toJSON())));
    assert.deepEqual(again.of('llama'), ratios.of('llama'));
    const state = { version: 1, models: { bad: { prompt: { samples: -1, billed: 1, local: 1 }, completion: null }, good: ratios.toJSON().models.llama } };
    const read = new TokenRatios(state as never);
    assert.deepEqual(read.of('good'), ratios.of('llama'));
    assert.deepEqual(read.toJSON().models.bad, undefined);
    assert.deepEqual(new TokenRatios({ version: 9 } as never).toJSON(), { version: 1, models: {} });
  });

  it('rounds billed tokens up and local room down', () => {
    assert.equal(toBilled(88, 1.5), 132);
    assert.equal(toBilled(10, 1.01), 11);
    assert.equal(toBilled(0, 2), 0);
    assert.equal(toLocal(132, 1.5), 88);
    assert.equal(toLocal(131, 1.5), 87);
    assert.equal(toBilled(Number.POSITIVE_INFINITY, 2), Number.POSITIVE_INFINITY);
  });

  it('grants as before at ratio 1', () => {
    for (const over of [{}, { caps: { requestTokens: 600 } }, { caps: { requestDollars: 0.01 }, wanted: 5000 }, { caps: { requestTokens: 110 } }, { wanted: Number.POSITIVE_INFINITY }]) {
      const g = grantInModelTokens(ask(over), IDENTITY_RATIO.completion);
      const plain = grant(ask(over));
      assert.deepEqual(g.ok ? { ...g, cutAt: undefined } : g, plain.ok ? { ...plain, cutAt: undefined } : plain);
      if (g.ok) {
        assert.equal(g.cutAt, g.maxTokens);
      }
    }
  });

  it('sends max_tokens below the room by the ratio spread and cuts at the room', () => {
    const bounds: RatioBounds = { lower: 1.2, estimate: 1.4, upper: 1.8 };
    const g = grantInModelTokens(ask({ caps: { requestTokens: 700 } }), bounds);
    assert.ok(g.ok);
    assert.equal(g.maxTokens, 400, '600 billed tokens of room at a spread of 1.5');
    assert.equal(g.cutAt, 600);
    const wanted = grantInModelTokens(ask({ caps: { requestTokens: 10_000 }, wanted: 300 }), bounds);
    assert.ok(wanted.ok);
    assert.deepEqual([wanted.maxTokens, wanted.cutAt], [300, 450]);
    const refused = grantInModelTokens(ask({ caps: { requestTokens: 120 }, minUsefulTokens: 16 }), bounds);
    assert.equal(refused.ok, false, '20 billed tokens of room are 13 of the model\'s at the spread: fewer than 16');
  });

  it('a stream the server ends at max_tokens is never cut, a stream past the room always is (property)', () => {
    const bounds = fc.tuple(fc.integer({ min: 50, max: 200 }), fc.integer({ min: 0, max: 150 }), fc.integer({ min: 0, max: 100 }))
      .map(([lower, spread, at]): RatioBounds & { actual: number } => {
        const l = lower / 100;
        const u = l + spread / 100;
        return { lower: l, estimate: (l + u) / 2, upper: u, actual: l + (u - l) * at / 100 };
      });
    fc.assert(fc.property(bounds, fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 5000 }), (b, cap, wanted) => {
      const g = grantInModelTokens(ask({ caps: { requestTokens: cap }, promptTokens: 0, wanted, minUsefulTokens: 1 }), b);
      if (!g.ok) {
        return;
      }
      assert.ok(g.maxTokens <= wanted && g.cutAt <= cap);
      assert.ok(Number.isInteger(g.maxTokens) && Number.isInteger(g.cutAt), 'whole tokens: the ledger records them');
      // The server stops at maxTokens of its own tokens: the client counts maxTokens / actual of its own.
      const localAtEnd = Math.floor(g.maxTokens / b.actual);
      assert.ok(localAtEnd <= toLocal(g.cutAt, b.upper), `cut before the server's end: ${JSON.stringify({ b, g, localAtEnd })}`);
      // Past the cut, the stream bills no more than the reservation at any ratio up to the upper bound.
      assert.ok(toLocal(g.cutAt, b.upper) * b.actual <= g.cutAt + 1e-9);
    }));
  });
});

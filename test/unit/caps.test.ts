import * as assert from 'node:assert/strict';
import { capsFromSettings, DOLLAR_CAP_MARGIN, grant, type GrantRequest } from '../../src/core/budget/caps';
import { CapRefusal } from '../../src/core/budget/modelCaller';
import { costOf, priceOf } from '../../src/core/tokens/prices';

const nothingSpent = { run: { tokens: 0, dollars: 0 }, today: { tokens: 0, dollars: 0 } };
const gpt4o = priceOf('gpt-4o')!;

function ask(over: Partial<GrantRequest>): ReturnType<typeof grant> {
  return grant({ caps: {}, spent: nothingSpent, promptTokens: 100, price: gpt4o, wanted: 1000, ...over });
}

describe('caps', () => {
  it('grants what is wanted when no cap is set, and Infinity when nothing at all limits', () => {
    assert.deepEqual(ask({}), { ok: true, maxTokens: 1000, dollarCapsChecked: true });
    assert.deepEqual(ask({ wanted: Number.POSITIVE_INFINITY }), { ok: true, maxTokens: Number.POSITIVE_INFINITY, dollarCapsChecked: true });
  });

  it('leaves room for the prompt under the token caps, per choice', () => {
    const g = ask({ caps: { requestTokens: 600 }, spent: { ...nothingSpent, run: { tokens: 200, dollars: 0 } } });
    assert.deepEqual(g, { ok: true, maxTokens: 300, limitedBy: 'request-tokens', dollarCapsChecked: true });
    assert.deepEqual(ask({ caps: { dailyTokens: 1000 }, choices: 3, spent: { ...nothingSpent, today: { tokens: 300, dollars: 0 } } }), {
      ok: true, maxTokens: 200, limitedBy: 'daily-tokens', dollarCapsChecked: true,
    });
  });

  it('grants the largest max_tokens whose worst-case cost fits the dollar cap', () => {
    // $0.01 cap at gpt-4o: 100 prompt tokens cost $0.00025, each output token $0.00001.
    const g = ask({ caps: { requestDollars: 0.01 }, wanted: 5000 });
    assert.ok(g.ok);
    const worst = (m: number) => costOf({ promptTokens: 100, cachedPromptTokens: 0, completionTokens: m }, gpt4o)!;
    assert.ok(worst(g.maxTokens) <= 0.01 * (1 - DOLLAR_CAP_MARGIN));
    assert.ok(worst(g.maxTokens + 1) > 0.01 * (1 - DOLLAR_CAP_MARGIN));
    assert.equal(g.limitedBy, 'request-dollars');
    assert.ok(g.maxTokens >= 974 && g.maxTokens <= 975, String(g.maxTokens));
  });

  it('refuses with a CapRefusal naming the tightest cap when fewer than the minimum useful tokens fit', () => {
    const g = ask({ caps: { dailyDollars: 2, dailyTokens: 10_000 }, spent: { ...nothingSpent, today: { tokens: 50, dollars: 1.99999 } } });
    assert.equal(g.ok, false);
    const refusal = (g as { refusal: CapRefusal }).refusal;
    assert.ok(refusal instanceof CapRefusal);
    assert.equal(refusal.cap, 'daily-dollars');
    assert.equal(refusal.limit, 2);
    assert.equal(refusal.spent, 1.99999);
    assert.match(refusal.message, /daily dollar cap.*budgetReasoner\.dailyCapUsd.*tomorrow/);
    // The prompt alone does not fit.
    const r2 = ask({ caps: { requestTokens: 90 } });
    assert.equal(r2.ok === false && r2.refusal.cap, 'request-tokens');
    // 15 tokens fit, 16 are needed by default, 10 with a lower minimum.
    assert.equal(ask({ caps: { requestTokens: 115 } }).ok, false);
    assert.deepEqual(ask({ caps: { requestTokens: 115 }, minUsefulTokens: 10 }), { ok: true, maxTokens: 15, limitedBy: 'request-tokens', dollarCapsChecked: true });
  });

  it('does not refuse a small call that fits even though it wants less than the minimum', () => {
    assert.deepEqual(ask({ caps: { requestTokens: 108 }, wanted: 8 }), { ok: true, maxTokens: 8, dollarCapsChecked: true });
  });

  it('cannot check dollar caps without a price: token caps still hold and the grant says so', () => {
    assert.deepEqual(ask({ price: undefined, caps: { dailyDollars: 0.0001, requestTokens: 600 } }), { ok: true, maxTokens: 500, limitedBy: 'request-tokens', dollarCapsChecked: false });
    assert.deepEqual(ask({ price: undefined, caps: { dailyTokens: 5000 } }), { ok: true, maxTokens: 1000, dollarCapsChecked: true });
  });

  it('lets free models (local endpoints) run under dollar caps already reached', () => {
    const free = priceOf('llama3', { baseUrl: 'http://localhost:11434/v1' });
    assert.deepEqual(ask({ price: free, caps: { dailyDollars: 1 }, spent: { ...nothingSpent, today: { tokens: 0, dollars: 0.5 } } }), { ok: true, maxTokens: 1000, dollarCapsChecked: true });
    assert.deepEqual(ask({ price: free, caps: { dailyDollars: 1 }, spent: { ...nothingSpent, today: { tokens: 1e6, dollars: 1 } } }), { ok: true, maxTokens: 1000, dollarCapsChecked: true });
    assert.equal(ask({ price: free, caps: { dailyDollars: 1, dailyTokens: 1000 }, spent: { ...nothingSpent, today: { tokens: 1000, dollars: 1 } } }).ok, false, 'token caps still hold');
  });

  it('reads caps from settings, 0 meaning no cap', () => {
    assert.deepEqual(capsFromSettings({ requestCapUsd: 0.25, dailyCapUsd: 0, dailyTokenCap: 0 }), { requestDollars: 0.25 });
    assert.deepEqual(capsFromSettings({ requestCapUsd: 0, dailyCapUsd: 2, dailyTokenCap: 50_000 }, 4000), { requestTokens: 4000, dailyDollars: 2, dailyTokens: 50_000 });
  });

  it('rejects a call that wants no tokens', () => {
    assert.throws(() => ask({ wanted: 0 }), RangeError);
  });
});

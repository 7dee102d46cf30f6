import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { DOLLAR_CAP_MARGIN, grant, worstCaseDollars, type SpendCaps } from '../../src/core/budget/caps';
import { costOf, type TokenPrice } from '../../src/core/tokens/prices';

const runs = Number(process.env.FC_RUNS ?? 300);

const capsArb: fc.Arbitrary<SpendCaps> = fc.record({
  requestTokens: fc.integer({ min: 1, max: 50_000 }),
  requestDollars: fc.double({ min: 1e-6, max: 5, noNaN: true }),
  dailyDollars: fc.double({ min: 1e-6, max: 20, noNaN: true }),
  dailyTokens: fc.integer({ min: 1, max: 200_000 }),
}, { requiredKeys: [] });

const rate = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 150, noNaN: true }), fc.constantFrom(0.005, 0.025, 0.075, 0.15, 0.6, 1.25, 2.5, 10, 60));
const priceArb: fc.Arbitrary<TokenPrice | undefined> = fc.option(fc.record({ input: rate, cachedInput: rate, output: rate }), { nil: undefined });

const callArb = fc.record({
  promptTokens: fc.integer({ min: 0, max: 4000 }),
  wanted: fc.oneof(fc.integer({ min: 1, max: 8000 }), fc.constant(Number.POSITIVE_INFINITY)),
  choices: fc.integer({ min: 1, max: 4 }),
  /** Share of the grant each choice really uses (1 = all of it, the worst case). */
  use: fc.array(fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 4, maxLength: 4 }),
  cachedShare: fc.double({ min: 0, max: 1, noNaN: true }),
  minUseful: fc.integer({ min: 1, max: 64 }),
  newRun: fc.boolean(),
});

describe('caps (property)', () => {
  it('never lets spend pass any cap by a token or a fraction of a cent, and grants are the largest that fit', () => {
    fc.assert(fc.property(
      capsArb, priceArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.array(callArb, { minLength: 1, maxLength: 25 }),
      (caps, price, startShare, calls) => {
        // Start part way into the day; the run starts empty.
        const today = { tokens: Math.floor((caps.dailyTokens ?? 0) * startShare), dollars: (caps.dailyDollars ?? 0) * startShare * (1 - DOLLAR_CAP_MARGIN) };
        let run = { tokens: 0, dollars: 0 };
        for (const call of calls) {
          if (call.newRun) {
            run = { tokens: 0, dollars: 0 };
          }
          const g = grant({ caps, spent: { run, today }, promptTokens: call.promptTokens, price, wanted: call.wanted, choices: call.choices, minUsefulTokens: call.minUseful });
          const fits = (m: number) => worstFits(caps, price, run, today, call.promptTokens, m, call.choices);
          if (!g.ok) {
            assert.ok(!fits(Math.min(call.minUseful, call.wanted)), 'refused although the minimum useful tokens fit');
            continue;
          }
          assert.ok(g.maxTokens <= call.wanted && g.maxTokens >= Math.min(call.minUseful, call.wanted));
          if (g.maxTokens < call.wanted) {
            assert.ok(!fits(g.maxTokens + 1), `${g.maxTokens + 1} tokens would also have fitted`);
          }
          if (!Number.isFinite(g.maxTokens)) {
            continue;
          }
          const completionTokens = call.use.slice(0, call.choices).reduce((n, u) => n + Math.floor(u * g.maxTokens), 0);
          const usage = { promptTokens: call.promptTokens, cachedPromptTokens: Math.floor(call.cachedShare * call.promptTokens), completionTokens };
          const dollars = costOf(usage, price) ?? 0;
          run = { tokens: run.tokens + call.promptTokens + completionTokens, dollars: run.dollars + dollars };
          today.tokens += call.promptTokens + completionTokens;
          today.dollars += dollars;
          assertWithinCaps(caps, price, run, today);
        }
      },
    ), { numRuns: runs });
  });
});

function assertWithinCaps(caps: SpendCaps, price: TokenPrice | undefined, run: { tokens: number; dollars: number }, today: { tokens: number; dollars: number }): void {
  if (caps.requestTokens !== undefined) {
    assert.ok(run.tokens <= caps.requestTokens, `run tokens ${run.tokens} > ${caps.requestTokens}`);
  }
  if (caps.dailyTokens !== undefined) {
    assert.ok(today.tokens <= caps.dailyTokens, `daily tokens ${today.tokens} > ${caps.dailyTokens}`);
  }
  if (price) {
    if (caps.requestDollars !== undefined) {
      assert.ok(run.dollars <= caps.requestDollars, `run dollars ${run.dollars} > ${caps.requestDollars}`);
    }
    if (caps.dailyDollars !== undefined) {
      assert.ok(today.dollars <= caps.dailyDollars, `daily dollars ${today.dollars} > ${caps.dailyDollars}`);
    }
  }
}

/** Independent statement of "every cap holds if every choice uses all m tokens". */
function worstFits(caps: SpendCaps, price: TokenPrice | undefined, run: { tokens: number; dollars: number }, today: { tokens: number; dollars: number }, prompt: number, m: number, choices: number): boolean {
  const tokens = prompt + choices * m;
  if (caps.requestTokens !== undefined && run.tokens + tokens > caps.requestTokens) {
    return false;
  }
  if (caps.dailyTokens !== undefined && today.tokens + tokens > caps.dailyTokens) {
    return false;
  }
  const free = !price || (price.input === 0 && price.cachedInput === 0 && price.output === 0);
  if (!free) {
    const worst = worstCaseDollars(prompt, m, choices, price);
    if (caps.requestDollars !== undefined && run.dollars + worst > caps.requestDollars * (1 - DOLLAR_CAP_MARGIN)) {
      return false;
    }
    if (caps.dailyDollars !== undefined && today.dollars + worst > caps.dailyDollars * (1 - DOLLAR_CAP_MARGIN)) {
      return false;
    }
  }
  return true;
}

import * as assert from 'assert';
import {
  AnyStoppingRule, BetaStoppingRule, BudgetStoppingRule, EpsilonStoppingRule, EscStoppingRule, betaMajorityPosterior, createStoppingRule, tallyVotes,
} from '../../src/core/reasoning/stoppingRules';

describe('betaMajorityPosterior (closed form)', () => {
  it('matches hand-worked cases', () => {
    // a=1,b=0: (C(2,0)+C(2,1))/4 = 3/4
    assert.strictEqual(betaMajorityPosterior(1, 0), 0.75);
    // a=2,b=1: (1+4+6)/16
    assert.strictEqual(betaMajorityPosterior(2, 1), 11 / 16);
    // a=3,b=0: 15/16; a=4,b=0: 31/32
    assert.strictEqual(betaMajorityPosterior(3, 0), 15 / 16);
    assert.strictEqual(betaMajorityPosterior(4, 0), 31 / 32);
    // a=b: symmetric, exactly 1/2
    assert.ok(Math.abs(betaMajorityPosterior(3, 3) - 0.5) < 1e-12);
  });
  it('stays finite and near 1 for large unanimous counts', () => {
    const p = betaMajorityPosterior(2000, 0);
    assert.ok(p > 0.999999 && p <= 1);
  });
});

describe('BetaStoppingRule', () => {
  it('with no disagreement stops at 4 identical answers for 0.95, not at 3', () => {
    const rule = new BetaStoppingRule(0.95);
    assert.strictEqual(rule.evaluate(['7', '7', '7']).stop, false);
    const four = rule.evaluate(['7', '7', '7', '7']);
    assert.strictEqual(four.stop, true);
    assert.strictEqual(four.confidence, 31 / 32);
    assert.match(four.state, /4 of 4 agree/);
  });
  it('needs more votes when there is dissent', () => {
    const rule = new BetaStoppingRule(0.95);
    assert.strictEqual(rule.evaluate(['7', '8', '7', '7', '7']).stop, false); // 4 vs 1: 57/64 < 0.95
    assert.strictEqual(rule.evaluate(['7', '8', '7', '7', '7', '7', '7']).stop, true); // 6 vs 1: 247/256
  });
  it('ignores missing answers and reports zero confidence with none', () => {
    const d = new BetaStoppingRule().evaluate([undefined, undefined]);
    assert.deepStrictEqual([d.stop, d.confidence], [false, 0]);
  });
});

describe('EscStoppingRule', () => {
  it('stops when the last window agree', () => {
    const rule = new EscStoppingRule(2);
    assert.strictEqual(rule.evaluate(['1']).stop, false);
    assert.strictEqual(rule.evaluate(['1', '2']).stop, false);
    assert.strictEqual(rule.evaluate(['1', '2', '2']).stop, true);
    assert.strictEqual(rule.evaluate(['1', undefined, undefined]).stop, false);
    assert.ok(Math.abs(rule.evaluate(['1', '2', '2']).confidence - 2 / 3) < 1e-12);
  });
  it('window 3 needs three in a row', () => {
    const rule = createStoppingRule('esc', { window: 3 });
    assert.strictEqual(rule.evaluate(['5', '5']).stop, false);
    assert.strictEqual(rule.evaluate(['4', '5', '5', '5']).stop, true);
  });
  it('rejects a window below 1', () => assert.throws(() => new EscStoppingRule(0), RangeError));
});

describe('EpsilonStoppingRule', () => {
  it('stops when best-so-far confidence gains less than epsilon', () => {
    // unanimous: posteriors 3/4, 7/8, 15/16, 31/32, 63/64: gain over 2 votes falls as votes grow
    const rule = new EpsilonStoppingRule(0.05, 3, 2);
    assert.strictEqual(rule.evaluate(['1', '1']).stop, false); // below minVotes
    assert.strictEqual(rule.evaluate(['1', '1', '1']).stop, false); // (15/16-3/4)/(3/4) = 25%
    assert.strictEqual(rule.evaluate(['1', '1', '1', '1']).stop, false); // (31/32-7/8)/(7/8) = 10.7%
    assert.strictEqual(rule.evaluate(['1', '1', '1', '1', '1', '1']).stop, true); // (127/128-31/32)/(31/32) = 2.4%
  });
  it('one dissent does not stop it at once (patience)', () => {
    const rule = new EpsilonStoppingRule(0.05, 2, 2);
    assert.strictEqual(rule.evaluate(['1', '1', '2']).stop, false);
  });
});

describe('BudgetStoppingRule and AnyStoppingRule', () => {
  it('stops when the budget cannot pay for a chain', () => {
    const rule = new BudgetStoppingRule(100);
    assert.strictEqual(rule.evaluate(['1'], { tokensSpent: 850, tokenBudget: 1000 }).stop, false);
    assert.strictEqual(rule.evaluate(['1'], { tokensSpent: 950, tokenBudget: 1000 }).stop, true);
  });
  it('any rule stops; confidence from the first', () => {
    const any = new AnyStoppingRule([new BetaStoppingRule(0.95), new BudgetStoppingRule(100)]);
    const d = any.evaluate(['1', '2'], { tokensSpent: 990, tokenBudget: 1000 });
    assert.strictEqual(d.stop, true);
    assert.strictEqual(d.confidence, 0.5);
    assert.match(d.state, /budget spent/);
  });
});

describe('tallyVotes', () => {
  it('orders by count, ties by first appearance', () => {
    assert.deepStrictEqual(tallyVotes(['b', 'a', 'a', 'b', undefined, 'c']).map((c) => [c.answer, c.count]), [['b', 2], ['a', 2], ['c', 1]]);
  });
});

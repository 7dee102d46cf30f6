import * as assert from 'node:assert/strict';
import {
  FIRST_CHAIN_BUCKETS, FIRST_CHAIN_PRIOR, FirstChainHistory, firstChainBucket, firstChainEvidence, NO_FIRST_CHAIN_HISTORY,
} from '../../src/core/reasoning/firstChainHistory';
import { firstChainCheck, type ChainRecord } from '../../src/core/reasoning/strategies';

const chain = (attempt: number, vote: string | undefined, completionTokens = 120): ChainRecord => ({
  attempt, text: `chain ${attempt}`, finishReason: 'stop', completionTokens, maxTokens: 1200, promptBudget: 300, forced: false,
  ...(vote !== undefined ? { vote, answer: vote, form: 'boxed' as const } : {}),
});

describe('first-chain history', () => {
  it('with no history a lone chain gets the modest prior, no more than its own score', () => {
    assert.equal(NO_FIRST_CHAIN_HISTORY.evidence(0.97).confidence, FIRST_CHAIN_PRIOR.mean);
    assert.equal(NO_FIRST_CHAIN_HISTORY.evidence(0.3).confidence, 0.3);
    assert.deepEqual(new FirstChainHistory().evidence('m', 0.97), { confirmed: 0, checked: 0, confidence: FIRST_CHAIN_PRIOR.mean });
  });

  it('rises with confirmations and falls with contradictions, in the chain\'s own bucket and model only', () => {
    const history = new FirstChainHistory();
    for (let i = 0; i < 9; i++) {
      history.learn('m', { score: 0.96, confirmed: true });
    }
    history.learn('m', { score: 0.97, confirmed: false });
    history.learn('m', { score: 0.6, confirmed: false });
    const high = history.evidence('m', 0.99);
    assert.deepEqual([high.confirmed, high.checked], [9, 10]);
    assert.equal(high.confidence, (9 + FIRST_CHAIN_PRIOR.mean * FIRST_CHAIN_PRIOR.strength) / (10 + FIRST_CHAIN_PRIOR.strength));
    assert.ok(history.evidence('m', 0.65).confidence < FIRST_CHAIN_PRIOR.mean, 'the contradicted bucket falls below the prior');
    assert.equal(history.evidence('other', 0.99).checked, 0, 'another model has no history');
  });

  it('never reaches 1, however long the history, and keeps its counts bounded', () => {
    const history = new FirstChainHistory();
    for (let i = 0; i < 5000; i++) {
      history.learn('m', { score: 0.99, confirmed: true });
    }
    const e = history.evidence('m', 0.99);
    assert.ok(e.confidence < 1 && e.confidence <= FIRST_CHAIN_PRIOR.maxConfidence);
    assert.equal(e.checked, FIRST_CHAIN_PRIOR.maxChecked);
  });

  it('buckets scores by their lower edges', () => {
    assert.equal(firstChainBucket(0), 0);
    assert.equal(firstChainBucket(FIRST_CHAIN_BUCKETS[0]), 1);
    assert.equal(firstChainBucket(1), FIRST_CHAIN_BUCKETS.length);
    assert.ok(firstChainEvidence(0.9, { confirmed: 3, checked: 3 }).confidence > firstChainEvidence(0.9).confidence);
  });

  it('survives a round trip through JSON and drops malformed saved data', () => {
    const history = new FirstChainHistory();
    history.learn('a', { score: 0.9, confirmed: true });
    history.learn('b', { score: 0.9, confirmed: false });
    const again = new FirstChainHistory(JSON.parse(JSON.stringify(history.toJSON())));
    assert.deepEqual(again.toJSON(), history.toJSON());
    const models = history.toJSON().models;
    const bad = new FirstChainHistory({ version: 1, models: [{ model: 'x', buckets: [{ confirmed: 5, checked: 1 }] }, { model: 7 }, ...models] });
    assert.deepEqual(bad.toJSON().models.map((m) => m.model), ['a', 'b']);
    assert.equal(new FirstChainHistory({ version: 2 }).size, 0);
    assert.equal(new FirstChainHistory('garbage').size, 0);
  });

  it('forgets the model used longest ago first', () => {
    const history = new FirstChainHistory();
    for (let i = 0; i <= FIRST_CHAIN_PRIOR.maxModels; i++) {
      history.learn(`m${i}`, { score: 0.9, confirmed: true });
    }
    assert.equal(history.size, FIRST_CHAIN_PRIOR.maxModels);
    assert.equal(history.evidence('m0', 0.9).checked, 0);
  });
});

describe('first-chain checks', () => {
  it('confirmed when the later chains lead with the first chain\'s answer (a tie included)', () => {
    assert.equal(firstChainCheck([chain(1, '4'), chain(2, '4')])?.confirmed, true);
    assert.equal(firstChainCheck([chain(1, '4'), chain(2, '5')])?.confirmed, false);
    assert.equal(firstChainCheck([chain(1, '4'), chain(2, '5'), chain(3, '4')])?.confirmed, true);
    assert.equal(firstChainCheck([chain(1, '4'), chain(2, '5'), chain(3, '5'), chain(4, '4')])?.confirmed, false);
  });

  it('nothing to learn without a first answer or a later one', () => {
    assert.equal(firstChainCheck([chain(1, '4')]), undefined);
    assert.equal(firstChainCheck([chain(1, '4'), chain(2, undefined)]), undefined);
    assert.equal(firstChainCheck([chain(1, undefined), chain(2, '4')]), undefined);
    assert.equal(firstChainCheck([]), undefined);
  });
});

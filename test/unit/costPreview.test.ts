import * as assert from 'node:assert/strict';
import { confirmationMessage, costPreview, describeCostRange, needsConfirmation, type CostPreviewInput } from '../../src/core/run/costPreview';
import { autoRunBudget } from '../../src/core/run/plan';
import { priceOf } from '../../src/core/tokens/prices';

const gpt4o = priceOf('gpt-4o')!; // $2.50 in, $10 out per 1M
const base: CostPreviewInput = { chainTokens: 500, promptTokens: 100, budgetTokens: 8 * 600, plannedChains: 8, price: gpt4o };
const close = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

describe('cost preview', () => {
  it('low is one chain, expected the planned chains, worst every budget token at the dearest rate', () => {
    const p = costPreview(base);
    close(p.low, (100 * 2.5 + 500 * 10) / 1e6);
    close(p.expected, 8 * (100 * 2.5 + 500 * 10) / 1e6);
    close(p.worst, 4800 * 10 / 1e6);
    assert.equal(p.worstIsDollarCap, false);
    assert.ok(p.low! <= p.expected! && p.expected! <= p.worst!);
  });

  it('adds the TALE estimate call to every figure', () => {
    const p = costPreview({ ...base, estimateCall: { promptTokens: 80, maxTokens: 16 } });
    const call = (80 * 2.5 + 16 * 10) / 1e6;
    close(p.low, call + (100 * 2.5 + 500 * 10) / 1e6);
    close(p.worst, call + 4800 * 10 / 1e6);
  });

  it('plans only the chains the budget holds, and at least one', () => {
    const fixed = costPreview({ ...base, budgetTokens: 1800 }); // a fixed budget: 3 chains of 600
    close(fixed.expected, 3 * (100 * 2.5 + 500 * 10) / 1e6);
    const tiny = costPreview({ ...base, budgetTokens: 300 }); // not even one full chain
    close(tiny.worst, 300 * 10 / 1e6);
    close(tiny.low, tiny.worst!);
    close(tiny.expected, tiny.worst!);
  });

  it('bounds the worst case (and the estimates) by the per-request dollar cap', () => {
    const p = costPreview({ ...base, budgetTokens: 1_000_000, requestCapUsd: 0.25 });
    assert.equal(p.worst, 0.25);
    assert.equal(p.worstIsDollarCap, true);
    const low = costPreview({ ...base, requestCapUsd: 0.01 });
    assert.equal(low.worst, 0.01);
    assert.ok(low.expected! <= 0.01 && low.low! <= 0.01);
  });

  it('uses the larger budget a TALE estimate could set for the worst case', () => {
    const p = costPreview({ ...base, worstBudgetTokens: 8 * (8192 + 100) });
    close(p.worst, 8 * 8292 * 10 / 1e6);
    close(p.expected, 8 * (100 * 2.5 + 500 * 10) / 1e6);
  });

  it('gives null dollars for an unknown price and never asks for them', () => {
    const p = costPreview({ ...base, price: undefined });
    assert.deepEqual([p.low, p.expected, p.worst], [null, null, null]);
    assert.equal(needsConfirmation(p, 0.1), false);
    assert.match(describeCostRange(p), /unknown/);
  });

  it('asks only above the threshold, never at 0 and never for a $0 local endpoint', () => {
    const p = costPreview(base); // worst $0.048
    assert.equal(needsConfirmation(p, 0.01), true);
    assert.equal(needsConfirmation(p, 0.1), false);
    assert.equal(needsConfirmation(p, 0), false);
    const local = costPreview({ ...base, price: priceOf('llama3', { baseUrl: 'http://localhost:11434/v1' }) });
    assert.equal(local.worst, 0);
    assert.equal(needsConfirmation(local, 0.0001), false);
  });

  it('says the range in the modal and the tooltip', () => {
    const p = costPreview({ ...base, budgetTokens: 1_000_000, requestCapUsd: 0.25 });
    assert.equal(confirmationMessage(p), 'This run may cost up to $0.25 (estimated $0.0053–$0.04). Run it?');
    assert.match(describeCostRange(p), /^estimated \$0\.0053–\$0\.04 · worst case \$0\.25$/);
  });
  it('plans the auto budget as 8 chains of prompt + chain', () => {
    assert.equal(autoRunBudget(500, 100), 4800);
  });
});

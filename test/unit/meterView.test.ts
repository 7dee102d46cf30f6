import * as assert from 'node:assert/strict';
import { formatDollars, formatTokens } from '../../src/core/tokens/amountText';
import { meterView, previewLine, type MeterState } from '../../src/core/view/meterView';

const zero = { tokens: 0, dollars: 0, unpriced: false };
const base: MeterState = {
  session: zero, today: zero, month: zero, dailyCapUsd: 2, dailyTokenCap: 0, requestCapUsd: 0.25,
  requestBudget: 'auto', model: 'gpt-4o-mini', priceSource: 'OpenAI list prices (2026-11-01)', billsInDollars: true,
};

describe('status-bar meter text', () => {
  it('abbreviates tokens', () => {
    assert.deepEqual([0, 999, 1000, 1234, 9999, 12_345, 1_500_000].map(formatTokens), ['0', '999', '1k', '1.2k', '10k', '12k', '1.5M']);
  });

  it('formats dollars, unknown prices and unpriced remainders', () => {
    assert.equal(formatDollars(0.0031), '$0.0031');
    assert.equal(formatDollars(1.5), '$1.50');
    assert.equal(formatDollars(null), '$?');
    assert.equal(formatDollars(0.5, true), '$0.50+?');
  });

  it('shows the run against its budget during a run, with exact figures in the label', () => {
    const v = meterView({ ...base, run: { tokens: 1234, budget: 4000, dollars: 0.0031, running: true } });
    assert.equal(v.text, '$(pulse) 1.2k/4k tok · $0.0031');
    assert.match(v.ariaLabel, /1234 of 4000 tokens/);
    assert.equal(v.level, 'normal');
  });

  it('shows today against the daily cap when idle', () => {
    const v = meterView({ ...base, today: { tokens: 5000, dollars: 0.42, unpriced: false } });
    assert.equal(v.text, '$(pulse) $0.42/$2.00 today');
    assert.match(v.tooltipMarkdown, /today \| 5,000 \| \$0\.42/);
  });

  it('warns at 80% and errors at 100% of a cap', () => {
    assert.equal(meterView({ ...base, today: { tokens: 1, dollars: 1.6, unpriced: false } }).level, 'warning');
    assert.equal(meterView({ ...base, today: { tokens: 1, dollars: 2, unpriced: false } }).level, 'error');
    assert.equal(meterView({ ...base, run: { tokens: 3300, budget: 4000, dollars: 0, running: true } }).level, 'warning');
  });

  it('does not show dollars for providers billed in requests', () => {
    const v = meterView({ ...base, billsInDollars: false, run: { tokens: 10, budget: 100, dollars: null, running: false } });
    assert.equal(v.text, '$(pulse) 10/100 tok');
  });

  it('says when some spend has no known price', () => {
    const v = meterView({ ...base, today: { tokens: 10, dollars: 0, unpriced: true } });
    assert.match(v.tooltipMarkdown, /no known price/);
  });
  it('adds the selected question\'s cost preview to the tooltip only when there is one', () => {
    assert.doesNotMatch(meterView(base).tooltipMarkdown, /Selected question/);
    const v = meterView({ ...base, preview: { tokens: 1234, low: 0.0012, expected: 0.0094, worst: 0.25 } });
    assert.match(v.tooltipMarkdown, /Selected question: ~1,234 tokens · estimated \$0\.0012–\$0\.0094 · worst case \$0\.25/);
    assert.equal(v.text, meterView(base).text);
    assert.match(previewLine({ tokens: 10, low: null, expected: null, worst: null }), /dollars unknown/);
    assert.equal(previewLine({ tokens: 10, low: 0, expected: 0, worst: 0 }, false), 'Selected question: ~10 tokens');
  });
});

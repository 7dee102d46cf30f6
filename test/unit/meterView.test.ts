import * as assert from 'node:assert/strict';
import { formatDollars, formatTokens } from '../../src/core/tokens/amountText';
import { capUses, meterLevel, meterView, percentText, previewLine, type MeterState } from '../../src/core/view/meterView';

const zero = { tokens: 0, dollars: 0, unpriced: false };
const base: MeterState = {
  session: zero, today: zero, month: zero, dailyCapUsd: 2, dailyTokenCap: 0, requestCapUsd: 0.25,
  requestBudget: 'auto', warnAtPercent: 80, model: 'gpt-4o-mini', priceSource: 'OpenAI list prices (2026-11-01)', billsInDollars: true,
};
const spent = (dollars: number, tokens = 1) => ({ tokens, dollars, unpriced: false });

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
    assert.equal(v.text, '$(sync~spin) 1.2k/4k tok · $0.0031');
    assert.equal(v.ariaLabel, 'Budget Reasoner: running, 1234 of 4000 tokens, $0.0031');
    assert.match(v.tooltipMarkdown, /\| this run \| 1,234 of 4,000 \| \$0\.0031 \|/);
    assert.equal(v.level, 'normal');
  });

  it('shows today against the daily cap when idle, in the text, the label and the tooltip', () => {
    const v = meterView({ ...base, today: spent(0.42, 5000) });
    assert.equal(v.text, '$(pulse) $0.42/$2.00 today');
    assert.equal(v.ariaLabel, 'Budget Reasoner: 5000 tokens and $0.42 spent today, 21% of the $2.00 daily cap');
    assert.match(v.tooltipMarkdown, /today \| 5,000 \| \$0\.42/);
    assert.match(v.tooltipMarkdown, /Today: \$0\.42 of the \$2\.00 daily cap \(21%\)/);
  });

  it('shows today, not the last run, once the run has finished; the label and tooltip keep the last run', () => {
    const v = meterView({ ...base, today: spent(0.05, 1500), run: { tokens: 189, budget: 816, dollars: 0.0002, running: false } });
    assert.equal(v.text, '$(pulse) $0.05/$2.00 today');
    assert.equal(v.ariaLabel, 'Budget Reasoner: 1500 tokens and $0.05 spent today, 2% of the $2.00 daily cap; last run 189 of 816 tokens, $0.0002');
    assert.match(v.tooltipMarkdown, /\| last run \| 189 of 816 \| \$0\.0002 \|/);
  });

  it('shows tokens against a daily token cap, and both caps when both are set', () => {
    const tokensOnly = meterView({ ...base, dailyCapUsd: 0, dailyTokenCap: 50_000, today: spent(0.01, 12_345) });
    assert.equal(tokensOnly.text, '$(pulse) 12k/50k tok today');
    assert.match(tokensOnly.ariaLabel, /12345 tokens and \$0\.01 spent today, 24% of the 50,000-token daily cap$/);
    const both = meterView({ ...base, dailyTokenCap: 50_000, today: spent(0.42, 12_345) });
    assert.equal(both.text, '$(pulse) $0.42/$2.00 · 12k/50k tok today');
    assert.match(both.tooltipMarkdown, /Today: \$0\.42 of the \$2\.00 daily cap \(21%\) · 12,345 tokens of the 50,000-token daily cap \(24%\)/);
  });

  it('says plainly that there is no daily cap', () => {
    const v = meterView({ ...base, dailyCapUsd: 0, today: spent(0.42, 5000) });
    assert.equal(v.text, '$(pulse) $0.42 today · no cap');
    assert.equal(v.ariaLabel, 'Budget Reasoner: 5000 tokens and $0.42 spent today, no daily cap');
    assert.match(v.tooltipMarkdown, /Today: no daily cap/);
    assert.equal(meterView({ ...base, dailyCapUsd: 0, billsInDollars: false, today: spent(0, 5000) }).text, '$(pulse) 5k tok today · no cap');
  });

  it('warns from warnAtPercent of a daily cap and errors at 100%, saying so in the label and tooltip', () => {
    assert.equal(meterLevel({ ...base, today: spent(1.59) }), 'normal');
    const warn = meterView({ ...base, today: spent(1.6) });
    assert.equal(warn.level, 'warning');
    assert.match(warn.ariaLabel, /; warning: 80% of the daily dollar cap$/);
    assert.match(warn.tooltipMarkdown, /\$\(warning\) 80% of the daily dollar cap: the meter warns from 80%/);
    const over = meterView({ ...base, today: spent(2) });
    assert.equal(over.level, 'error');
    assert.match(over.ariaLabel, /; at the daily dollar cap$/);
    assert.match(over.tooltipMarkdown, /\$\(error\) At the daily dollar cap/);
  });

  it('uses the threshold the user set', () => {
    assert.equal(meterLevel({ ...base, warnAtPercent: 50, today: spent(1) }), 'warning');
    assert.equal(meterLevel({ ...base, warnAtPercent: 50, today: spent(0.99) }), 'normal');
    assert.equal(meterLevel({ ...base, warnAtPercent: 100, today: spent(1.99) }), 'normal');
    assert.equal(meterLevel({ ...base, dailyCapUsd: 0, dailyTokenCap: 1000, warnAtPercent: 10, today: spent(0, 100) }), 'warning');
    assert.match(meterView({ ...base, warnAtPercent: 65 }).tooltipMarkdown, /warning at 65%/);
  });

  it('colours a running request by its own budget and dollar cap too, an idle meter by the daily caps only', () => {
    assert.equal(meterLevel({ ...base, run: { tokens: 3300, budget: 4000, dollars: 0, running: true } }), 'warning');
    assert.equal(meterLevel({ ...base, run: { tokens: 100, budget: 4000, dollars: 0.25, running: true } }), 'error');
    assert.equal(meterLevel({ ...base, run: { tokens: 4000, budget: 4000, dollars: 0.25, running: false } }), 'normal');
    assert.deepEqual(capUses({ ...base, today: spent(0.5), run: { tokens: 3000, budget: 4000, dollars: 0.05, running: true } }).map((u) => u.cap),
      ["this run's token budget", 'the daily dollar cap', 'the per-request dollar cap']);
  });

  it('floors percentages, so a share shown below the threshold is below it', () => {
    assert.deepEqual([0, 0.0004, 0.214, 0.7999, 1, 1.5].map(percentText), ['0%', '<1%', '21%', '79%', '100%', '150%']);
  });

  it('does not show dollars for providers billed in requests', () => {
    const v = meterView({ ...base, billsInDollars: false, run: { tokens: 10, budget: 100, dollars: null, running: true } });
    assert.equal(v.text, '$(sync~spin) 10/100 tok');
    assert.equal(meterView({ ...base, billsInDollars: false, today: spent(0, 5000) }).text, '$(pulse) 5k tok today · no cap');
  });

  it('says when some spend has no known price', () => {
    const v = meterView({ ...base, today: { tokens: 10, dollars: 0, unpriced: true } });
    assert.match(v.tooltipMarkdown, /no known price/);
    assert.equal(v.text, '$(pulse) $0+?/$2.00 today');
  });

  it('adds the selected question\'s cost preview to the tooltip only when there is one', () => {
    assert.doesNotMatch(meterView(base).tooltipMarkdown, /Selected question/);
    const v = meterView({ ...base, preview: { tokens: 1234, low: 0.0012, expected: 0.0094, worst: 0.25 } });
    assert.match(v.tooltipMarkdown, /Selected question: a chain ~1,234 output tokens · estimated \$0\.0012–\$0\.0094 · worst case \$0\.25/);
    assert.equal(v.text, meterView(base).text);
    assert.match(previewLine({ tokens: 10, low: null, expected: null, worst: null }), /dollars unknown/);
    assert.equal(previewLine({ tokens: 10, low: 0, expected: 0, worst: 0 }, false), 'Selected question: a chain ~10 output tokens');
  });
});

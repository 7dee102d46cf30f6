import * as assert from 'node:assert/strict';
import { spendByDayAndModel } from '../../src/core/ledger/spendLedger';
import { addDays, defaultMetric, parseSpendSnapshot, rangeDays, shortDay, spendChart, type SpendSnapshot } from '../../src/core/view/spendView';
import { parseFromSpendViewMessage } from '../../src/protocol';
import { spendRecord } from '../support/scripted';

const at = (day: number, hour = 12) => new Date(2025, 0, day, hour).toISOString();
const records = [
  spendRecord({ time: at(10), model: 'gpt-4o-mini', dollars: 0.002 }),
  spendRecord({ time: at(10, 18), model: 'gpt-4o-mini', dollars: 0.003, completionTokens: 150 }),
  spendRecord({ time: at(10), model: 'gpt-4.1', dollars: 0.05 }),
  spendRecord({ time: at(14), model: 'qwen2.5:7b', dollars: 0, promptTokens: 900, completionTokens: 600 }),
  spendRecord({ time: at(15), model: 'gpt-4.1', dollars: 0.02, estimated: true }),
  spendRecord({ time: at(15), model: 'mystery', dollars: null }),
];
const snapshot = (over: Partial<SpendSnapshot> = {}): SpendSnapshot => ({
  rows: spendByDayAndModel(records), today: '2025-01-15', dailyCapUsd: 2, dailyTokenCap: 0, warnAtPercent: 80, ledgerFile: 'spend.jsonl', ...over,
});

describe('spend view model', () => {
  it('steps local days by the calendar, across months, years and DST changes', () => {
    assert.equal(addDays('2025-01-31', 1), '2025-02-01');
    assert.equal(addDays('2024-12-31', 1), '2025-01-01');
    assert.equal(addDays('2025-03-01', -1), '2025-02-28');
    assert.equal(addDays('2025-03-30', 1), '2025-03-31');
    assert.equal(addDays('2025-11-02', 1), '2025-11-03');
    assert.equal(shortDay('2025-12-02'), 'Dec 2');
  });

  it('gives every day of the range, oldest first, empty days included; "all" starts at the first day in the ledger', () => {
    const rows = snapshot().rows;
    assert.deepEqual(rangeDays(rows, '2025-01-15', 7), ['2025-01-09', '2025-01-10', '2025-01-11', '2025-01-12', '2025-01-13', '2025-01-14', '2025-01-15']);
    assert.equal(rangeDays(rows, '2025-01-15', 30).length, 30);
    assert.deepEqual(rangeDays(rows, '2025-01-15', 0), ['2025-01-10', '2025-01-11', '2025-01-12', '2025-01-13', '2025-01-14', '2025-01-15']);
    assert.deepEqual(rangeDays([], '2025-01-15', 0), ['2025-01-15']);
  });

  it('stacks one segment per day and model, and every segment is one table row with the ledger\'s figures', () => {
    const chart = spendChart(snapshot(), 7);
    assert.equal(chart.metric, 'dollars');
    const segments = chart.days.flatMap((d) => d.segments);
    assert.equal(segments.length, chart.rows.length);
    assert.equal(chart.rows.length, 5);
    const jan10 = chart.days.find((d) => d.day === '2025-01-10')!;
    assert.deepEqual(jan10.segments.map((s) => [s.model, s.value]), [['gpt-4.1', 0.05], ['gpt-4o-mini', 0.005]]);
    assert.ok(Math.abs(jan10.total - 0.055) < 1e-12);
    const mini = jan10.segments[1].row;
    assert.deepEqual([mini.calls, mini.promptTokens, mini.completionTokens, mini.tokens], [2, 200, 200, 400]);
    assert.deepEqual(chart.days.find((d) => d.day === '2025-01-12')!.segments, []);
    // The table: newest day first, models by name within a day.
    assert.deepEqual(chart.rows.map((r) => `${r.day} ${r.model}`), ['2025-01-15 gpt-4.1', '2025-01-15 mystery', '2025-01-14 qwen2.5:7b', '2025-01-10 gpt-4.1', '2025-01-10 gpt-4o-mini']);
    assert.equal(chart.totals.calls, records.length);
    assert.ok(Math.abs(chart.totals.dollars - 0.075) < 1e-12);
    assert.equal(chart.totals.unpriced, true);
    assert.equal(chart.totals.estimated, true);
  });

  it('cuts the rows to the range and totals the models over it, largest first', () => {
    const chart = spendChart(snapshot(), 0);
    assert.deepEqual(chart.models.map((m) => m.model), ['gpt-4.1', 'gpt-4o-mini', 'qwen2.5:7b', 'mystery']);
    const recent = spendChart(snapshot({ today: '2025-01-16' }), 7);
    assert.ok(recent.rows.every((r) => r.day >= '2025-01-10'));
    const short = spendChart(snapshot({ today: '2025-01-20' }), 7);
    assert.deepEqual(short.rows.map((r) => r.day), ['2025-01-15', '2025-01-15', '2025-01-14']);
    assert.deepEqual(short.today, { dollars: 0, tokens: 0 });
    assert.equal(spendChart(snapshot(), 7).today.tokens, 300);
  });

  it('keeps a model\'s colour whatever the range', () => {
    const colours = (range: 7 | 30 | 0) => Object.fromEntries(spendChart(snapshot({ today: '2025-01-16' }), range).models.map((m) => [m.model, m.colour]));
    const all = colours(0);
    const week = colours(7);
    for (const [model, colour] of Object.entries(week)) {
      assert.equal(colour, all[model], model);
    }
    assert.equal(new Set(Object.values(all)).size, 4);
  });

  it('measures in tokens when nothing in the range cost more than $0, or when asked to', () => {
    const local = spendByDayAndModel([spendRecord({ model: 'qwen2.5:7b', dollars: 0 })]);
    assert.equal(defaultMetric(local), 'tokens');
    const chart = spendChart(snapshot(), 7, 'tokens');
    assert.equal(chart.metric, 'tokens');
    assert.equal(chart.days.find((d) => d.day === '2025-01-14')!.total, 1500);
    assert.equal(chart.dailyCap, null, 'no daily token cap is set');
    assert.equal(spendChart(snapshot({ dailyTokenCap: 50_000 }), 7, 'tokens').dailyCap, 50_000);
    assert.equal(spendChart(snapshot(), 7).dailyCap, 2);
    assert.equal(spendChart(snapshot({ dailyCapUsd: 0 }), 7).dailyCap, null);
  });

  it('accepts a snapshot of the exact shape only', () => {
    const good = snapshot();
    assert.deepEqual(parseSpendSnapshot(JSON.parse(JSON.stringify(good))), good);
    for (const bad of [
      null, [], { ...good, today: '15/01/2025' }, { ...good, rows: 'x' }, { ...good, dailyCapUsd: -1 }, { ...good, warnAtPercent: undefined }, { ...good, ledgerFile: 3 },
      { ...good, rows: [{ ...good.rows[0], dollars: Number.NaN }] }, { ...good, rows: [{ ...good.rows[0], model: 'x'.repeat(201) }] },
      { ...good, rows: [{ ...good.rows[0], day: '2025-1-5' }] }, { ...good, rows: [{ ...good.rows[0], unpriced: 'no' }] },
    ]) {
      assert.equal(parseSpendSnapshot(bad), undefined, JSON.stringify(bad)?.slice(0, 80));
    }
  });

  it('takes from the spend view only its two messages, exactly', () => {
    assert.deepEqual(parseFromSpendViewMessage({ type: 'spendReady' }), { message: { type: 'spendReady' } });
    assert.deepEqual(parseFromSpendViewMessage({ type: 'exportCsv' }), { message: { type: 'exportCsv' } });
    for (const bad of [null, 'exportCsv', [], { type: 'exportCsv', path: '/etc/passwd' }, { type: 'openLink', href: 'https://x' }]) {
      assert.ok('error' in parseFromSpendViewMessage(bad), JSON.stringify(bad));
    }
  });
});

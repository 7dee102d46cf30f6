/**
 * The spend view's model, as plain data: the ledger's day x model rows (spendByDayAndModel) cut to a
 * range of days and laid out for the charts and the table. The host sends a SpendSnapshot; the
 * webview checks it (parseSpendSnapshot) and builds the SpendChart for the range the user picks.
 */
import type { DayModelSpend } from '../ledger/spendLedger';

/** The ranges the view offers, in days ending today; 0 = every day in the ledger. */
export const SPEND_RANGES = [7, 30, 0] as const;
export type SpendRange = typeof SPEND_RANGES[number];

/** What the bars measure. Dollars unless nothing in the range had a price above $0 (a local model). */
export const SPEND_METRICS = ['dollars', 'tokens'] as const;
export type SpendMetric = typeof SPEND_METRICS[number];

/** What the host sends: every day x model row of the ledger, today's local day and the daily caps. */
export interface SpendSnapshot {
  rows: DayModelSpend[];
  /** Local day, YYYY-MM-DD. */
  today: string;
  /** 0 = no cap. */
  dailyCapUsd: number;
  dailyTokenCap: number;
  /** `budgetReasoner.warnAtPercent`: today's figure takes the meter's colours. */
  warnAtPercent: number;
  ledgerFile: string;
}

export interface ModelSegment {
  model: string;
  /** Index into the chart palette, the same for a model whatever the range. */
  colour: number;
  /** In the chart's metric. */
  value: number;
  row: DayModelSpend;
}

export interface DayBar {
  day: string;
  /** In the chart's metric. */
  total: number;
  /** The day's models, in legend order (largest overall first). */
  segments: ModelSegment[];
}

export interface ModelTotal {
  model: string;
  colour: number;
  value: number;
  dollars: number;
  tokens: number;
  calls: number;
  unpriced: boolean;
}

export interface SpendChart {
  metric: SpendMetric;
  /** Every day of the range, oldest first, days without spend included (as gaps). */
  days: DayBar[];
  /** The range's models, largest first. */
  models: ModelTotal[];
  /** The table: the range's rows, newest day first. */
  rows: DayModelSpend[];
  totals: { dollars: number; tokens: number; calls: number; unpriced: boolean; estimated: boolean };
  /** The daily cap in the chart's metric, if one is set. */
  dailyCap: number | null;
  /** Today's row totals, for the summary line. */
  today: { dollars: number; tokens: number };
}

export const PALETTE_SIZE = 6;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The local day `offset` days after `day` (YYYY-MM-DD), by the calendar, so DST never skips a day. */
export function addDays(day: string, offset: number): string {
  const [y, m, d] = day.split('-').map(Number);
  const date = new Date(y, m - 1, d + offset);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

/** The days of a range ending today, oldest first; `0` starts at the ledger's first day (or today). */
export function rangeDays(rows: readonly DayModelSpend[], today: string, range: SpendRange): string[] {
  let first = range === 0 ? rows.reduce((min, r) => (r.day < min ? r.day : min), today) : addDays(today, 1 - range);
  if (first > today) {
    first = today;
  }
  const days: string[] = [];
  for (let day = first; day <= today; day = addDays(day, 1)) {
    days.push(day);
  }
  return days;
}

function valueOf(row: { dollars: number; tokens: number }, metric: SpendMetric): number {
  return metric === 'dollars' ? row.dollars : row.tokens;
}

/** Dollars when some spend in the rows was priced above $0, else tokens (a local model's runs cost $0). */
export function defaultMetric(rows: readonly DayModelSpend[]): SpendMetric {
  return rows.some((r) => r.dollars > 0) ? 'dollars' : 'tokens';
}

/**
 * Lays out a range of the snapshot. Colours follow the models' all-time spend, so a model keeps its
 * colour when the range changes; `metric` defaults to defaultMetric of the range's rows.
 */
export function spendChart(snapshot: SpendSnapshot, range: SpendRange, metric?: SpendMetric): SpendChart {
  const days = rangeDays(snapshot.rows, snapshot.today, range);
  const inRange = snapshot.rows.filter((r) => r.day >= days[0] && r.day <= snapshot.today);
  const m = metric ?? defaultMetric(inRange);
  const colours = new Map(modelOrder(snapshot.rows, m).map((model, i) => [model, i % PALETTE_SIZE]));
  const totals = new Map<string, ModelTotal>();
  for (const r of inRange) {
    let t = totals.get(r.model);
    if (!t) {
      t = { model: r.model, colour: colours.get(r.model) ?? 0, value: 0, dollars: 0, tokens: 0, calls: 0, unpriced: false };
      totals.set(r.model, t);
    }
    t.dollars += r.dollars;
    t.tokens += r.tokens;
    t.calls += r.calls;
    t.unpriced ||= r.unpriced;
    t.value = valueOf(t, m);
  }
  const models = [...totals.values()].sort((a, b) => b.value - a.value || b.tokens - a.tokens || a.model.localeCompare(b.model));
  const legendOrder = new Map(models.map((t, i) => [t.model, i]));
  const byDay = new Map<string, DayModelSpend[]>();
  for (const r of inRange) {
    byDay.set(r.day, [...(byDay.get(r.day) ?? []), r]);
  }
  const bars = days.map((day): DayBar => {
    const segments = (byDay.get(day) ?? [])
      .map((row) => ({ model: row.model, colour: colours.get(row.model) ?? 0, value: valueOf(row, m), row }))
      .sort((a, b) => legendOrder.get(a.model)! - legendOrder.get(b.model)!);
    return { day, total: segments.reduce((s, x) => s + x.value, 0), segments };
  });
  const todayRows = byDay.get(snapshot.today) ?? [];
  const cap = m === 'dollars' ? snapshot.dailyCapUsd : snapshot.dailyTokenCap;
  return {
    metric: m,
    days: bars,
    models,
    rows: [...inRange].sort((a, b) => b.day.localeCompare(a.day) || a.model.localeCompare(b.model)),
    totals: {
      dollars: inRange.reduce((s, r) => s + r.dollars, 0),
      tokens: inRange.reduce((s, r) => s + r.tokens, 0),
      calls: inRange.reduce((s, r) => s + r.calls, 0),
      unpriced: inRange.some((r) => r.unpriced),
      estimated: inRange.some((r) => r.estimated),
    },
    dailyCap: cap > 0 ? cap : null,
    today: { dollars: todayRows.reduce((s, r) => s + r.dollars, 0), tokens: todayRows.reduce((s, r) => s + r.tokens, 0) },
  };
}

/** Models by all-time spend in the metric (then tokens, then name): the colour order. */
function modelOrder(rows: readonly DayModelSpend[], metric: SpendMetric): string[] {
  const sums = new Map<string, { value: number; tokens: number }>();
  for (const r of rows) {
    const s = sums.get(r.model) ?? { value: 0, tokens: 0 };
    s.value += valueOf(r, metric);
    s.tokens += r.tokens;
    sums.set(r.model, s);
  }
  return [...sums].sort(([a, x], [b, y]) => y.value - x.value || y.tokens - x.tokens || a.localeCompare(b)).map(([model]) => model);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Dec 2" for an axis label, the same in every locale. */
export function shortDay(day: string): string {
  const [, m, d] = day.split('-').map(Number);
  return `${MONTHS[m - 1]} ${d}`;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** A day x model row as the ledger totals it, checked field by field. */
function isDayModelSpend(v: unknown): v is DayModelSpend {
  if (typeof v !== 'object' || v === null) {
    return false;
  }
  const r = v as Record<string, unknown>;
  return typeof r.day === 'string' && DAY.test(r.day)
    && typeof r.model === 'string' && r.model.length <= 200
    && [r.calls, r.tokens, r.promptTokens, r.cachedPromptTokens, r.completionTokens, r.reasoningTokens, r.dollars].every(isCount)
    && typeof r.unpriced === 'boolean' && typeof r.estimated === 'boolean';
}

/** Checks a snapshot that crossed into the webview: exact shape, or undefined. */
export function parseSpendSnapshot(raw: unknown): SpendSnapshot | undefined {
  if (typeof raw !== 'object' || raw === null) {
    return undefined;
  }
  const s = raw as Record<string, unknown>;
  if (!Array.isArray(s.rows) || !s.rows.every(isDayModelSpend) || typeof s.today !== 'string' || !DAY.test(s.today)
    || !isCount(s.dailyCapUsd) || !isCount(s.dailyTokenCap) || !isCount(s.warnAtPercent) || typeof s.ledgerFile !== 'string') {
    return undefined;
  }
  return { rows: s.rows, today: s.today, dailyCapUsd: s.dailyCapUsd, dailyTokenCap: s.dailyTokenCap, warnAtPercent: s.warnAtPercent, ledgerFile: s.ledgerFile };
}

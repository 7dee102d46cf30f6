/**
 * The spend view's page, drawn from a SpendChart with DOM calls only (model ids come from the
 * ledger and are shown as text, never markup): the controls, a stacked bar per day (one segment per
 * model), a bar per model, and the table with its totals.
 */
import { formatDollars, formatTokens } from '../core/tokens/amountText';
import { levelOf, percentText } from '../core/view/meterView';
import type { DayModelSpend } from '../core/ledger/spendLedger';
import { SPEND_METRICS, SPEND_RANGES, shortDay, type SpendChart, type SpendMetric, type SpendRange, type SpendSnapshot } from '../core/view/spendView';
import { h } from './dom';
import { niceCeil, svgEl } from './svg';

export interface SpendChoice {
  range: SpendRange;
  /** Absent = the chart's default for the range. */
  metric?: SpendMetric;
}

const RANGE_LABELS: Record<SpendRange, string> = { 7: '7 days', 30: '30 days', 0: 'All' };
const METRIC_LABELS: Record<SpendMetric, string> = { dollars: 'Dollars', tokens: 'Tokens' };
const DAY_HEIGHT = 220;
const DAY_MARGIN = { left: 56, right: 12, top: 18, bottom: 30 };
const MODEL_ROW = 26;

const count = (n: number) => n.toLocaleString('en-US');
const amount = (metric: SpendMetric, n: number) => (metric === 'dollars' ? formatDollars(n) : `${formatTokens(n)} tok`);
const rangeWords = (range: SpendRange, days: number) => (range === 0 ? `all ${days} day${days === 1 ? '' : 's'}` : `last ${range} days`);

export class SpendDom {
  constructor(
    private readonly root: HTMLElement,
    private readonly onChoice: (choice: SpendChoice) => void,
    private readonly onExport: () => void,
  ) {}

  render(snapshot: SpendSnapshot, chart: SpendChart, choice: SpendChoice): void {
    const width = Math.max(360, Math.min(this.root.clientWidth || 720, 960));
    const body = chart.rows.length
      ? [this.charts(chart, width), table(chart)]
      : [h('p', { id: 'empty', class: 'empty' }, 'No spend recorded in this range yet.')];
    this.root.replaceChildren(
      this.header(chart, choice),
      summary(snapshot, chart, choice.range),
      ...body,
      h('p', { class: 'description note' },
        '"est." marks counts made locally because the endpoint reported no usage; "+?" marks spend on models with no known price. ',
        'Ledger: ', h('code', { id: 'ledger-file' }, snapshot.ledgerFile)),
    );
    this.root.setAttribute('aria-busy', 'false');
  }

  private header(chart: SpendChart, choice: SpendChoice): HTMLElement {
    const group = <T extends string | number>(label: string, values: readonly T[], names: Record<T, string>, current: T, pick: (v: T) => void) => {
      const el = h('div', { class: 'segmented', role: 'group', 'aria-label': label });
      for (const v of values) {
        const b = h('button', { type: 'button', class: 'button secondary', 'data-value': String(v), 'aria-pressed': String(v === current) }, names[v]);
        b.addEventListener('click', () => pick(v));
        el.append(b);
      }
      return el;
    };
    const exportButton = h('button', { id: 'export-csv', type: 'button', class: 'button primary', title: 'Save every ledger record as CSV' }, 'Export CSV');
    exportButton.addEventListener('click', () => this.onExport());
    return h('header', { class: 'spend-header' },
      h('h1', {}, 'Spend'),
      h('div', { class: 'controls' },
        group('Range', SPEND_RANGES, RANGE_LABELS, choice.range, (range) => this.onChoice({ ...choice, range })),
        group('Measure', SPEND_METRICS, METRIC_LABELS, chart.metric, (metric) => this.onChoice({ ...choice, metric })),
        exportButton));
  }

  private charts(chart: SpendChart, width: number): HTMLElement {
    return h('div', { class: 'charts' },
      h('section', { class: 'chart-section' }, h('h2', {}, 'By day'), dayChart(chart, width), legend(chart)),
      h('section', { class: 'chart-section' }, h('h2', {}, 'By model'), modelChart(chart, width)));
  }
}

/** The range's totals and today against the daily caps, as a row of large figures. */
function summary(snapshot: SpendSnapshot, chart: SpendChart, range: SpendRange): HTMLElement {
  const t = chart.totals;
  const figure = (value: string, label: string, cls = '') => h('div', { class: `figure ${cls}` }, h('span', { class: 'figure-value' }, value), h('span', { class: 'figure-label' }, label));
  const caps: string[] = [];
  let share = 0;
  if (snapshot.dailyCapUsd > 0) {
    share = Math.max(share, chart.today.dollars / snapshot.dailyCapUsd);
    caps.push(`${percentText(chart.today.dollars / snapshot.dailyCapUsd)} of the ${formatDollars(snapshot.dailyCapUsd)} daily cap`);
  }
  if (snapshot.dailyTokenCap > 0) {
    share = Math.max(share, chart.today.tokens / snapshot.dailyTokenCap);
    caps.push(`${count(chart.today.tokens)} tokens, ${percentText(chart.today.tokens / snapshot.dailyTokenCap)} of the ${count(snapshot.dailyTokenCap)}-token daily cap`);
  }
  return h('div', { id: 'summary', class: 'summary' },
    figure(formatDollars(t.dollars, t.unpriced), `spent, ${rangeWords(range, chart.days.length).toLowerCase()}`),
    figure(count(t.tokens), 'tokens'),
    figure(count(t.calls), 'calls'),
    figure(formatDollars(chart.today.dollars), `today, ${caps.length ? caps.join('; ') : 'no daily cap'}`, levelOf(share, snapshot.warnAtPercent)));
}

/** One stacked bar per day, a segment per model (each segment a row of the table); the daily cap dashed. */
function dayChart(chart: SpendChart, width: number): SVGSVGElement {
  const m = chart.metric;
  const busiestTotal = Math.max(...chart.days.map((d) => d.total));
  // A cap far above every day would flatten the bars: it is drawn only up to three times the busiest day.
  const cap = chart.dailyCap !== null && chart.dailyCap <= 3 * busiestTotal ? chart.dailyCap : null;
  const peak = Math.max(busiestTotal, cap ?? 0);
  const yMax = peak > 0 ? niceCeil(peak) : 1;
  const plotW = width - DAY_MARGIN.left - DAY_MARGIN.right;
  const plotH = DAY_HEIGHT - DAY_MARGIN.top - DAY_MARGIN.bottom;
  const y = (v: number) => DAY_MARGIN.top + (1 - Math.min(v, yMax) / yMax) * plotH;
  const slot = plotW / chart.days.length;
  const barW = Math.max(2, Math.min(40, slot * 0.7));
  const busiest = chart.days.find((d) => d.total === busiestTotal) ?? chart.days[0];
  const svg = svgEl('svg', {
    id: 'chart-days', role: 'img', width, height: DAY_HEIGHT, viewBox: `0 0 ${width} ${DAY_HEIGHT}`,
    'aria-label': `Spend by day in ${METRIC_LABELS[m].toLowerCase()}: ${chart.days.filter((d) => d.segments.length).length} of ${chart.days.length} days with spend, the most ${amount(m, busiest.total)} on ${shortDay(busiest.day)}.`,
  });
  const grid = svgEl('g', { class: 'grid' });
  for (const v of [0, yMax / 2, yMax]) {
    grid.append(svgEl('line', { x1: DAY_MARGIN.left, x2: width - DAY_MARGIN.right, y1: y(v), y2: y(v) }));
    // Three significant digits: a half of $0.25 reads $0.125, not a rounded $0.13.
    grid.append(svgEl('text', { x: DAY_MARGIN.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, m === 'dollars' ? `$${Number(v.toPrecision(3))}` : formatTokens(v)));
  }
  // Up to ~8 day labels, always the last (today).
  const every = Math.ceil(chart.days.length / 8);
  chart.days.forEach((d, i) => {
    if ((chart.days.length - 1 - i) % every === 0) {
      grid.append(svgEl('text', { x: DAY_MARGIN.left + slot * (i + 0.5), y: DAY_HEIGHT - DAY_MARGIN.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, shortDay(d.day)));
    }
  });
  svg.append(grid);
  chart.days.forEach((d, i) => {
    const x = DAY_MARGIN.left + slot * (i + 0.5) - barW / 2;
    let base = 0;
    for (const s of d.segments) {
      const rect = svgEl('rect', {
        class: `bar colour-${s.colour}`, x, y: y(base + s.value), width: barW, height: Math.max(0, y(base) - y(base + s.value)),
        'data-day': d.day, 'data-model': s.model, 'data-value': s.value,
      });
      rect.append(svgEl('title', {}, `${shortDay(d.day)} · ${s.model}: ${rowWords(s.row)}`));
      svg.append(rect);
      base += s.value;
    }
  });
  if (cap !== null) {
    const cy = y(cap);
    svg.append(svgEl('line', { id: 'daily-cap', class: 'cap', x1: DAY_MARGIN.left, x2: width - DAY_MARGIN.right, y1: cy, y2: cy }));
    svg.append(svgEl('text', { x: width - DAY_MARGIN.right, y: cy - 4, 'text-anchor': 'end', class: 'cap-label' }, `daily cap ${amount(m, cap)}`));
  } else if (chart.dailyCap !== null) {
    svg.append(svgEl('text', { x: width - DAY_MARGIN.right, y: DAY_MARGIN.top - 6, 'text-anchor': 'end', class: 'cap-label' }, `daily cap ${amount(m, chart.dailyCap)}, above the chart`));
  }
  return svg;
}

/** One bar per model over the range, largest first, with its figure. */
function modelChart(chart: SpendChart, width: number): SVGSVGElement {
  const m = chart.metric;
  const label = Math.min(220, Math.round(width * 0.3));
  const valueW = 130;
  const barMax = width - label - valueW - 8;
  const top = chart.models[0]?.value ?? 0;
  const height = chart.models.length * MODEL_ROW + 4;
  const svg = svgEl('svg', {
    id: 'chart-models', role: 'img', width, height, viewBox: `0 0 ${width} ${height}`,
    'aria-label': `Spend by model in ${METRIC_LABELS[m].toLowerCase()}: ${chart.models.map((t) => `${t.model} ${amount(m, t.value)}`).join(', ')}.`,
  });
  chart.models.forEach((t, i) => {
    const cy = i * MODEL_ROW + MODEL_ROW / 2 + 2;
    const name = t.model.length > 32 ? `${t.model.slice(0, 31)}…` : t.model;
    svg.append(svgEl('text', { x: label - 8, y: cy + 4, 'text-anchor': 'end', class: 'model-name' }, name));
    const w = top > 0 ? Math.max(t.value > 0 ? 2 : 0, (t.value / top) * barMax) : 0;
    const rect = svgEl('rect', { class: `bar colour-${t.colour}`, x: label, y: cy - 8, width: w, height: 16, 'data-model': t.model, 'data-value': t.value });
    rect.append(svgEl('title', {}, `${t.model}: ${formatDollars(t.dollars, t.unpriced)}, ${count(t.tokens)} tokens, ${count(t.calls)} calls`));
    svg.append(rect);
    svg.append(svgEl('text', { x: label + w + 6, y: cy + 4, class: 'model-value' }, m === 'dollars' ? formatDollars(t.dollars, t.unpriced) : `${count(t.tokens)} tokens`));
  });
  return svg;
}

function legend(chart: SpendChart): HTMLElement {
  return h('ul', { class: 'legend', 'aria-label': 'Models' },
    ...chart.models.map((t) => h('li', {}, h('span', { class: `swatch colour-${t.colour}`, 'aria-hidden': 'true' }), t.model)));
}

function rowWords(r: DayModelSpend): string {
  return `${formatDollars(r.dollars, r.unpriced)}${r.estimated ? ' (est.)' : ''}, ${count(r.tokens)} tokens, ${count(r.calls)} call${r.calls === 1 ? '' : 's'}`;
}

const COLUMNS = ['day', 'model', 'calls', 'prompt tokens', 'completion tokens', 'reasoning tokens', 'dollars'] as const;

function table(chart: SpendChart): HTMLElement {
  const num = (n: number, key: string) => h('td', { class: 'num', 'data-key': key, 'data-value': n }, count(n));
  const dollars = (d: number, unpriced: boolean, estimated: boolean) =>
    h('td', { class: 'num', 'data-key': 'dollars', 'data-value': d }, `${formatDollars(d, unpriced)}${estimated ? ' (est.)' : ''}`);
  const colour = new Map(chart.models.map((t) => [t.model, t.colour]));
  const rows = chart.rows.map((r) => h('tr', { 'data-day': r.day, 'data-model': r.model },
    h('td', { 'data-key': 'day' }, r.day),
    h('td', { 'data-key': 'model', class: 'model' }, h('span', { class: `swatch colour-${colour.get(r.model) ?? 0}`, 'aria-hidden': 'true' }), r.model),
    num(r.calls, 'calls'), num(r.promptTokens, 'promptTokens'), num(r.completionTokens, 'completionTokens'), num(r.reasoningTokens, 'reasoningTokens'),
    dollars(r.dollars, r.unpriced, r.estimated)));
  const t = chart.totals;
  const sum = (key: 'promptTokens' | 'completionTokens' | 'reasoningTokens') => chart.rows.reduce((s, r) => s + r[key], 0);
  return h('section', { class: 'table-section' },
    h('h2', {}, 'By day and model'),
    h('div', { class: 'table-scroll' }, h('table', { id: 'spend-table', class: 'spend-table' },
      h('thead', {}, h('tr', {}, ...COLUMNS.map((c, i) => h('th', { scope: 'col', class: i >= 2 ? 'num' : undefined }, c)))),
      h('tbody', {}, ...rows),
      h('tfoot', {}, h('tr', {},
        h('th', { scope: 'row', colspan: 2 }, 'total'),
        num(t.calls, 'calls'), num(sum('promptTokens'), 'promptTokens'), num(sum('completionTokens'), 'completionTokens'), num(sum('reasoningTokens'), 'reasoningTokens'),
        dollars(t.dollars, t.unpriced, t.estimated))))));
}

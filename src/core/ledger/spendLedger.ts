import { billedTokens, CALL_PURPOSES, type CallPurpose, type SpendRecord } from './spendRecord';

export interface SpendTotals {
  tokens: number;
  /** Dollars of the calls whose price is known. */
  dollars: number;
  /** True when some calls had no known price: their dollars are not in `dollars`. */
  unpriced: boolean;
}

/** Spend of a set of calls. `tokens` = prompt + completion; `dollars` sums only calls with a known price. */
export interface LedgerTotals extends SpendTotals {
  calls: number;
  promptTokens: number;
  cachedPromptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  /** True when any record's counts were made locally. */
  estimated: boolean;
}

export interface ModelSpend extends LedgerTotals {
  model: string;
}

/** One row of the spend report: one local day and one model. */
export interface DayModelSpend extends ModelSpend {
  /** Local day, YYYY-MM-DD. */
  day: string;
}

/** Where every provider call's spend goes, and the totals the caps and the meter read. */
export interface SpendLedger {
  /** Durably appends one record; resolves once it is written and visible to `records()`. */
  append(record: SpendRecord): Promise<void>;
  /** All records, including other windows' appends made up to now. */
  records(): Promise<readonly SpendRecord[]>;
  totalsForRun(runId: string): Promise<LedgerTotals>;
  totalsForSession(sessionId: string): Promise<LedgerTotals>;
  /** Records whose time is at or after `since` (a session that has no id). */
  totalsSince(since: Date): Promise<LedgerTotals>;
  /** The current local day, across all windows sharing the ledger. */
  today(): Promise<LedgerTotals>;
  /** The current local month. */
  thisMonth(): Promise<LedgerTotals>;
  byModel(since?: Date): Promise<ModelSpend[]>;
  /** Day x model table for the spend report, oldest day first. */
  byDayAndModel(since?: Date): Promise<DayModelSpend[]>;
  toCsv(): Promise<string>;
}

export function emptyTotals(): LedgerTotals {
  return { calls: 0, tokens: 0, promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0, reasoningTokens: 0, dollars: 0, unpriced: false, estimated: false };
}

export function addToTotals(totals: LedgerTotals, r: SpendRecord): LedgerTotals {
  totals.calls += 1;
  totals.promptTokens += r.promptTokens;
  totals.cachedPromptTokens += r.cachedPromptTokens;
  totals.completionTokens += r.completionTokens;
  totals.reasoningTokens += r.reasoningTokens;
  totals.tokens += billedTokens(r);
  if (r.dollars === null) {
    totals.unpriced = true;
  } else {
    totals.dollars += r.dollars;
  }
  totals.estimated ||= r.estimated;
  return totals;
}

export function totalsOf(records: Iterable<SpendRecord>, keep: (r: SpendRecord) => boolean = () => true): LedgerTotals {
  const totals = emptyTotals();
  for (const r of records) {
    if (keep(r)) {
      addToTotals(totals, r);
    }
  }
  return totals;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** YYYY-MM-DD of the local day `time` falls in. */
export function localDay(time: Date): string {
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}`;
}

/** YYYY-MM of the local month `time` falls in. */
export function localMonth(time: Date): string {
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}`;
}

export function spendByModel(records: Iterable<SpendRecord>, since?: Date): ModelSpend[] {
  const byModel = new Map<string, ModelSpend>();
  for (const r of records) {
    if (since && Date.parse(r.time) < since.getTime()) {
      continue;
    }
    let row = byModel.get(r.model);
    if (!row) {
      row = { model: r.model, ...emptyTotals() };
      byModel.set(r.model, row);
    }
    addToTotals(row, r);
  }
  return [...byModel.values()].sort((a, b) => a.model.localeCompare(b.model));
}

export function spendByDayAndModel(records: Iterable<SpendRecord>, since?: Date): DayModelSpend[] {
  const rows = new Map<string, DayModelSpend>();
  for (const r of records) {
    const time = new Date(r.time);
    if (since && time.getTime() < since.getTime()) {
      continue;
    }
    const day = localDay(time);
    const key = `${day}\u0000${r.model}`;
    let row = rows.get(key);
    if (!row) {
      row = { day, model: r.model, ...emptyTotals() };
      rows.set(key, row);
    }
    addToTotals(row, r);
  }
  return [...rows.values()].sort((a, b) => a.day.localeCompare(b.day) || a.model.localeCompare(b.model));
}

const CSV_COLUMNS = [
  'time', 'runId', 'sessionId', 'purpose', 'providerId', 'model', 'promptTokens', 'cachedPromptTokens',
  'completionTokens', 'reasoningTokens', 'dollars', 'estimated', 'outcome',
] as const;

/** RFC 4180 quoting; text cells that a spreadsheet would run as a formula get a leading quote. */
function csvCell(value: unknown): string {
  if (value === undefined || value === null) {
    return '';
  }
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) {
    s = `'${s}`;
  }
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function spendCsv(records: Iterable<SpendRecord>): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of records) {
    lines.push(CSV_COLUMNS.map((c) => csvCell(r[c])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Shape check of a record read back from disk. */
export function isSpendRecord(v: unknown): v is SpendRecord {
  if (typeof v !== 'object' || v === null) {
    return false;
  }
  const r = v as Record<string, unknown>;
  return typeof r.time === 'string' && !Number.isNaN(Date.parse(r.time))
    && typeof r.runId === 'string'
    && (r.sessionId === undefined || typeof r.sessionId === 'string')
    && CALL_PURPOSES.includes(r.purpose as CallPurpose)
    && typeof r.providerId === 'string'
    && typeof r.model === 'string'
    && isCount(r.promptTokens) && isCount(r.cachedPromptTokens) && isCount(r.completionTokens) && isCount(r.reasoningTokens)
    && (r.dollars === null || isCount(r.dollars))
    && typeof r.estimated === 'boolean'
    && typeof r.outcome === 'string';
}

/** One JSON line, `time` first so that a record glued to a torn line can be found and salvaged. */
export function serializeRecord(r: SpendRecord): string {
  const ordered: SpendRecord = {
    time: r.time,
    ...(r.id !== undefined ? { id: r.id } : {}),
    runId: r.runId,
    ...(r.sessionId !== undefined ? { sessionId: r.sessionId } : {}),
    purpose: r.purpose,
    providerId: r.providerId,
    model: r.model,
    promptTokens: r.promptTokens,
    cachedPromptTokens: r.cachedPromptTokens,
    completionTokens: r.completionTokens,
    reasoningTokens: r.reasoningTokens,
    dollars: r.dollars,
    estimated: r.estimated,
    outcome: r.outcome,
  };
  return JSON.stringify(ordered);
}

/** In-memory ledger for tests and for hosts without storage; same aggregates as the file ledger. */
export class MemorySpendLedger implements SpendLedger {
  private readonly all: SpendRecord[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  async append(record: SpendRecord): Promise<void> {
    this.all.push({ ...record });
  }

  async records(): Promise<readonly SpendRecord[]> {
    return this.all;
  }

  async totalsForRun(runId: string): Promise<LedgerTotals> {
    return totalsOf(this.all, (r) => r.runId === runId);
  }

  async totalsForSession(sessionId: string): Promise<LedgerTotals> {
    return totalsOf(this.all, (r) => r.sessionId === sessionId);
  }

  async totalsSince(since: Date): Promise<LedgerTotals> {
    return totalsOf(this.all, (r) => Date.parse(r.time) >= since.getTime());
  }

  async today(): Promise<LedgerTotals> {
    const day = localDay(this.now());
    return totalsOf(this.all, (r) => localDay(new Date(r.time)) === day);
  }

  async thisMonth(): Promise<LedgerTotals> {
    const month = localMonth(this.now());
    return totalsOf(this.all, (r) => localMonth(new Date(r.time)) === month);
  }

  async byModel(since?: Date): Promise<ModelSpend[]> {
    return spendByModel(this.all, since);
  }

  async byDayAndModel(since?: Date): Promise<DayModelSpend[]> {
    return spendByDayAndModel(this.all, since);
  }

  async toCsv(): Promise<string> {
    return spendCsv(this.all);
  }
}

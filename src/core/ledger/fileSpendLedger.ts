import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { SpendRecord } from './spendRecord';
import type { DayModelSpend, LedgerTotals, ModelSpend, SpendLedger } from './spendLedger';
import {
  addToTotals, emptyTotals, isSpendRecord, localDay, localMonth, serializeRecord, spendByDayAndModel, spendByModel,
  spendCsv, totalsOf,
} from './spendLedger';

/** What loading the ledger found, for the host to tell the user about. */
export interface LedgerStatus {
  /**
   * ok: every line read. recovered: some lines were skipped (torn or bad), the rest kept.
   * moved-aside: the file was corrupt; it was renamed to `movedAsideTo`, its readable records carried over.
   * unavailable: the file can be neither read nor moved aside; appends will fail.
   */
  state: 'ok' | 'recovered' | 'moved-aside' | 'unavailable';
  records: number;
  /** Complete lines that were not records (and could not be salvaged). */
  badLines: number;
  /** The file ended in a partial line (a crash mid-write); it was skipped. */
  tornLastLine: boolean;
  /** Records recovered from a line where a torn write was glued to a whole record. */
  salvagedRecords: number;
  movedAsideTo?: string;
  /** A sentence for the user when state is not ok. */
  message?: string;
}

export interface FileSpendLedgerOptions {
  /** The clock that decides "today" and "this month", and names moved-aside files. */
  now?: () => Date;
  /** fsync after every append (default true): a record survives a power cut once append resolves. */
  durable?: boolean;
}

const NEWLINE = 0x0a;
const TIME_KEY = '{"time":';

/**
 * Lines an open skipped, torn tail included. Skipped lines stay in the file (nothing is deleted), so
 * every later open skips them again, a torn tail as a bad line once a record follows it: the count
 * is what tells a new problem from one the user has already been told of.
 */
export function skippedLines(status: LedgerStatus): number {
  return status.badLines + (status.tornLastLine ? 1 : 0);
}

/**
 * The spend ledger as one JSON line per provider call, shared by every VS Code window: each append
 * is a single O_APPEND write, and each reader reads on from its last offset before it sums.
 */
export class FileSpendLedger implements SpendLedger {
  private readonly now: () => Date;
  private readonly durable: boolean;
  private all: SpendRecord[] = [];
  private seenIds = new Set<string>();
  private byDay = new Map<string, LedgerTotals>();
  private byMonth = new Map<string, LedgerTotals>();
  private byRun = new Map<string, LedgerTotals>();
  /** Bytes of the file consumed so far (always just after a newline, or after a skipped torn tail). */
  private offset = 0;
  private inode: number | undefined;
  /** Offset of a partial line reported torn at load, so it is not reported again once completed. */
  private tornLineAt: number | undefined;
  private loaded = false;
  private current: LedgerStatus = { state: 'ok', records: 0, badLines: 0, tornLastLine: false, salvagedRecords: 0 };
  /** Serialises reads and appends of this instance so offsets never race. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string, options: FileSpendLedgerOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.durable = options.durable ?? true;
  }

  /** Loads the file (once) and reports what was found. Every other method loads on demand. */
  open(): Promise<LedgerStatus> {
    return this.exclusive(async () => {
      await this.ensureLoaded();
      return this.status();
    });
  }

  status(): LedgerStatus {
    return { ...this.current, records: this.all.length };
  }

  /** Reads what other windows appended since the last read. */
  refresh(): Promise<void> {
    return this.exclusive(() => this.readOn());
  }

  append(record: SpendRecord): Promise<void> {
    if (!isSpendRecord(record)) {
      return Promise.reject(new Error(`Refusing to append a malformed spend record: ${JSON.stringify(record)}`));
    }
    return this.exclusive(async () => {
      await this.ensureLoaded();
      await this.appendLines([serializeRecord({ ...record, id: randomUUID() })]);
      // Our own line comes back through the reader, exactly like other windows' lines.
      await this.readOn();
    });
  }

  async records(): Promise<readonly SpendRecord[]> {
    await this.refresh();
    return this.all;
  }

  async totalsForRun(runId: string): Promise<LedgerTotals> {
    await this.refresh();
    return { ...(this.byRun.get(runId) ?? emptyTotals()) };
  }

  async totalsForSession(sessionId: string): Promise<LedgerTotals> {
    await this.refresh();
    return totalsOf(this.all, (r) => r.sessionId === sessionId);
  }

  async totalsSince(since: Date): Promise<LedgerTotals> {
    await this.refresh();
    return totalsOf(this.all, (r) => Date.parse(r.time) >= since.getTime());
  }

  async today(): Promise<LedgerTotals> {
    await this.refresh();
    return { ...(this.byDay.get(localDay(this.now())) ?? emptyTotals()) };
  }

  async thisMonth(): Promise<LedgerTotals> {
    await this.refresh();
    return { ...(this.byMonth.get(localMonth(this.now())) ?? emptyTotals()) };
  }

  async byModel(since?: Date): Promise<ModelSpend[]> {
    await this.refresh();
    return spendByModel(this.all, since);
  }

  async byDayAndModel(since?: Date): Promise<DayModelSpend[]> {
    await this.refresh();
    return spendByDayAndModel(this.all, since);
  }

  async toCsv(): Promise<string> {
    await this.refresh();
    return spendCsv(this.all);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ensureLoaded(): Promise<void> {
    if (!this.loaded) {
      this.loaded = true;
      await this.readOn();
    }
  }

  private reset(): void {
    this.all = [];
    this.seenIds = new Set();
    this.byDay = new Map();
    this.byMonth = new Map();
    this.byRun = new Map();
    this.offset = 0;
    this.inode = undefined;
    this.tornLineAt = undefined;
  }

  private ingest(line: SpendRecord): void {
    // A reader can meet a line twice when it races another process's append; ids make reading idempotent.
    const { id, ...r } = line;
    if (id !== undefined) {
      if (this.seenIds.has(id)) {
        return;
      }
      this.seenIds.add(id);
    }
    this.all.push(r);
    const time = new Date(r.time);
    const add = (map: Map<string, LedgerTotals>, key: string) => {
      let t = map.get(key);
      if (!t) {
        t = emptyTotals();
        map.set(key, t);
      }
      addToTotals(t, r);
    };
    add(this.byDay, localDay(time));
    add(this.byMonth, localMonth(time));
    add(this.byRun, r.runId);
  }

  /** Reads from the last offset to the end; on a fresh start also decides whether the file is corrupt. */
  private async readOn(): Promise<void> {
    this.loaded = true;
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // Not written yet, or another window moved it aside: start over when it reappears.
        this.reset();
        return;
      }
      return this.unreadable(error);
    }
    let bytes: Buffer;
    let fromStart: boolean;
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) {
        throw new Error('it is not a file');
      }
      if (this.inode !== stat.ino || stat.size < this.offset) {
        // Replaced or truncated by someone else: read it again from the start.
        this.reset();
        this.inode = stat.ino;
      }
      fromStart = this.offset === 0;
      bytes = await readRange(handle, this.offset, stat.size - this.offset);
    } catch (error) {
      await handle.close().catch(() => undefined);
      return this.unreadable(error);
    }
    await handle.close();
    const found = parseChunk(bytes, fromStart, this.tornLineAt === this.offset);
    if (fromStart && isCorrupt(found.good.length, found.bad)) {
      return this.moveAside(found.good, `had ${found.bad} unreadable line${found.bad === 1 ? '' : 's'} (corrupt)`);
    }
    found.good.forEach((r) => this.ingest(r));
    if (found.torn) {
      this.tornLineAt = this.offset + found.consumed;
    }
    this.offset += found.consumed;
    this.note(found.bad, found.torn, found.salvaged);
  }

  private note(bad: number, torn: boolean, salvaged: number): void {
    if (bad === 0 && !torn && salvaged === 0) {
      return;
    }
    const c = this.current;
    c.badLines += bad;
    c.tornLastLine ||= torn;
    c.salvagedRecords += salvaged;
    if (c.state === 'ok') {
      c.state = 'recovered';
    }
    const parts = [
      c.tornLastLine ? 'a partly written last line (an interrupted write)' : '',
      c.badLines ? `${c.badLines} unreadable line${c.badLines === 1 ? '' : 's'}` : '',
      c.salvagedRecords ? `${c.salvagedRecords} record${c.salvagedRecords === 1 ? '' : 's'} glued to a partial line` : '',
    ].filter(Boolean);
    c.message = `The spend ledger ${this.file} had ${parts.join(' and ')}; damaged text was skipped and every readable record kept.`;
  }

  private async unreadable(error: unknown): Promise<void> {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EMFILE' || code === 'ENFILE' || code === 'EAGAIN' || code === 'EBUSY') {
      // Transient: try again on the next read rather than moving a good file aside.
      throw error;
    }
    const reason = error instanceof Error ? error.message : String(error);
    await this.moveAside([], `could not be read (${reason})`);
  }

  /** Renames the damaged file (never deletes it) and starts a new one holding the readable records. */
  private async moveAside(good: SpendRecord[], why: string): Promise<void> {
    const stamp = this.now().toISOString().replace(/[:.]/g, '-');
    const target = `${this.file}.corrupt-${stamp}`;
    this.reset();
    try {
      await fs.rename(this.file, target);
    } catch (error) {
      this.current = {
        state: 'unavailable', records: 0, badLines: 0, tornLastLine: false, salvagedRecords: 0,
        message: `The spend ledger ${this.file} ${why} and could not be moved aside (${(error as Error).message}). Spend is not being recorded: check the file and its folder.`,
      };
      return;
    }
    if (good.length) {
      await this.appendLines(good.map(serializeRecord));
    }
    this.current = {
      state: 'moved-aside', records: good.length, badLines: 0, tornLastLine: false, salvagedRecords: 0, movedAsideTo: target,
      // What happened and the new name first: a notification shows its first line or so until expanded.
      message: `The spend ledger ${why}. It was kept as ${path.basename(target)} and a new ledger was started with the ${good.length} record${good.length === 1 ? '' : 's'} that could be read. Folder: ${path.dirname(this.file)}`,
    };
    await this.readOn();
  }

  /** One write per call with O_APPEND, so concurrent writers never interleave inside a line. */
  private async appendLines(lines: string[]): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const handle = await fs.open(this.file, 'a+');
    try {
      const stat = await handle.stat();
      let prefix = '';
      if (stat.size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, stat.size - 1);
        // After a torn line, start on a fresh line so the new record stays readable.
        prefix = last[0] === NEWLINE ? '' : '\n';
      }
      const data = Buffer.from(`${prefix}${lines.join('\n')}\n`, 'utf8');
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await handle.write(data, written, data.length - written, null);
        written += bytesWritten;
      }
      if (this.durable) {
        await handle.datasync();
      }
    } finally {
      await handle.close();
    }
  }
}

async function readRange(handle: fs.FileHandle, from: number, length: number): Promise<Buffer> {
  const bytes = Buffer.alloc(Math.max(0, length));
  let read = 0;
  while (read < bytes.length) {
    const { bytesRead } = await handle.read(bytes, read, bytes.length - read, from + read);
    if (bytesRead === 0) {
      break;
    }
    read += bytesRead;
  }
  return bytes.subarray(0, read);
}

interface ParsedChunk {
  good: SpendRecord[];
  bad: number;
  salvaged: number;
  torn: boolean;
  /** Bytes to advance the offset by: the complete lines (and a newline-less whole record). */
  consumed: number;
}

/**
 * Parses complete lines; a partial last line is left unread (it may be another window mid-write),
 * but reported as torn at load. `tornFirstLine`: the first line was already reported torn.
 */
function parseChunk(bytes: Buffer, fromStart: boolean, tornFirstLine: boolean): ParsedChunk {
  const lastNewline = bytes.lastIndexOf(NEWLINE);
  // Splitting at newline bytes is safe: no UTF-8 multi-byte sequence contains 0x0a.
  const complete = lastNewline < 0 ? '' : bytes.subarray(0, lastNewline + 1).toString('utf8');
  const tail = bytes.subarray(lastNewline + 1);
  const result: ParsedChunk = { good: [], bad: 0, salvaged: 0, torn: false, consumed: lastNewline + 1 };
  complete.split('\n').forEach((line, i) => {
    const parsed = parseLine(line);
    if (parsed === 'bad') {
      result.bad += i === 0 && tornFirstLine ? 0 : 1;
    } else if (parsed !== 'empty') {
      result.good.push(parsed.record);
      result.salvaged += parsed.salvaged ? 1 : 0;
    }
  });
  if (tail.length > 0) {
    const parsed = parseLine(tail.toString('utf8'));
    if (parsed !== 'bad' && parsed !== 'empty') {
      // A whole record whose newline is missing: keep it; the next writer starts a new line.
      result.good.push(parsed.record);
      result.consumed = bytes.length;
    } else if (fromStart && parsed === 'bad' && !mayStartRecord(tail)) {
      // Not the beginning of a record (NUL bytes after a crash, binary garbage): an unreadable line, not a torn write.
      result.bad += 1;
      result.consumed = bytes.length;
    } else if (fromStart) {
      // At load a partial last line is most likely a crash mid-write (the next append starts a new line).
      result.torn = true;
    }
  }
  return result;
}

/** Whether text could be the first bytes of a serialized record (every record line starts with `{"time":`). */
function mayStartRecord(bytes: Buffer): boolean {
  const text = bytes.toString('utf8').trimStart();
  return text.startsWith(TIME_KEY) || TIME_KEY.startsWith(text);
}

type ParsedLine = 'empty' | 'bad' | { record: SpendRecord; salvaged: boolean };

function parseLine(line: string): ParsedLine {
  const text = line.trim();
  if (!text) {
    return 'empty';
  }
  const whole = tryRecord(text);
  if (whole) {
    return { record: whole, salvaged: false };
  }
  // A torn write followed by a whole record on the same line: keep the record.
  const start = text.lastIndexOf(TIME_KEY);
  if (start > 0) {
    const record = tryRecord(text.slice(start));
    if (record) {
      return { record, salvaged: true };
    }
  }
  return 'bad';
}

function tryRecord(text: string): SpendRecord | undefined {
  if (!text.startsWith('{')) {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    return isSpendRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Binary garbage or a mostly unreadable file, as opposed to a stray damaged line in a good file. */
function isCorrupt(good: number, bad: number): boolean {
  return bad > 0 && (good === 0 || (bad >= 3 && bad * 4 >= good));
}

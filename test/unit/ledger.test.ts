import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSpendLedger, skippedLines } from '../../src/core/ledger/fileSpendLedger';
import { MemorySpendLedger, serializeRecord, spendCsv } from '../../src/core/ledger/spendLedger';
import { spendRecord } from '../support/scripted';

let dir: string;
let file: string;

/** Each test gets its own folder (hooks inside describe: root-level hooks would run for every suite). */
function useTempDir(): void {
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ledger-'));
    file = path.join(dir, 'spend.jsonl');
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
}

const fast = { durable: false };

describe('FileSpendLedger', () => {
  useTempDir();

  it('counts a line met twice (a reader racing another process\'s append) once, by its id', async () => {
    const ledger = new FileSpendLedger(file, fast);
    await ledger.open();
    await ledger.append(spendRecord({ runId: 'once' }));
    const line = (await fs.readFile(file, 'utf8')).split('\n')[0];
    await fs.appendFile(file, `${line}\n`);
    const again = new FileSpendLedger(file, fast);
    assert.deepEqual((await again.records()).map((r) => r.runId), ['once']);
  });

  it('appends one JSON line per record, durably, and reads them back in a new instance', async () => {
    const ledger = new FileSpendLedger(file);
    assert.equal((await ledger.open()).state, 'ok');
    await ledger.append(spendRecord({ runId: 'a' }));
    await ledger.append(spendRecord({ runId: 'b', dollars: null }));
    const lines = (await fs.readFile(file, 'utf8')).split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[2], '');
    const { id, ...line } = JSON.parse(lines[1]);
    assert.match(id, /^[0-9a-f-]{36}$/, 'each line carries an id, so a line read twice counts once');
    assert.deepEqual(line, spendRecord({ runId: 'b', dollars: null }));
    const again = new FileSpendLedger(file, fast);
    assert.deepEqual((await again.records()).map((r) => r.runId), ['a', 'b']);
    assert.deepEqual(await again.open(), { state: 'ok', records: 2, badLines: 0, tornLastLine: false, salvagedRecords: 0 });
  });

  it('refuses malformed records instead of writing them', async () => {
    const ledger = new FileSpendLedger(file, fast);
    await assert.rejects(ledger.append({ ...spendRecord(), promptTokens: -1 }), /malformed/);
    await assert.rejects(ledger.append({ ...spendRecord(), dollars: Number.NaN }), /malformed/);
    assert.equal((await ledger.records()).length, 0);
  });

  it('totals a run, a session, a time range, by model, and tells priced from unpriced dollars', async () => {
    const ledger = new FileSpendLedger(file, fast);
    await ledger.append(spendRecord({ runId: 'r1', sessionId: 's1', dollars: 0.25, time: new Date(2025, 0, 15, 9).toISOString() }));
    await ledger.append(spendRecord({ runId: 'r1', sessionId: 's1', model: 'llama3', dollars: null, estimated: true, time: new Date(2025, 0, 15, 10).toISOString() }));
    await ledger.append(spendRecord({ runId: 'r2', sessionId: 's2', dollars: 0.5, cachedPromptTokens: 20, reasoningTokens: 7, time: new Date(2025, 0, 15, 11).toISOString() }));
    const r1 = await ledger.totalsForRun('r1');
    assert.deepEqual(r1, { calls: 2, tokens: 300, promptTokens: 200, cachedPromptTokens: 0, completionTokens: 100, reasoningTokens: 0, dollars: 0.25, unpriced: true, estimated: true });
    assert.equal((await ledger.totalsForRun('nope')).calls, 0);
    assert.equal((await ledger.totalsForSession('s2')).dollars, 0.5);
    assert.equal((await ledger.totalsSince(new Date(2025, 0, 15, 10))).calls, 2);
    const byModel = await ledger.byModel();
    assert.deepEqual(byModel.map((m) => [m.model, m.calls, m.dollars, m.unpriced]), [['gpt-4o-mini', 2, 0.75, false], ['llama3', 1, 0, true]]);
  });

  it('splits today and this month at local midnight and month end, following the injected clock', async () => {
    let now = new Date(2025, 0, 31, 23, 59, 59);
    const ledger = new FileSpendLedger(file, { ...fast, now: () => now });
    await ledger.append(spendRecord({ time: new Date(2025, 0, 31, 0, 0, 1).toISOString(), dollars: 1 }));
    await ledger.append(spendRecord({ time: new Date(2025, 0, 31, 23, 59, 58).toISOString(), dollars: 2 }));
    await ledger.append(spendRecord({ time: new Date(2025, 1, 1, 0, 0, 0).toISOString(), dollars: 4 }));
    await ledger.append(spendRecord({ time: new Date(2025, 1, 28, 23, 0).toISOString(), dollars: 8 }));
    assert.equal((await ledger.today()).dollars, 3);
    assert.equal((await ledger.thisMonth()).dollars, 3);
    now = new Date(2025, 1, 1, 0, 0, 0);
    assert.equal((await ledger.today()).dollars, 4);
    assert.equal((await ledger.thisMonth()).dollars, 12);
    now = new Date(2025, 2, 1, 0, 0, 0);
    assert.equal((await ledger.today()).calls, 0);
    assert.equal((await ledger.thisMonth()).calls, 0);
    const table = await ledger.byDayAndModel();
    assert.deepEqual(table.map((r) => [r.day, r.model, r.calls, r.dollars]), [
      ['2025-01-31', 'gpt-4o-mini', 2, 3], ['2025-02-01', 'gpt-4o-mini', 1, 4], ['2025-02-28', 'gpt-4o-mini', 1, 8],
    ]);
    assert.deepEqual((await ledger.byDayAndModel(new Date(2025, 1, 1))).map((r) => r.day), ['2025-02-01', '2025-02-28']);
  });

  it('exports CSV with quoting and neutralises spreadsheet formulas', async () => {
    const ledger = new FileSpendLedger(file, fast);
    await ledger.append(spendRecord({ model: '=HYPERLINK("x")', outcome: 'stop,length' }));
    await ledger.append(spendRecord({ sessionId: undefined, dollars: null }));
    const csv = await ledger.toCsv();
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines[0], 'time,runId,sessionId,purpose,providerId,model,promptTokens,cachedPromptTokens,completionTokens,reasoningTokens,dollars,estimated,outcome');
    assert.ok(lines[1].includes(`"'=HYPERLINK(""x"")"`), lines[1]);
    assert.ok(lines[1].endsWith(',"stop,length"'));
    assert.ok(lines[2].includes(',session-1,') === false && lines[2].includes(',,attempt,'));
    assert.equal(csv, spendCsv(await ledger.records()));
  });

  it('skips a torn last line (crash mid-write), keeps every earlier record and starts the next record on a new line', async () => {
    const whole = [spendRecord({ runId: 'a' }), spendRecord({ runId: 'b' }), spendRecord({ runId: 'c' })].map(serializeRecord).join('\n');
    await fs.writeFile(file, `${whole}\n${serializeRecord(spendRecord({ runId: 'torn' })).slice(0, 40)}`);
    const ledger = new FileSpendLedger(file, fast);
    const status = await ledger.open();
    assert.equal(status.state, 'recovered');
    assert.equal(status.tornLastLine, true);
    assert.equal(status.records, 3);
    assert.match(status.message ?? '', /partly written last line/);
    await ledger.append(spendRecord({ runId: 'd' }));
    assert.deepEqual((await ledger.records()).map((r) => r.runId), ['a', 'b', 'c', 'd']);
    assert.equal(ledger.status().badLines, 0, 'the torn line, now complete, is not reported twice');
    const reread = new FileSpendLedger(file, fast);
    assert.deepEqual((await reread.records()).map((r) => r.runId), ['a', 'b', 'c', 'd']);
    assert.equal(reread.status().badLines, 1);
    // The same skipped line, torn then complete: one line either way, so a later open is not news.
    assert.equal(skippedLines(status), 1);
    assert.equal(skippedLines(reread.status()), 1);
    await fs.appendFile(file, 'garbage after a crash\n');
    assert.equal(skippedLines(await new FileSpendLedger(file, fast).open()), 2, 'a new bad line is');
  });

  it('salvages a record that a writer glued onto a torn line', async () => {
    const torn = serializeRecord(spendRecord({ runId: 'torn' })).slice(0, 30);
    await fs.writeFile(file, `${serializeRecord(spendRecord({ runId: 'a' }))}\n${torn}${serializeRecord(spendRecord({ runId: 'b' }))}\n`);
    const ledger = new FileSpendLedger(file, fast);
    const status = await ledger.open();
    assert.deepEqual((await ledger.records()).map((r) => r.runId), ['a', 'b']);
    assert.equal(status.salvagedRecords, 1);
    assert.equal(status.state, 'recovered');
  });

  it('moves a binary-garbage file aside (keeping its bytes) and starts a new ledger', async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    await fs.writeFile(file, garbage);
    const now = new Date(Date.UTC(2025, 4, 6, 7, 8, 9, 10));
    const ledger = new FileSpendLedger(file, { ...fast, now: () => now });
    const status = await ledger.open();
    assert.equal(status.state, 'moved-aside');
    assert.equal(status.movedAsideTo, `${file}.corrupt-2025-05-06T07-08-09-010Z`);
    assert.deepEqual(await fs.readFile(status.movedAsideTo!), garbage);
    assert.match(status.message ?? '', /kept as spend\.jsonl\.corrupt-/);
    await ledger.append(spendRecord({ runId: 'after' }));
    assert.deepEqual((await new FileSpendLedger(file, fast).records()).map((r) => r.runId), ['after']);
  });

  it('moves a mostly unreadable file aside but carries its readable records into the new ledger', async () => {
    const lines = [serializeRecord(spendRecord({ runId: 'a' })), 'not json', '{"time":1}', '\u0000\u0000', serializeRecord(spendRecord({ runId: 'b' })), '[1,2]'];
    await fs.writeFile(file, `${lines.join('\n')}\n`);
    const ledger = new FileSpendLedger(file, fast);
    const status = await ledger.open();
    assert.equal(status.state, 'moved-aside');
    assert.equal(status.records, 2);
    assert.equal((await fs.readFile(status.movedAsideTo!, 'utf8')), `${lines.join('\n')}\n`);
    assert.deepEqual((await new FileSpendLedger(file, fast).records()).map((r) => r.runId), ['a', 'b']);
  });

  it('keeps a good file with one stray bad line in place', async () => {
    const lines = [spendRecord({ runId: 'a' }), spendRecord({ runId: 'b' }), spendRecord({ runId: 'c' }), spendRecord({ runId: 'd' })].map(serializeRecord);
    lines.splice(2, 0, 'garbage');
    await fs.writeFile(file, `${lines.join('\n')}\n`);
    const status = await new FileSpendLedger(file, fast).open();
    assert.equal(status.state, 'recovered');
    assert.equal(status.badLines, 1);
    assert.equal(status.records, 4);
    assert.deepEqual(await fs.readdir(dir), ['spend.jsonl']);
  });

  it('moves aside a ledger path that cannot be read as a file', async () => {
    await fs.mkdir(file);
    await fs.writeFile(path.join(file, 'inside'), 'x');
    const ledger = new FileSpendLedger(file, fast);
    const status = await ledger.open();
    assert.equal(status.state, 'moved-aside');
    assert.equal(await fs.readFile(path.join(status.movedAsideTo!, 'inside'), 'utf8'), 'x');
    await ledger.append(spendRecord());
    assert.equal((await ledger.records()).length, 1);
  });

  it('lets two ledgers (two windows) append to one file concurrently: every record once, no interleaved lines', async () => {
    const a = new FileSpendLedger(file, fast);
    const b = new FileSpendLedger(file, fast);
    const n = 60;
    await Promise.all([
      ...Array.from({ length: n }, (_, i) => a.append(spendRecord({ runId: `a-${i}`, model: 'x'.repeat(i * 50) }))),
      ...Array.from({ length: n }, (_, i) => b.append(spendRecord({ runId: `b-${i}` }))),
    ]);
    for (const ledger of [a, b]) {
      const ids = (await ledger.records()).map((r) => r.runId).sort();
      assert.equal(ids.length, 2 * n);
      assert.equal(new Set(ids).size, 2 * n);
      assert.equal(ledger.status().state, 'ok');
    }
    // A writer that stats the file while another's write is half-way through sees no final newline and
    // starts on a fresh line (the torn-tail guard): a blank line is valid content, as across processes.
    const lines = (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 2 * n);
    lines.forEach((l) => JSON.parse(l));
  });

  it("picks up another window's appends before totalling today, so one daily cap holds across windows", async () => {
    const now = () => new Date(2025, 0, 15, 18);
    const mine = new FileSpendLedger(file, { ...fast, now });
    const theirs = new FileSpendLedger(file, { ...fast, now });
    await mine.append(spendRecord({ dollars: 1 }));
    assert.equal((await theirs.today()).dollars, 1);
    await theirs.append(spendRecord({ dollars: 0.5 }));
    assert.equal((await mine.today()).dollars, 1.5);
    assert.equal((await mine.records()).length, 2);
  });

  it('starts over when another window replaced the file (moved aside)', async () => {
    const a = new FileSpendLedger(file, fast);
    await a.append(spendRecord({ runId: 'old-1' }));
    await a.append(spendRecord({ runId: 'old-2' }));
    await fs.rename(file, `${file}.corrupt-x`);
    await fs.writeFile(file, `${serializeRecord(spendRecord({ runId: 'new' }))}\n`);
    assert.deepEqual((await a.records()).map((r) => r.runId), ['new']);
  });
});

describe('MemorySpendLedger', () => {
  useTempDir();

  it('gives the same aggregates as the file ledger', async () => {
    const now = () => new Date(2025, 0, 15, 18);
    const memory = new MemorySpendLedger(now);
    const onDisk = new FileSpendLedger(file, { ...fast, now });
    const records = [spendRecord({ dollars: 1 }), spendRecord({ runId: 'r2', dollars: null, time: new Date(2025, 0, 14).toISOString() }), spendRecord({ sessionId: 's9' })];
    for (const r of records) {
      await memory.append(r);
      await onDisk.append(r);
    }
    assert.deepEqual(await memory.today(), await onDisk.today());
    assert.deepEqual(await memory.thisMonth(), await onDisk.thisMonth());
    assert.deepEqual(await memory.totalsForRun('run-1'), await onDisk.totalsForRun('run-1'));
    assert.deepEqual(await memory.totalsForSession('s9'), await onDisk.totalsForSession('s9'));
    assert.deepEqual(await memory.byDayAndModel(), await onDisk.byDayAndModel());
    assert.equal(await memory.toCsv(), await onDisk.toCsv());
  });
});

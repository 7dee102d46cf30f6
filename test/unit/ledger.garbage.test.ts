import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import { serializeRecord } from '../../src/core/ledger/spendLedger';
import { spendRecord } from '../support/scripted';

// A file with no line break at all is one "last line": it is a torn write only if it could be the
// start of a record; NUL bytes (a crash before the data reached the disk) or other garbage are not.
describe('FileSpendLedger: garbage without a line break', () => {
  let dir: string;
  let file: string;
  const now = () => new Date(2025, 4, 6, 7, 8, 9, 10);

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ledger-garbage-'));
    file = path.join(dir, 'spend.jsonl');
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  for (const [name, bytes] of [
    ['NUL bytes', Buffer.alloc(4096)],
    ['text that is not a record', Buffer.from('this is not a spend ledger')],
    ['binary garbage', Buffer.from(Array.from({ length: 2048 }, (_, i) => ((i * 7919 + 13) % 256) || 1).filter((b) => b !== 0x0a))],
  ] as const) {
    it(`moves a file of ${name} aside (keeping its bytes) instead of calling it an interrupted write`, async () => {
      await fs.writeFile(file, bytes);
      const ledger = new FileSpendLedger(file, { now, durable: false });
      const status = await ledger.open();
      assert.equal(status.state, 'moved-aside');
      assert.equal(status.tornLastLine, false);
      assert.deepEqual(await fs.readFile(status.movedAsideTo!), bytes);
      assert.match(status.message ?? '', /unreadable line \(corrupt\)\. It was kept as spend\.jsonl\.corrupt-/);
      await ledger.append(spendRecord());
      assert.deepEqual(await new FileSpendLedger(file).open(), { state: 'ok', records: 1, badLines: 0, tornLastLine: false, salvagedRecords: 0 });
    });
  }

  it('still treats the start of a record as a torn write, in an otherwise empty file', async () => {
    const torn = serializeRecord(spendRecord()).slice(0, 25);
    await fs.writeFile(file, `  ${torn}`);
    const status = await new FileSpendLedger(file, { now, durable: false }).open();
    assert.equal(status.state, 'recovered');
    assert.equal(status.tornLastLine, true);
    assert.equal(status.badLines, 0);
    assert.deepEqual(await fs.readdir(dir), ['spend.jsonl'], 'nothing moved aside');
  });

  it('counts a garbage tail after good records as one unreadable line and keeps the records', async () => {
    await fs.writeFile(file, Buffer.concat([Buffer.from(`${serializeRecord(spendRecord({ runId: 'a' }))}\n${serializeRecord(spendRecord({ runId: 'b' }))}\n`), Buffer.alloc(512)]));
    const ledger = new FileSpendLedger(file, { now, durable: false });
    const status = await ledger.open();
    assert.equal(status.state, 'recovered');
    assert.equal(status.records, 2);
    assert.equal(status.badLines, 1);
    assert.equal(status.tornLastLine, false);
    await ledger.append(spendRecord({ runId: 'c' }));
    assert.deepEqual((await ledger.records()).map((r) => r.runId), ['a', 'b', 'c']);
    const again = new FileSpendLedger(file);
    assert.equal((await again.open()).records, 3, 'the next record starts on its own line');
  });
});

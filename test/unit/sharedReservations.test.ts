import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SharedReservations } from '../../src/core/ledger/sharedReservations';

describe('shared reservations of calls in flight', () => {
  let dir: string;
  let ledger: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reserve-'));
    ledger = path.join(dir, 'spend.jsonl');
  });

  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('sums live reservations and drops released ones', async () => {
    const r = new SharedReservations(ledger);
    const releaseA = await r.add({ tokens: 100, dollars: 0.5 });
    await r.add({ tokens: 20, dollars: 0.25 });
    assert.deepEqual(await r.total(), { tokens: 120, dollars: 0.75 });
    await releaseA();
    assert.deepEqual(await r.total(), { tokens: 20, dollars: 0.25 });
  });

  it('ignores and removes reservations of a window whose process is gone, and expired ones', async () => {
    const r = new SharedReservations(ledger);
    await r.add({ tokens: 7, dollars: 0 });
    await fs.writeFile(path.join(`${ledger}.inflight`, '999999999-dead.json'), JSON.stringify({ tokens: 500, dollars: 1, expires: Date.now() + 60_000 }));
    await fs.writeFile(path.join(`${ledger}.inflight`, `${process.pid}-old.json`), JSON.stringify({ tokens: 300, dollars: 1, expires: Date.now() - 1 }));
    assert.deepEqual(await r.total(), { tokens: 7, dollars: 0 });
    assert.equal((await fs.readdir(`${ledger}.inflight`)).length, 1);
  });

  it('serialises critical sections and breaks a stale lock', async () => {
    const r = new SharedReservations(ledger, { staleLockMs: 200 });
    const order: string[] = [];
    await Promise.all([1, 2, 3].map((i) => r.withLock(async () => {
      order.push(`in${i}`);
      await new Promise((res) => setTimeout(res, 20));
      order.push(`out${i}`);
    })));
    for (let i = 0; i < order.length; i += 2) {
      assert.equal(order[i].replace('in', ''), order[i + 1].replace('out', ''), `no overlap: ${order}`);
    }
    await fs.writeFile(`${ledger}.lock`, 'left by a crashed window');
    const old = new Date(Date.now() - 5000);
    await fs.utimes(`${ledger}.lock`, old, old);
    assert.equal(await r.withLock(async () => 'got it'), 'got it');
  });
});

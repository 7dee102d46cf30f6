import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';

/** Worst-case spend of a call in flight. */
export interface ReservedAmount {
  tokens: number;
  dollars: number;
}

/**
 * Calls in flight in every VS Code window that shares one ledger file. A window holds the lock
 * while it reads the ledger, decides a grant and writes its reservation, so two windows can never
 * both grant the same room under the daily cap; the reservation is removed once the call's record
 * is in the ledger. A window that dies leaves a reservation that expires.
 */
export class SharedReservations {
  private readonly lockFile: string;
  private readonly dir: string;

  constructor(ledgerFile: string, private readonly options: { expiryMs?: number; staleLockMs?: number; now?: () => number } = {}) {
    this.lockFile = `${ledgerFile}.lock`;
    this.dir = `${ledgerFile}.inflight`;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Runs `fn` holding the lock (an exclusively created file; a lock older than staleLockMs is broken). */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const stale = this.options.staleLockMs ?? 10_000;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await fs.open(this.lockFile, 'wx');
        await handle.writeFile(JSON.stringify({ pid: process.pid, at: this.now() }));
        await handle.close();
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw e;
        }
        const age = await fs.stat(this.lockFile).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > stale) {
          await fs.rm(this.lockFile, { force: true });
        } else {
          await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt * 2)));
        }
      }
    }
    try {
      return await fn();
    } finally {
      await fs.rm(this.lockFile, { force: true });
    }
  }

  /** Sum of every live reservation (this window's included); expired ones are removed. */
  async total(): Promise<ReservedAmount> {
    const sum = { tokens: 0, dollars: 0 };
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return sum;
    }
    for (const name of names) {
      const file = `${this.dir}/${name}`;
      try {
        const r = JSON.parse(await fs.readFile(file, 'utf8')) as ReservedAmount & { expires: number };
        if (r.expires < this.now() || !processAlive(Number(name.split('-')[0]))) {
          // Expired, or its window's extension host is gone (crashed or killed): the call is over.
          await fs.rm(file, { force: true });
          continue;
        }
        sum.tokens += r.tokens;
        sum.dollars += r.dollars;
      } catch {
        // removed by its owner while we read
      }
    }
    return sum;
  }

  /** Records a reservation (call under the lock, after deciding the grant); returns its release. */
  async add(amount: ReservedAmount): Promise<() => Promise<void>> {
    await fs.mkdir(this.dir, { recursive: true });
    const file = `${this.dir}/${process.pid}-${randomUUID()}.json`;
    await fs.writeFile(file, JSON.stringify({ ...amount, expires: this.now() + (this.options.expiryMs ?? 10 * 60_000) }));
    return () => fs.rm(file, { force: true });
  }
}

/** Windows sharing a ledger run on one machine, so a reservation's process id tells if it can still spend. */
function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) {
    return true;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

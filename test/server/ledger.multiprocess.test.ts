import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import { repoRoot } from '../../tools/repoRoot';


/** One "VS Code window": a separate process appending through its own FileSpendLedger, starting at `startAt`. */
const writerScript = `
const { FileSpendLedger } = require('./src/core/ledger/fileSpendLedger');
const [file, name, count, startAt] = process.argv.slice(1);
(async () => {
  const ledger = new FileSpendLedger(file);
  await ledger.open();
  while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 1));
  const pending = [];
  for (let i = 0; i < Number(count); i++) {
    pending.push(ledger.append({
      time: new Date().toISOString(), runId: name + '-' + i, sessionId: name, purpose: 'attempt', providerId: 'p',
      model: 'm'.repeat(1 + (i % 7) * 300), promptTokens: i, cachedPromptTokens: 0, completionTokens: 1, reasoningTokens: 0,
      dollars: 0.001, estimated: false, outcome: 'stop',
    }));
  }
  await Promise.all(pending);
  const today = await ledger.today();
  process.stdout.write(String(today.calls));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function runWriter(file: string, name: string, count: number, startAt: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', '-e', writerScript, file, name, String(count), String(startAt)], { cwd: repoRoot });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`writer ${name} exited ${code}: ${err}`))));
  });
}

describe('FileSpendLedger across processes', () => {
  let dir: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ledger-mp-'));
  });

  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps every record of three concurrently appending processes exactly once, each on its own line', async function () {
    this.timeout(20_000);
    const file = path.join(dir, 'spend.jsonl');
    const writers = ['w1', 'w2', 'w3'];
    const count = 40;
    const startAt = Date.now() + 1500;
    const seenToday = await Promise.all(writers.map((w) => runWriter(file, w, count, startAt)));
    // Each writer read the others' lines too: the last one to finish saw all of them.
    assert.ok(seenToday.map(Number).some((n) => n === writers.length * count), `calls seen today per writer: ${seenToday}`);
    // A writer that sees another's line still in flight starts its own on a new line: a blank line, skipped on read.
    const lines = (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l.trim());
    assert.equal(lines.length, writers.length * count);
    const ids = lines.map((l) => (JSON.parse(l) as { runId: string }).runId);
    assert.equal(new Set(ids).size, ids.length);
    for (const w of writers) {
      assert.equal(ids.filter((id) => id.startsWith(`${w}-`)).length, count);
    }
    const reader = new FileSpendLedger(file, { durable: false });
    assert.deepEqual(await reader.open(), { state: 'ok', records: writers.length * count, badLines: 0, tornLastLine: false, salvagedRecords: 0 });
  });
});

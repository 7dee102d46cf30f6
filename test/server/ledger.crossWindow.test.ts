import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { readTraceQuestion } from '../../tools/recordedData';
import { repoRoot } from '../../tools/repoRoot';

const DAILY_TOKENS = 3000;

/** One VS Code window: its own process, ledger reader and metered caller, calling until the daily cap refuses. */
const windowScript = `
const { FileSpendLedger } = require('./src/core/ledger/fileSpendLedger');
const { SharedReservations } = require('./src/core/ledger/sharedReservations');
const { meteredCallers } = require('./src/core/run/callers');
const { OpenAICompatibleProvider } = require('./src/core/providers/openaiProvider');
const { TokenCounter } = require('./src/core/tokens/tokenCounter');
const { priceLookup } = require('./src/core/tokens/prices');
const [file, url, question, cap, startAt, name] = process.argv.slice(1);
(async () => {
  const ledger = new FileSpendLedger(file);
  await ledger.open();
  const tokens = new TokenCounter();
  tokens.countText('warm', 'gpt-4o');
  while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 1));
  let calls = 0;
  for (;;) {
    const caller = meteredCallers({ runId: name + '-' + calls, ledger, tokens, sharedReservations: new SharedReservations(file) })(
      { id: 'qwen2.5-math-replay', provider: new OpenAICompatibleProvider({ baseURL: url, apiKey: undefined, maxRetries: 0 }), prices: priceLookup({ baseUrl: url }) },
      { dailyTokens: Number(cap) },
    );
    try {
      await caller.call({ messages: [{ role: 'user', content: question }], maxTokens: 800 }, 'attempt', new AbortController().signal);
      calls++;
    } catch (e) {
      if (e && e.name === 'CapRefusal') break;
      throw e;
    }
  }
  process.stdout.write(String(calls));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function runWindow(file: string, url: string, question: string, startAt: number, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', '-e', windowScript, file, url, question, String(DAILY_TOKENS), String(startAt), name], { cwd: repoRoot });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`window ${name} exited ${code}: ${err}`))));
  });
}

describe('one daily cap across windows sharing the ledger', () => {
  let server: ModelServer;
  let dir: string;

  before(async () => {
    server = await startModelServer({ tokensPerSecond: 3000 });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ledger-xw-'));
  });

  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('three windows calling at once never pass the daily token cap together', async function () {
    this.timeout(60_000);
    const file = path.join(dir, 'spend.jsonl');
    const startAt = Date.now() + 2500;
    const question = readTraceQuestion(70).text;
    const calls = await Promise.all(['a', 'b', 'c'].map((w) => runWindow(file, server.url, question, startAt, w)));
    const ledger = new FileSpendLedger(file);
    await ledger.open();
    const today = await ledger.today();
    assert.ok(calls.filter((n) => n > 0).length >= 2, `at least two windows got calls through (${calls})`);
    assert.ok(today.tokens <= DAILY_TOKENS, `${today.tokens} tokens spent today against a cap of ${DAILY_TOKENS}`);
    assert.ok(today.tokens > DAILY_TOKENS / 2, 'the windows used the room they had');
    const leftovers = await fs.readdir(`${file}.inflight`).catch(() => []);
    assert.deepEqual(leftovers, [], 'every reservation was released');
  });
});

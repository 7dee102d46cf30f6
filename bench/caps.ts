/**
 * Do the caps hold by the server's own count? The stress property of test/server/stress.property.test.ts
 * (random strategies, budgets, caps, replies, faults, runaway streams, thinking and Stops, through the
 * real openai SDK to the loopback server) in each server mode, with the billed tokens and dollars
 * against each cap by the server's count. Writes bench/results/caps.md.
 * Run: npm run bench:caps [-- RUNS]   (or FC_RUNS=N; FC_SEED=N replays a seed)
 */
import { mkdirSync, promises as fs, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CAP_KEYS, SEED, SERVER_MODES, serverProperty, type CapKey, type ServerMode, type ServerPropertyResult } from '../test/support/capsProperty';
import { silenceSdkLog } from '../test/support/faultTable';

const RUNS = Math.max(1, Number(process.argv[2]) || Number(process.env.FC_RUNS) || 500);
/** Paced like a fast real model: a client's Stop or cut reaches it while it generates, not after it sent everything. */
const PACED_TPS = 2000;
const PACED_RUNS = Math.max(20, Math.round(RUNS / 5));

const CAP_LABELS: Record<CapKey, string> = {
  requestTokens: 'request tokens',
  dailyTokens: 'daily tokens',
  requestDollars: 'request $',
  dailyDollars: 'daily $',
};

async function main(): Promise<void> {
  const restore = silenceSdkLog();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'br-bench-caps-'));
  const rows: Array<{ mode: ServerMode; runs: number; result: ServerPropertyResult }> = [];
  try {
    const modes = [...SERVER_MODES, { ...SERVER_MODES[2], name: `${SERVER_MODES[2].name}, paced ${PACED_TPS} tok/s`, server: { ...SERVER_MODES[2].server, tokensPerSecond: PACED_TPS } }];
    for (const mode of modes) {
      const runs = mode.server.tokensPerSecond ? PACED_RUNS : RUNS;
      const result = await serverProperty(mode, dir, runs);
      console.log(`${mode.name}: ${result.summary}`);
      rows.push({ mode, runs, result });
    }
  } finally {
    restore();
    await fs.rm(dir, { recursive: true, force: true });
  }
  const fmt = (k: CapKey, x: number) => (k.endsWith('Dollars') ? `$${x.toFixed(6)}` : String(Math.round(x)));
  const lines = [
    '# Caps by the server\'s own count',
    '',
    'The stress property of `test/server/stress.property.test.ts` (shared in `test/support/capsProperty.ts`): random strategies',
    '(single, anytime-sc, value-guided, value-tree), chain and run budgets, parallel chains, caps (request tokens, daily tokens, request and',
    'daily dollars, earlier spend today), prices, scripted replies (text, finish reasons, HTTP errors, disconnects, malformed',
    'chunks, no usage, servers that ignore max_tokens, and in the thinking modes thinking streamed first) and Stops, each run',
    'through `ReasoningRun` (or `ValueTreeRun`) -> `MeteredCaller` (file ledger) -> `OpenAICompatibleProvider` (the openai SDK) -> the loopback',
    'server. Billed = the server\'s usage, or for a stream it ended without usage what it generated; a call the client ended',
    '(a Stop, or the cut of a server that ignores max_tokens) counts what the client read (see the last column).',
    '',
    '| server mode | cases | calls | ' + CAP_KEYS.map((k) => `${CAP_LABELS[k]}: cases, most billed / cap, most over`).join(' | ') + ' | cases over any cap | calls the client ended, most tokens sent past what it read |',
    '|---|---|---|' + CAP_KEYS.map(() => '---|').join('') + '---|---|',
    ...rows.map(({ mode, result: r }) => `| ${mode.name} | ${r.cases} | ${r.calls} | ` +
      CAP_KEYS.map((k) => `${r.used[k].cases}, ${(100 * r.used[k].maxShare).toFixed(1)}%, ${fmt(k, r.over[k])}`).join(' | ') +
      ` | ${r.casesOver} | ${r.clientEnded.calls}, ${r.clientEnded.maxUnreadTokens} |`),
    '',
    'Goal: 0 over every cap, 0 cases over. The token ratio (`src/core/budget/tokenRatio.ts`) is unlearned in the "unlearned"',
    'mode (a fresh one per case: the prior allows up to 2x the o200k count), shared by all cases in the "learning" and thinking',
    'modes; the o200k mode runs without ratios (the local count is billed, as before). The last column is what the server',
    'had sent when it saw the client leave: the unpaced loopback writes a whole reply before the client has read its first',
    'chunk, so that figure is the reply\'s length, not a client\'s overshoot; paced like a fast real model it is the last line.',
    '',
    `Produced by \`npm run bench:caps -- ${RUNS}\` (seed ${SEED}; ${PACED_RUNS} cases for the paced mode) on ${new Date().toISOString().slice(0, 10)}.`,
    '',
  ];
  const out = path.join(__dirname, 'results', 'caps.md');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, lines.join('\n'));
  console.log(`wrote ${out}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

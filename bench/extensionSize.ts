// `npm run bench:extension`: the VSIX's size and what activation costs: loading the production
// bundle (fresh process each time, `vscode` stubbed), median of 15 runs.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot as root } from '../tools/repoRoot';

/** Loads dist/extension.js in a fresh node with a stub `vscode` (activate() itself is timed in the host). */
const probe = `
const Module = require('module');
const stub = new Proxy(function () {}, { get: (t, k) => k === 'then' ? undefined : stub, apply: () => stub, construct: () => stub });
const resolve = Module._resolveFilename;
Module._resolveFilename = function (r, ...a) { return r === 'vscode' ? 'vscode' : resolve.call(this, r, ...a); };
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: stub };
const t0 = process.hrtime.bigint();
const ext = require(${JSON.stringify(path.join(root, 'dist', 'extension.js'))});
const t1 = process.hrtime.bigint();
if (typeof ext.activate !== 'function') throw new Error('no activate()');
process.stdout.write(JSON.stringify({ loadMs: Number(t1 - t0) / 1e6 }));
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main(): void {
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: 'ignore' });
  const vsix = fs.statSync(path.join(root, 'budget-reasoner.vsix')).size;
  const bundle = fs.statSync(path.join(root, 'dist', 'extension.js')).size;
  const encodings = fs.readdirSync(path.join(root, 'dist', 'encodings')).filter((f) => f.endsWith('.js'))
    .reduce((n, f) => n + fs.statSync(path.join(root, 'dist', 'encodings', f)).size, 0);
  const runs = Array.from({ length: 15 }, () => JSON.parse(execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { loadMs: number });
  const load = median(runs.map((r) => r.loadMs));
  const md = [
    '# Extension size and activation',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:extension\` on a shared 2-core machine (medians of ${runs.length} fresh processes).`,
    '',
    '| measure | value |',
    '|---|---:|',
    `| VSIX (\`npm run package\`) | ${(vsix / 1024 / 1024).toFixed(2)} MB |`,
    `| dist/extension.js (loaded on activation) | ${(bundle / 1024).toFixed(0)} KB |`,
    `| dist/encodings/*.js (loaded on the first token count only) | ${(encodings / 1024 / 1024).toFixed(2)} MB |`,
    `| loading the bundle | ${load.toFixed(1)} ms |`,
    `| activate() in code-server's extension host (commands, status bar, serializer; no SDK, tokenizer or ledger) | ${process.env.ACTIVATE_MS ?? 'see the extension-host suite\'s "activation took" line'} |`,
    '',
    'The bundle is loaded in plain node with a stub `vscode`. activate() is timed inside the real extension host by the extension itself (`activationMs`, printed by the extension-host suite).',
  ].join('\n');
  fs.writeFileSync(path.join(root, 'bench', 'results', 'extension.md'), `${md}\n`);
  console.log(md);
}

main();

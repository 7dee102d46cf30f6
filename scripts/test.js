// `npm test`: type check, lint, unit, build, webview-in-Chromium, and code-server e2e (which also runs the
// extension-host suite). Prints each stage's counts and one closing "N passed, N failed" line.
const { spawn } = require('node:child_process');

const mocha = (...args) => ['npx', ['mocha', '--reporter', 'spec', ...args]];
// Stages other than unit must not pick up .mocharc.json's unit spec.
const mochaOwn = (...args) => mocha('--no-config', '--require', 'tsx/cjs', '--extension', 'ts', '--forbid-only', '--exit', ...args);
const stages = [
  { name: 'type check', cmd: ['npx', ['tsc', '--noEmit']] },
  { name: 'lint', cmd: ['npx', ['eslint', 'src', 'test', 'bench', 'scripts', 'tools']] },
  { name: 'unit', cmd: mocha(), counts: true },
  { name: 'build', cmd: ['node', ['esbuild.js']] },
  { name: 'webview (chromium)', cmd: mochaOwn('--timeout', '60000', 'test/webview/**/*.test.ts'), counts: true },
  { name: 'e2e (code-server + chromium)', cmd: mochaOwn('--timeout', '240000', 'test/e2e/**/*.e2e.test.ts'), counts: true },
];

function run(stage) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const [cmd, args] = stage.cmd;
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { out += d; process.stderr.write(d); });
    child.on('close', (code) => {
      const grab = (re) => { const m = out.match(re); return m ? Number(m[1]) : 0; };
      // The e2e stage also reports the extension-host suite's own counts.
      const host = [...out.matchAll(/extension-host suite: (\d+) passed, (\d+) failed/g)].pop();
      resolve({
        name: stage.name, code, seconds: (Date.now() - t0) / 1000,
        passed: stage.counts ? grab(/(\d+) passing/) : undefined,
        failed: stage.counts ? grab(/(\d+) failing/) : undefined,
        pending: stage.counts ? grab(/(\d+) pending/) : undefined,
        hostPassed: host ? Number(host[1]) : undefined,
        hostFailed: host ? Number(host[2]) : undefined,
      });
    });
  });
}

(async () => {
  const results = [];
  for (const stage of stages) {
    console.log(`\n=== ${stage.name} ===`);
    const r = await run(stage);
    results.push(r);
    if (r.code !== 0) {
      break;
    }
  }
  console.log('\n=== summary ===');
  let passed = 0;
  let failed = 0;
  for (const r of results) {
    const counts = r.passed !== undefined ? ` ${r.passed} passed, ${r.failed} failed${r.pending ? `, ${r.pending} pending` : ''}` : '';
    const host = r.hostPassed !== undefined ? ` (of which extension-host suite: ${r.hostPassed} passed, ${r.hostFailed} failed)` : '';
    console.log(`${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.name.padEnd(30)} ${r.seconds.toFixed(1).padStart(6)} s${counts}${host}`);
    passed += r.passed ?? 0;
    failed += (r.failed ?? 0) + (r.code !== 0 && !r.failed ? 1 : 0);
  }
  const ok = results.length === stages.length && results.every((r) => r.code === 0);
  if (!ok && failed === 0) {
    failed = 1;
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(ok ? 0 : 1);
})();

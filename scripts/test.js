// `npm test`: type check, lint, unit, server-backed specs, build, webview-in-Chromium, and code-server e2e
// (which also runs the extension-host suite). Prints each stage's counts and one closing
// "N passed, N failed" line; exits non-zero when anything failed.
//
// Counts are read from JSON summaries, never from console text: mocha stages use
// tools/mochaReporter.js (spec output plus a summary file), and the e2e stage's extension-host run
// writes its own counts to the file named by HOST_SUITE_SUMMARY.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const summaryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'br-test-'));
const summaryFile = (name) => path.join(summaryDir, `${name.replace(/\W+/g, '-')}.json`);

const reporter = (name) => ['--reporter', './tools/mochaReporter.js', '--reporter-option', `summary=${summaryFile(name)}`];
// Stages other than unit must not pick up .mocharc.json's unit spec.
const mochaOwn = (...args) => ['--no-config', '--require', 'tsx/cjs', '--extension', 'ts', '--forbid-only', '--exit', ...args];
const stages = [
  { name: 'type check', cmd: ['npx', ['tsc', '--noEmit']] },
  { name: 'lint', cmd: ['npx', ['eslint', 'src', 'test', 'bench', 'scripts', 'tools']] },
  { name: 'lint (import graph)', cmd: ['npx', ['tsx', 'tools/checkImports.ts']] },
  // Plain logic, milliseconds per test: .mocharc.json's spec (test/unit).
  { name: 'unit', mocha: [] },
  // Specs that start the loopback model server or spawn processes.
  { name: 'server', mocha: mochaOwn('--timeout', '20000', 'test/server/**/*.test.ts') },
  { name: 'build', cmd: ['node', ['esbuild.js']] },
  { name: 'webview (chromium)', mocha: mochaOwn('--timeout', '60000', 'test/webview/**/*.test.ts') },
  { name: 'e2e (code-server + chromium)', mocha: mochaOwn('--timeout', '240000', 'test/e2e/**/*.e2e.test.ts'), hostSuite: true },
];

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function run(stage) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const summary = summaryFile(stage.name);
    const hostSummary = summaryFile(`${stage.name} host suite`);
    fs.rmSync(summary, { force: true });
    fs.rmSync(hostSummary, { force: true });
    const [cmd, args] = stage.mocha ? ['npx', ['mocha', ...reporter(stage.name), ...stage.mocha]] : stage.cmd;
    const env = stage.hostSuite ? { ...process.env, HOST_SUITE_SUMMARY: hostSummary } : process.env;
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    child.on('close', (code) => {
      const counts = stage.mocha ? readJson(summary) : undefined;
      const host = stage.hostSuite ? readJson(hostSummary) : undefined;
      resolve({
        name: stage.name, code, seconds: (Date.now() - t0) / 1000,
        counted: Boolean(stage.mocha),
        // A mocha stage that wrote no summary (it crashed before the run ended) has no counts to trust.
        missingSummary: Boolean(stage.mocha) && !counts,
        passed: counts?.passes, failed: counts?.failures, pending: counts?.pending,
        hostPassed: host?.passes, hostFailed: host?.failures,
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
    if (r.code !== 0 || r.missingSummary) {
      break;
    }
  }
  console.log('\n=== summary ===');
  let passed = 0;
  let failed = 0;
  for (const r of results) {
    const ok = r.code === 0 && !r.missingSummary;
    let counts = '';
    if (r.counted) {
      counts = r.missingSummary ? ' no summary written' : ` ${r.passed} passed, ${r.failed} failed${r.pending ? `, ${r.pending} pending` : ''}`;
    }
    const host = r.hostPassed !== undefined ? ` (of which extension-host suite: ${r.hostPassed} passed, ${r.hostFailed} failed)` : '';
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(30)} ${r.seconds.toFixed(1).padStart(6)} s${counts}${host}`);
    passed += r.passed ?? 0;
    // A failed stage with no failed test (a crash, a type error, a lint error) still counts once.
    failed += (r.failed ?? 0) + (!ok && !r.failed ? 1 : 0);
  }
  const ok = results.length === stages.length && results.every((r) => r.code === 0 && !r.missingSummary);
  if (!ok && failed === 0) {
    failed = 1;
  }
  console.log(`${passed} passed, ${failed} failed`);
  fs.rmSync(summaryDir, { recursive: true, force: true });
  process.exit(ok ? 0 : 1);
})();

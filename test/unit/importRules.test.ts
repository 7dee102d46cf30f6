import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ESLint } from 'eslint';
import { checkImports, findCycles, importsOf, main, readSources, resolveImport, unitOf } from '../../tools/checkImports';

const repoRoot = path.resolve(__dirname, '../..');

describe('layer rules in eslint.config.mjs', function () {
  // The first lint loads the config and the TypeScript parser.
  this.timeout(60_000);
  let eslint: ESLint;
  before(() => {
    eslint = new ESLint({ cwd: repoRoot });
  });

  /** The no-restricted-imports messages for a file at `filePath` importing `specifier`. */
  async function restricted(filePath: string, specifier: string, form: 'type' | 'value' | 'reexport' = 'type'): Promise<string[]> {
    const code = {
      type: `import type { A } from '${specifier}';\nexport type B = A;\n`,
      value: `import * as m from '${specifier}';\nexport const b = m;\n`,
      reexport: `export type { A } from '${specifier}';\n`,
    }[form];
    const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, filePath) });
    return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  }

  async function assertRefused(filePath: string, specifier: string, why: RegExp, form?: 'type' | 'value' | 'reexport') {
    const messages = await restricted(filePath, specifier, form);
    assert.equal(messages.length, 1, `${filePath} importing ${specifier} should be refused`);
    assert.match(messages[0], why);
  }

  async function assertAllowed(filePath: string, specifier: string) {
    assert.deepEqual(await restricted(filePath, specifier), [], `${filePath} may import ${specifier}`);
  }

  it('src/core may not import the protocol, at any depth and in any form', async () => {
    await assertRefused('src/core/view/runViewPublisher.ts', '../../protocol', /src\/core must not import src\/protocol\.ts/);
    await assertRefused('src/core/config.ts', '../protocol', /src\/protocol\.ts/, 'value');
    await assertRefused('src/core/view/x.ts', '../../protocol', /src\/protocol\.ts/, 'reexport');
  });

  it('src/core may not import vscode, host, webview or extension code', async () => {
    await assertRefused('src/core/budget/x.ts', 'vscode', /adapt VS Code in src\/host/, 'value');
    await assertRefused('src/core/budget/x.ts', '../../host/logger', /host, webview or extension/);
    await assertRefused('src/core/view/x.ts', '../../webview/panelDom', /host, webview or extension/);
    await assertRefused('src/core/x.ts', '../extension', /host, webview or extension/);
  });

  it('src/core may import core and Node', async () => {
    await assertAllowed('src/core/view/x.ts', '../reasoning/runEvents');
    await assertAllowed('src/core/ledger/x.ts', 'node:fs');
    await assertAllowed('src/core/providers/x.ts', './chatProvider');
  });

  it('src/webview may not import vscode, Node built-ins or host code', async () => {
    await assertRefused('src/webview/main.ts', 'vscode', /runs in the browser/, 'value');
    await assertRefused('src/webview/main.ts', 'node:crypto', /no Node built-ins/, 'value');
    await assertRefused('src/webview/main.ts', 'path', /no Node built-ins/, 'value');
    await assertRefused('src/webview/panelDom.ts', '../host/answerPanel', /must not import host or extension code/);
    await assertRefused('src/webview/panelDom.ts', '../extension', /must not import host or extension code/);
  });

  it('src/webview may import the protocol, core and its own files', async () => {
    await assertAllowed('src/webview/main.ts', '../protocol');
    await assertAllowed('src/webview/main.ts', '../core/view/runView');
    await assertAllowed('src/webview/main.ts', './panelDom');
  });

  it('src/host may not import src/webview, but may import core and the protocol', async () => {
    await assertRefused('src/host/answerPanel.ts', '../webview/panelDom', /separate browser bundle/, 'value');
    await assertRefused('src/host/answerPanel.ts', '../webview', /separate browser bundle/);
    await assertAllowed('src/host/answerPanel.ts', './panelHtml');
    await assertAllowed('src/host/answerPanel.ts', '../protocol');
    await assertAllowed('src/host/answerPanel.ts', '../core/view/runView');
    await assertAllowed('src/host/answerPanel.ts', 'vscode');
  });

  it('src/protocol.ts may import only core', async () => {
    await assertRefused('src/protocol.ts', 'vscode', /shared by the host and the browser bundle/, 'value');
    await assertRefused('src/protocol.ts', './host/answerPanel', /may import only core/);
    await assertRefused('src/protocol.ts', './webview/dom', /may import only core/);
    await assertAllowed('src/protocol.ts', './core/view/runViewMessages');
  });
});

describe('import graph check (tools/checkImports.ts)', () => {
  const sources = (files: Record<string, string>) => new Map(Object.entries(files));

  it('finds every kind of import with its line and whether it is type-only', () => {
    const text = [
      "import type { A } from './a';",
      "import { type B, type C } from './b';",
      "import { D, type E } from './d';",
      "import F from './f';",
      "import './side-effect';",
      "export { G } from './g';",
      "export type { H } from './h';",
      "export * from './star';",
      "import I = require('./i');",
      'async function later() { return import(\'./lazy\'); }',
      "const j = require('./j');",
      "type K = import('./k').K;",
    ].join('\n');
    assert.deepEqual(importsOf('x.ts', text).map((r) => [r.specifier, r.line, r.typeOnly]), [
      ['./a', 1, true],
      ['./b', 2, true],
      ['./d', 3, false],
      ['./f', 4, false],
      ['./side-effect', 5, false],
      ['./g', 6, false],
      ['./h', 7, true],
      ['./star', 8, false],
      ['./i', 9, false],
      ['./lazy', 10, false],
      ['./j', 11, false],
      ['./k', 12, true],
    ]);
  });

  it('resolves relative specifiers to .ts files and index files, and leaves packages alone', () => {
    const files = new Set(['src/a.ts', 'src/dir/index.ts', 'src/core/b.ts']);
    assert.equal(resolveImport('src/core/b.ts', '../a', files), 'src/a.ts');
    assert.equal(resolveImport('src/core/b.ts', '../a.js', files), 'src/a.ts');
    assert.equal(resolveImport('src/a.ts', './dir', files), 'src/dir/index.ts');
    assert.equal(resolveImport('src/a.ts', './core/b', files), 'src/core/b.ts');
    assert.equal(resolveImport('src/a.ts', './missing', files), undefined);
    assert.equal(resolveImport('src/a.ts', 'vscode', files), undefined);
    assert.equal(resolveImport('src/a.ts', 'node:fs', files), undefined);
  });

  it('names the unit of a file in a layer graph', () => {
    assert.equal(unitOf('src/core/budget/caps.ts', 'src/core'), 'src/core/budget');
    assert.equal(unitOf('src/core/config.ts', 'src/core'), 'src/core/config.ts');
    assert.equal(unitOf('src/core/budget/caps.ts', 'src'), 'src/core');
    assert.equal(unitOf('src/protocol.ts', 'src'), 'src/protocol.ts');
    assert.equal(unitOf('test/unit/x.test.ts', 'src'), undefined);
    assert.equal(unitOf('src/corex/a.ts', 'src/core'), undefined);
  });

  it('finds no cycle in a DAG, and the shortest cycle through every node of a tangle', () => {
    const graph = (edges: Record<string, string[]>) => (n: string) => edges[n] ?? [];
    assert.deepEqual(findCycles(['a', 'b', 'c', 'd'], graph({ a: ['b', 'c'], b: ['d'], c: ['d'] })), []);
    assert.deepEqual(findCycles(['a', 'b'], graph({ a: ['b'], b: ['a'] })), [['a', 'b']]);
    assert.deepEqual(findCycles(['a'], graph({ a: ['a'] })), [['a']]);
    // Two cycles through a, and a longer one: each node gets its shortest cycle, each cycle once.
    assert.deepEqual(findCycles(['a', 'b', 'c', 'd', 'e'], graph({ a: ['b', 'c'], b: ['a'], c: ['a', 'd'], d: ['e'], e: ['c'] })), [
      ['a', 'b'],
      ['a', 'c'],
      ['c', 'd', 'e'],
    ]);
    // An import chain deeper than a recursive search's call stack, ending in a small cycle.
    const n = 30_000;
    const names = Array.from({ length: n }, (_, i) => `m${String(i).padStart(6, '0')}`);
    const index = new Map(names.map((name, i) => [name, i]));
    const chain = (name: string) => {
      const i = index.get(name)!;
      return i === n - 1 ? [names[n - 3]] : [names[i + 1]];
    };
    assert.deepEqual(findCycles(names, chain), [names.slice(n - 3)]);
  });

  it('passes files without cycles', () => {
    const problems = checkImports(sources({
      'src/core/ledger/spendRecord.ts': 'export interface SpendRecord { tokens: number }',
      'src/core/budget/caps.ts': "import type { SpendRecord } from '../ledger/spendRecord';\nexport type R = SpendRecord;",
      'src/core/reasoning/run.ts': "import type { R } from '../budget/caps';\nimport type { SpendRecord } from '../ledger/spendRecord';\nexport type X = R | SpendRecord;",
      'src/protocol.ts': "import type { X } from './core/reasoning/run';\nexport type Y = X;",
      'src/webview/main.ts': "import type { Y } from '../protocol';\nimport { marked } from 'marked';\nexport const z: Y | undefined = marked ? undefined : undefined;",
    }));
    assert.deepEqual(problems, []);
  });

  it('reports a file cycle with its files and the importing lines, type-only imports included', () => {
    const problems = checkImports(sources({
      'src/core/budget/localEstimator.ts': "// the estimator\nimport { prior } from './localEstimatorPrior';\nexport interface Prior { w: number }\nexport const p = prior;",
      'src/core/budget/localEstimatorPrior.ts': "import type { Prior } from './localEstimator';\nexport const prior: Prior = { w: 1 };",
      'src/core/budget/other.ts': "import { p } from './localEstimator';\nexport const q = p;",
    }));
    assert.equal(problems.length, 1);
    assert.equal(problems[0].kind, 'file-cycle');
    assert.deepEqual(problems[0].files, ['src/core/budget/localEstimator.ts', 'src/core/budget/localEstimatorPrior.ts']);
    assert.match(problems[0].message, /src\/core\/budget\/localEstimator\.ts:2 imports '\.\/localEstimatorPrior'/);
    assert.match(problems[0].message, /src\/core\/budget\/localEstimatorPrior\.ts:1 imports type '\.\/localEstimator'/);
  });

  it('reports two core folders that import each other through different files', () => {
    const problems = checkImports(sources({
      'src/core/budget/calibration.ts': "import { answersEqual } from '../reasoning/answers';\nexport const c = answersEqual;",
      'src/core/budget/budgetTracker.ts': 'export const line = 1;',
      'src/core/reasoning/answers.ts': 'export const answersEqual = 1;',
      'src/core/reasoning/reasoningRun.ts': "import { line } from '../budget/budgetTracker';\nexport const r = line;",
    }));
    assert.deepEqual(problems.map((p) => [p.kind, p.files]), [['layer-cycle', ['src/core/budget', 'src/core/reasoning']]]);
    assert.match(problems[0].message, /Layer cycle in src\/core: src\/core\/budget -> src\/core\/reasoning -> src\/core\/budget/);
    assert.match(problems[0].message, /src\/core\/budget\/calibration\.ts:1 imports '\.\.\/reasoning\/answers'/);
    assert.match(problems[0].message, /src\/core\/reasoning\/reasoningRun\.ts:1 imports '\.\.\/budget\/budgetTracker'/);
  });

  it('reports core and the protocol importing each other', () => {
    const problems = checkImports(sources({
      'src/protocol.ts': "import type { RunView } from './core/view/runView';\nexport interface SnapshotMessage { view: RunView }",
      'src/core/view/runView.ts': 'export interface RunView { seq: number }',
      'src/core/view/runViewPublisher.ts': "import type { SnapshotMessage } from '../../protocol';\nexport type M = SnapshotMessage;",
    }));
    assert.deepEqual(problems.map((p) => [p.kind, p.files]), [['layer-cycle', ['src/core', 'src/protocol.ts']]]);
  });

  it('reports Node or vscode reached from the webview bundle, with the chain, but not through type-only imports', () => {
    const problems = checkImports(sources({
      'src/webview/main.ts': "import { format } from '../core/budget/meterFormat';\nimport type { Ledger } from '../core/ledger/fileLedger';\nexport const m = format;\nexport type L = Ledger;",
      'src/core/budget/meterFormat.ts': "import { total } from '../ledger/fileLedger';\nexport const format = total;",
      'src/core/ledger/fileLedger.ts': "import { promises as fs } from 'node:fs';\nexport interface Ledger { fs: typeof fs }\nexport const total = 0;",
      'src/webview/dom.ts': "import * as vscode from 'vscode';\nexport const v = vscode;",
      'src/webview/types.ts': "import type * as vscode from 'vscode';\nexport type V = typeof vscode;",
    }));
    assert.deepEqual(problems.map((p) => [p.kind, p.files]), [
      ['browser-import', ['src/webview/dom.ts']],
      ['browser-import', ['src/webview/main.ts', 'src/core/budget/meterFormat.ts', 'src/core/ledger/fileLedger.ts']],
    ]);
    assert.match(problems[1].message, /reaches 'node:fs'/);
    assert.match(problems[1].message, /src\/core\/ledger\/fileLedger\.ts:1 imports 'node:fs'/);
  });

  it('reads a folder from disk and fails only while it has a cycle', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'check-imports-'));
    const errors: string[] = [];
    const logs: string[] = [];
    const { error, log } = console;
    console.error = (...args: unknown[]) => { errors.push(args.join(' ')); };
    console.log = (...args: unknown[]) => { logs.push(args.join(' ')); };
    try {
      mkdirSync(path.join(dir, 'src', 'a'), { recursive: true });
      mkdirSync(path.join(dir, 'bench', 'data'), { recursive: true });
      writeFileSync(path.join(dir, 'src', 'a', 'x.ts'), "import { y } from './y';\nexport const x = y;\n");
      writeFileSync(path.join(dir, 'src', 'a', 'y.ts'), "import { x } from './x';\nexport const y = () => x;\n");
      writeFileSync(path.join(dir, 'src', 'a', 'notes.md'), "import { x } from './x';\n");
      // Recorded data is not source, whatever it contains.
      writeFileSync(path.join(dir, 'bench', 'data', 'z.ts'), "import { z } from './z';\nexport const z = 1;\n");
      assert.deepEqual([...readSources(dir, ['src', 'bench', 'missing']).keys()].sort(), ['src/a/x.ts', 'src/a/y.ts']);
      assert.equal(main(['src', 'bench'], dir), 1);
      assert.match(errors.join('\n'), /Import cycle between 2 file\(s\): src\/a\/x\.ts -> src\/a\/y\.ts -> src\/a\/x\.ts/);
      writeFileSync(path.join(dir, 'src', 'a', 'y.ts'), 'export const y = () => 1;\n');
      assert.equal(main(['src', 'bench'], dir), 0);
      assert.match(logs.join('\n'), /2 files, no import cycles/);
    } finally {
      console.error = error;
      console.log = log;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes on this repository (what the lint stage runs)', function () {
    this.timeout(30_000);
    assert.deepEqual(checkImports(readSources(repoRoot, ['src', 'test', 'bench', 'scripts', 'tools'])).map((p) => p.message), []);
  });
});

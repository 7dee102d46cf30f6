/**
 * Import-graph checks that ESLint's one-file-at-a-time rules cannot make (run by `npm run lint`):
 *  - no import cycle between files;
 *  - no cycle between layers: the parts of src (core, host, webview, protocol.ts, extension.ts) and the
 *    folders of src/core (budget, ledger, reasoning, ...), where a file directly in src/core is a unit
 *    of its own. Two folders that import each other through different files are a cycle here even
 *    when no file cycle exists;
 *  - the webview bundle (src/webview and everything it imports) reaches neither vscode nor a Node
 *    built-in at run time (type-only imports are erased by the bundler and do not count).
 * Type-only imports count for the cycles: they tie the modules together as much as value imports do.
 *
 * Usage: npx tsx tools/checkImports.ts [folder...]   (default: src test bench scripts tools)
 * Prints each problem with the files and imports involved and exits 1 if there is any.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import * as ts from 'typescript';

export interface ImportRef {
  specifier: string;
  /** 1-based line of the import in the importing file. */
  line: number;
  /** `import type`, `export type`, or every named binding marked `type`: erased at build time. */
  typeOnly: boolean;
}

export interface ImportEdge extends ImportRef {
  from: string;
  to: string;
}

export interface ImportGraph {
  /** Repository-relative posix paths, sorted. */
  files: string[];
  /** Imports that resolve to one of `files`, per importing file. */
  internal: Map<string, ImportEdge[]>;
  /** Imports of packages and built-ins, per importing file. */
  external: Map<string, ImportRef[]>;
}

export type ProblemKind = 'file-cycle' | 'layer-cycle' | 'browser-import';

export interface Problem {
  kind: ProblemKind;
  message: string;
  /** The files involved, in the order of the cycle or chain. */
  files: string[];
}

export interface CheckOptions {
  /** Folders whose direct children are the units of a layer graph. */
  layers?: string[];
  /** Folders bundled for the browser. */
  browserRoots?: string[];
}

export const DEFAULT_OPTIONS: Required<CheckOptions> = { layers: ['src', 'src/core'], browserRoots: ['src/webview'] };

const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts'];

/** Every import, export-from, import-equals, dynamic import() and require() of a file, in source order. */
export function importsOf(fileName: string, text: string): ImportRef[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false);
  const found: ImportRef[] = [];
  const add = (node: ts.Node, literal: ts.Expression | undefined, typeOnly: boolean) => {
    if (literal && ts.isStringLiteralLike(literal)) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      found.push({ specifier: literal.text, line, typeOnly });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node, node.moduleSpecifier, isTypeOnlyImport(node));
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly || isTypeOnlyExport(node));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.arguments.length >= 1) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isImport || isRequire) {
        add(node, node.arguments[0], false);
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) {
    return false; // import 'x' runs x
  }
  if (clause.isTypeOnly) {
    return true;
  }
  const named = clause.namedBindings;
  return clause.name === undefined && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

function isTypeOnlyExport(node: ts.ExportDeclaration): boolean {
  const clause = node.exportClause;
  return clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
}

/** The file a relative specifier names, if it is one of `files`; packages and unknown files give undefined. */
export function resolveImport(from: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../') && specifier !== '.' && specifier !== '..') {
    return undefined;
  }
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  // ESM-style './x.js' names the source file './x.ts'.
  const stem = /\.[cm]?js$/.test(base) ? base.replace(/\.([cm]?)js$/, '') : undefined;
  const candidates = [
    base,
    ...EXTENSIONS.map((ext) => base + ext),
    ...(stem !== undefined ? EXTENSIONS.map((ext) => stem + ext) : []),
    ...EXTENSIONS.map((ext) => `${base}/index${ext}`),
  ];
  return candidates.find((c) => files.has(c));
}

function isRelative(specifier: string): boolean {
  return specifier === '.' || specifier === '..' || specifier.startsWith('./') || specifier.startsWith('../');
}

/** The import graph of `sources` (repository-relative posix path -> text). */
export function buildGraph(sources: ReadonlyMap<string, string>): ImportGraph {
  const files = [...sources.keys()].sort();
  const known = new Set(files);
  const internal = new Map<string, ImportEdge[]>();
  const external = new Map<string, ImportRef[]>();
  for (const file of files) {
    const edges: ImportEdge[] = [];
    const packages: ImportRef[] = [];
    for (const ref of importsOf(file, sources.get(file) ?? '')) {
      const to = resolveImport(file, ref.specifier, known);
      if (to !== undefined) {
        edges.push({ ...ref, from: file, to });
      } else if (!isRelative(ref.specifier)) {
        packages.push(ref);
      }
    }
    internal.set(file, edges);
    external.set(file, packages);
  }
  return { files, internal, external };
}

/**
 * The cycles of a graph, each as its nodes in order (the last imports the first), rotated to start at
 * its smallest node. Within each strongly connected component (Tarjan) it gives the shortest cycle
 * through every member, without repeats: every node on a cycle appears in at least one, and a large
 * tangle gives at most one cycle per node rather than every one of its many cycles. A node that
 * imports itself is a cycle of one. The result is sorted. Quadratic in the size of a component,
 * which in a source tree is a handful of files.
 */
export function findCycles(nodes: readonly string[], successors: (node: string) => readonly string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const strongConnect = (root: string) => {
    // Iterative, so that a long import chain cannot overflow the call stack.
    const work: Array<{ node: string; children: readonly string[]; i: number }> = [];
    const open = (node: string) => {
      index.set(node, next);
      low.set(node, next);
      next++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, children: successors(node), i: 0 });
    };
    open(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame.i < frame.children.length) {
        const child = frame.children[frame.i++];
        if (!index.has(child)) {
          open(child);
        } else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(child)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component.sort());
      }
    }
  };
  for (const node of [...nodes].sort()) {
    if (!index.has(node)) {
      strongConnect(node);
    }
  }
  const cycles = new Map<string, string[]>();
  for (const component of components) {
    if (component.length === 1) {
      if (successors(component[0]).includes(component[0])) {
        cycles.set(component[0], [component[0]]);
      }
      continue;
    }
    const members = new Set(component);
    for (const start of component) {
      const cycle = rotateToSmallest(shortestCycle(start, members, successors));
      cycles.set(cycle.join('\n'), cycle);
    }
  }
  return [...cycles.keys()].sort().map((key) => cycles.get(key)!);
}

function rotateToSmallest(cycle: string[]): string[] {
  const smallest = cycle.reduce((best, node, i) => (node < cycle[best] ? i : best), 0);
  return [...cycle.slice(smallest), ...cycle.slice(0, smallest)];
}

/** Breadth-first from `start` inside its component back to `start`. */
function shortestCycle(start: string, component: ReadonlySet<string>, successors: (node: string) => readonly string[]): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    const node = queue[q];
    for (const child of [...successors(node)].sort()) {
      if (!component.has(child)) {
        continue;
      }
      if (child === start) {
        const cycle = [node];
        while (cycle[0] !== start) {
          cycle.unshift(parent.get(cycle[0])!);
        }
        return cycle;
      }
      if (!parent.has(child)) {
        parent.set(child, node);
        queue.push(child);
      }
    }
  }
  return [start]; // unreachable for a strongly connected component of two or more
}

/** The unit of `file` in the layer graph of `folder`: its direct child folder, or itself if directly in `folder`. */
export function unitOf(file: string, folder: string): string | undefined {
  const prefix = folder.endsWith('/') ? folder : `${folder}/`;
  if (!file.startsWith(prefix)) {
    return undefined;
  }
  const rest = file.slice(prefix.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? file : prefix + rest.slice(0, slash);
}

function describeEdge(e: ImportEdge): string {
  return `${e.from}:${e.line} imports${e.typeOnly ? ' type' : ''} '${e.specifier}'`;
}

function fileCycles(graph: ImportGraph): Problem[] {
  const successors = (file: string) => [...new Set((graph.internal.get(file) ?? []).map((e) => e.to))];
  return findCycles(graph.files, successors).map((cycle) => {
    const hops = cycle.map((file, i) => {
      const to = cycle[(i + 1) % cycle.length];
      return `  ${describeEdge(graph.internal.get(file)!.find((e) => e.to === to)!)}`;
    });
    return { kind: 'file-cycle', files: cycle, message: `Import cycle between ${cycle.length} file(s): ${[...cycle, cycle[0]].join(' -> ')}\n${hops.join('\n')}` };
  });
}

/** Imports listed per hop of a layer cycle; the rest are counted. */
const MAX_EDGES_SHOWN = 5;

function layerCycles(graph: ImportGraph, folder: string): Problem[] {
  /** unit -> unit -> the imports that make the edge */
  const between = new Map<string, Map<string, ImportEdge[]>>();
  for (const file of graph.files) {
    const from = unitOf(file, folder);
    if (from === undefined) {
      continue;
    }
    for (const e of graph.internal.get(file) ?? []) {
      const to = unitOf(e.to, folder);
      if (to === undefined || to === from) {
        continue;
      }
      const row = between.get(from) ?? new Map<string, ImportEdge[]>();
      between.set(from, row);
      row.set(to, [...(row.get(to) ?? []), e]);
    }
  }
  const units = [...new Set(graph.files.map((f) => unitOf(f, folder)).filter((u): u is string => u !== undefined))];
  return findCycles(units, (u) => [...(between.get(u)?.keys() ?? [])]).map((cycle) => {
    const hops = cycle.map((unit, i) => {
      const to = cycle[(i + 1) % cycle.length];
      const edges = between.get(unit)!.get(to)!;
      const shown = edges.slice(0, MAX_EDGES_SHOWN).map((e) => `\n      ${describeEdge(e)}`).join('');
      const more = edges.length > MAX_EDGES_SHOWN ? `\n      ... and ${edges.length - MAX_EDGES_SHOWN} more` : '';
      return `  ${unit} -> ${to} (${edges.length} import${edges.length === 1 ? '' : 's'}):${shown}${more}`;
    });
    return {
      kind: 'layer-cycle',
      files: cycle,
      message: `Layer cycle in ${folder}: ${[...cycle, cycle[0]].join(' -> ')}\n${hops.join('\n')}\n  Move the shared piece into the lower of these, or into a small module both can import.`,
    };
  });
}

const NODE_BUILTINS = new Set(builtinModules);

function isNodeOrVscode(specifier: string): boolean {
  return specifier === 'vscode' || specifier.startsWith('node:') || NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(specifier.split('/')[0]);
}

function browserImports(graph: ImportGraph, roots: readonly string[]): Problem[] {
  const inRoot = (file: string) => roots.some((r) => file.startsWith(r.endsWith('/') ? r : `${r}/`));
  /** How each reached file was reached (the importing edge), for the report. */
  const via = new Map<string, ImportEdge | undefined>();
  const queue = graph.files.filter(inRoot);
  for (const file of queue) {
    via.set(file, undefined);
  }
  for (let q = 0; q < queue.length; q++) {
    for (const e of graph.internal.get(queue[q]) ?? []) {
      if (!e.typeOnly && !via.has(e.to)) {
        via.set(e.to, e);
        queue.push(e.to);
      }
    }
  }
  const problems: Problem[] = [];
  for (const file of queue) {
    for (const ref of graph.external.get(file) ?? []) {
      if (ref.typeOnly || !isNodeOrVscode(ref.specifier)) {
        continue;
      }
      const chain: ImportEdge[] = [];
      for (let e = via.get(file); e !== undefined; e = via.get(e.from)) {
        chain.unshift(e);
      }
      const files = chain.length > 0 ? [chain[0].from, ...chain.map((e) => e.to)] : [file];
      const lines = [...chain.map(describeEdge), `${file}:${ref.line} imports '${ref.specifier}'`];
      problems.push({
        kind: 'browser-import',
        files,
        message: `The webview bundle reaches '${ref.specifier}', which does not exist in the browser:\n${lines.map((l) => `  ${l}`).join('\n')}`,
      });
    }
  }
  return problems;
}

/** All problems of `sources` (repository-relative posix path -> text). */
export function checkImports(sources: ReadonlyMap<string, string>, options: CheckOptions = {}): Problem[] {
  const { layers, browserRoots } = { ...DEFAULT_OPTIONS, ...options };
  const graph = buildGraph(sources);
  return [...fileCycles(graph), ...layers.flatMap((folder) => layerCycles(graph, folder)), ...browserImports(graph, browserRoots)];
}

const SKIP_DIRS = new Set(['node_modules', 'dist', 'out', '.git', '.vscode-test']);
/** Recorded data and test output, not source (as in the lint ignores). */
const SKIP_PATHS = new Set(['bench/data', 'test/e2e/artifacts', 'test/webview/artifacts']);

/** The TypeScript files under `folders` of `root`, keyed by posix path relative to `root`. */
export function readSources(root: string, folders: readonly string[]): Map<string, string> {
  const sources = new Map<string, string>();
  const walk = (rel: string) => {
    let entries;
    try {
      entries = readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return; // a folder that does not exist has no files
    }
    for (const entry of entries) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name) && !SKIP_PATHS.has(child)) {
          walk(child);
        }
      } else if (entry.isFile() && EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
        sources.set(child, readFileSync(path.join(root, child), 'utf8'));
      }
    }
  };
  for (const folder of folders) {
    walk(folder.split(path.sep).join('/').replace(/\/+$/, ''));
  }
  return sources;
}

export function main(argv: string[], root = process.cwd()): number {
  const t0 = Date.now();
  const folders = argv.length > 0 ? argv : ['src', 'test', 'bench', 'scripts', 'tools'];
  const sources = readSources(root, folders);
  const problems = checkImports(sources);
  for (const p of problems) {
    console.error(`${p.kind}: ${p.message}\n`);
  }
  const took = `${Date.now() - t0} ms`;
  if (problems.length > 0) {
    console.error(`import check: ${problems.length} problem(s) in ${sources.size} files (${took})`);
    return 1;
  }
  console.log(`import check: ${sources.size} files, no import cycles, no layer cycles, no Node or vscode in the webview bundle (${took})`);
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

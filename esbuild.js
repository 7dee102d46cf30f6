// Build script in the shape of the official `yo code` template: one context per bundle,
// a problem-matcher plugin for `npm run watch`, `--production` to minify.
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {import('esbuild').Plugin} */
const esbuildProblemMatcherPlugin = {
  name: 'esbuild-problem-matcher',
  setup(build) {
    build.onStart(() => {
      console.log('[watch] build started');
    });
    build.onEnd((result) => {
      result.errors.forEach(({ text, location }) => {
        console.error(`✘ [ERROR] ${text}`);
        if (location) {
          console.error(`    ${location.file}:${location.line}:${location.column}:`);
        }
      });
      console.log('[watch] build finished');
    });
  },
};

/**
 * The BPE tables (3.7 MB) are their own bundles, required only when the first token is counted,
 * so activation never reads them. tiktoken is the benchmarked alternative and is not shipped.
 */
const ENCODINGS = ['o200k_base', 'cl100k_base'];
/** @type {import('esbuild').Plugin} */
const lazyEncodingsPlugin = {
  name: 'lazy-encodings',
  setup(build) {
    build.onResolve({ filter: /^gpt-tokenizer\/encoding\/\w+$/ }, (args) => ({ path: `./encodings/${args.path.split('/').pop()}.js`, external: true }));
    build.onResolve({ filter: /^tiktoken$/ }, () => ({ path: 'tiktoken', external: true }));
  },
};

/** Files the bundles load at run time from next to themselves. */
function copyRuntimeAssets() {
  fs.mkdirSync('dist', { recursive: true });
  // KaTeX's stylesheet and fonts, served to the webview from dist/ (no CDN).
  const katexDist = path.dirname(require.resolve('katex/dist/katex.min.css'));
  fs.mkdirSync(path.join('dist', 'katex', 'fonts'), { recursive: true });
  fs.copyFileSync(path.join(katexDist, 'katex.min.css'), path.join('dist', 'katex', 'katex.min.css'));
  for (const font of fs.readdirSync(path.join(katexDist, 'fonts'))) {
    if (font.endsWith('.woff2')) {
      fs.copyFileSync(path.join(katexDist, 'fonts', font), path.join('dist', 'katex', 'fonts', font));
    }
  }
}

async function main() {
  if (production) {
    // A release build starts clean: no development source maps or stale files reach the VSIX.
    fs.rmSync('dist', { recursive: true, force: true });
  }
  copyRuntimeAssets();
  const common = {
    bundle: true,
    minify: production,
    sourcemap: !production,
    sourcesContent: false,
    logLevel: 'silent',
    plugins: [esbuildProblemMatcherPlugin],
    // Test-only code (e.g. the panel's render stats on globalThis) is kept in development and test
    // bundles and dropped from the shipped one.
    define: { __TEST_HOOKS__: production ? 'false' : 'true' },
  };
  const contexts = await Promise.all([
    esbuild.context({
      ...common,
      entryPoints: ['src/extension.ts'],
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      outfile: 'dist/extension.js',
      external: ['vscode'],
      plugins: [...common.plugins, lazyEncodingsPlugin],
    }),
    esbuild.context({
      ...common,
      entryPoints: Object.fromEntries(ENCODINGS.map((e) => [e, require.resolve(`gpt-tokenizer/encoding/${e}`)])),
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      outdir: 'dist/encodings',
    }),
    esbuild.context({
      ...common,
      entryPoints: ['src/webview/main.ts'],
      format: 'iife',
      platform: 'browser',
      target: 'chrome120',
      outfile: 'dist/webview.js',
    }),
    // The spend view's page: charts and a table drawn with DOM calls; none of the panel's markdown,
    // KaTeX or sanitizer, so it is a bundle of its own.
    esbuild.context({
      ...common,
      entryPoints: ['src/webview/spendMain.ts'],
      format: 'iife',
      platform: 'browser',
      target: 'chrome120',
      outfile: 'dist/spend.js',
    }),
    // The syntax highlighter, loaded by the panel only when a code block appears (src/webview/highlight.ts),
    // so the panel's first paint never parses it.
    esbuild.context({
      ...common,
      entryPoints: ['src/webview/highlighter.ts'],
      format: 'iife',
      platform: 'browser',
      target: 'chrome120',
      outfile: 'dist/webview-highlight.js',
    }),
    // The extension-host test suite (test/vscode), loaded through extensionTestsPath; not shipped.
    ...(production ? [] : [esbuild.context({
      ...common,
      entryPoints: fs.readdirSync('test/vscode').filter((f) => f.endsWith('.ts')).map((f) => path.join('test/vscode', f)),
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      outdir: 'out/test/vscode',
      external: ['vscode', 'mocha'],
    }), esbuild.context({
      ...common,
      entryPoints: ['bench/streamingHost.ts'],
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      outdir: 'out/bench',
      external: ['vscode'],
    })]),
  ]);
  if (watch) {
    await Promise.all(contexts.map((ctx) => ctx.watch()));
  } else {
    await Promise.all(contexts.map((ctx) => ctx.rebuild()));
    await Promise.all(contexts.map((ctx) => ctx.dispose()));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { build } from 'esbuild';
import { repoRoot } from '../../tools/repoRoot';

/** The bundles as esbuild.js builds them, in memory, with the shipped or the test value of __TEST_HOOKS__. */
async function bundle(entry: string, platform: 'node' | 'browser', testHooks: boolean): Promise<string> {
  const result = await build({
    entryPoints: [path.join(repoRoot, entry)],
    bundle: true,
    write: false,
    minify: !testHooks,
    platform,
    format: platform === 'node' ? 'cjs' : 'iife',
    external: ['vscode', 'tiktoken', 'gpt-tokenizer/encoding/*'],
    define: { __TEST_HOOKS__: String(testHooks) },
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

describe('test-only hooks stay out of the shipped bundles', function () {
  this.timeout(60_000);

  it("the extension API's panel stats and the panel's render stats exist in test builds only", async () => {
    const [extTest, extShipped, webTest, webShipped] = await Promise.all([
      bundle('src/extension.ts', 'node', true),
      bundle('src/extension.ts', 'node', false),
      bundle('src/webview/main.ts', 'browser', true),
      bundle('src/webview/main.ts', 'browser', false),
    ]);
    assert.match(extTest, /lastPanelStats/);
    assert.doesNotMatch(extShipped, /lastPanelStats/);
    assert.match(webTest, /__budgetReasonerPanel/);
    assert.doesNotMatch(webShipped, /__budgetReasonerPanel/);
  });
});

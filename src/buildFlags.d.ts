/**
 * Set by esbuild.js `define`: true in development and test bundles, false in the shipped one, where
 * code behind it (test-only hooks) is dropped.
 */
declare const __TEST_HOOKS__: boolean;

// For developers with internet: runs test/vscode in a downloaded VS Code through @vscode/test-cli.
// CI cannot download VS Code; its proof is the code-server e2e run (test/e2e), which runs the same suite.
import { defineConfig } from '@vscode/test-cli';

export default defineConfig({
  files: 'out/test/vscode/**/*.test.js',
  version: '1.100.3',
  mocha: { ui: 'tdd', timeout: 60000 },
});

// Lint: typescript-eslint's recommended rules, plus the layer rules: src/core depends on nothing above it
// (no VS Code, protocol, host, webview or extension), the webview bundle on neither VS Code, Node nor the
// host, and the host not on the webview. Import cycles (files and layers) are checked by tools/checkImports.ts,
// which `npm run lint` runs after ESLint.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const protocol = ['**/protocol', '**/protocol.ts'];
const host = ['**/host', '**/host/**'];
const webview = ['**/webview', '**/webview/**'];
const extension = ['**/extension', '**/extension.ts'];

const noVscodeInCore = {
  paths: [{ name: 'vscode', message: 'src/core is plain TypeScript: adapt VS Code in src/host instead.' }],
  patterns: [
    { group: protocol, message: 'src/core must not import src/protocol.ts: the panel protocol is built on core, not core on it. Move the shared type into src/core and re-export it from src/protocol.ts.' },
    { group: [...host, ...webview, ...extension], message: 'src/core must not depend on host, webview or extension code: those layers import core, never the reverse.' },
  ],
};

const nodeInBrowser = 'src/webview is a browser bundle: no Node built-ins. Do that work in the host and send the result in a protocol message.';
const webviewLayer = {
  paths: [
    { name: 'vscode', message: 'src/webview runs in the browser, not the extension host: there is no vscode module. Post a protocol message to the host instead.' },
    ...builtinModules.filter((m) => !m.startsWith('_')).map((name) => ({ name, message: nodeInBrowser })),
  ],
  patterns: [
    { group: ['node:*'], message: nodeInBrowser },
    { group: [...host, ...extension], message: 'src/webview must not import host or extension code (it runs in the browser); talk to the host through src/protocol.ts messages.' },
  ],
};

const hostLayer = {
  patterns: [{ group: webview, message: 'src/host must not import src/webview: the webview is a separate browser bundle. Host-only code (such as the panel page) belongs in src/host, code both sides need in src/core, messages in src/protocol.ts.' }],
};

const protocolLayer = {
  paths: [{ name: 'vscode', message: 'src/protocol.ts is shared by the host and the browser bundle: no vscode.' }],
  patterns: [{ group: [...host, ...webview, ...extension], message: 'src/protocol.ts is imported by both the host and the webview, and may import only core.' }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'out/**', '.vscode-test/**', 'test/e2e/artifacts/**', 'test/webview/artifacts/**', 'bench/data/**', '*.vsix'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'smart'],
      curly: 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', noVscodeInCore],
      '@typescript-eslint/no-restricted-imports': 'off',
    },
  },
  {
    files: ['src/webview/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', webviewLayer] },
  },
  {
    files: ['src/host/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', hostLayer] },
  },
  {
    files: ['src/protocol.ts'],
    rules: { 'no-restricted-imports': ['error', protocolLayer] },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', window: 'readonly', document: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

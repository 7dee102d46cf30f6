// Lint: typescript-eslint's recommended rules, plus the layer rule that keeps src/core free of VS Code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscodeInCore = {
  paths: [{ name: 'vscode', message: 'src/core is plain TypeScript: adapt VS Code in src/host instead.' }],
  patterns: [{ group: ['**/host/**', '**/webview/**', '**/extension'], message: 'src/core must not depend on host or webview code.' }],
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
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', window: 'readonly', document: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

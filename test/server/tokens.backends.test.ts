import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { countText, TokenCounter } from '../../src/core/tokens/tokenCounter';
import { chunked, recordedChains } from '../support/recordedText';
import { repoRoot } from '../../tools/repoRoot';


/** A few recorded reasoning chains (real model output: LaTeX, digits, newlines). */
describe('token counting backends', () => {
  it('gives the same counts with both backends, and different counts for the two encodings', () => {
    const text = recordedChains(3).join('\n') + ' Привет, мир! 你好，世界 🙂';
    const a = countText(text, 'gpt-4o', 'tiktoken').tokens;
    assert.equal(countText(text, 'gpt-4o', 'gpt-tokenizer').tokens, a);
    const cl = countText(text, 'gpt-4', 'tiktoken').tokens;
    assert.equal(countText(text, 'gpt-4', 'gpt-tokenizer').tokens, cl);
    assert.notEqual(a, cl, 'gpt-4 (cl100k_base) and gpt-4o (o200k_base) tokenize this text differently');
  });

  it('loads no encoder when the module is imported, and falls back to the other backend when one is not shipped', () => {
    const script = [
      // A build that leaves gpt-tokenizer out of the bundle: its modules cannot be found.
      "const Module = require('module');",
      'const resolve = Module._resolveFilename;',
      "Module._resolveFilename = function (request, ...rest) { if (request.startsWith('gpt-tokenizer')) { const e = new Error('not shipped'); e.code = 'MODULE_NOT_FOUND'; throw e; } return resolve.call(this, request, ...rest); };",
      "const counter = require('./src/core/tokens/tokenCounter');",
      'const loaded = () => Object.keys(require.cache).filter((k) => /[\\\\/]node_modules[\\\\/](gpt-tokenizer|tiktoken)[\\\\/]/.test(k)).length;',
      'const before = loaded();',
      "const tokens = counter.countText('hello world', 'gpt-4o', 'gpt-tokenizer').tokens;",
      'process.stdout.write(JSON.stringify({ before, tokens, tiktokenLoaded: loaded() > 0 }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), { before: 0, tokens: 2, tiktokenLoaded: true });
  });

  it('counts text with tiktoken, special-token strings as plain text', () => {
    const counter = new TokenCounter('tiktoken');
    assert.equal(counter.countText('hello world', 'gpt-4o').tokens, 2);
    assert.ok(counter.countText('before <|endoftext|> after', 'gpt-4o').tokens > 3);
  });

  it('keeps the running count equal to the exact count of the text so far with tiktoken', () => {
    const counter = new TokenCounter('tiktoken');
    recordedChains(2).forEach((chain, k) => {
      const stream = counter.streaming('gpt-4o');
      let soFar = '';
      for (const delta of chunked(chain, k + 11)) {
        soFar += delta;
        assert.equal(stream.append(delta), counter.countText(soFar, 'gpt-4o').tokens);
      }
      assert.equal(stream.finish().drift, 0);
    });
  });
});

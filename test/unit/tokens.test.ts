import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  countChatPrompt, countText, encodingForModel, loadEncoder, REPLY_PRIMING_TOKENS, StreamingTokenCounter, TokenCounter,
  TOKENS_PER_MESSAGE, type TokenizerBackendName,
} from '../../src/core/tokens/tokenCounter';
import { chunked, recordedChains } from '../support/recordedText';

// tiktoken-specific and cross-backend checks live in tokens.backends.test.ts.
const backends: TokenizerBackendName[] = ['gpt-tokenizer'];

describe('token counting', () => {
  it('maps models to their encodings and flags unknown models as estimated', () => {
    const o200k = ['gpt-4o', 'gpt-4o-2024-08-06', 'gpt-4o-mini', 'gpt-4.1-nano', 'gpt-5', 'gpt-5-mini', 'o1', 'o3-mini', 'o4-mini', 'chatgpt-4o-latest', 'openai/gpt-4.1'];
    for (const m of o200k) {
      assert.deepEqual(encodingForModel(m), { encoding: 'o200k_base', estimated: false }, m);
    }
    for (const m of ['gpt-4', 'gpt-4-turbo', 'gpt-4-0613', 'gpt-3.5-turbo', 'ft:gpt-3.5-turbo:acme::abc']) {
      assert.deepEqual(encodingForModel(m), { encoding: 'cl100k_base', estimated: false }, m);
    }
    for (const m of ['llama3.1:8b', 'qwen2.5-math-7b', 'mistral-small']) {
      assert.deepEqual(encodingForModel(m), { encoding: 'o200k_base', estimated: true }, m);
    }
  });

  for (const backend of backends) {
    it(`counts text with ${backend}, special-token strings as plain text`, () => {
      const counter = new TokenCounter(backend);
      assert.equal(counter.countText('hello world', 'gpt-4o').tokens, 2);
      assert.equal(counter.countText('', 'gpt-4o').tokens, 0);
      const withSpecial = counter.countText('before <|endoftext|> after', 'gpt-4o');
      assert.ok(withSpecial.tokens > 3, 'the special-token string is split into ordinary tokens');
      assert.equal(counter.countText('hi', 'some-local-model').estimated, true);
    });
  }

  it('counts a chat prompt with 3 tokens per message, 3 for reply priming and 1 per name', () => {
    const messages = [
      { role: 'system' as const, content: 'Please reason step by step, and put your final answer within \\boxed{}.' },
      { role: 'user' as const, content: 'What is 2 + 2?' },
    ];
    const text = (s: string) => countText(s, 'gpt-4o').tokens;
    const expected = REPLY_PRIMING_TOKENS + messages.reduce((n, m) => n + TOKENS_PER_MESSAGE + text(m.role) + text(m.content), 0);
    assert.equal(countChatPrompt(messages, 'gpt-4o').tokens, expected);
    const named = [{ ...messages[1], name: 'alice' }];
    assert.equal(countChatPrompt(named, 'gpt-4o').tokens, countChatPrompt([messages[1]], 'gpt-4o').tokens + 1 + text('alice'));
    assert.equal(countChatPrompt([], 'gpt-4o').tokens, 3);
  });

  it('caches one encoder per backend and encoding', () => {
    assert.equal(loadEncoder('gpt-tokenizer', 'o200k_base'), loadEncoder('gpt-tokenizer', 'o200k_base'));
    assert.notEqual(loadEncoder('gpt-tokenizer', 'o200k_base'), loadEncoder('gpt-tokenizer', 'cl100k_base'));
  });
});

describe('streaming token counter', () => {
  for (const backend of backends) {
    it(`keeps the running count equal to the exact count of the text so far (${backend}, recorded chains)`, () => {
      const counter = new TokenCounter(backend);
      recordedChains(4).forEach((chain, k) => {
        const stream = counter.streaming('gpt-4o');
        let soFar = '';
        for (const delta of chunked(chain, k + 1)) {
          soFar += delta;
          assert.equal(stream.append(delta), counter.countText(soFar, 'gpt-4o').tokens);
        }
        const result = stream.finish();
        assert.equal(result.exactTokens, counter.countText(chain, 'gpt-4o').tokens);
        assert.equal(result.drift, 0);
        assert.equal(stream.text, chain);
      });
    });
  }

  it('keeps the running count exact for arbitrary text and chunking (property)', () => {
    const counter = new TokenCounter('gpt-tokenizer');
    // Characters around which the pre-tokenizer's rules differ: letters, digits, spaces, newlines, '/', apostrophes.
    const alphabet = fc.constantFrom('a', 'B', 'é', 'z', '1', '9', ' ', ' ', '\n', '\r', '\t', '/', "'", 's', '.', '$', '\\', '{', '日', '🙂', '-');
    fc.assert(fc.property(
      fc.array(fc.array(alphabet, { maxLength: 12 }).map((cs) => cs.join('')), { maxLength: 30 }),
      fc.constantFrom('gpt-4o', 'gpt-4'),
      (deltas, model) => {
        const stream = counter.streaming(model);
        let soFar = '';
        for (const d of deltas) {
          soFar += d;
          assert.equal(stream.append(d), counter.countText(soFar, model).tokens, JSON.stringify(soFar));
        }
        assert.equal(stream.finish().exactTokens, counter.countText(soFar, model).tokens);
      },
    ), { numRuns: Number(process.env.FC_RUNS ?? 300) });
  });

  it('bounds the re-encoded tail of text without boundaries, and still finishes exact', () => {
    const counter = new TokenCounter('gpt-tokenizer');
    const stream = counter.streaming('gpt-4o');
    const text = 'x^2+3x-5=0,'.repeat(300);
    for (const d of chunked(text, 7)) {
      stream.append(d);
    }
    assert.ok(stream.approximateCommits > 0);
    assert.equal(stream.finish().exactTokens, counter.countText(text, 'gpt-4o').tokens);
  });

  it('truncates text to the longest prefix within a token count', () => {
    const counter = new TokenCounter('gpt-tokenizer');
    const chain = recordedChains(1)[0];
    for (const max of [0, 1, 7, 50]) {
      const cut = counter.truncateToTokens(chain, max, 'gpt-4o');
      assert.ok(chain.startsWith(cut));
      assert.ok(counter.countText(cut, 'gpt-4o').tokens <= max);
      assert.ok(counter.countText(chain.slice(0, cut.length + 1), 'gpt-4o').tokens > max);
    }
    assert.equal(counter.truncateToTokens('short', 10, 'gpt-4o'), 'short');
    assert.equal(new StreamingTokenCounter(loadEncoder('gpt-tokenizer', 'o200k_base'), { encoding: 'o200k_base', estimated: false }).finish().exactTokens, 0);
  });
});

import * as assert from 'node:assert/strict';
import { canonicalModelId, costOf, describePrice, isFreeEndpoint, LIST_PRICES, priceLookup, priceOf, tierPriceLookup } from '../../src/core/tokens/prices';

describe('price table', () => {
  it('has a dated, sourced row for every current OpenAI chat model, with sane rates', () => {
    const models = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'o1', 'o3', 'o3-mini', 'o4-mini', 'gpt-5', 'gpt-5-mini', 'gpt-5-nano'];
    assert.deepEqual(Object.keys(LIST_PRICES).sort(), [...models].sort());
    for (const [model, p] of Object.entries(LIST_PRICES)) {
      assert.match(p.asOf, /^\d{4}-\d{2}-\d{2}$/, model);
      assert.ok(['https://openai.com/api/pricing/', 'https://platform.openai.com/docs/pricing'].includes(p.source), model);
      assert.ok(p.cachedInput <= p.input && p.input <= p.output && p.cachedInput > 0, model);
    }
  });

  it('strips dated snapshot suffixes and provider prefixes, but never confuses a family with its mini', () => {
    assert.equal(canonicalModelId('gpt-4o-2024-08-06'), 'gpt-4o');
    assert.equal(canonicalModelId('openai/GPT-4o-mini'), 'gpt-4o-mini');
    assert.deepEqual(priceOf('gpt-4o-2024-08-06'), { ...pick(LIST_PRICES['gpt-4o']), matched: 'gpt-4o', source: 'list', asOf: LIST_PRICES['gpt-4o'].asOf, url: LIST_PRICES['gpt-4o'].source });
    assert.equal(priceOf('gpt-4o-mini-2024-07-18')?.input, 0.15);
    assert.equal(priceOf('gpt-5-nano-2025-08-07')?.output, 0.4);
    assert.equal(priceOf('o3-mini')?.matched, 'o3-mini');
  });

  it('returns undefined for an unknown model, and costOf turns that into null dollars, never 0', () => {
    assert.equal(priceOf('llama3.1:8b'), undefined);
    assert.equal(priceOf('gpt-4o-super-2031'), undefined);
    assert.equal(costOf({ promptTokens: 100, cachedPromptTokens: 0, completionTokens: 100 }, undefined), null);
    assert.match(describePrice(undefined), /unknown/);
  });

  it('applies user overrides by exact model id first, and the input rate when no cached rate is given', () => {
    const overrides = { 'my-model': { input: 0.5, cachedInput: 0.25, output: 1.5 }, 'gpt-4o': { input: 1, output: 2 } };
    assert.deepEqual(priceOf('my-model', { overrides }), { input: 0.5, cachedInput: 0.25, output: 1.5, matched: 'my-model', source: 'override' });
    assert.deepEqual(priceOf('gpt-4o-2024-11-20', { overrides }), { input: 1, cachedInput: 1, output: 2, matched: 'gpt-4o', source: 'override' });
    assert.equal(priceOf('gpt-4o-mini', { overrides })?.source, 'list');
    assert.match(describePrice(priceOf('my-model', { overrides })), /your price/);
  });

  it('prices models on local endpoints at exactly $0 unless the user priced that model', () => {
    for (const baseUrl of ['http://localhost:11434/v1', 'http://127.0.0.1:1234/v1', 'http://[::1]:8000/v1', 'http://ollama:11434/v1', 'http://192.168.1.20:8000/v1']) {
      assert.ok(isFreeEndpoint(baseUrl), baseUrl);
      const p = priceOf('gpt-4o', { baseUrl, overrides: { 'my-local-model': { input: 1, output: 1 } } });
      assert.equal(p?.source, 'local');
      assert.equal(costOf({ promptTokens: 1e6, cachedPromptTokens: 0, completionTokens: 1e6 }, p), 0);
      const priced = priceOf('my-local-model', { baseUrl, overrides: { 'my-local-model': { input: 1, output: 3 } } });
      assert.equal(priced?.source, 'override');
      assert.equal(costOf({ promptTokens: 1e6, cachedPromptTokens: 0, completionTokens: 1e6 }, priced), 4);
    }
    for (const baseUrl of ['https://api.openai.com/v1', 'https://openrouter.ai/api/v1', 'not a url']) {
      assert.equal(isFreeEndpoint(baseUrl), false, baseUrl);
    }
    assert.equal(priceLookup({ baseUrl: 'https://api.openai.com/v1' })('gpt-4o')?.source, 'list');
  });

  it('bills uncached prompt at the input rate, cached prompt at the cached rate, completion (reasoning included) at the output rate', () => {
    const gpt4o = priceOf('gpt-4o');
    // 600 uncached x $2.50 + 400 cached x $1.25 + 500 out x $10, per 1M.
    assert.equal(costOf({ promptTokens: 1000, cachedPromptTokens: 400, completionTokens: 500 }, gpt4o), (600 * 2.5 + 400 * 1.25 + 500 * 10) / 1e6);
    assert.equal(costOf({ promptTokens: 1_000_000, cachedPromptTokens: 0, completionTokens: 0 }, gpt4o), 2.5);
    assert.equal(costOf({ promptTokens: 0, cachedPromptTokens: 0, completionTokens: 1_000_000 }, priceOf('o3')), 8);
    // A provider reporting more cached than prompt tokens is clamped, never a negative uncached count.
    assert.equal(costOf({ promptTokens: 10, cachedPromptTokens: 50, completionTokens: 0 }, gpt4o), (10 * 1.25) / 1e6);
  });
});

function pick(p: { input: number; cachedInput: number; output: number }) {
  return { input: p.input, cachedInput: p.cachedInput, output: p.output };
}

describe('cascade model prices', () => {
  it("use the tier's own price, else the user's overrides and the table, on the tier's endpoint", () => {
    const overrides = { 'gpt-4o-mini': { input: 1, output: 2 } };
    const own = tierPriceLookup({ model: 'gpt-4.1', baseUrl: 'https://api.openai.com/v1', price: { input: 3, output: 9 } }, overrides);
    assert.deepEqual(pick(own('gpt-4.1')!), { input: 3, cachedInput: 3, output: 9 });
    const overridden = tierPriceLookup({ model: 'gpt-4o-mini', baseUrl: 'https://api.openai.com/v1' }, overrides);
    assert.equal(overridden('gpt-4o-mini')!.source, 'override');
    const listed = tierPriceLookup({ model: 'gpt-4.1', baseUrl: 'https://api.openai.com/v1' }, overrides);
    assert.equal(listed('gpt-4.1')!.source, 'list');
    const local = tierPriceLookup({ model: 'qwen2.5:7b', baseUrl: 'http://localhost:11434/v1' }, overrides);
    assert.equal(local('qwen2.5:7b')!.source, 'local');
    assert.equal(tierPriceLookup({ model: 'mystery', baseUrl: 'https://example.com/v1' }, overrides)('mystery'), undefined);
  });
});

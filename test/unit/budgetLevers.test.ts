import * as assert from 'node:assert/strict';
import { budgetLevers, leverFamily, reasoningEffortFor } from '../../src/core/providers/budgetLevers';
import { toCompletionParams } from '../../src/core/providers/openaiProvider';

describe('budget levers per model family', () => {
  it('tells the family from the model id and the endpoint, and lets a setting name it', () => {
    assert.equal(leverFamily('o4-mini', 'https://api.openai.com/v1'), 'openai-reasoning');
    assert.equal(leverFamily('gpt-5-mini', 'https://api.openai.com/v1'), 'openai-reasoning');
    assert.equal(leverFamily('deepseek/deepseek-r1', 'https://openrouter.ai/api/v1'), 'openrouter');
    assert.equal(leverFamily('openai/o3', 'https://openrouter.ai/api/v1'), 'openrouter', 'OpenRouter takes its own thinking budget, whatever the model');
    assert.equal(leverFamily('qwen3:8b', 'http://localhost:11434/v1'), 'client-thinking');
    assert.equal(leverFamily('gpt-4o-mini', 'https://api.openai.com/v1'), 'client-thinking');
    assert.equal(leverFamily('qwen3:8b', 'http://proxy.local/v1', 'openrouter'), 'openrouter');
    assert.equal(leverFamily('x', 'not a url'), 'client-thinking');
  });

  it('chooses reasoning effort from the chain budget', () => {
    assert.equal(reasoningEffortFor(300), 'low');
    assert.equal(reasoningEffortFor(1024), 'low');
    assert.equal(reasoningEffortFor(1025), 'medium');
    assert.equal(reasoningEffortFor(4096), 'medium');
    assert.equal(reasoningEffortFor(8000), 'high');
  });

  it('says in the header what bounds the thinking', () => {
    assert.deepEqual(budgetLevers('openai-reasoning', 600, 0.8), { family: 'openai-reasoning', reasoningEffort: 'low', text: 'max_completion_tokens + reasoning_effort low' });
    assert.equal(budgetLevers('openrouter', 600, 0.8).text, 'max_tokens + reasoning.max_tokens (80% of it)');
    assert.equal(budgetLevers('client-thinking', 600, 0.8).text, 'max_tokens; thinking cut at 80% of it, answer forced');
  });

  it('maps a request to each family\'s parameters', () => {
    const ask = { model: 'm', messages: [{ role: 'user' as const, content: 'q' }], maxTokens: 1000, thinkingTokens: 800, reasoningEffort: 'low' as const, temperature: 0.7 };
    const openai = toCompletionParams({ ...ask, model: 'o4-mini' }, 'openai-reasoning');
    assert.equal(openai.max_completion_tokens, 1000);
    assert.equal(openai.reasoning_effort, 'low');
    assert.equal(openai.max_tokens, undefined);
    assert.equal(openai.reasoning, undefined);
    const router = toCompletionParams(ask, 'openrouter');
    assert.equal(router.max_tokens, 1000);
    assert.deepEqual(router.reasoning, { max_tokens: 800 });
    assert.equal(router.reasoning_effort, undefined);
    const local = toCompletionParams(ask, 'client-thinking');
    assert.equal(local.max_tokens, 1000);
    assert.equal(local.reasoning, undefined, 'a local endpoint gets no thinking field: the client cuts the stream itself');
    assert.equal(local.reasoning_effort, undefined);
  });
});

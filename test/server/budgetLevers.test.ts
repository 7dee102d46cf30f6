import * as assert from 'node:assert/strict';
import { MemorySpendLedger } from '../../src/core/ledger/spendLedger';
import { ReasoningRun } from '../../src/core/reasoning/reasoningRun';
import { SingleChainStrategy } from '../../src/core/reasoning/strategies';
import { meteredCallers } from '../../src/core/run/callers';
import { OpenAICompatibleProvider } from '../../src/core/providers/openaiProvider';
import { priceLookup } from '../../src/core/tokens/prices';
import { readTraceQuestion } from '../../tools/recordedData';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { sharedTokenCounter } from '../support/faultTable';

const question = readTraceQuestion(67);

/** One single-chain run of `model` with the given lever setting; the request the server received. */
async function chainRequest(server: ModelServer, model: string, levers: 'auto' | 'openrouter', chainTokens: number) {
  server.reset();
  const provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0, levers });
  const caller = meteredCallers({ runId: `levers-${model}-${levers}`, ledger: new MemorySpendLedger(), tokens: sharedTokenCounter })(
    { id: model, provider, prices: priceLookup({ overrides: { [model]: { input: 1, cachedInput: 1, output: 1 } } }) }, {});
  const run = new ReasoningRun(caller, { question: question.text, strategy: new SingleChainStrategy(), budget: { chainTokens, source: 'fixed' } });
  const outcome = await run.start();
  assert.notEqual(outcome.reason, 'error', outcome.message);
  return server.requests.find((r) => r.path.endsWith('/chat/completions'))!.body;
}

describe('budget levers reach the endpoint (real openai client, loopback server)', function () {
  this.timeout(20_000);
  let server: ModelServer;
  before(async () => {
    server = await startModelServer();
  });
  after(() => server.close());

  it('an OpenAI reasoning model gets max_completion_tokens and the effort its chain budget calls for', async () => {
    const small = await chainRequest(server, 'o4-mini-replay', 'auto', 400);
    assert.equal(small.reasoning_effort, 'low');
    assert.ok(small.max_completion_tokens > 0 && small.max_tokens === undefined, JSON.stringify(small));
    const large = await chainRequest(server, 'o4-mini-replay', 'auto', 3000);
    assert.equal(large.reasoning_effort, 'medium');
  });

  it('OpenRouter gets reasoning.max_tokens at the thinking share of max_tokens; a local endpoint gets neither', async () => {
    const router = await chainRequest(server, 'qwen2.5-math-replay', 'openrouter', 400);
    assert.equal(router.reasoning.max_tokens, Math.floor(router.max_tokens * 0.8), JSON.stringify(router));
    assert.equal(router.reasoning_effort, undefined);
    const local = await chainRequest(server, 'qwen2.5-math-replay', 'auto', 400);
    assert.equal(local.reasoning, undefined);
    assert.equal(local.reasoning_effort, undefined);
    assert.ok(local.max_tokens > 0);
  });
});

import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatTracedCall, type TracedCall } from '../../src/core/budget/requestTrace';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import { OpenAICompatibleProvider, stripKeys } from '../../src/core/providers/openaiProvider';
import { meteredCallers } from '../../src/core/run/callers';
import { priceLookup } from '../../src/core/tokens/prices';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { REPLAY_MODEL, sharedTokenCounter } from '../support/faultTable';

describe('the request trace (logRequests)', function () {
  this.timeout(20_000);
  const KEY = 'sk-test-0123456789abcdefghij';
  let server: ModelServer;
  let dir: string;
  before(async () => {
    server = await startModelServer({ apiKey: KEY });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'br-trace-'));
  });
  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('records each call: its messages, the parameters as sent, how it ended and the usage billed, never the key', async () => {
    const traced: TracedCall[] = [];
    const provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: KEY, maxRetries: 0 });
    const caller = meteredCallers({ runId: 'trace', ledger: new FileSpendLedger(path.join(dir, 'l.jsonl'), { durable: false }), tokens: sharedTokenCounter, trace: (c) => traced.push(c) })(
      { id: REPLAY_MODEL, provider, prices: priceLookup({}) }, { requestTokens: 5000 });
    server.script({ content: 'The answer is \\boxed{4}.' });
    await caller.call({ messages: [{ role: 'user', content: `What is 2+2? My key is ${KEY}` }], maxTokens: 200, thinkingTokens: 150 }, 'attempt', new AbortController().signal);
    assert.equal(traced.length, 1);
    const [call] = traced;
    assert.equal(call.params.max_tokens, server.requests[0].body.max_tokens, 'max_tokens as granted and sent');
    assert.equal(call.params.thinking_budget, 150);
    assert.equal(call.usage.completionTokens, server.responses[0].usage!.completion_tokens);
    assert.equal(call.usage.estimated, false);
    assert.equal(call.outcome, 'done');
    const line = stripKeys(formatTracedCall(call)); // what the logger writes
    assert.match(line, /^attempt → qwen2\.5-math-replay at openai:http:\/\/127\.0\.0\.1:\d+\/v1: max_tokens=\d+ thinking_budget=150; done \[stop\]/);
    assert.match(line, /user: "What is 2\+2\? My key is sk-…"/);
    assert.ok(!line.includes(KEY), 'the key is never written');
  });
});

import * as assert from 'node:assert/strict';
import type { ChatStreamEvent } from '../../src/core/providers/chatProvider';
import { ProviderError } from '../../src/core/providers/chatProvider';
import { isReasoningModel, OpenAICompatibleProvider, stripKeys, toCompletionParams } from '../../src/core/providers/openaiProvider';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { freePort } from '../../tools/freePort';

import { readTraceQuestion } from '../../tools/recordedData';

const QUESTION = readTraceQuestion(67).text;

async function collect(stream: AsyncIterable<ChatStreamEvent>): Promise<{ text: string[]; done?: Extract<ChatStreamEvent, { kind: 'done' }>; deltas: number }> {
  const text: string[] = [];
  let done: Extract<ChatStreamEvent, { kind: 'done' }> | undefined;
  let deltas = 0;
  for await (const e of stream) {
    if (e.kind === 'delta') {
      deltas++;
      text[e.choice] = (text[e.choice] ?? '') + e.text;
    } else if (e.kind === 'done') {
      done = e;
    }
  }
  return { text, done, deltas };
}

async function failure(stream: AsyncIterable<ChatStreamEvent>): Promise<ProviderError> {
  try {
    await collect(stream);
  } catch (e) {
    assert.ok(e instanceof ProviderError, `expected a ProviderError, got ${e}`);
    return e;
  }
  assert.fail('the stream did not fail');
}

describe('OpenAI-compatible provider against the loopback server (real openai SDK)', function () {
  this.timeout(20_000);
  let server: ModelServer;
  let provider: OpenAICompatibleProvider;
  const signal = () => new AbortController().signal;
  const ask = (extra: Partial<Parameters<OpenAICompatibleProvider['stream']>[0]> = {}) => ({
    model: 'qwen2.5-math-replay', maxTokens: 2000, messages: [{ role: 'user' as const, content: QUESTION }], ...extra,
  });

  before(async () => {
    server = await startModelServer();
    provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 });
  });
  beforeEach(() => server.reset());
  after(() => server.close());

  it('streams a recorded chain and returns the server usage', async () => {
    const { text, done, deltas } = await collect(provider.stream(ask(), signal()));
    assert.ok(deltas > 3, 'several deltas');
    assert.match(text[0], /\\boxed\{8\}/);
    const sent = server.responses[0];
    assert.equal(text[0], sent.choices[0].text);
    assert.deepEqual(done?.finishReasons, ['stop']);
    assert.equal(done?.usage?.completionTokens, sent.usage?.completion_tokens);
    assert.equal(done?.usage?.promptTokens, sent.usage?.prompt_tokens);
    assert.equal(done?.usage?.estimated, false);
    assert.equal(server.requests[0].body.stream_options.include_usage, true);
    assert.equal(server.requests[0].body.max_tokens, 2000);
  });

  it('truncates at max_tokens with finish reason length', async () => {
    const { done } = await collect(provider.stream(ask({ maxTokens: 20 }), signal()));
    assert.deepEqual(done?.finishReasons, ['length']);
    assert.equal(done?.usage?.completionTokens, 20);
  });

  it('samples n chains in one call', async () => {
    const { text, done } = await collect(provider.stream(ask({ n: 3 }), signal()));
    assert.equal(text.length, 3);
    assert.equal(done?.finishReasons.length, 3);
  });

  it('maps reasoning models to max_completion_tokens and accounts hidden reasoning tokens', async () => {
    assert.ok(isReasoningModel('o4-mini') && isReasoningModel('gpt-5-mini') && isReasoningModel('openai/o3'));
    assert.ok(!isReasoningModel('gpt-4o-mini') && !isReasoningModel('omni-moderation'));
    const params = toCompletionParams({ ...ask(), model: 'o4-mini', reasoningEffort: 'low', temperature: 0.7 });
    assert.equal(params.max_completion_tokens, 2000);
    assert.equal(params.max_tokens, undefined);
    assert.equal(params.reasoning_effort, 'low');
    assert.equal(params.temperature, undefined, 'reasoning models take no temperature');
    assert.equal(toCompletionParams({ ...ask(), reasoningEffort: 'low' }).reasoning_effort, undefined, 'reasoning_effort only to reasoning models');
    const { done } = await collect(provider.stream({ ...ask(), model: 'o4-mini-replay', reasoningEffort: 'low' }, signal()));
    assert.ok((done?.usage?.reasoningTokens ?? 0) > 0);
    assert.ok(done!.usage!.completionTokens > done!.usage!.reasoningTokens);
  });

  const statusCases: [number, ProviderError['kind'], RegExp][] = [
    [401, 'auth', /Set API Key/],
    [403, 'forbidden', /access/],
    [404, 'model-not-found', /Select Model/],
    [500, 'server', /server error \(500\)/],
    [503, 'server', /503/],
  ];
  for (const [status, kind, message] of statusCases) {
    it(`maps HTTP ${status} to "${kind}" with a message that says what to do`, async () => {
      server.script({ status });
      const e = await failure(provider.stream(ask(), signal()));
      assert.equal(e.kind, kind);
      assert.equal(e.status, status);
      assert.match(e.message, message);
    });
  }

  it('honours Retry-After on 429: retries, then reports the wait', async () => {
    const retrying = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 1 });
    server.script({ status: 429, retryAfter: 1, times: 2 });
    const t0 = Date.now();
    const e = await failure(retrying.stream(ask(), signal()));
    assert.equal(e.kind, 'rate-limited');
    assert.equal(e.retryAfterMs, 1000);
    assert.match(e.message, /Try again in 1 s/);
    assert.equal(server.requests.length, 2, 'one retry after the Retry-After wait');
    assert.ok(Date.now() - t0 >= 900, 'the retry waited for Retry-After');
  });

  it('recovers when a 429 clears within the retries', async () => {
    const retrying = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 2 });
    server.script({ status: 429, retryAfter: 0 });
    const { done } = await collect(retrying.stream(ask(), signal()));
    assert.deepEqual(done?.finishReasons, ['stop']);
  });

  it('reports a context-length error from the endpoint', async () => {
    const e = await failure(provider.stream(ask({ maxTokens: 10_000_000 }), signal()));
    assert.equal(e.kind, 'context-length');
    assert.match(e.message, /too long/);
  });

  it('reports a refused connection as a network error naming the URL', async () => {
    const port = await freePort();
    const dead = new OpenAICompatibleProvider({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: undefined, maxRetries: 0 });
    const e = await failure(dead.stream(ask(), signal()));
    assert.equal(e.kind, 'network');
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  it('times out when the first byte never comes', async () => {
    const slow = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0, timeoutMs: 300 });
    server.script({ firstByteDelayMs: 3000 });
    const e = await failure(slow.stream(ask(), signal()));
    assert.equal(e.kind, 'timeout');
  });

  it('fails a stream that disconnects midway, after delivering the first deltas', async () => {
    server.script({ disconnectAfterTokens: 30 });
    let received = '';
    try {
      for await (const ev of provider.stream(ask(), signal())) {
        if (ev.kind === 'delta') {
          received += ev.text;
        }
      }
      assert.fail('the stream should fail');
    } catch (e) {
      assert.ok(e instanceof ProviderError);
      assert.ok(['network', 'protocol'].includes(e.kind), e.kind);
    }
    assert.ok(received.length > 0, 'partial text arrived before the disconnect');
  });

  it('fails on a malformed SSE chunk with a protocol error', async () => {
    server.script({ malformedChunk: 10 });
    const e = await failure(provider.stream(ask(), signal()));
    assert.equal(e.kind, 'protocol');
  });

  it('says when the endpoint sent no usage (the caller then counts)', async () => {
    server.script({ noUsage: true });
    const { done } = await collect(provider.stream(ask(), signal()));
    assert.equal(done?.usage, undefined);
  });

  it('stops the HTTP stream at once on abort', async () => {
    server.setTokensPerSecond(200);
    const ac = new AbortController();
    let n = 0;
    const e = await (async () => {
      try {
        for await (const ev of provider.stream(ask(), ac.signal)) {
          if (ev.kind === 'delta' && ++n === 3) {
            ac.abort();
          }
        }
      } catch (err) {
        return err as ProviderError;
      }
      assert.fail('abort should end the stream');
    })();
    assert.equal(e.kind, 'aborted');
    // The server logs a response when its socket closes.
    for (let i = 0; i < 100 && !server.responses.at(-1)?.choices.length; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(server.responses.at(-1)!.choices[0].text.length < 400, 'the server stopped sending soon after the abort');
  });

  it('sends the key only as a bearer token to its own base URL', async () => {
    const keyed = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: 'sk-test-1234567890', maxRetries: 0 });
    await collect(keyed.stream(ask(), signal()));
    assert.equal(server.requests[0].authorization, 'Bearer sk-test-1234567890');
    assert.ok(!JSON.stringify(server.requests[0]).includes('sk-test'), 'the request log never shows the key');
  });

  it('lists the endpoint models', async () => {
    const models = await provider.listModels(signal());
    assert.ok(models.includes('qwen2.5-math-replay'));
  });

  it('never echoes a key in error text', () => {
    assert.equal(stripKeys('Incorrect API key provided: sk-proj-abcdef123456.'), 'Incorrect API key provided: sk-….');
    assert.equal(stripKeys('Authorization: Bearer abc.def'), 'Authorization: Bearer …');
  });
});

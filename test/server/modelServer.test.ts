import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { decode, encode } from 'gpt-tokenizer/cjs/encoding/o200k_base';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { defaultTraceDataDir } from '../../tools/recordedData';

// The loopback server driven through the real openai SDK. Expected values come from the data files
// and an independent o200k tokenizer (gpt-tokenizer; the server uses tiktoken).
const dataDir = defaultTraceDataDir;
const readLines = (file: string) => fs.readFileSync(path.join(dataDir, file), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const math: Array<{ idx: number; question: string; code: string[]; score: boolean[]; pred_score: number[][]; gt: string }> = readLines('qwen25-math-cot/math_cot_100.jsonl');
const boxedGold = (row: (typeof math)[number]) => `\\boxed{${row.gt}}`;
const gsm8k: Array<{ question: string }> = readLines('gsm8k/test.jsonl');
const gsm8kSolutions: Array<Record<string, { solution: string }>> = readLines('gsm8k/example_model_solutions.jsonl');

// A question whose chains disagree in correctness and whose first chain boxes the gold answer verbatim.
const q = math.find((row) => row.score[0] && row.score.includes(false) && row.code[0].includes(boxedGold(row)))!;
const talePrompt = (question: string, budget: number) => `Let's think step by step and use less than ${budget} tokens:\n${question}`;
const countPrompt = (messages: Array<{ role: string; content: string }>) => 3 + messages.reduce((sum, m) => sum + 3 + encode(m.role).length + encode(m.content).length, 0);

async function collect(stream: AsyncIterable<ChatCompletionChunk>) {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
  }
  const text = (index: number) => chunks.map((c) => c.choices.find((ch) => ch.index === index)?.delta.content ?? '').join('');
  return { chunks, text, usage: chunks.find((c) => c.usage)?.usage ?? undefined };
}

describe('loopback model server (real openai SDK over HTTP)', function () {
  let server: ModelServer;
  let client: OpenAI;
  const streaming = (body: Omit<ChatCompletionCreateParamsStreaming, 'stream' | 'model'> & { model?: string }) =>
    client.chat.completions.create({ model: 'qwen2.5-math-replay', stream: true, stream_options: { include_usage: true }, ...body });
  const ask = (content: string): ChatCompletionMessageParam[] => [{ role: 'user', content }];

  before(async function () {
    server = await startModelServer();
    client = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
  });
  after(async () => server.close());
  beforeEach(() => server.reset());

  it('streams a recorded chain as OpenAI does, with a final usage chunk counting what was sent', async function () {
    const messages = [{ role: 'system', content: 'Please reason step by step.' }, { role: 'user', content: talePrompt(q.question, 500) }];
    const { chunks, text, usage } = await collect(await streaming({ messages: messages as ChatCompletionMessageParam[] }));
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    assert.equal(text(0), q.code[0]);
    assert.ok(chunks.length > 10, 'content arrives in many small chunks');
    assert.equal(chunks.at(-2)?.choices[0].finish_reason, 'stop');
    assert.deepEqual(chunks.at(-1)?.choices, []);
    assert.ok(usage);
    assert.equal(usage.completion_tokens, encode(text(0)).length);
    assert.equal(usage.prompt_tokens, countPrompt(messages));
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
    assert.deepEqual(usage.completion_tokens_details, { reasoning_tokens: 0 });
    assert.deepEqual(usage.prompt_tokens_details, { cached_tokens: 0 });
    assert.deepEqual(server.responses[0].usage, usage);
  });

  it('answers without streaming as a chat.completion', async function () {
    const completion = await client.chat.completions.create({ model: 'qwen2.5-math-replay', messages: ask(q.question) });
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices[0].message.content, q.code[0]);
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assert.equal(completion.usage?.completion_tokens, encode(q.code[0]).length);
  });

  for (const param of ['max_tokens', 'max_completion_tokens'] as const) {
    it(`truncates at exactly ${param} tokens with finish_reason length`, async function () {
      const { chunks, text, usage } = await collect(await streaming({ messages: ask(q.question), [param]: 37 }));
      assert.equal(usage?.completion_tokens, 37);
      assert.equal(text(0), decode(encode(q.code[0]).slice(0, 37)));
      assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'length');
    });
  }

  it('n=3 draws three different recorded chains, each streamed under its index', async function () {
    const { text, usage } = await collect(await streaming({ messages: ask(q.question), n: 3 }));
    const texts = [text(0), text(1), text(2)];
    assert.deepEqual(texts, q.code.slice(0, 3));
    assert.equal(new Set(texts).size, 3);
    assert.equal(usage?.completion_tokens, texts.reduce((s, t) => s + encode(t).length, 0));
  });

  it('successive calls for a question draw successive chains, cycle after 8, and the cursor resets', async function () {
    const first = async () => (await client.chat.completions.create({ model: 'qwen2.5-math-replay', messages: ask(talePrompt(q.question, 100)), max_tokens: 12 })).choices[0].message.content;
    const drawn: string[] = [];
    for (let i = 0; i < 9; i++) {
      drawn.push((await first()) ?? '');
    }
    const prefixes = q.code.map((c) => decode(encode(c).slice(0, 12)));
    assert.deepEqual(drawn, [...prefixes, prefixes[0]]);
    assert.deepEqual(server.responses.map((r) => r.chainIndexes?.[0]), [0, 1, 2, 3, 4, 5, 6, 7, 0]);
    server.resetCursors();
    assert.equal(await first(), prefixes[0]);
  });

  it('a seed shifts the first chain per question, the same way every time', async function () {
    const startIndexes = async (seed: number) => {
      const seeded = await startModelServer({ seed });
      try {
        const c = new OpenAI({ baseURL: seeded.url, apiKey: 'k', maxRetries: 0 });
        for (const row of math.slice(0, 8)) {
          await c.chat.completions.create({ model: 'qwen2.5-math-replay', messages: ask(row.question), max_tokens: 1 });
        }
        return seeded.responses.map((r) => r.chainIndexes?.[0]);
      } finally {
        await seeded.close();
      }
    };
    const a = await startIndexes(7);
    assert.deepEqual(await startIndexes(7), a);
    assert.ok(a.some((i) => i !== 0), `seeded start chains ${a}`);
  });

  it('returns per-token logprobs whose mean encodes the chain\'s reward-model score', async function () {
    const { chunks, usage } = await collect(await streaming({ messages: ask(q.question), logprobs: true, max_tokens: 50 }));
    const entries = chunks.flatMap((c) => c.choices[0]?.logprobs?.content ?? []);
    assert.equal(entries.length, usage?.completion_tokens);
    assert.ok(entries.every((e) => Array.isArray(e.bytes) && Array.isArray(e.top_logprobs) && e.logprob < 0));
    const mean = entries.reduce((s, e) => s + e.logprob, 0) / entries.length;
    assert.ok(Math.abs(Math.exp(mean) - 1 / (1 + Math.exp(-q.pred_score[0][0]))) < 1e-9);
  });

  it('lists the replay models and rejects an unknown model with 404 model_not_found', async function () {
    const ids = (await client.models.list()).data.map((m) => m.id);
    for (const id of ['qwen2.5-math-replay', 'o4-mini-replay', 'gpt3-6b-finetuning', 'gpt3-6b-verification', 'gpt3-175b-finetuning', 'gpt3-175b-verification']) {
      assert.ok(ids.includes(id), id);
    }
    await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: ask('hi') }), (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
  });

  it('rejects prompt + max_tokens beyond the context window with context_length_exceeded', async function () {
    await assert.rejects(
      client.chat.completions.create({ model: 'qwen2.5-math-replay', messages: ask(q.question), max_tokens: 32_760 }),
      (e) => e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded',
    );
  });

  it('answers a TALE-EP estimate with the shortest correct recorded chain, rounded up to 10', async function () {
    const prompt = `Task: Analyze the given question and estimate the minimum number of tokens required to generate a complete and accurate response. Please Give the response by strictly following this format: [[budget]],for example: Budget: [[12]].\nQuestion: ${q.question}`;
    const reply = (await client.chat.completions.create({ model: 'qwen2.5-math-replay', messages: ask(prompt) })).choices[0].message.content ?? '';
    const budget = Number(/\[\[(\d+)\]\]/.exec(reply)?.[1]);
    const shortest = Math.min(...q.code.filter((_, i) => q.score[i]).map((c) => encode(c).length));
    assert.equal(budget, Math.ceil(shortest / 10) * 10);
    assert.equal(server.responses[0].kind, 'estimate');
  });

  it('forces the answer the partial reasoning already states, else unknown', async function () {
    const chain = q.code[0];
    const force = async (partial: string) =>
      (await client.chat.completions.create({
        model: 'qwen2.5-math-replay',
        max_tokens: 32,
        messages: [...ask(q.question), { role: 'assistant', content: partial }, { role: 'user', content: 'Stop reasoning. Give the final answer only.' }],
      })).choices[0].message.content;
    assert.equal(await force(chain.slice(0, chain.lastIndexOf(boxedGold(q)) + boxedGold(q).length)), boxedGold(q));
    assert.equal(await force('We add 40 and 2. So the answer is $42$.\nLet us double'), '\\boxed{42}');
    assert.equal(await force(chain.slice(0, 40)), 'unknown');
    assert.equal(await force('Cut inside \\boxed{\\frac{1}{2} and never closed'), 'unknown');
  });

  it('replies that it has no recorded answer for an unmatched question', async function () {
    const reply = (await client.chat.completions.create({ model: 'qwen2.5-math-replay', messages: ask('What is the airspeed of an unladen swallow?') })).choices[0].message.content ?? '';
    assert.match(reply, /no recorded answer/);
    assert.ok(reply.endsWith('\\boxed{unknown}'));
  });

  it('a sampling server draws every recorded chain of a question in a seeded random order, GSM8K\'s four sources pooled', async function () {
    const sampling = await startModelServer({ sample: true, seed: 3, emptyModelList: true });
    try {
      const c = new OpenAI({ baseURL: sampling.url, apiKey: 'k', maxRetries: 0 });
      const draw = async (content: string, n: number) => (await c.chat.completions.create({ model: 'qwen2.5-math-replay', messages: ask(content), n })).choices.map((ch) => ch.message.content ?? '');
      // Eight calls of one chain each see all eight recorded chains once, not in the recorded order.
      const mathDrawn: string[] = [];
      for (let i = 0; i < 8; i++) {
        mathDrawn.push(...(await draw(q.question, 1)));
      }
      assert.deepEqual([...mathDrawn].sort(), [...q.code].sort());
      assert.notDeepEqual(mathDrawn, q.code);
      const gsmAnswers = await draw(gsm8k[12].question, 4);
      assert.deepEqual([...gsmAnswers].sort(), ['6b_finetuning', '6b_verification', '175b_finetuning', '175b_verification'].map((k) => gsm8kSolutions[12][k].solution).sort());
      assert.deepEqual((await c.models.list()).data, []);
    } finally {
      await sampling.close();
    }
  });

  it('serves each GPT-3 model its own recorded GSM8K solution, matched inside a wrapped prompt', async function () {
    const i = 12;
    for (const [model, key] of [['gpt3-6b-finetuning', '6b_finetuning'], ['gpt3-175b-verification', '175b_verification']]) {
      const wrapped = `Solve this.\n\n${gsm8k[i].question.replace(/ /g, '  ')}\n\nAnswer with A: N.`;
      const reply = await client.chat.completions.create({ model, messages: ask(wrapped) });
      assert.equal(reply.choices[0].message.content, gsm8kSolutions[i][key].solution);
    }
  });

  it('the reasoning model bills hidden reasoning tokens and rejects max_tokens like OpenAI', async function () {
    await assert.rejects(
      client.chat.completions.create({ model: 'o4-mini-replay', messages: ask(q.question), max_tokens: 100 }),
      (e) => e instanceof OpenAI.BadRequestError && e.code === 'unsupported_parameter' && /max_completion_tokens/.test(e.message),
    );
    const full = await collect(await streaming({ model: 'o4-mini-replay', messages: ask(q.question) }));
    const visible = encode(full.text(0)).length;
    assert.equal(full.text(0), q.code[0]);
    assert.ok((full.usage?.completion_tokens_details?.reasoning_tokens ?? 0) > 0);
    assert.equal(full.usage?.completion_tokens, visible + (full.usage?.completion_tokens_details?.reasoning_tokens ?? 0));
    const capped = await collect(await streaming({ model: 'o4-mini-replay', messages: ask(q.question), max_completion_tokens: 120 }));
    assert.equal(capped.usage?.completion_tokens, 120);
    assert.equal(encode(capped.text(0)).length + (capped.usage?.completion_tokens_details?.reasoning_tokens ?? 0), 120);
  });

  describe('faults', function () {
    const cases: Array<[number, new (...args: never[]) => Error]> = [
      [401, OpenAI.AuthenticationError],
      [403, OpenAI.PermissionDeniedError],
      [404, OpenAI.NotFoundError],
      [429, OpenAI.RateLimitError],
      [500, OpenAI.InternalServerError],
      [503, OpenAI.InternalServerError],
    ];
    for (const [status, errorClass] of cases) {
      it(`status ${status} reaches the SDK as ${errorClass.name} with its Retry-After`, async function () {
        server.script({ status, retryAfter: 7 });
        await assert.rejects(streaming({ messages: ask(q.question) }), (e) => e instanceof errorClass && e instanceof OpenAI.APIError && e.status === status && e.headers?.get('retry-after') === '7');
        // Only the next request was scripted.
        assert.equal((await collect(await streaming({ messages: ask(q.question) }))).text(0), q.code[0]);
      });
    }

    it('a disconnect mid-stream rejects the iteration after the tokens before it', async function () {
      server.script({ disconnectAfterTokens: 10 });
      let received = '';
      await assert.rejects(async () => {
        for await (const chunk of await streaming({ messages: ask(q.question) })) {
          received += chunk.choices[0]?.delta.content ?? '';
        }
      });
      assert.equal(received, decode(encode(q.code[0]).slice(0, 10)));
    });

    it('a malformed chunk makes the stream throw', async function () {
      const quiet = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0, logLevel: 'off' });
      server.script({ malformedChunk: 6 });
      await assert.rejects(async () => {
        for await (const _ of await quiet.chat.completions.create({ model: 'qwen2.5-math-replay', stream: true, messages: ask(q.question) })) {
          // drain
        }
      }, SyntaxError);
    });

    it('a slow first byte trips the client timeout', async function () {
      server.script({ firstByteDelayMs: 300 });
      const impatient = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0, timeout: 50 });
      await assert.rejects(impatient.chat.completions.create({ model: 'qwen2.5-math-replay', messages: ask(q.question) }), OpenAI.APIConnectionTimeoutError);
    });

    it('noUsage never sends the usage chunk although it was asked for', async function () {
      server.script({ noUsage: true });
      const { chunks, text } = await collect(await streaming({ messages: ask(q.question) }));
      assert.equal(text(0), q.code[0]);
      assert.ok(chunks.every((c) => !c.usage));
      assert.equal(server.responses[0].usage, undefined);
      assert.ok(server.responses[0].countedUsage);
    });

    it('ignoreMaxTokens keeps streaming past max_tokens until the client leaves', async function () {
      server.script({ ignoreMaxTokens: true });
      let received = '';
      for await (const chunk of await streaming({ messages: ask(q.question), max_tokens: 5 })) {
        received += chunk.choices[0]?.delta.content ?? '';
        if (encode(received).length > 200) {
          break; // the SDK aborts the request
        }
      }
      assert.ok(encode(received).length > 200);
      // The server notices the client left and stops generating long before its 100,000 tokens.
      for (let i = 0; i < 500 && server.responses[0].choices.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(server.responses[0].choices[0].text.length > received.length);
      assert.ok(encode(server.responses[0].choices[0].text).length < 100_000);
      assert.equal(server.responses[0].usage, undefined);
    });

    it('hugeResponse sends one enormous chunk regardless of max_tokens', async function () {
      server.script({ hugeResponse: 20_000 });
      const { chunks, text, usage } = await collect(await streaming({ messages: ask(q.question), max_tokens: 5 }));
      const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
      assert.equal(contentChunks.length, 1);
      assert.equal(usage?.completion_tokens, 20_000);
      assert.ok(text(0).startsWith(q.code[0]));
    });

    it('scripted content and finish reason are sent exactly, per choice', async function () {
      const payload = '<img src=x onerror=alert(1)> **bold** \\boxed{<script>}';
      server.script({ content: [payload, 'second'], finishReason: 'content_filter' });
      const { chunks, text, usage } = await collect(await streaming({ messages: ask(q.question), n: 2 }));
      assert.deepEqual([text(0), text(1)], [payload, 'second']);
      assert.deepEqual(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason), ['content_filter', 'content_filter']);
      assert.equal(usage?.completion_tokens, encode(payload).length + encode('second').length);
    });
  });

  it('takes scripts over the HTTP control API and logs requests without revealing keys', async function () {
    const keyed = new OpenAI({ baseURL: server.url, apiKey: 'sk-secret-route-a', maxRetries: 0 });
    const post = (action: string, body: unknown) => fetch(`${server.controlUrl}/${action}`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal((await post('script', [{ status: 429, retryAfter: 1 }, { content: 'from control' }])).status, 200);
    await assert.rejects(keyed.chat.completions.create({ model: 'qwen2.5-math-replay', messages: ask('x'), max_tokens: 9 }), OpenAI.RateLimitError);
    assert.equal((await keyed.chat.completions.create({ model: 'qwen2.5-math-replay', messages: ask('x') })).choices[0].message.content, 'from control');
    assert.equal((await post('pace', { tokensPerSecond: 5000 })).status, 200);

    const logText = await (await fetch(`${server.controlUrl}/requests`)).text();
    const log = JSON.parse(logText);
    assert.equal(log.length, 2);
    assert.equal(log[0].body.max_tokens, 9);
    assert.equal(log[0].hadAuthorization, true);
    assert.ok(!logText.includes('sk-secret-route-a'));
    assert.ok(!inspect(server.requests, { depth: 5 }).includes('sk-secret-route-a'));
    assert.ok(!JSON.stringify(server.requests).includes('sk-secret-route-a'));
    assert.equal(server.requests[0].authorization, 'Bearer sk-secret-route-a');
    assert.equal(server.requests[0].authorizationHash, server.requests[1].authorizationHash);

    assert.equal((await post('reset', {})).status, 200);
    assert.deepEqual(await (await fetch(`${server.controlUrl}/requests`)).json(), []);
  });

  it('requires the configured API key when one is set', async function () {
    const guarded = await startModelServer({ apiKey: 'right' });
    try {
      const call = (apiKey: string) => new OpenAI({ baseURL: guarded.url, apiKey, maxRetries: 0 }).chat.completions.create({ model: 'qwen2.5-math-replay', messages: ask(q.question), max_tokens: 3 });
      await assert.rejects(call('wrong'), (e) => e instanceof OpenAI.AuthenticationError && e.code === 'invalid_api_key');
      assert.equal((await call('right')).usage?.completion_tokens, 3);
    } finally {
      await guarded.close();
    }
  });

  it('bills, enforces max_tokens and streams in a foreign tokenizer when asked, ~1.45x the o200k count', async function () {
    const foreign = await startModelServer({ tokenizer: 'foreign' });
    try {
      const other = new OpenAI({ baseURL: foreign.url, apiKey: 'test', maxRetries: 0 });
      const messages = ask(q.question);
      const stream = (max_tokens?: number) => other.chat.completions.create({ model: 'qwen2.5-math-replay', messages, stream: true, stream_options: { include_usage: true }, ...(max_tokens ? { max_tokens } : {}) });
      const whole = await collect(await stream());
      assert.equal(whole.text(0), q.code[0], 'the same reply, in other tokens');
      const ratio = whole.usage!.completion_tokens / encode(whole.text(0)).length;
      assert.ok(ratio > 1.2 && ratio < 1.9, `completion billed at ${ratio.toFixed(2)}x o200k`);
      const promptRatio = whole.usage!.prompt_tokens / countPrompt([{ role: 'user', content: q.question }]);
      assert.ok(promptRatio > 1.1 && promptRatio < 1.9, `prompt billed at ${promptRatio.toFixed(2)}x o200k`);
      const cut = await collect(await stream(60));
      assert.equal(cut.usage!.completion_tokens, 60, 'max_tokens counted in its own tokens');
      assert.ok(encode(cut.text(0)).length < 50, `${encode(cut.text(0)).length} o200k tokens for 60 of its own`);
      assert.ok(q.code[0].startsWith(cut.text(0)));
    } finally {
      await foreign.close();
    }
  });

  it('counts what a stream the client left had sent as what it generated', async function () {
    server.script({ ignoreMaxTokens: true });
    const stream = await streaming({ messages: ask(q.question), max_tokens: 5 });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) {
        break;
      }
    }
    for (let i = 0; i < 500 && server.responses[0].choices.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const counted = server.responses[0].countedUsage!;
    const sent = encode(server.responses[0].choices[0].text).length;
    assert.ok(Math.abs(counted.completion_tokens - sent) <= 2, `${counted.completion_tokens} counted, ${sent} sent`);
    assert.ok(counted.completion_tokens < 100_000);
  });
});

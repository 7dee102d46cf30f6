import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encode } from 'gpt-tokenizer/cjs/encoding/o200k_base';
import type { ChatMessage, ChatStreamEvent } from '../../src/core/providers/chatProvider';
import { OpenAICompatibleProvider } from '../../src/core/providers/openaiProvider';
import { extractKindAnswer, SYSTEM_PROMPTS } from '../../src/core/reasoning/answerKinds';
import { CODE_REPLAY_MODEL, CodeReplay, loadHumanEval, type HumanEvalRow } from '../../tools/codeReplay';
import { startModelServer, type ModelServer } from '../../tools/modelServer';

// The HumanEval replay model through the product's OpenAI provider (the real openai SDK over HTTP).
// Expected texts come straight from the data file; token counts from an independent o200k tokenizer.
const rows = loadHumanEval();
const row = rows.find((r) => r.task_id === 'HumanEval/0')!;
const question = (r: HumanEvalRow) => `Complete this function.\n\n\`\`\`python\n${r.prompt}\`\`\`\n(Use about 300 tokens.)`;
const whole = (r: HumanEvalRow, i: number) => `${r.prompt}${r.completions[i]}`.replace(/^\s*\n/, '').trimEnd();

async function collect(stream: AsyncIterable<ChatStreamEvent>) {
  const text: string[] = [];
  let done: Extract<ChatStreamEvent, { kind: 'done' }> | undefined;
  for await (const e of stream) {
    if (e.kind === 'delta') {
      text[e.choice] = (text[e.choice] ?? '') + e.text;
    } else if (e.kind === 'done') {
      done = e;
    }
  }
  return { text, done };
}

describe('HumanEval replay model (loopback server, product provider, real openai SDK)', function () {
  let server: ModelServer;
  let replay: CodeReplay;
  let provider: OpenAICompatibleProvider;
  const ask = (messages: ChatMessage[], extra: { n?: number; maxTokens?: number } = {}) =>
    collect(provider.stream({ model: CODE_REPLAY_MODEL, maxTokens: extra.maxTokens ?? 1024, messages, ...(extra.n ? { n: extra.n } : {}) }, new AbortController().signal));
  const user = (content: string): ChatMessage[] => [{ role: 'system', content: SYSTEM_PROMPTS.code }, { role: 'user', content }];

  before(async () => {
    replay = new CodeReplay();
    server = await startModelServer({ codeReplay: replay });
    provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 });
  });
  after(() => server.close());
  beforeEach(() => server.reset());

  it('answers a question holding a problem\'s prompt with a sentence, then the whole function in one python block', async () => {
    const { text, done } = await ask(user(question(row)));
    assert.match(text[0], /^Here is [^\n]+:\n\n```python\n[\s\S]+\n```$/);
    const answer = extractKindAnswer('code', text[0]);
    assert.equal(answer?.form, 'code-block');
    assert.equal(answer?.language, 'python');
    assert.equal(answer?.raw, whole(row, 0));
    assert.ok(answer!.raw.startsWith('from typing import List') && answer!.raw.includes(row.completions[0].trimEnd()));
    assert.deepEqual(done?.finishReasons, ['stop']);
    assert.equal(done?.usage?.completionTokens, encode(text[0]).length);
    const sent = server.responses[0];
    assert.equal(sent.kind, 'recorded');
    assert.equal(sent.questionKey, 'HumanEval/0');
    assert.deepEqual(sent.chainIndexes, [0]);
  });

  it('serves the next samples in order, n per call, each reported by its index', async () => {
    await ask(user(question(row)));
    const { text } = await ask(user(question(row)), { n: 3 });
    assert.deepEqual(text.map((t) => extractKindAnswer('code', t)?.raw), [1, 2, 3].map((i) => whole(row, i)));
    assert.deepEqual(server.responses.map((r) => r.chainIndexes), [[0], [1, 2, 3]]);
  });

  it('starts where the cursor is set, wraps after the last sample, and keeps each problem apart', async () => {
    const other = rows[1];
    replay.seek(row.task_id, 98);
    await ask(user(question(row)), { n: 3 });
    await ask(user(question(other)));
    assert.deepEqual(server.responses.map((r) => [r.questionKey, r.chainIndexes]), [[row.task_id, [98, 99, 0]], [other.task_id, [0]]]);
    assert.equal(replay.position(row.task_id), 1);
    server.reset();
    assert.equal(replay.position(row.task_id), 0, 'reset restarts every problem');
  });

  it('repeats the last sample served when asked for the final code after its reply', async () => {
    replay.seek(row.task_id, 7);
    const first = await ask(user(question(row)));
    const followUp = await ask([...user(question(row)), { role: 'assistant', content: first.text[0].slice(0, 80) }, { role: 'user', content: 'Give only the complete final code now.' }]);
    assert.equal(extractKindAnswer('code', followUp.text[0])?.raw, whole(row, 7));
    assert.equal(server.responses[1].kind, 'forced-answer');
    assert.deepEqual(server.responses[1].chainIndexes, [7]);
    assert.equal(replay.position(row.task_id), 8, 'a repeat draws no new sample');
  });

  it('cuts a sample at max_tokens like any reply', async () => {
    const { text, done } = await ask(user(question(row)), { maxTokens: 20 });
    assert.deepEqual(done?.finishReasons, ['length']);
    assert.equal(encode(text[0]).length, 20);
    assert.equal(extractKindAnswer('code', text[0]), undefined, 'cut inside its block: no answer');
  });

  it('says it has no recording for a question without a known prompt', async () => {
    const { text } = await ask(user('Write a function that reverses a string.'));
    assert.equal(server.responses[0].kind, 'unmatched');
    assert.match(text[0], /no recorded answer/);
  });

  it('serves any file of the format', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'code-replay-'));
    const file = path.join(dir, 'two.jsonl');
    const made: HumanEvalRow[] = [0, 1].map((k) => ({
      task_id: `Made/${k}`, prompt: `def f${k}(x):\n    """Return x plus ${k}."""\n`, entry_point: `f${k}`, test: '',
      samples: [`    return x + ${k}\n`, '    pass\n'], completions: [`    return x + ${k}\n`, '    pass\n'], passed: [true, false],
    }));
    fs.writeFileSync(file, made.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const own = await startModelServer({ codeReplay: new CodeReplay(file) });
    try {
      const provider2 = new OpenAICompatibleProvider({ baseURL: own.url, apiKey: undefined, maxRetries: 0 });
      const { text } = await collect(provider2.stream({ model: CODE_REPLAY_MODEL, maxTokens: 200, n: 3, messages: user(question(made[1])) }, new AbortController().signal));
      assert.deepEqual(text.map((t) => extractKindAnswer('code', t)?.raw), ['def f1(x):\n    """Return x plus 1."""\n    return x + 1', 'def f1(x):\n    """Return x plus 1."""\n    pass', 'def f1(x):\n    """Return x plus 1."""\n    return x + 1']);
      assert.deepEqual(own.responses[0].chainIndexes, [0, 1, 0]);
    } finally {
      await own.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

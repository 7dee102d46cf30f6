import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import type { ChatStreamEvent } from '../../src/core/providers/chatProvider';
import { OpenAICompatibleProvider } from '../../src/core/providers/openaiProvider';
import { ReasoningRun } from '../../src/core/reasoning/reasoningRun';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { SingleChainStrategy } from '../../src/core/reasoning/strategies';
import { initialRunView, reduceRunView } from '../../src/core/view/runView';
import { readTraceQuestion } from '../../tools/recordedData';
import { startModelServer, THINKING_FORMATS, type ModelServer } from '../../tools/modelServer';
import { REPLAY_MODEL, meteredStack, sharedTokenCounter } from '../support/faultTable';

const question = readTraceQuestion(67);

async function streamOf(provider: OpenAICompatibleProvider, maxTokens = 4000) {
  const events: ChatStreamEvent[] = [];
  for await (const e of provider.stream({ model: REPLAY_MODEL, messages: [{ role: 'user', content: question.text }], maxTokens }, new AbortController().signal)) {
    events.push(e);
  }
  const text = (kind: 'delta' | 'thinking') => events.filter((e) => e.kind === kind).map((e) => (e as { text: string }).text).join('');
  return { events, visible: text('delta'), thinking: text('thinking') };
}

/** Each way servers send a reasoning model's thinking, through the real openai client and the product's provider. */
describe('thinking streams', function () {
  this.timeout(20_000);
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'br-thinking-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  for (const format of THINKING_FORMATS) {
    describe(format, () => {
      let server: ModelServer;
      before(async () => {
        server = await startModelServer({ thinking: format });
      });
      after(() => server.close());
      beforeEach(() => server.reset());

      it('arrives as thinking events, apart from the reply, which holds no thinking', async () => {
        const { visible, thinking, events } = await streamOf(new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 }));
        const recorded = server.responses[0];
        const sentThinking = format === 'think-tags' ? /<think>\n([\s\S]*)\n<\/think>/.exec(recorded.choices[0].text)![1] : recorded.choices[0].thinking!;
        assert.ok(sentThinking.length > 100, 'the recorded chain has thinking to show');
        assert.equal(thinking.replace(/^\n|\n$/g, ''), sentThinking);
        assert.ok(!/<\/?think>/.test(visible), 'no tag in the reply');
        assert.match(visible, /\\boxed\{/, 'the reply is the chain\'s last paragraph, with its answer');
        assert.ok(events.findIndex((e) => e.kind === 'thinking') < events.findIndex((e) => e.kind === 'delta' && e.text.trim() !== ''), 'thinking streams first');
      });

      it('a run shows the thinking live, reads the answer from the reply only, and bills thinking as output', async () => {
        const ledger = new FileSpendLedger(path.join(dir, `${format}-run.jsonl`), { durable: false });
        const stack = meteredStack({ baseURL: server.url, ledger, runId: `think-${format}`, caps: {} });
        const events: RunEvent[] = [];
        const run = new ReasoningRun(stack.caller, { question: question.text, budget: { chainTokens: 600, totalTokens: 20_000, source: 'fixed' }, strategy: new SingleChainStrategy() }, (e) => events.push(e));
        const outcome = await run.start();
        assert.equal(outcome.answer, question.gold);
        assert.ok(events.some((e) => e.type === 'delta' && e.thinking === true), 'thinking deltas');
        const view = events.reduce(reduceRunView, initialRunView({ runId: 'r', question: question.text, model: REPLAY_MODEL, strategy: 'single', caps: [], providerBillsInDollars: false }));
        assert.match(view.attempts[0].text ?? '', /^<think>\n[\s\S]+\n<\/think>\n\n/, 'the finished chain keeps its thinking in its own section');
        const [record] = await ledger.records();
        assert.equal(record.completionTokens, server.responses[0].usage!.completion_tokens, 'the ledger has the billed output, thinking included');
      });

      it('the cut at the grant holds while a server that ignores max_tokens streams thinking', async () => {
        server.script({ thinking: 'Let me think about this carefully. '.repeat(400), content: 'So \\boxed{1}.', ignoreMaxTokens: 5000 });
        const ledger = new FileSpendLedger(path.join(dir, `${format}-cut.jsonl`), { durable: false });
        const stack = meteredStack({ baseURL: server.url, ledger, runId: `cut-${format}`, caps: {} });
        const result = await stack.caller.call({ messages: [{ role: 'user', content: 'Think forever.' }], maxTokens: 120 }, 'attempt', new AbortController().signal);
        const ours = sharedTokenCounter.countText((result.choices[0].thinking ?? '') + result.choices[0].text, REPLAY_MODEL).tokens;
        assert.ok(ours <= 121, `${ours} tokens kept of a 120-token grant`);
        assert.ok(result.record.completionTokens <= 120, `${result.record.completionTokens} recorded`);
        assert.equal(result.choices[0].finishReason, 'length');
        assert.ok((result.choices[0].thinking ?? '').length > 100, 'what was kept is thinking');
      });

      it('a thinking budget cuts the stream once thinking passes it, and the answer is forced from the thinking', async () => {
        server.script({ thinking: '6 times 7 is 42, so the answer is 42.\n'.repeat(200), content: 'So \\boxed{42}.' });
        const ledger = new FileSpendLedger(path.join(dir, `${format}-budget.jsonl`), { durable: false });
        const stack = meteredStack({ baseURL: server.url, ledger, runId: `budget-${format}`, caps: {} });
        const events: RunEvent[] = [];
        const run = new ReasoningRun(stack.caller, { question: 'What is 6 * 7?', budget: { chainTokens: 100, totalTokens: 5000, source: 'fixed' }, strategy: new SingleChainStrategy() }, (e) => events.push(e));
        const outcome = await run.start();
        const chain = server.requests[0].body;
        const first = events.find((e) => e.type === 'attempt-finished');
        assert.ok(first && first.type === 'attempt-finished' && first.finishReason === 'length', 'the chain was cut while thinking');
        assert.ok(chain.max_tokens >= 1024);
        const forced = server.requests[1].body.messages;
        assert.match(forced[forced.length - 2].content, /the answer is 42/, 'the forced answer is asked from the thinking so far');
        assert.equal(outcome.answer, '42');
      });
    });
  }
});

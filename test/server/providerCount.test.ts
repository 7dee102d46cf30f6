import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SpendCaps } from '../../src/core/budget/caps';
import { TokenRatios } from '../../src/core/budget/tokenRatio';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import type { SpendRecord } from '../../src/core/ledger/spendRecord';
import { OpenAICompatibleProvider } from '../../src/core/providers/openaiProvider';
import { createStrategy } from '../../src/core/reasoning/strategies';
import { costOf } from '../../src/core/tokens/prices';
import { readTraceQuestion } from '../../tools/recordedData';
import { startModelServer, type ModelServer, type SentResponse } from '../../tools/modelServer';
import { REPLAY_PRICE, meteredStack, runOnStack, spendOf } from '../support/faultTable';

const question = readTraceQuestion(67);
const price = { ...REPLAY_PRICE, cachedInput: REPLAY_PRICE.input };

/** What the server billed for the responses it sent: its usage, or for a stream without one what it generated. */
function billed(responses: readonly SentResponse[]) {
  return spendOf(responses, price);
}

/** A server that counts in another tokenizer (~1.45x o200k): the caps must hold by its count, not the client's. */
describe("caps by the provider's own token count (a loopback server billing in a foreign tokenizer)", function () {
  this.timeout(30_000);
  let server: ModelServer;
  let provider: OpenAICompatibleProvider;
  let dir: string;
  let n = 0;
  before(async () => {
    server = await startModelServer({ tokenizer: 'foreign' });
    provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'br-provider-count-'));
  });
  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => server.reset());

  const run = async (caps: SpendCaps, ratios: TokenRatios | undefined, budget: { chainTokens: number; totalTokens?: number }, ledger = new FileSpendLedger(path.join(dir, `run-${++n}.jsonl`), { durable: false })) => {
    const stack = meteredStack({ baseURL: server.url, ledger, runId: `count-${++n}`, caps, reuseProvider: provider, ...(ratios ? { ratios } : {}) });
    const trace = await runOnStack(stack, { question: question.text, strategy: createStrategy('anytime-sc'), budget: { ...budget, source: 'fixed' } });
    return { ...trace, ledger, runId: stack.runId, records: (await ledger.records()).filter((r) => r.runId === stack.runId) };
  };

  it('counted locally (today\'s rule), a run bills past its token budget by the server\'s count', async () => {
    const { records } = await run({ requestTokens: 600 }, undefined, { chainTokens: 400, totalTokens: 600 });
    const bill = billed(server.responses);
    assert.ok(bill.tokens > 600, `the server billed ${bill.tokens} of a 600-token budget`);
    assert.equal(records.reduce((s, r) => s + r.promptTokens + r.completionTokens, 0), bill.tokens, 'the ledger has the billed figures: past the cap');
  });

  it('with learned ratios the request token budget holds by the server\'s count from the first call, and the ledger has the billed figures', async () => {
    const ratios = new TokenRatios();
    for (const budget of [300, 600, 1500, 4000]) {
      server.reset();
      const { records } = await run({ requestTokens: budget }, ratios, { chainTokens: 400, totalTokens: budget });
      const bill = billed(server.responses);
      assert.ok(bill.tokens <= budget, `budget ${budget}: the server billed ${bill.tokens}`);
      assert.equal(records.length, server.responses.length, 'one record per call sent');
      records.forEach((r, i) => assertBilled(r, server.responses[i]));
    }
    const { prompt, completion } = ratios.of('qwen2.5-math-replay');
    assert.ok(prompt.estimate > 1.2 && prompt.estimate < 1.8, `prompt ratio ${prompt.estimate}`);
    assert.ok(completion.estimate > 1.2 && completion.estimate < 1.9, `completion ratio ${completion.estimate}`);
  });

  it('the daily token cap and the dollar caps hold by the server\'s count across runs sharing a ledger', async () => {
    const ratios = new TokenRatios();
    const caps: SpendCaps[] = [{ dailyTokens: 2500 }, { requestDollars: 0.0012 }, { dailyDollars: 0.006 }];
    for (const cap of caps) {
      // A day of its own per cap, shared by its runs.
      const ledger = new FileSpendLedger(path.join(dir, `day-${Object.keys(cap)[0]}.jsonl`), { durable: false });
      const all: SentResponse[] = [];
      for (let i = 0; i < 3; i++) {
        server.reset();
        const { records } = await run(cap, ratios, { chainTokens: 500 }, ledger);
        records.forEach((r, k) => assertBilled(r, server.responses[k]));
        const bill = billed(server.responses);
        if (cap.requestDollars !== undefined) {
          assert.ok(bill.dollars <= cap.requestDollars + 1e-12, `request: $${bill.dollars}`);
        }
        all.push(...server.responses);
        const day = billed(all);
        assert.ok(cap.dailyTokens === undefined || day.tokens <= cap.dailyTokens, `day: ${day.tokens} tokens`);
        assert.ok(cap.dailyDollars === undefined || day.dollars <= cap.dailyDollars + 1e-12, `day: $${day.dollars}`);
      }
      if (cap.dailyTokens !== undefined) {
        assert.ok(billed(all).tokens > cap.dailyTokens - 500, `the runs spent up to the cap: ${billed(all).tokens}`);
      }
    }
  });

  it('the usage chunk of a stream the server ended at max_tokens reaches the ledger, not an estimate', async () => {
    for (const ratios of [new TokenRatios(), undefined]) {
      server.reset();
      // The budget leaves less room than the recorded chain takes: max_tokens ends it.
      const { records } = await run({ requestTokens: 400 }, ratios, { chainTokens: 400, totalTokens: 400 });
      const first = server.responses[0];
      assert.equal(first.choices[0].finishReason, 'length', 'the recorded chain is longer than the room');
      assert.ok(first.usage, 'the server sent its usage');
      assert.equal(records[0].estimated, false, `${ratios ? 'with' : 'without'} ratios: the billed figure`);
      assert.equal(records[0].completionTokens, first.usage.completion_tokens);
      assert.equal(records[0].completionTokens, server.requests[0].body.max_tokens, 'ended by the server at max_tokens');
    }
  });
});

/** A record carries the server's usage whenever it sent one. */
function assertBilled(record: SpendRecord, response: SentResponse): void {
  if (response.usage) {
    assert.deepEqual([record.promptTokens, record.completionTokens, record.estimated], [response.usage.prompt_tokens, response.usage.completion_tokens, false]);
    assert.equal(record.dollars, costOf({ promptTokens: response.usage.prompt_tokens, cachedPromptTokens: 0, completionTokens: response.usage.completion_tokens }, price));
  }
}

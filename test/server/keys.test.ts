import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import type { ChatStreamEvent } from '../../src/core/providers/chatProvider';
import { ProviderError } from '../../src/core/providers/chatProvider';
import { OpenAICompatibleProvider } from '../../src/core/providers/openaiProvider';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { readTraceQuestion } from '../../tools/recordedData';
import { REPLAY_MODEL, meteredStack, runOnStack } from '../support/faultTable';
import { startModelServer, type ModelServer, type ScriptedReply } from '../../tools/modelServer';

const KEY = 'sk-test-SECRET-123456789';
/** What must never appear: the key, or its secret part on its own. */
const LEAKS = [KEY, 'SECRET-123456789', '123456789'];
const QUESTION = readTraceQuestion(67).text;

function assertNoKey(artifact: string, what: string): void {
  for (const leak of LEAKS) {
    assert.ok(!artifact.includes(leak), `${what} contains "${leak}"`);
  }
}

async function drain(stream: AsyncIterable<ChatStreamEvent>): Promise<void> {
  for await (const event of stream) {
    void event;
  }
}

describe('API keys never leak, and go only to their own base URL', function () {
  this.timeout(20_000);
  let server: ModelServer;
  let dir: string;

  before(async () => {
    server = await startModelServer({ apiKey: KEY });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'br-keys-'));
  });
  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => server.reset());

  it('leaves no trace of the key in the ledger file, spend records, run events, error messages or the request log', async () => {
    const file = path.join(dir, 'ledger.jsonl');
    const ledger = new FileSpendLedger(file, { durable: false });
    const caps = { requestTokens: 20_000, requestDollars: 1 };
    const events: RunEvent[] = [];
    const errors: unknown[] = [];
    const run = async (runId: string, ...script: ScriptedReply[]) => {
      server.script(...script);
      const stack = meteredStack({ baseURL: server.url, apiKey: KEY, ledger, runId, caps });
      const trace = await runOnStack(stack, { question: QUESTION, budget: { chainTokens: 300, source: 'fixed' } });
      events.push(...trace.events);
      return trace;
    };

    const clean = await run('clean');
    assert.equal(clean.outcome.reason, 'converged', 'the key was accepted');
    // Endpoints echo keys in error text; every kind of error passes through stripKeys.
    const echo = `Incorrect API key provided: ${KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`;
    for (const status of [401, 400, 429, 500]) {
      const failed = await run(`echo-${status}`, { status, errorMessage: echo });
      assert.equal(failed.outcome.reason, 'error');
      errors.push(failed.outcome.message, ...failed.events.filter((e) => e.type === 'error'));
    }
    const auth = events.find((e): e is Extract<RunEvent, { type: 'error' }> => e.type === 'error' && e.kind === 'auth');
    assert.match(auth!.message, /Set API Key/);
    const rateLimited = events.find((e): e is Extract<RunEvent, { type: 'error' }> => e.type === 'error' && e.kind === 'rate-limited');
    assert.match(rateLimited!.message, /Incorrect API key provided: sk-…/, 'the echoed text is kept, the key is cut');

    // A wrong key: the server's own 401.
    const wrong = meteredStack({ baseURL: server.url, apiKey: 'sk-test-WRONG-000000001', ledger, runId: 'wrong', caps });
    const rejected = await runOnStack(wrong, { question: QUESTION, budget: { chainTokens: 300, source: 'fixed' } });
    assert.equal(rejected.outcome.reason, 'error');
    events.push(...rejected.events);

    // The ProviderError itself, as a host would log it.
    const provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: KEY, maxRetries: 0 });
    server.script({ status: 429, errorMessage: echo });
    const thrown = await drain(provider.stream({ model: REPLAY_MODEL, messages: [{ role: 'user', content: QUESTION }], maxTokens: 50 }, new AbortController().signal))
      .then(() => assert.fail('should fail'), (e: unknown) => e);
    assert.ok(thrown instanceof ProviderError);
    errors.push(thrown.message, inspect(thrown), JSON.stringify(thrown), thrown.stack ?? '', provider.id);

    // Every request carried the key: the artifacts are clean although the key was in play.
    assert.ok(server.requests.length >= 7);
    assert.ok(server.requests.filter((r) => r.authorization === `Bearer ${KEY}`).length >= 6);

    const records = await new FileSpendLedger(file, { durable: false }).records();
    // The clean run draws as many chains as it needs; the last request is the bare provider's, outside the ledger.
    assert.equal(records.length, server.requests.length - 1, 'every call of the six runs was recorded');
    assert.ok(records.length >= 6);
    assertNoKey(await fs.readFile(file, 'utf8'), 'the ledger file');
    assertNoKey(JSON.stringify(records), 'the spend records');
    assertNoKey(await ledger.toCsv(), 'the CSV export');
    assertNoKey(JSON.stringify(events), 'the run events');
    assertNoKey(JSON.stringify(errors), 'the error messages');
    assertNoKey(JSON.stringify(server.requests), "the server's request log");
    assertNoKey(inspect(server.requests, { depth: 5 }), "the server's request log as printed");
    assertNoKey(JSON.stringify(server.responses), "the server's response log");
  });

  it('sends each key only to the base URL it was created for, and never across a redirect', async () => {
    const keyA = 'sk-test-AAAA-111111111';
    const keyB = 'sk-test-BBBB-222222222';
    const a = await startModelServer({ apiKey: keyA });
    const b = await startModelServer({ apiKey: keyB });
    try {
      const ledger = new FileSpendLedger(path.join(dir, 'two.jsonl'), { durable: false });
      const caps = { requestTokens: 20_000 };
      const onA = meteredStack({ baseURL: a.url, apiKey: keyA, ledger, runId: 'a', caps });
      const onB = meteredStack({ baseURL: b.url, apiKey: keyB, ledger, runId: 'b', caps });
      const [ranA, ranB] = await Promise.all([
        runOnStack(onA, { question: QUESTION, budget: { chainTokens: 300, source: 'fixed' } }),
        runOnStack(onB, { question: QUESTION, budget: { chainTokens: 300, source: 'fixed' } }),
      ]);
      assert.equal(ranA.outcome.reason, 'converged');
      assert.equal(ranB.outcome.reason, 'converged');
      assert.ok(a.requests.length > 0 && b.requests.length > 0);
      assert.deepEqual(new Set(a.requests.map((r) => r.authorization)), new Set([`Bearer ${keyA}`]));
      assert.deepEqual(new Set(b.requests.map((r) => r.authorization)), new Set([`Bearer ${keyB}`]));

      // A endpoint that redirects elsewhere must not carry A's key there.
      a.script({ status: 307, headers: { location: `${b.url}/chat/completions` } });
      const before = b.requests.length;
      const redirected = await drain(onA.provider.stream({ model: REPLAY_MODEL, messages: [{ role: 'user', content: QUESTION }], maxTokens: 50 }, new AbortController().signal))
        .then(() => undefined, (e: unknown) => e);
      // fetch follows the 307 but drops Authorization across origins: B sees a keyless request and refuses it.
      assert.deepEqual(b.requests.slice(before).map((r) => r.hadAuthorization), [false], "B got one request, without A's key");
      assert.ok(redirected instanceof ProviderError && redirected.kind === 'auth', String(redirected));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

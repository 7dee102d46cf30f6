import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SpendCaps } from '../../src/core/budget/caps';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import type { SpendRecord } from '../../src/core/ledger/spendRecord';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { createStrategy } from '../../src/core/reasoning/strategies';
import { readTraceQuestion } from '../../tools/recordedData';
import {
  FAULT_CASES, REPLAY_MODEL, SERVER_CHUNK_TOKENS, faultTable, meteredStack, runOnStack, sharedTokenCounter,
  silenceSdkLog, type FaultCase, type FaultRow,
} from '../support/faultTable';
import { freePort } from '../../tools/freePort';
import { startModelServer, type ModelServer, type SentResponse } from '../../tools/modelServer';

/** A recorded MATH question: the server replays its real chains (the first one answers 8 in 252 tokens). */
const QUESTION = readTraceQuestion(67).text;
/**
 * A chain budget under which the first recorded chain is not trusted alone, so the default strategy
 * asks for a second chain: the place to fault a later call.
 */
const CHAIN_BUDGET = 1000;
const CAPS: SpendCaps = { requestTokens: 9000, requestDollars: 0.03 };

const countTokens = (text: string) => sharedTokenCounter.countText(text, REPLAY_MODEL).tokens;
const sentText = (r: SentResponse) => r.choices.map((c) => c.text).join('');
const deltasOf = (events: RunEvent[], attempt: number) =>
  events.filter((e): e is Extract<RunEvent, { type: 'delta' }> => e.type === 'delta' && e.attempt === attempt).map((e) => e.text).join('');

describe('Faults: whole runs through the real stack (ReasoningRun, MeteredCaller, FileSpendLedger, openai SDK, loopback server)', function () {
  this.timeout(30_000);
  let server: ModelServer;
  let dir: string;
  const rows: FaultRow[] = [];

  let restoreSdkLog: () => void;
  before(async () => {
    restoreSdkLog = silenceSdkLog();
    server = await startModelServer();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'br-faults-'));
  });
  after(async () => {
    restoreSdkLog();
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
    console.log(`\nFault table (${rows.length} runs; "at" = the call that faulted)\n${faultTable(rows)}\n`);
  });

  for (const fault of FAULT_CASES) {
    for (const at of [1, 2] as const) {
      const expectation = fault.failure ? `ends with a "${fault.failure.kind}" message that says what to do` : 'survives';
      it(`${fault.name} at call ${at}: ${expectation}; answers stay, every token is in the ledger, caps hold, the next run works`, async () => {
        rows.push(await exercise(fault, at));
      });
    }
  }

  it('Stop ends the run at once even when the whole response is already buffered (logprobs, Stop near the end)', async () => {
    server.reset();
    const file = path.join(dir, 'stop-buffered.jsonl');
    const ledger = new FileSpendLedger(file, { durable: false });
    const stack = meteredStack({ baseURL: server.url, ledger, runId: 'stop-buffered', caps: CAPS });
    const stop = new AbortController();
    let deltas = 0;
    const { outcome, events } = await runOnStack(stack, { question: QUESTION, strategy: createStrategy('value-guided'), budget: { chainTokens: 300, source: 'fixed' } }, (e) => {
      if (e.type === 'delta' && ++deltas === 70) {
        stop.abort();
      }
    }, stop.signal);
    assert.equal(server.requests[0].body.logprobs, true, 'precondition: large logprob chunks, so the reply is buffered before it is read');
    assert.equal(outcome.reason, 'stopped');
    assert.equal(events.filter((e) => e.type === 'delta').length, 70, 'no delta after Stop');
    const [record] = await new FileSpendLedger(file, { durable: false }).records();
    assert.deepEqual([record.outcome, record.estimated], ['aborted', true]);
    assert.equal(record.completionTokens, countTokens(deltasOf(events, 1)), 'what was shown is what is recorded');
  });

  async function exercise(fault: FaultCase, at: 1 | 2): Promise<FaultRow> {
    server.reset();
    const slug = `${fault.name.replace(/\W+/g, '-')}-at-${at}`;
    const file = path.join(dir, `${slug}.jsonl`);
    const ledger = new FileSpendLedger(file, { durable: false });
    const runId = `fault-${slug}`;

    // A refused connection needs a port of its own: nothing listens there (at call 1), or a server
    // that dies right after the first chain (at call 2); it comes back for the next run.
    const refused = fault.reply === undefined;
    const port = refused ? await freePort() : server.port;
    let own: ModelServer | undefined = refused && at === 2 ? await startModelServer({ port }) : undefined;
    const endpoint = () => own ?? server;
    const baseURL = `http://127.0.0.1:${port}/v1`;
    if (!refused) {
      server.script(...(at === 2 ? [{}, fault.reply!] : [fault.reply!]));
    }

    const stack = meteredStack({ baseURL, ledger, runId, caps: CAPS, provider: fault.provider });
    let closing: Promise<void> | undefined;
    const { outcome, events } = await runOnStack(stack, { question: QUESTION, budget: { chainTokens: CHAIN_BUDGET, source: 'fixed' } }, (e) => {
      if (own && e.type === 'attempt-finished' && e.attempt === 1) {
        closing = own.close();
      }
    });
    await closing;
    const responses = [...endpoint().responses];
    const requests = endpoint().requests.map((r) => r.body as { max_tokens?: number });
    const faultedCall = refused ? at : responses.length >= at ? at : -1;
    assert.equal(faultedCall, at, `precondition: the run made call ${at} (the faulted one); it made ${responses.length}`);

    // (a) A clear message naming the cause and what to do.
    const errors = events.filter((e): e is Extract<RunEvent, { type: 'error' }> => e.type === 'error');
    if (fault.failure) {
      assert.equal(outcome.reason, 'error', outcome.message);
      assert.equal(errors.length, 1);
      assert.equal(errors[0].kind, fault.failure.kind, errors[0].message);
      assert.match(errors[0].message, fault.failure.message);
      assert.match(outcome.message, fault.failure.message);
      assert.match(outcome.message, /^The model call failed: .*The answers so far are kept\.$/);
      assert.doesNotMatch(outcome.message, /\.\./, 'no doubled punctuation');
    } else {
      assert.deepEqual(errors, []);
      assert.ok(['converged', 'budget-exhausted'].includes(outcome.reason), `${outcome.reason}: ${outcome.message}`);
      assert.ok(outcome.message.length > 10);
    }
    assert.equal(events.at(-1)?.type, 'stopped');

    // (b) Partial answers stay: an answer reached before the fault is still the outcome's; streamed text was shown.
    const firstAnswer = events.find((e): e is Extract<RunEvent, { type: 'answer' }> => e.type === 'answer');
    if (at === 2) {
      assert.ok(firstAnswer, 'the first chain produced an answer');
      const answerIndex = events.indexOf(firstAnswer);
      const faultIndex = events.findIndex((e) => e.type === 'attempt-started' && e.attempt === 2);
      assert.ok(answerIndex < faultIndex, 'the answer came before the faulted call');
      if (fault.failure) {
        assert.equal(outcome.answer, firstAnswer.answer);
        assert.ok(outcome.chains >= 1);
      }
    }
    if (fault.brokenStream) {
      const shown = deltasOf(events, at);
      const sent = sentText(responses[at - 1]);
      assert.ok(shown.length > 0, 'text streamed before the break was emitted as deltas');
      assert.ok(sent.startsWith(shown), 'the deltas are what the server sent');
      assert.ok(countTokens(sent) - countTokens(shown) <= SERVER_CHUNK_TOKENS, 'at most the last chunk is missing');
    }

    // (c) Every token received is in the ledger: re-read the file with a fresh ledger.
    const onDisk = (await new FileSpendLedger(file, { durable: false }).records()).filter((r) => r.runId === runId);
    const reported = events.filter((e): e is Extract<RunEvent, { type: 'spend' }> => e.type === 'spend').map((e) => e.record);
    assert.deepEqual(onDisk, reported, 'the ledger holds exactly the spend the run reported');
    const calls = events.filter((e) => e.type === 'attempt-started').length;
    assert.equal(onDisk.length, calls, 'one record per call');
    assert.equal(onDisk.length, responses.length + (refused ? 1 : 0));
    let recorded = 0;
    let sent = 0;
    onDisk.forEach((record, i) => {
      assert.ok(record.dollars !== null && record.dollars >= 0, 'dollars are computed');
      if (refused && i === at - 1) {
        assert.deepEqual([record.completionTokens, record.estimated, record.outcome], [0, true, 'network']);
        return;
      }
      const response = responses[i];
      const max = requests[i].max_tokens!;
      const sentTokens = countTokens(sentText(response));
      recorded += record.completionTokens;
      sent += sentTokens;
      checkRecord(record, response, sentTokens, max, i === at - 1 ? fault : undefined);
    });

    // (d) No cap exceeded.
    const totals = await new FileSpendLedger(file, { durable: false }).totalsForRun(runId);
    const capHeld = totals.tokens <= CAPS.requestTokens! && totals.dollars <= CAPS.requestDollars! + 1e-9;
    assert.ok(capHeld, `run spent ${totals.tokens} tokens / $${totals.dollars}`);
    let cutNote = '';
    if (fault.clientCutOff) {
      const runaway = responses[at - 1];
      const runawayTokens = countTokens(sentText(runaway));
      cutNote = ` (call ${at}: ${onDisk[at - 1].completionTokens} kept of ${runawayTokens} sent, ${requests[at - 1].max_tokens} granted)`;
      if (fault.reply?.ignoreMaxTokens === true) {
        // The client aborted: the server noticed and stopped long before its 100,000 tokens.
        assert.ok(runaway.endedAt !== undefined, 'the server saw the client leave');
        assert.ok(runawayTokens < 100_000 && runaway.countedUsage!.completion_tokens < 100_000, `${runawayTokens} tokens sent`);
      } else {
        // All of it came in one chunk: it cannot be refused, only dropped past the grant.
        assert.equal(runawayTokens, runaway.countedUsage!.completion_tokens);
      }
    }

    // (e) The extension keeps working: a clean run on the same provider and ledger.
    if (refused) {
      own = await startModelServer({ port });
    }
    endpoint().reset();
    const next = meteredStack({ baseURL, ledger, runId: `${runId}-next`, caps: CAPS, reuseProvider: stack.provider });
    const again = await runOnStack(next, { question: QUESTION, budget: { chainTokens: 300, source: 'fixed' } });
    const nextRunOk = again.outcome.reason === 'converged' && again.outcome.answer === '8';
    assert.ok(nextRunOk, `${again.outcome.reason}: ${again.outcome.message}`);
    assert.equal((await ledger.totalsForRun(`${runId}-next`)).tokens, endpoint().responses.reduce((s, r) => s + (r.usage?.total_tokens ?? 0), 0));
    if (own) {
      await own.close();
    }

    return {
      fault: fault.name,
      at: `call ${at}`,
      stop: outcome.reason,
      message: outcome.message,
      records: onDisk.length,
      estimated: onDisk.filter((r) => r.estimated).length,
      recordedVsSent: `${recorded} / ${sent}${cutNote}`,
      capHeld,
      nextRunOk,
    };
  }
});

/** One call's record against what the server sent for it. */
function checkRecord(record: SpendRecord, response: SentResponse, sentTokens: number, maxTokens: number, fault: FaultCase | undefined): void {
  const what = `${record.purpose} ${record.outcome}`;
  if (response.status !== 200) {
    assert.equal(sentTokens, 0);
    assert.equal(record.completionTokens, 0, what);
    assert.equal(record.estimated, true, what);
    return;
  }
  if (fault?.clientCutOff) {
    // The server ignored max_tokens: we keep and record the granted part, and drop the rest of the chunk.
    assert.equal(record.estimated, true, what);
    assert.equal(record.outcome, 'length');
    assert.ok(record.completionTokens <= maxTokens, `${what}: ${record.completionTokens} recorded > ${maxTokens} granted`);
    assert.ok(record.completionTokens >= maxTokens - SERVER_CHUNK_TOKENS, `${what}: ${record.completionTokens} recorded for ${maxTokens} granted`);
    return;
  }
  if (fault?.brokenStream) {
    assert.equal(record.estimated, true, what);
    assert.ok(record.completionTokens >= sentTokens - SERVER_CHUNK_TOKENS, `${what}: ${record.completionTokens} recorded, ${sentTokens} sent`);
    assert.ok(record.completionTokens <= sentTokens, `${what}: never more than was sent`);
    return;
  }
  if (fault?.failure) {
    // Refused before any byte (timeout): nothing generated reached us.
    assert.equal(sentTokens, 0);
    assert.equal(record.completionTokens, 0, what);
    assert.equal(record.estimated, true, what);
    return;
  }
  assert.ok(response.countedUsage, what);
  assert.ok(record.completionTokens >= response.countedUsage.completion_tokens, `${what}: ${record.completionTokens} recorded, ${response.countedUsage.completion_tokens} generated`);
  assert.equal(record.completionTokens, sentTokens, what);
  assert.equal(record.estimated, response.usage === undefined, `${what}: estimated exactly when the server sent no usage`);
  if (response.usage) {
    assert.equal(record.promptTokens, response.usage.prompt_tokens, what);
  }
}

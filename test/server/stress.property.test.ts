import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { meteredCallers } from '../../src/core/run/callers';
import { MemorySpendLedger } from '../../src/core/ledger/spendLedger';
import type { FinishReason } from '../../src/core/providers/chatProvider';
import { ProviderError } from '../../src/core/providers/chatProvider';
import { priceLookup } from '../../src/core/tokens/prices';
import { REPLAY_MODEL, sharedTokenCounter, silenceSdkLog } from '../support/faultTable';
import { assertCapsHeld, caseArb, DAY, earlierSpend, SEED, SERVER_MODES, serverProperty, stressRun } from '../support/capsProperty';
import type { ScriptedReply } from '../../tools/modelServer';
import { ScriptedProvider, type ProviderStep } from '../support/scripted';

/** FC_RUNS=10000 (npm run test:stress) for the long mode; the default keeps CI fast. */
const RUNS = Math.max(1, Number(process.env.FC_RUNS) || 60);
/** The in-memory property is ~100x cheaper per case, so it runs more cases by default. */
const LOGIC_RUNS = Math.max(1, Number(process.env.FC_RUNS) || 300);

describe('Stress: random strategies, budgets, caps, replies, faults and Stops never overspend', function () {
  this.timeout(Math.max(60_000, RUNS * 2_000 * SERVER_MODES.length));
  let dir: string;
  let restoreSdkLog: () => void;
  before(async () => {
    restoreSdkLog = silenceSdkLog();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'br-stress-'));
  });
  after(async () => {
    restoreSdkLog();
    await fs.rm(dir, { recursive: true, force: true });
  });

  for (const mode of SERVER_MODES) {
    it(`over the real SDK and loopback server (${mode.name}): ledger spend, and the server's own count, stay within every cap (FC_RUNS=${RUNS})`, async () => {
      const result = await serverProperty(mode, dir, RUNS);
      console.log(`    stress (${mode.name}, real HTTP, seed ${SEED}): ${result.summary}`);
      assert.deepEqual(result.over, { requestTokens: 0, dailyTokens: 0, requestDollars: 0, dailyDollars: 0 }, 'most over each cap by the server\'s count');
      assert.equal(result.cases, RUNS);
    });
  }

  it(`over an in-memory scripted provider: the same caps hold at 100x the speed (FC_RUNS=${LOGIC_RUNS})`, async () => {
    let cases = 0;
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        cases++;
        const runId = `logic-${cases}`;
        const ledger = new MemorySpendLedger(DAY);
        const earlier = earlierSpend(c);
        if (earlier) {
          await ledger.append(earlier);
        }
        const caller = meteredCallers({ runId, ledger, tokens: sharedTokenCounter })(
          { id: REPLAY_MODEL, provider: scriptedEndpoint(c.replies), prices: priceLookup({ overrides: { [REPLAY_MODEL]: c.price } }) }, c.caps);
        const stop = new AbortController();
        let deltas = 0;
        const run = stressRun(c, caller, 'What is 6 * 7?', (e) => {
          if (e.type === 'delta' && ++deltas === c.stopAfterDeltas) {
            stop.abort();
          }
        });
        await run.start(stop.signal);
        await assertCapsHeld(ledger, runId, c.caps);
      }),
      { numRuns: LOGIC_RUNS, seed: SEED },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`    stress (in-memory, seed ${SEED}): ${cases} generated cases; ${seconds.toFixed(1)} s (${((seconds * 1000) / cases).toFixed(2)} ms/case)`);
    assert.equal(cases, LOGIC_RUNS);
  });
});

/**
 * The loopback server's behaviour for the same scripted replies, without HTTP: text in 3-token
 * chunks up to max_tokens, usage unless told not to, faults as ProviderErrors. Pure state machine
 * input for the fast property; the HTTP property above checks the real thing.
 */
function scriptedEndpoint(replies: readonly ScriptedReply[]): ScriptedProvider {
  // map() copies: the generated case must stay intact for fast-check's report and shrinking.
  return new ScriptedProvider({
    id: 'scripted:stress', models: [REPLAY_MODEL], replies: replies.map(loopbackStream),
    otherwise: loopbackStream({ content: 'Work.\nSo the answer is \\boxed{42}.' }),
  });
}

function loopbackStream(reply: ScriptedReply): ProviderStep {
  return async function* (request, signal) {
    if (reply.status) {
      throw new ProviderError(reply.status === 401 ? 'auth' : reply.status >= 500 ? 'server' : 'rate-limited', `scripted ${reply.status}`, reply.status);
    }
    const n = Math.max(1, request.n ?? 1);
    const base = typeof reply.content === 'string' ? reply.content : 'Work.\nSo the answer is \\boxed{42}.';
    const runaway = typeof reply.ignoreMaxTokens === 'number' ? reply.ignoreMaxTokens : undefined;
    const pieces = chunks(runaway !== undefined ? `${base}\n\n`.repeat(Math.ceil(runaway / Math.max(1, count(base)))) : base);
    const limit = runaway ?? request.maxTokens;
    const breakAt = reply.disconnectAfterTokens ?? (reply.malformedChunk === true ? 0 : typeof reply.malformedChunk === 'number' ? reply.malformedChunk : undefined);
    let sent = 0;
    const reasons: FinishReason[] = [];
    for (let i = 0; i < n; i++) {
      let own = 0;
      for (const piece of pieces) {
        if (signal.aborted) {
          throw new ProviderError('aborted', 'Stopped.');
        }
        if (breakAt !== undefined && sent >= breakAt) {
          throw new ProviderError(reply.malformedChunk !== undefined ? 'protocol' : 'network', 'scripted break');
        }
        const k = count(piece);
        if (own + k > limit) {
          break;
        }
        own += k;
        sent += k;
        yield { kind: 'delta', choice: i, text: piece };
      }
      reasons[i] = (reply.finishReason as FinishReason | undefined) ?? (own < count(pieces.join('')) ? 'length' : 'stop');
    }
    await Promise.resolve();
    const usage = reply.noUsage ? undefined : {
      promptTokens: sharedTokenCounter.countChatPrompt(request.messages, REPLAY_MODEL).tokens, cachedPromptTokens: 0,
      completionTokens: sent, reasoningTokens: 0, estimated: false,
    };
    yield { kind: 'done', finishReasons: reasons, usage };
  };
}

function count(text: string): number {
  return sharedTokenCounter.countText(text, REPLAY_MODEL).tokens;
}

/** Splits text into pieces of about three words, as a server streams it. */
function chunks(text: string): string[] {
  return text.match(/(?:\S+\s*){1,3}|\s+/g) ?? [];
}

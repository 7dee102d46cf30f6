import * as assert from 'node:assert/strict';
import { defaultSettings } from '../../src/core/config';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import { SYSTEM_PROMPTS } from '../../src/core/reasoning/answerKinds';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { createRunEngine } from '../../src/core/run/engine';
import { planRun, type PlanRequest } from '../../src/core/run/plan';
import { contextWindowOf } from '../../src/core/tokens/contextWindows';
import { REPLAY_MODEL, meteredStack, sharedTokenCounter } from '../support/faultTable';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';

/** Code and prose questions through the product's own stack: plan, engine, metered caller, OpenAI client, loopback server. */
describe('code and prose questions against the loopback server', function () {
  this.timeout(20_000);
  let server: ModelServer;
  let dir: string;

  before(async () => {
    server = await startModelServer();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'br-kinds-'));
  });
  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => server.reset());

  async function run(request: Partial<PlanRequest> & { question: string }) {
    const planned = planRun({
      settings: { ...defaultSettings, requestCapUsd: 0, dailyCapUsd: 0, confirmAboveUsd: 0, estimator: 'local', requestBudget: 3000 },
      models: [{ id: REPLAY_MODEL, price: undefined, contextWindow: contextWindowOf(REPLAY_MODEL, {}), billsInDollars: true }],
      tokens: sharedTokenCounter,
      estimate: () => ({ tokens: 300, source: 'local' }),
      learnedRuns: 0,
      today: { tokens: 0, dollars: 0 },
      ...request,
    });
    assert.ok(planned.ok, planned.ok ? '' : planned.refusal.message);
    const ledger = new FileSpendLedger(path.join(dir, `${Math.random().toString(36).slice(2)}.jsonl`), { durable: false });
    const stack = meteredStack({ baseURL: server.url, ledger, runId: 'kinds', caps: planned.plan.caps });
    const events: RunEvent[] = [];
    const outcome = await createRunEngine(planned.plan, () => stack.caller, (e) => events.push(e)).start();
    return { plan: planned.plan, outcome, events, records: await ledger.records() };
  }

  it('a prose question answered in paraphrases converges before its budget, with the answer shown', async () => {
    const { plan, outcome, events, records } = await run({ question: 'Explain the difference between let and const in JavaScript' });
    assert.equal(plan.answerKind, 'prose');
    assert.equal(server.requests[0].body.messages[0].content, SYSTEM_PROMPTS.prose);
    const texts = server.responses.filter((r) => r.kind === 'unmatched').map((r) => r.choices[0].text);
    assert.ok(new Set(texts).size >= 2, 'the server said it in different words');
    assert.equal(outcome.reason, 'converged');
    assert.ok(outcome.tokensSpent < 3000);
    assert.ok(records.reduce((s, r) => s + r.promptTokens + r.completionTokens, 0) < 3000, 'stopped before the budget, by the ledger');
    assert.match(outcome.answer!, /`const` declares a binding that cannot be reassigned|can be reassigned/);
    const last = events.filter((e) => e.type === 'answer').at(-1);
    assert.ok(last && last.type === 'answer' && /similar/.test(last.ruleState), 'agreement is said as similarity');
  });

  it('a question about selected code is sent with its path, language and lines, and the code answer is read back', async () => {
    const code = 'function last(xs: number[]) {\n  return xs[xs.length];\n}';
    const { plan, outcome, events } = await run({
      question: 'Find the bug in this code.',
      action: 'find-bug',
      context: { path: 'src/last.ts', languageId: 'typescript', startLine: 3, endLine: 5, code },
    });
    assert.equal(plan.answerKind, 'code');
    const user = server.requests[0].body.messages[1].content as string;
    assert.match(user, /`src\/last\.ts` lines 3-5 \(typescript\)/);
    assert.ok(user.includes(`\`\`\`typescript\n${code}\n\`\`\``));
    assert.equal(outcome.answer, code, 'the loopback echoes the selection as its code answer');
    const answer = events.find((e) => e.type === 'answer');
    assert.ok(answer && answer.type === 'answer' && answer.answerKind === 'code' && answer.language === 'typescript');
    assert.ok(plan.promptTokens > sharedTokenCounter.countText(code, REPLAY_MODEL).tokens, 'the context counts in the budget');
  });

  it('math questions keep the short path and its prompt', async () => {
    const { plan } = await run({ question: 'What is 6 * 7?', budgetTokens: 400 });
    assert.equal(plan.answerKind, 'short');
    assert.equal(server.requests[0].body.messages[0].content, SYSTEM_PROMPTS.short);
  });
});

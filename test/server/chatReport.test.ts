import * as assert from 'node:assert/strict';
import { ChatRunReporter, estimateMarkdown, inlineText, parseChatAsk, spendMarkdown, spendSummaryLine } from '../../src/core/chat/chatReport';
import { costPreview } from '../../src/core/run/costPreview';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSpendLedger } from '../../src/core/ledger/fileSpendLedger';
import { emptyTotals } from '../../src/core/ledger/spendLedger';
import { createStrategy } from '../../src/core/reasoning/strategies';
import { readTraceQuestion } from '../../tools/recordedData';
import { meteredStack, runOnStack } from '../support/faultTable';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { spendRecord } from '../support/scripted';

describe('@budget chat: reading the request', () => {
  it('a plain message is a question; /spend needs nothing', () => {
    assert.deepEqual(parseChatAsk(undefined, '  What is 6*7? '), { kind: 'reason', question: 'What is 6*7?' });
    assert.deepEqual(parseChatAsk('spend', 'anything'), { kind: 'spend' });
  });

  it('/budget N takes the budget first, in plain, grouped or k form', () => {
    assert.deepEqual(parseChatAsk('budget', '2000 What is 6*7?'), { kind: 'reason', question: 'What is 6*7?', budgetTokens: 2000 });
    assert.deepEqual(parseChatAsk('budget', '2,500\nmultiline\nquestion'), { kind: 'reason', question: 'multiline\nquestion', budgetTokens: 2500 });
    assert.deepEqual(parseChatAsk('budget', '4k why?'), { kind: 'reason', question: 'why?', budgetTokens: 4000 });
  });

  it('/budget without a usable number or question says how to write it, and nothing runs', () => {
    for (const [prompt, said] of [['why is the sky blue', /Give the budget first/], ['-5 why', /not a budget/], ['0 why', /not a budget/],
      ['1.5 why', /not a budget/], ['99999999 why', /not a budget/], ['2000', /Add the question/]] as const) {
      const ask = parseChatAsk('budget', prompt);
      assert.equal(ask.kind, 'invalid', prompt);
      assert.match((ask as { message: string }).message, said, prompt);
    }
  });

  it('/estimate takes an optional budget; unknown commands are named', () => {
    assert.deepEqual(parseChatAsk('estimate', 'How many primes below 100?'), { kind: 'estimate', question: 'How many primes below 100?' });
    assert.deepEqual(parseChatAsk('estimate', '800 How many primes below 100?'), { kind: 'estimate', question: 'How many primes below 100?', budgetTokens: 800 });
    const ask = parseChatAsk('explain', 'x');
    assert.equal(ask.kind, 'invalid');
    assert.match((ask as { message: string }).message, /no \/explain command/);
  });

  it('inline model text cannot format the chat: markdown and HTML characters are escaped, long text cut', () => {
    assert.equal(inlineText('**x** <img src=x onerror=alert(1)> [a](javascript:b)'), '\\*\\*x\\*\\* \\<img src=x onerror=alert\\(1\\)\\> \\[a\\]\\(javascript:b\\)');
    assert.equal(inlineText('a'.repeat(300)).length, 200);
  });
});

describe('@budget chat: a real run reported into the chat (openai SDK, loopback server, recorded chains)', function () {
  this.timeout(30_000);
  let server: ModelServer;
  let dir: string;
  before(async () => {
    server = await startModelServer();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'br-chat-'));
  });
  after(async () => {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('streams progress per answer, markdown when the best answer changes, then the chain and a spend line that matches the ledger', async () => {
    const question = readTraceQuestion(67).text;
    const ledger = new FileSpendLedger(path.join(dir, 'run.jsonl'), { durable: false });
    const stack = meteredStack({ baseURL: server.url, ledger, runId: 'chat-run', caps: { requestTokens: 9000, requestDollars: 0.05 } });
    const progress: string[] = [];
    const markdown: string[] = [];
    const reporter = new ChatRunReporter({ progress: (t) => progress.push(t), markdown: (t) => markdown.push(t) }, {
      runId: 'chat-run', question, model: 'replay', strategy: 'anytime-sc', caps: [], budgetTokens: 9000, providerBillsInDollars: true,
    });
    const { outcome, events } = await runOnStack(stack, { question, strategy: createStrategy('anytime-sc'), budget: { chainTokens: 1000, totalTokens: 9000, source: 'fixed' } }, (e) => reporter.push(e));
    reporter.finish(true);

    const answers = events.filter((e) => e.type === 'answer');
    assert.ok(answers.length >= 2, `precondition: the run needed more than one answer (${answers.length})`);
    const answerLines = progress.filter((p) => p.startsWith('Answer '));
    assert.equal(answerLines.length, answers.length, 'one progress line per answer');
    assert.match(answerLines[answerLines.length - 1], new RegExp(`^Answer ${answers.length}: .* · .*agree`));
    const changed = answers.filter((a, i) => i === 0 || (a.type === 'answer' && a.changed)).length;
    assert.equal(markdown.filter((m) => /\*\*Answer \d+/.test(m)).length, changed, 'markdown only when the best answer changes');
    assert.ok(progress.some((p) => p.startsWith('Chain 2')), 'chains are announced');

    const view = reporter.view;
    assert.equal(view.answers.length, answers.length, 'the reporter keeps the panel view for "Open in Answer Panel"');
    assert.equal(view.status.reason, outcome.reason);
    const records = await ledger.records();
    const billed = records.reduce((s, r) => s + r.promptTokens + r.completionTokens, 0);
    const dollars = records.reduce((s, r) => s + (r.dollars ?? 0), 0);
    const last = markdown[markdown.length - 1];
    assert.match(last, new RegExp(`Spent ${billed.toLocaleString('en-US')} tokens`), 'the spend line is the ledger total');
    assert.ok(last.includes(`$${dollars.toFixed(4)}`) || last.includes(`$${dollars.toFixed(2)}`), `dollars ${dollars} in ${last}`);
    assert.match(last, new RegExp(`in ${records.length} calls · ${outcome.reason === 'converged' ? 'converged' : ''}`));
    const chain = markdown[markdown.length - 2];
    assert.ok(chain.includes(view.answers[view.answers.length - 1].text.trim().slice(0, 50)), 'the best chain is shown in full before the spend line');
  });

  it('a run that fails before any answer says so, with what it spent', async () => {
    server.reset();
    server.script({ status: 401, errorMessage: 'Incorrect API key provided', errorType: 'invalid_request_error', errorCode: 'invalid_api_key' });
    const ledger = new FileSpendLedger(path.join(dir, '401.jsonl'), { durable: false });
    const stack = meteredStack({ baseURL: server.url, ledger, runId: 'chat-401', caps: { requestTokens: 9000 } });
    const markdown: string[] = [];
    const reporter = new ChatRunReporter({ progress: () => undefined, markdown: (t) => markdown.push(t) }, {
      runId: 'chat-401', question: 'q', model: 'replay', strategy: 'anytime-sc', caps: [], providerBillsInDollars: true,
    });
    const { outcome } = await runOnStack(stack, { question: 'What is 6*7?', budget: { chainTokens: 200, source: 'fixed' } }, (e) => reporter.push(e));
    reporter.finish(true);
    assert.equal(outcome.reason, 'error');
    const text = markdown.join('');
    assert.match(text, /No answer: .*key/i);
    assert.match(text, /Spent 0 tokens · \$0 .* · error/);
  });
});

describe('@budget chat: /estimate and /spend', () => {
  it('/estimate shows the budget and the dollar range and says nothing was sent', () => {
    const preview = costPreview({ chainTokens: 500, promptTokens: 100, budgetTokens: 4800, plannedChains: 8, price: { input: 0.15, cachedInput: 0.075, output: 0.6 }, requestCapUsd: 0.25 });
    const md = estimateMarkdown(preview, 'gpt-4o-mini', 'local estimate');
    assert.match(md, /500 output tokens a chain \(local estimate\), 4,800 tokens for the run on gpt\\-4o\\-mini/);
    assert.match(md, /estimated \$0\.\d{4}–\$0\.\d{4} · worst case \$0\.\d{4}/);
    assert.match(md, /Nothing was sent/);
  });

  it('/spend shows today against the daily caps, the month, and the caps', () => {
    const today = { ...emptyTotals(), tokens: 12_345, dollars: 0.5, calls: 7 };
    const md = spendMarkdown({ today, month: { ...today, tokens: 99_000, dollars: 3.25, calls: 40 }, dailyCapUsd: 2, dailyTokenCap: 100_000, requestCapUsd: 0.25, requestBudget: 'auto' });
    assert.match(md, /\*\*Today:\*\* \$0\.50 · 12,345 tokens in 7 calls — 25% of the \$2\.00 daily cap — 12% of the 100,000-token daily cap/);
    assert.match(md, /\*\*This month:\*\* \$3\.25 · 99,000 tokens in 40 calls/);
    assert.match(md, /\$0\.25 a request · \$2\.00 a day · 100,000 tokens a day · budget auto/);
  });

  it('progress lines escape the answer and the model name (VS Code renders progress as markdown)', () => {
    const progress: string[] = [];
    const reporter = new ChatRunReporter({ progress: (t) => progress.push(t), markdown: () => undefined }, { runId: 'r', question: 'q', model: 'm', strategy: 'cascade', caps: [], providerBillsInDollars: true });
    reporter.push({ type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 500, model: 'my_model*v2' });
    reporter.push({ type: 'answer', answer: '2*3*5 = a_1', text: 'chain', confidence: 0.5, tokensSoFar: 120, changed: true, ruleState: '1 of 1 agree' });
    reporter.push({ type: 'attempt-started', attempt: 2, purpose: 'attempt', maxTokens: 500 });
    assert.deepEqual(progress, [
      'Chain 1 on my\\_model\\*v2: up to 500 tokens',
      'Answer 1: 2\\*3\\*5 = a\\_1 · 1 of 1 agree',
      'Chain 2: up to 500 tokens · best so far 2\\*3\\*5 = a\\_1',
    ]);
  });

  it('the spend line marks dollars that are not all known', () => {
    const reporter = new ChatRunReporter({ progress: () => undefined, markdown: () => undefined }, { runId: 'r', question: 'q', model: 'm', strategy: 'single', caps: [], providerBillsInDollars: true });
    reporter.push({ type: 'spend', record: spendRecord({ time: new Date().toISOString(), runId: 'r', sessionId: undefined, providerId: 'p', model: 'm', promptTokens: 10, completionTokens: 5, dollars: null }) });
    assert.match(spendSummaryLine(reporter.view, true), /^Spent 15 tokens · \$0\+\? in 1 call$/);
  });
});

import * as assert from 'node:assert/strict';
import { initialRunView, reduceRunView } from '../../src/core/view/runView';
import { answerMeta, budgetText, shortTitle, spendText, statusText } from '../../src/core/view/runViewText';
import { MAX_CONTINUE_TOKENS, isSafeExternalLink, parseFromWebviewMessage } from '../../src/protocol';
import { spendRecord } from '../support/scripted';

describe('parseFromWebviewMessage (the page is untrusted)', () => {
  it('accepts every well-formed message', () => {
    const good = [
      { type: 'ready' }, { type: 'stop' }, { type: 'openSpendReport' },
      { type: 'requestSnapshot', lastSeq: 4 },
      { type: 'continue', extraTokens: 4000 },
      { type: 'copy' }, { type: 'copy', answerIndex: 2 },
      { type: 'insert', mode: 'cursor' }, { type: 'insert', mode: 'replace', answerIndex: 0 },
      { type: 'rerun', strategy: 'single' }, { type: 'rerun', strategy: 'anytime-sc' }, { type: 'rerun', strategy: 'value-guided' },
      { type: 'rerun', strategy: 'single', preferenceExamples: true }, { type: 'rerun', strategy: 'anytime-sc', answerKind: 'prose', preferenceExamples: false },
      { type: 'openLink', href: 'https://example.com/a?b=c' },
      { type: 'showRun', runId: '5b0e7a3c-2f1d-4c1e-9a55-0d3f6f2b8c11' },
    ];
    for (const m of good) {
      assert.deepEqual(parseFromWebviewMessage(m), { message: m });
    }
  });

  it('keeps only the known fields', () => {
    assert.deepEqual(parseFromWebviewMessage({ type: 'stop', extra: '<script>' }), { message: { type: 'stop' } });
  });

  it('rejects unknown types, wrong shapes and out-of-range values', () => {
    const bad = [
      null, 42, 'stop', [], {}, { type: 'eval', code: '1' }, { type: '__proto__' },
      { type: 'continue' }, { type: 'continue', extraTokens: '4000' }, { type: 'continue', extraTokens: 0 },
      { type: 'continue', extraTokens: -5 }, { type: 'continue', extraTokens: 1.5 }, { type: 'continue', extraTokens: MAX_CONTINUE_TOKENS + 1 },
      { type: 'insert' }, { type: 'insert', mode: 'everywhere' }, { type: 'insert', mode: 'cursor', answerIndex: -1 },
      { type: 'copy', answerIndex: 'all' }, { type: 'requestSnapshot' },
      { type: 'rerun', strategy: 'rm -rf' }, { type: 'rerun' },
      { type: 'rerun', strategy: 'single', preferenceExamples: 'yes' }, { type: 'rerun', strategy: 'single', preferenceExamples: 1 },
      { type: 'openLink', href: 'javascript:alert(1)' }, { type: 'openLink', href: 'command:workbench.action.terminal.new' },
      { type: 'openLink', href: 'file:///etc/passwd' }, { type: 'openLink', href: 'data:text/html,x' }, { type: 'openLink', href: 42 },
      { type: 'showRun' }, { type: 'showRun', runId: 7 }, { type: 'showRun', runId: '' }, { type: 'showRun', runId: '../../x' },
      { type: 'showRun', runId: 'a'.repeat(101) }, { type: 'showRun', runId: '<img src=x>' },
    ];
    for (const m of bad) {
      const r = parseFromWebviewMessage(m);
      assert.ok('error' in r, `${JSON.stringify(m)} was accepted`);
    }
  });

  it('only lets plain web links out', () => {
    assert.equal(isSafeExternalLink('https://example.com'), true);
    assert.equal(isSafeExternalLink('http://localhost:8080/x'), true);
    assert.equal(isSafeExternalLink('https://user:pw@example.com'), false);
    assert.equal(isSafeExternalLink('vscode://settings'), false);
    assert.equal(isSafeExternalLink('not a url'), false);
  });
});

describe('runView text', () => {
  const base = initialRunView({ runId: 'r', question: 'q', model: 'm', strategy: 'single', caps: [], providerBillsInDollars: true });

  it('says the budget and where it came from', () => {
    assert.equal(budgetText(base.budget), 'estimating…');
    const v = reduceRunView(base, { type: 'budget-estimated', tokens: 4000, source: 'fallback' });
    assert.equal(budgetText(v.budget), '4,000 tokens (fallback: estimate failed)');
  });

  it('writes the spend as "1,234 / 4,000 tokens · $0.0031", dollars only when billed, "unknown" when unpriced', () => {
    let v = reduceRunView(base, { type: 'budget-estimated', tokens: 4000, source: 'tale' });
    const record = spendRecord({ time: '', runId: 'r', sessionId: undefined, providerId: 'p', model: 'm', promptTokens: 234, completionTokens: 1000, dollars: 0.0031 });
    v = reduceRunView(v, { type: 'spend', record });
    assert.equal(spendText(v.budget, true), '1,234 / 4,000 tokens · $0.0031');
    assert.equal(spendText(v.budget, false), '1,234 / 4,000 tokens');
    v = reduceRunView(v, { type: 'spend', record: { ...record, promptTokens: 0, completionTokens: 0, dollars: null } });
    assert.equal(spendText(v.budget, true), '1,234 / 4,000 tokens · $0.0031 + unknown');
  });

  it('says why a run ended, with its final spend', () => {
    const v = reduceRunView(base, { type: 'stopped', reason: 'cap-reached', message: 'daily cap $2.00 reached' });
    assert.equal(statusText(v.status, true), 'Cap reached: daily cap $2.00 reached · spent 0 tokens · $0');
    const e = reduceRunView(base, { type: 'error', message: 'HTTP 401', kind: 'auth' });
    assert.equal(statusText(e.status, false), 'Error: HTTP 401 · spent 0 tokens');
    assert.equal(statusText(base.status, true), 'Running · starting');
  });

  it('describes a progressive answer in one line', () => {
    assert.equal(answerMeta({ answer: '4', text: '', tokensSoFar: 1234, confidence: 0.754, changed: true, ruleState: '3 of 4 agree' }),
      'at 1.2k tokens · 75% · changed · 3 of 4 agree');
  });

  it('titles a panel with a short version of the question', () => {
    assert.equal(shortTitle('What is 2+2?'), 'What is 2+2?');
    assert.equal(shortTitle('Compute the number of ways to arrange the letters of the word BANANA in a row'), 'Compute the number of ways to arrange…');
    assert.equal(shortTitle('  '), 'Answer');
  });
});

import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import type { SpendRecord } from '../../src/core/ledger/spendRecord';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import {
  REASONING_LIMIT_CHARS, appendBounded, applyRunViewUpdate, diffRunView, initialRunView, markInterrupted, parseRunView,
  reduceRunView, withHeader, type RunHeader, type RunView,
} from '../../src/core/view/runView';
import { budgetText } from '../../src/core/view/runViewText';

const header: RunHeader = {
  runId: 'r1', question: 'What is 2+2?', model: 'gpt-4o-mini', strategy: 'anytime-sc',
  caps: ['$0.25 per request'], providerBillsInDollars: true,
};

function spend(purpose: SpendRecord['purpose'], promptTokens: number, completionTokens: number, dollars: number | null, reasoningTokens = 0): RunEvent {
  return {
    type: 'spend',
    record: {
      time: '2025-01-01T00:00:00Z', runId: 'r1', purpose, providerId: 'p', model: 'm', promptTokens, cachedPromptTokens: 0,
      completionTokens, reasoningTokens, dollars, estimated: false, outcome: 'stop',
    },
  };
}

const answer = (a: string, confidence: number, tokensSoFar: number, changed = false): RunEvent => ({
  type: 'answer', answer: a, text: `chain for ${a}`, confidence, tokensSoFar, changed, ruleState: 'x of y agree',
});

const fold = (events: RunEvent[], from: RunView = initialRunView(header)) => events.reduce(reduceRunView, from);

describe('runView reducer', () => {
  it('takes the budget and its source from budget-estimated', () => {
    const v = fold([{ type: 'budget-estimated', tokens: 1200, source: 'tale', note: 'TALE-EP' }]);
    assert.deepEqual(v.budget.estimate, { tokens: 1200, source: 'tale', note: 'TALE-EP' });
    assert.equal(v.budget.budgetTokens, 1200);
  });

  it('uses the whole run budget for the bar when the run announces one', () => {
    const v = fold([{ type: 'budget-estimated', tokens: 220, totalTokens: 2200, source: 'tale' }]);
    assert.equal(v.budget.budgetTokens, 2200);
    assert.equal(v.budget.estimate?.tokens, 220);
    assert.match(budgetText(v.budget), /2,200 tokens · a chain 220 output tokens \(TALE estimate\)/);
  });

  it('splits spend by purpose with reasoning tokens apart, and dollars turn unknown once a price is missing', () => {
    const v = fold([
      spend('estimate', 50, 10, 0.0001),
      spend('attempt', 100, 300, 0.0002, 120),
      spend('forced-answer', 400, 8, 0.00007),
      spend('probe', 5, 5, 0),
    ]);
    assert.equal(v.budget.spentTokens, 50 + 10 + 100 + 300 + 400 + 8 + 10);
    assert.deepEqual(v.budget.byPurpose, { estimate: 60, attempt: 400 - 120, 'forced-answer': 408, other: 10 });
    assert.equal(v.budget.reasoningTokens, 120);
    assert.ok(Math.abs(v.budget.dollars! - 0.00037) < 1e-12);
    const unknown = reduceRunView(v, spend('attempt', 10, 10, null));
    assert.equal(unknown.budget.dollars, null);
    assert.ok(Math.abs(unknown.budget.knownDollars - 0.00037) < 1e-12);
    assert.equal(unknown.budget.calls, 5);
  });

  it('shows the live text of the newest attempt only, and counts streaming tokens until spend arrives', () => {
    const v = fold([
      { type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 100 },
      { type: 'delta', attempt: 1, text: 'abcd' },
      { type: 'attempt-started', attempt: 2, purpose: 'attempt', maxTokens: 100 },
      { type: 'delta', attempt: 2, text: 'xy' },
      { type: 'delta', attempt: 1, text: 'efgh' },
    ]);
    assert.equal(v.reasoning.text, 'xy');
    assert.equal(v.reasoning.attempt, 2);
    assert.equal(v.budget.inFlightTokens, Math.ceil(10 / 4));
    const done = fold([{ type: 'attempt-finished', attempt: 1, finishReason: 'stop', answer: '4', completionTokens: 3 }], v);
    assert.equal(done.budget.inFlightTokens, 1);
    assert.deepEqual(done.attempts.map((a) => [a.attempt, a.finishReason, a.answer]), [[1, 'stop', '4'], [2, null, null]]);
  });

  it('keeps the live reasoning bounded to the tail while counting every character', () => {
    let v = fold([{ type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 100 }]);
    let all = '';
    for (let i = 0; i < 12_000; i++) {
      const piece = `token${i} `;
      all += piece;
      v = reduceRunView(v, { type: 'delta', attempt: 1, text: piece });
    }
    assert.ok(all.length > REASONING_LIMIT_CHARS);
    assert.ok(v.reasoning.text.length <= REASONING_LIMIT_CHARS);
    assert.ok(all.endsWith(v.reasoning.text));
    assert.equal(v.reasoning.totalChars, all.length);
  });

  it('builds the best-so-far curve and the Anytime Index from answers, and marks a converged stop', () => {
    const v = fold([
      answer('3', 0.5, 100, true),
      answer('4', 0.4, 200, true),
      answer('4', 0.9, 400),
      spend('attempt', 100, 350, 0.001),
      { type: 'stopped', reason: 'converged', message: '3 of 3 agree' },
    ]);
    assert.deepEqual(v.curve.points, [{ tokens: 100, confidence: 0.5 }, { tokens: 200, confidence: 0.5 }, { tokens: 400, confidence: 0.9 }]);
    // The run's own index, as the log prints it: from (0, 0) through the answers to the billed tokens
    // spent (450): (0+0.5)/2*100 + (0.5+0.5)/2*100 + (0.5+0.9)/2*200 + 0.9*50 = 260 over 450.
    assert.ok(Math.abs(v.curve.anytimeIndex! - 260 / 450) < 1e-12, `${v.curve.anytimeIndex}`);
    assert.deepEqual(v.curve.earlyStop, { tokens: 450, confidence: 0.9 });
    assert.equal(v.status.state, 'finished');
    assert.equal(v.status.reason, 'converged');
    assert.deepEqual(v.status.finalSpend, { tokens: 450, dollars: 0.001 });
  });

  it('marks no early stop for a run that converged with no room left for another chain', () => {
    const v = fold([
      { type: 'budget-estimated', tokens: 100, totalTokens: 300, source: 'fixed' },
      answer('4', 0.9, 250),
      spend('attempt', 60, 238, 0),
      { type: 'stopped', reason: 'converged', message: '2 of 2 agree' },
    ]);
    assert.equal(v.status.reason, 'converged');
    assert.equal(v.curve.earlyStop, null, '298 of 300 spent is not "stopped early"');
    const roomy = fold([
      { type: 'budget-estimated', tokens: 100, totalTokens: 3000, source: 'fixed' },
      answer('4', 0.9, 250),
      spend('attempt', 60, 238, 0),
      { type: 'stopped', reason: 'converged', message: '2 of 2 agree' },
    ]);
    assert.deepEqual(roomy.curve.earlyStop, { tokens: 298, confidence: 0.9 });
  });

  it('marks no early stop when the budget ran out', () => {
    const v = fold([answer('4', 0.6, 100), { type: 'stopped', reason: 'budget-exhausted', message: '' }]);
    assert.equal(v.curve.earlyStop, null);
    assert.equal(v.status.reason, 'budget-exhausted');
  });

  it('keeps an error message when the stop that follows says nothing, and runs again after Continue', () => {
    const v = fold([
      { type: 'error', message: '429 Too Many Requests', kind: 'rate-limit' },
      { type: 'stopped', reason: 'error', message: '' },
    ]);
    assert.equal(v.status.message, '429 Too Many Requests');
    assert.equal(v.status.errorKind, 'rate-limit');
    const resumed = reduceRunView(v, { type: 'attempt-started', attempt: 3, purpose: 'attempt', maxTokens: 500 });
    assert.equal(resumed.status.state, 'running');
    assert.equal(resumed.status.reason, null);
    assert.equal(resumed.status.phase, 'attempt 3: chain');
  });

  it('keeps the identity of parts an event does not touch', () => {
    const v = fold([answer('4', 0.6, 100)]);
    const next = reduceRunView(v, { type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 10 });
    const delta = reduceRunView(next, { type: 'delta', attempt: 1, text: 'a' });
    assert.equal(delta.answers, v.answers);
    assert.equal(delta.curve, v.curve);
    assert.equal(delta.header, v.header);
    assert.equal(delta.status, next.status);
  });

  it('interrupts a restored running view, and leaves a finished one alone', () => {
    const running = fold([answer('4', 0.6, 100)]);
    const interrupted = markInterrupted(running);
    assert.equal(interrupted.status.state, 'interrupted');
    assert.equal(interrupted.status.message, 'interrupted (window reloaded)');
    const finished = fold([{ type: 'stopped', reason: 'stopped', message: '' }], running);
    assert.equal(markInterrupted(finished), finished);
  });

  it('takes a larger budget through withHeader', () => {
    const v = withHeader(fold([{ type: 'budget-estimated', tokens: 1000, source: 'local' }]), { budgetTokens: 2000 });
    assert.equal(v.budget.budgetTokens, 2000);
    assert.equal(v.header.budgetTokens, 2000);
  });
});

describe('runView updates (diff and apply)', () => {
  const events: RunEvent[] = [
    { type: 'budget-estimated', tokens: 900, source: 'fixed' },
    { type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 900 },
    { type: 'delta', attempt: 1, text: 'Let us ' },
    { type: 'delta', attempt: 1, text: 'think.' },
    { type: 'attempt-finished', attempt: 1, finishReason: 'stop', answer: '4', completionTokens: 4 },
    spend('attempt', 10, 4, 0.00001),
    answer('4', 0.75, 14, true),
    { type: 'attempt-started', attempt: 2, purpose: 'attempt', maxTokens: 900 },
    { type: 'delta', attempt: 2, text: 'Again.' },
    { type: 'stopped', reason: 'stopped', message: 'by the user' },
  ];

  it('sends only changed parts and the reasoning to append', () => {
    const a = fold(events.slice(0, 3));
    const b = fold(events.slice(3, 4), a);
    const { changes, reasoning } = diffRunView(a, b);
    assert.deepEqual(Object.keys(changes).sort(), ['budget', 'streamingChars']);
    assert.deepEqual(reasoning, { epoch: a.reasoning.epoch, attempt: 1, purpose: 'attempt', reset: false, append: 'think.', totalChars: 13 });
  });

  it('restarts the reasoning when a new attempt begins', () => {
    const a = fold(events.slice(0, 7));
    const b = fold(events.slice(7, 9), a);
    const { reasoning } = diffRunView(a, b);
    assert.equal(reasoning?.reset, true);
    assert.equal(reasoning?.append, 'Again.');
  });

  it('a receiver applying every update at any batching ends with the sender view', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 12 }), (cuts) => {
      let sent = initialRunView(header);
      let received: RunView = sent;
      let i = 0;
      for (const cut of [...cuts, events.length]) {
        const now = fold(events.slice(i, i + cut), sent);
        i = Math.min(events.length, i + cut);
        const { changes, reasoning } = diffRunView(sent, now);
        const r = applyRunViewUpdate(received, structuredClone(changes), reasoning && structuredClone(reasoning));
        assert.equal(r.consistent, true);
        received = r.view;
        sent = now;
      }
      assert.deepEqual(received, sent);
    }));
  });

  it('notices a lost reasoning update', () => {
    const a = fold(events.slice(0, 2));
    const b = fold(events.slice(2, 3), a);
    const c = fold(events.slice(3, 4), b);
    const lost = diffRunView(b, c);
    const r = applyRunViewUpdate(a, lost.changes, lost.reasoning);
    assert.equal(r.consistent, false);
  });

  it('resends the whole tail when more than the tail arrived at once', () => {
    const a = fold(events.slice(0, 2));
    const big = 'x'.repeat(REASONING_LIMIT_CHARS + 10);
    const b = reduceRunView(a, { type: 'delta', attempt: 1, text: big });
    const { reasoning } = diffRunView(a, b);
    assert.equal(reasoning?.reset, true);
    assert.equal(reasoning?.append, b.reasoning.text);
  });

  it('appendBounded keeps the tail and drops to three quarters past the limit', () => {
    assert.equal(appendBounded('abc', 'de', 10), 'abcde');
    assert.equal(appendBounded('abcdefgh', 'ijk', 10), 'efghijk'.slice(-7));
    assert.equal(appendBounded('abcdefgh', 'ijk', 10).length, 7);
  });
});

describe('parseRunView (stored state is untrusted)', () => {
  const full = fold([
    { type: 'budget-estimated', tokens: 900, source: 'tale' },
    { type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 900 },
    { type: 'delta', attempt: 1, text: 'hello' },
    spend('attempt', 10, 4, null),
    answer('4', 0.75, 14, true),
    answer('4', 0.95, 30),
    { type: 'stopped', reason: 'converged', message: 'ok' },
  ]);

  it('round-trips a real view through JSON', () => {
    assert.deepEqual(parseRunView(JSON.parse(JSON.stringify(full))), full);
  });

  it('keeps a repeated chain\'s row as a copy, and a not-sampling stop, through JSON', () => {
    const repeated = fold([
      { type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 900 },
      { type: 'attempt-finished', attempt: 1, finishReason: 'stop', answer: '4', completionTokens: 30, text: 'Work. \\boxed{4}' },
      { type: 'attempt-started', attempt: 2, purpose: 'attempt', maxTokens: 900 },
      { type: 'attempt-finished', attempt: 2, finishReason: 'stop', answer: '4', completionTokens: 30, text: 'Work. \\boxed{4}', duplicateOf: 1 },
      { type: 'stopped', reason: 'not-sampling', message: 'This endpoint is not sampling: extra chains add nothing (chains 2 and 3 repeated chain 1).' },
    ]);
    assert.deepEqual(repeated.attempts.map((a) => a.duplicateOf), [undefined, 1]);
    const back = parseRunView(JSON.parse(JSON.stringify(repeated)))!;
    assert.deepEqual(back, repeated);
    assert.equal(back.status.reason, 'not-sampling');
  });

  it('shows a value tree\'s steps with their depth, the step they continue and the value their value call gave, through JSON', () => {
    const tree = fold([
      { type: 'attempt-started', attempt: 1, purpose: 'step', maxTokens: 256 },
      { type: 'attempt-finished', attempt: 1, finishReason: 'stop', answer: undefined, completionTokens: 20, text: 'Multiply.', step: { depth: 1 } },
      { type: 'attempt-started', attempt: 2, purpose: 'value', maxTokens: 8 },
      { type: 'attempt-finished', attempt: 2, finishReason: 'stop', answer: undefined, completionTokens: 1, text: '8', scores: { attempt: 1, value: 0.8 } },
      { type: 'attempt-started', attempt: 3, purpose: 'step', maxTokens: 256 },
      { type: 'attempt-finished', attempt: 3, finishReason: 'stop', answer: '42', completionTokens: 12, text: '\\boxed{42}', step: { depth: 2, parent: 1 } },
    ]);
    assert.deepEqual(tree.attempts.map((a) => a.step), [{ depth: 1, value: 0.8 }, undefined, { depth: 2, parent: 1 }]);
    assert.equal(tree.attempts[1].scored, 1, 'the value call is shown under the step it scored');
    assert.deepEqual(parseRunView(JSON.parse(JSON.stringify(tree))), tree);
    const tampered = JSON.parse(JSON.stringify(tree));
    tampered.attempts[0].step = { depth: 1, value: 7 };
    tampered.attempts[2].step = { depth: 'deep' };
    const back = parseRunView(tampered)!;
    assert.deepEqual([back.attempts[0].step, back.attempts[2].step], [{ depth: 1 }, undefined], 'a value outside 0-1 or a depth that is no count is dropped');
  });

  it('rejects what is not a view', () => {
    for (const bad of [undefined, null, 42, 'x', [], {}, { version: 99, header: full.header }, { version: 1, header: { ...full.header, strategy: 'evil' } }]) {
      assert.equal(parseRunView(bad), undefined, JSON.stringify(bad));
    }
  });

  it('drops malformed parts and recomputes the curve rather than trusting it', () => {
    const tampered = JSON.parse(JSON.stringify(full));
    tampered.answers.push({ answer: 5, text: 'x' }, 'junk');
    tampered.curve.points = [{ tokens: 1, confidence: 99 }];
    tampered.curve.anytimeIndex = 7;
    tampered.status.reason = 'pwned';
    tampered.budget.spentTokens = 'lots';
    const v = parseRunView(tampered)!;
    assert.equal(v.answers.length, 2);
    assert.deepEqual(v.curve.points, full.curve.points);
    assert.equal(v.curve.anytimeIndex, full.curve.anytimeIndex);
    assert.equal(v.status.reason, null);
    assert.equal(v.budget.spentTokens, 0);
  });
});

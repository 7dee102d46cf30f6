import * as assert from 'node:assert/strict';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { applyRunViewUpdate, initialRunView, reduceRunView, type RunView } from '../../src/core/view/runView';
import { RunViewPublisher } from '../../src/core/view/runViewPublisher';
import type { SnapshotMessage, UpdateMessage } from '../../src/protocol';
import { ScriptedClock } from '../../tools/scriptedClock';
import { spendRecord } from '../support/scripted';

const header = { runId: 'r', question: 'q', model: 'm', strategy: 'single' as const, caps: [], providerBillsInDollars: false };

function setup() {
  const clock = new ScriptedClock();
  const posted: Array<SnapshotMessage | UpdateMessage> = [];
  const publisher = new RunViewPublisher(initialRunView(header), (m) => posted.push(structuredClone(m)), clock, 33);
  return { clock, posted, publisher };
}

/** What a webview would hold after receiving these messages in order. */
function receive(messages: Array<SnapshotMessage | UpdateMessage>): RunView | undefined {
  let view: RunView | undefined;
  let seq = -1;
  for (const m of messages) {
    if (m.type === 'snapshot') {
      view = m.view;
    } else {
      assert.equal(m.seq, seq + 1, 'updates are numbered without gaps');
      const r = applyRunViewUpdate(view!, m.changes, m.reasoning);
      assert.ok(r.consistent);
      view = r.view;
    }
    seq = m.seq;
  }
  return view;
}

describe('RunViewPublisher', () => {
  it('posts nothing before the webview is ready, then a complete snapshot', () => {
    const { clock, posted, publisher } = setup();
    publisher.push({ type: 'budget-estimated', tokens: 500, source: 'fixed' });
    clock.advance(1000);
    assert.equal(posted.length, 0);
    publisher.webviewReady();
    assert.equal(posted.length, 1);
    assert.equal(posted[0].type, 'snapshot');
    assert.equal((posted[0] as SnapshotMessage).view.budget.budgetTokens, 500);
  });

  it('posts at most once per interval however fast events come, and the receiver ends with the same view', () => {
    const { clock, posted, publisher } = setup();
    publisher.webviewReady();
    publisher.push({ type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 10_000 });
    for (let i = 0; i < 1000; i++) {
      publisher.push({ type: 'delta', attempt: 1, text: `t${i} ` });
      clock.advance(1); // 1,000 events a second
    }
    clock.advance(100);
    const times: number[] = [];
    // Re-run to collect post times: the clock is deterministic.
    const again = setup();
    again.publisher.webviewReady();
    again.publisher.push({ type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 10_000 });
    for (let i = 0; i < 1000; i++) {
      again.publisher.push({ type: 'delta', attempt: 1, text: `t${i} ` });
      const before = again.posted.length;
      again.clock.advance(1);
      if (again.posted.length > before) {
        times.push(again.clock.now());
      }
    }
    for (let i = 1; i < times.length; i++) {
      assert.ok(times[i] - times[i - 1] >= 33, `posts ${times[i - 1]} and ${times[i]} are at least 33 ms apart`);
    }
    assert.ok(posted.length <= Math.ceil(1000 / 33) + 2, `${posted.length} posts`);
    assert.equal(publisher.stats.events, 1001);
    assert.equal(publisher.stats.posts, posted.length);
    assert.deepEqual(receive(posted), publisher.view);
  });

  it('sends a fresh snapshot when a hidden webview comes back, and nothing while it is hidden', () => {
    const { clock, posted, publisher } = setup();
    publisher.webviewReady();
    publisher.webviewGone();
    const events: RunEvent[] = [
      { type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 100 },
      { type: 'delta', attempt: 1, text: 'hidden text' },
    ];
    events.forEach((e) => publisher.push(e));
    clock.advance(500);
    assert.equal(posted.length, 1);
    publisher.webviewReady();
    assert.equal(posted.length, 2);
    assert.equal(posted[1].type, 'snapshot');
    assert.equal((posted[1] as SnapshotMessage).view.reasoning.text, 'hidden text');
    assert.ok(posted[1].seq > posted[0].seq);
  });

  it('flush posts pending changes at once (the run ended)', () => {
    const { posted, publisher } = setup();
    publisher.webviewReady();
    publisher.push({ type: 'stopped', reason: 'stopped', message: '' });
    publisher.flush();
    assert.equal(posted.length, 2);
    assert.equal((posted[1] as UpdateMessage).changes.status?.reason, 'stopped');
    publisher.flush();
    assert.equal(posted.length, 2, 'nothing new, nothing posted');
  });

  it('posts each answer apart, however close together they come, and in order', () => {
    const { clock, posted, publisher } = setup();
    publisher.webviewReady();
    const answer = (n: number): RunEvent => ({ type: 'answer', answer: String(n), text: `chain ${n}`, confidence: 0.5, tokensSoFar: 100 * n, changed: true, ruleState: '' });
    for (let n = 1; n <= 3; n++) {
      publisher.push({ type: 'attempt-started', attempt: n, purpose: 'attempt', maxTokens: 500 });
      publisher.push({ type: 'delta', attempt: n, text: `step ${n}` });
      publisher.push(answer(n));
      clock.advance(1); // three answers within 3 ms: one post interval
    }
    clock.advance(100);
    // What the page holds after each message: every answer count from 0 to 3, none skipped.
    const counts = posted.map((_, i) => receive(posted.slice(0, i + 1))!.answers.length);
    assert.deepEqual([...new Set(counts)], [0, 1, 2, 3]);
    assert.deepEqual(receive(posted), publisher.view);
  });

  it('folds deltas in order with the other events, whether the view is read between them or not', () => {
    // Two attempts stream at once (parallel choices), a spend and a new attempt land between deltas.
    const events: RunEvent[] = [
      { type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 1000 },
      { type: 'attempt-started', attempt: 2, purpose: 'attempt', maxTokens: 1000 },
      { type: 'delta', attempt: 2, text: 'b1 ' },
      { type: 'delta', attempt: 2, text: 'b2 ' },
      { type: 'delta', attempt: 1, text: 'a1 ' },
      { type: 'delta', attempt: 2, text: 'b3 ' },
      { type: 'delta', attempt: 2, text: '' },
      { type: 'spend', record: spendRecord({ time: 't', runId: 'r', sessionId: undefined, purpose: 'estimate', providerId: 'p', model: 'm', promptTokens: 5, completionTokens: 7, dollars: null }) },
      { type: 'delta', attempt: 2, text: 'b4 ' },
      { type: 'attempt-finished', attempt: 1, finishReason: 'stop', answer: undefined, completionTokens: 3 },
      { type: 'attempt-started', attempt: 3, purpose: 'forced-answer', maxTokens: 50 },
      { type: 'delta', attempt: 2, text: 'b5 ' },
      { type: 'delta', attempt: 3, text: 'c1 ' },
      { type: 'delta', attempt: 3, text: 'c2' },
    ];
    const expected = events.reduce(reduceRunView, initialRunView(header));
    assert.equal(expected.reasoning.text, 'c1 c2');
    assert.equal(expected.streamingChars['2'], 15);
    for (const readEvery of [1, 2, 3, events.length]) {
      const { clock, posted, publisher } = setup();
      publisher.webviewReady();
      events.forEach((e, i) => {
        publisher.push(e);
        if ((i + 1) % readEvery === 0) {
          assert.deepEqual(publisher.view, events.slice(0, i + 1).reduce(reduceRunView, initialRunView(header)), `after event ${i + 1}`);
        }
      });
      clock.advance(100);
      assert.deepEqual(publisher.view, expected);
      assert.deepEqual(receive(posted), expected);
      assert.equal(publisher.stats.events, events.length);
    }
  });

  it('a replaced view drops deltas not yet folded into the old one', () => {
    const { posted, publisher } = setup();
    publisher.webviewReady();
    publisher.push({ type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 100 });
    publisher.push({ type: 'delta', attempt: 1, text: 'old run text' });
    const restored = initialRunView({ ...header, runId: 'restored' });
    publisher.replaceView(restored);
    assert.deepEqual(publisher.view, restored);
    assert.equal((posted[posted.length - 1] as SnapshotMessage).view.reasoning.text, '');
  });
});

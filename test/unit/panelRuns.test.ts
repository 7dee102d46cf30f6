import * as assert from 'node:assert/strict';
import { PANEL_RUNS_LIMIT, parseRunList, runListEntry, runsToDrop, type RunListEntry } from '../../src/core/view/panelRuns';
import { initialRunView, reduceRunView, type RunView } from '../../src/core/view/runView';

const view = (runId: string, question = 'What is 2 + 2?'): RunView =>
  initialRunView({ runId, question, model: 'm', strategy: 'single', caps: [], providerBillsInDollars: false });
const answered = (v: RunView, answer: string, answerKind?: 'short' | 'code'): RunView => reduceRunView(v, {
  type: 'answer', answer, text: `so ${answer}`, confidence: 0.5, tokensSoFar: 10, changed: true, ruleState: '', ...(answerKind ? { answerKind } : {}),
});
const entries = (states: RunListEntry['state'][]) => states.map((state, i) => ({ runId: `r${i}`, state }));

describe('panel runs: the list a reused panel keeps', () => {
  it('lists a run by its short question, strategy, state and short best answer', () => {
    const run = answered(view('a', 'What is the sum of the composite numbers between 10 and 20, not including them?'), '  59 ');
    assert.deepEqual(runListEntry(run), { runId: 'a', title: 'What is the sum of the composite…', strategy: 'single', state: 'running', answer: '59' });
    const ended = reduceRunView(run, { type: 'stopped', reason: 'converged', message: '' });
    assert.equal(runListEntry(ended).state, 'finished');
    assert.equal(runListEntry(answered(view('b'), 'x'.repeat(50))).answer, `${'x'.repeat(23)}…`);
    // Code and prose are not values: the entry names no answer.
    assert.equal(runListEntry(answered(view('c'), 'function f() {}', 'code')).answer, undefined);
    assert.equal(runListEntry(view('d')).answer, undefined);
  });

  it('drops the oldest finished runs past the limit, never the shown one nor a running one', () => {
    const finished = entries(Array(PANEL_RUNS_LIMIT).fill('finished'));
    assert.deepEqual(runsToDrop(finished, 'r0'), []);
    const more = entries([...Array(PANEL_RUNS_LIMIT).fill('finished'), 'running', 'running']);
    // Two over: r0 is shown, so r1 and r2 go.
    assert.deepEqual(runsToDrop(more, 'r0'), ['r1', 'r2']);
    const running = entries(['running', 'interrupted', 'running', 'finished']);
    assert.deepEqual(runsToDrop(running, 'r3', 2), ['r1']);
    assert.deepEqual(runsToDrop(entries(['running', 'running', 'running']), 'r2', 1), [], 'running runs stay even past the limit');
  });

  it('accepts a well-formed list and nothing else (the page checks what it is sent)', () => {
    const good = { runs: [runListEntry(view('a')), runListEntry(answered(view('b'), '4'))], shown: 'b' };
    assert.deepEqual(parseRunList(good), good);
    const bad: unknown[] = [
      null, 'runs', {}, { runs: [], shown: 'a' }, { runs: good.runs, shown: 'zzz' }, { runs: good.runs, shown: '<b>' },
      { runs: [{ ...good.runs[0], strategy: 'debate' }], shown: 'a' },
      { runs: [{ ...good.runs[0], state: 'exploded' }], shown: 'a' },
      { runs: [{ ...good.runs[0], runId: 'a b' }], shown: 'a b' },
      { runs: [{ ...good.runs[0], title: 42 }], shown: 'a' },
      { runs: [{ ...good.runs[0], answer: {} }], shown: 'a' },
      { runs: Array.from({ length: 101 }, () => good.runs[0]), shown: 'a' },
    ];
    for (const raw of bad) {
      assert.equal(parseRunList(raw), undefined, JSON.stringify(raw)?.slice(0, 120));
    }
    // Over-long texts are cut, unknown fields left behind.
    const long = parseRunList({ runs: [{ ...good.runs[0], title: 't'.repeat(500), answer: 'a'.repeat(500), extra: '<script>' }], shown: 'a' });
    assert.equal(long?.runs[0].title.length, 100);
    assert.equal(long?.runs[0].answer?.length, 24);
    assert.equal('extra' in (long?.runs[0] ?? {}), false);
  });
});

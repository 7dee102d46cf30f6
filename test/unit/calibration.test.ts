import * as assert from 'assert';
import { CapRefusal } from '../../src/core/budget/modelCaller';
import { calibrateBudgets } from '../../src/core/reasoning/calibration';
import { ScriptedCaller } from '../support/scripted';

/** A model whose answer is right while the stated budget is at least `floor`; it spends min(budget, natural) tokens. */
const budgetSensitiveModel = (natural: number, floor: number, refuseAfter = Infinity) => new ScriptedCaller({
  model: 'm', promptTokens: 20, roomTokens: 1e6,
  otherwise: (spec, _purpose, call) => {
    if (call > refuseAfter) {
      return new CapRefusal('daily-tokens', 'daily token cap reached', 1, 1);
    }
    const m = /less than (\d+) tokens/.exec(spec.messages[spec.messages.length - 1].content);
    const budget = m ? Number(m[1]) : Infinity;
    return { text: budget >= floor ? 'work \\boxed{42}' : 'work \\boxed{41}', tokens: Math.min(natural, budget + 5, spec.maxTokens) };
  },
});

describe('calibrateBudgets (TALE budget search)', () => {
  it('halves while correct and cheaper, stops at the first failure', async () => {
    const model = budgetSensitiveModel(400, 60);
    const progress: string[] = [];
    const report = await calibrateBudgets({
      caller: model, examples: [{ question: 'q1', answer: '42' }], totalTokenCap: 100_000,
      signal: new AbortController().signal, onProgress: (p) => progress.push(p.message),
    });
    // vanilla 400 -> 200 ok (205? no: min(400, 205)) -> 100 ok -> 50 fails
    assert.strictEqual(report.results[0].vanillaTokens, 400);
    assert.strictEqual(report.results[0].budget, 100);
    assert.strictEqual(report.results[0].neededTokens, 105);
    assert.strictEqual(report.results[0].calls, 4);
    assert.strictEqual(report.stoppedEarly, undefined);
    assert.ok(progress.some((m) => /budget of 50/.test(m)));
  });

  it('skips an example whose vanilla answer is wrong', async () => {
    const report = await calibrateBudgets({ caller: budgetSensitiveModel(100, 10), examples: [{ question: 'q', answer: '7' }], totalTokenCap: 10_000, signal: new AbortController().signal });
    assert.strictEqual(report.results[0].neededTokens, undefined);
    assert.strictEqual(report.results[0].calls, 1);
  });

  it('never passes the total token cap', async () => {
    const model = budgetSensitiveModel(400, 60);
    const examples = Array.from({ length: 10 }, (_, i) => ({ question: `q${i}`, answer: '42' }));
    const report = await calibrateBudgets({ caller: model, examples, totalTokenCap: 2000, signal: new AbortController().signal });
    assert.strictEqual(report.stoppedEarly, 'token-cap');
    assert.ok(report.tokensSpent <= 2000, `${report.tokensSpent}`);
  });

  it('ends on a cap refusal and on cancellation, keeping results so far', async () => {
    const refused = await calibrateBudgets({ caller: budgetSensitiveModel(400, 60, 2), examples: [{ question: 'a', answer: '42' }, { question: 'b', answer: '42' }], totalTokenCap: 1e6, signal: new AbortController().signal });
    assert.strictEqual(refused.stoppedEarly, 'cap-refusal');
    assert.strictEqual(refused.results.length, 1);
    const controller = new AbortController();
    controller.abort();
    const cancelled = await calibrateBudgets({ caller: budgetSensitiveModel(400, 60), examples: [{ question: 'a', answer: '42' }], totalTokenCap: 1e6, signal: controller.signal });
    assert.strictEqual(cancelled.stoppedEarly, 'aborted');
  });
});

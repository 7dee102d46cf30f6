import * as assert from 'node:assert/strict';
import { chatAskAboutCode } from '../../src/core/chat/chatCodeAsk';
import { ACTION_QUESTIONS } from '../../src/core/reasoning/answerKinds';

describe('@budget with code: the question around a reference', () => {
  const where = '`src/sum.ts` lines 2-8';

  it('keeps the question, with the reference read as where the code is from', () => {
    const r = chatAskAboutCode(undefined, `why does ${where} return 45?`, 'why does  return 45?');
    assert.deepEqual(r, { ask: { kind: 'reason', question: `why does ${where} return 45?` } });
  });

  it('a reference alone asks to explain the code, with or without a budget', () => {
    assert.deepEqual(chatAskAboutCode(undefined, where, ''), { ask: { kind: 'reason', question: ACTION_QUESTIONS.explain }, action: 'explain' });
    assert.deepEqual(chatAskAboutCode('budget', `2000 ${where}`, '2000 '), { ask: { kind: 'reason', question: ACTION_QUESTIONS.explain, budgetTokens: 2000 }, action: 'explain' });
    assert.deepEqual(chatAskAboutCode('estimate', where, ''), { ask: { kind: 'estimate', question: ACTION_QUESTIONS.explain }, action: 'explain' });
  });

  it('a bad budget is still refused as a bad budget', () => {
    assert.equal(chatAskAboutCode('budget', `lots ${where}`, 'lots ').ask.kind, 'invalid');
  });
});

import * as assert from 'node:assert/strict';
import { answerPayload } from '../../src/core/view/answerPayload';
import type { ProgressiveAnswer } from '../../src/core/view/runView';

const base = { tokensSoFar: 100, confidence: 1, changed: false, ruleState: '' };

describe('answer payload: what Copy and Insert take', () => {
  it('a code answer is its code, as code, in one block', () => {
    const a: ProgressiveAnswer = { ...base, answer: 'const x = 1;', text: 'Because...\n```ts\nconst x = 1;\n```', answerKind: 'code', language: 'ts' };
    assert.deepEqual(answerPayload(a), { text: 'const x = 1;', code: true, language: 'ts' });
    assert.deepEqual(answerPayload(a, 0), { text: 'const x = 1;', code: true, language: 'ts' });
    assert.equal(answerPayload(a, 1), undefined);
  });

  it('a prose answer is text; its blocks are code', () => {
    const prose = 'It adds one too few.\n\n```ts\nfor (let i = 1; i <= n; i++) {}\n```\n\nOr:\n\n```py\nsum(range(n + 1))\n```';
    const a: ProgressiveAnswer = { ...base, answer: prose, text: `<think>x</think>${prose}`, answerKind: 'prose' };
    assert.deepEqual(answerPayload(a), { text: prose, code: false });
    assert.deepEqual(answerPayload(a, 1), { text: 'sum(range(n + 1))', code: true, language: 'py' });
    assert.equal(answerPayload(a, 2), undefined);
  });

  it('a short answer is its value; its blocks are those of the chain behind it', () => {
    const a: ProgressiveAnswer = { ...base, answer: '75', text: 'Sum:\n```\n11+13+...\n```\nSo \\boxed{75}' };
    assert.deepEqual(answerPayload(a), { text: '75', code: false });
    assert.deepEqual(answerPayload(a, 0), { text: '11+13+...', code: true });
  });
});

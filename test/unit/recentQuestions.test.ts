import * as assert from 'node:assert/strict';
import { RECENT_QUESTION_MAX_CHARS, RECENT_QUESTIONS_LIMIT, recentQuestions, rememberQuestion } from '../../src/core/recentQuestions';

describe('recent questions', () => {
  it('puts the newest first, moves a repeated one to the front, and keeps no duplicates', () => {
    let list: string[] = [];
    for (const q of ['Why does it loop?', 'What does it return?', '  Why does it loop?  ']) {
      list = rememberQuestion(list, q);
    }
    assert.deepEqual(list, ['Why does it loop?', 'What does it return?']);
  });

  it('is bounded, and forgets blank and very long questions rather than storing them', () => {
    let list: string[] = [];
    for (let i = 0; i < RECENT_QUESTIONS_LIMIT + 5; i++) {
      list = rememberQuestion(list, `question ${i}`);
    }
    assert.equal(list.length, RECENT_QUESTIONS_LIMIT);
    assert.equal(list[0], `question ${RECENT_QUESTIONS_LIMIT + 4}`);
    assert.deepEqual(rememberQuestion(list, '   '), list);
    assert.deepEqual(rememberQuestion(list, 'x'.repeat(RECENT_QUESTION_MAX_CHARS + 1)), list);
  });

  it('reads whatever was stored as a clean list', () => {
    assert.deepEqual(recentQuestions(undefined), []);
    assert.deepEqual(recentQuestions('not a list'), []);
    assert.deepEqual(recentQuestions(['a', 3, null, 'a', ' b ', '']), ['a', 'b']);
  });
});

import * as assert from 'node:assert/strict';
import { checkQuestion, MAX_QUESTION_CHARS } from '../../src/core/question';

describe('question checks (before any request)', () => {
  it('trims and accepts a normal question', () => {
    assert.deepEqual(checkQuestion('  What is 2+2?\r\n'), { ok: true, question: 'What is 2+2?' });
  });

  for (const [name, input] of [['undefined', undefined], ['empty', ''], ['whitespace', ' \n\t  ']] as const) {
    it(`refuses ${name} input with a clear message`, () => {
      const r = checkQuestion(input);
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.message : '', /question|select/i);
    });
  }

  it('refuses a 2 MB selection and says how big it is', () => {
    const r = checkQuestion('x'.repeat(2 * 1024 * 1024));
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', /2\.1 MB/);
  });

  it('accepts a question right at the size limit', () => {
    assert.equal(checkQuestion('y'.repeat(MAX_QUESTION_CHARS)).ok, true);
  });

  it('refuses binary text', () => {
    const binary = Array.from({ length: 400 }, (_, i) => String.fromCharCode(i % 32)).join('');
    const r = checkQuestion(binary);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', /binary/);
  });

  it('accepts text with a few tabs and form feeds', () => {
    assert.equal(checkQuestion('a\tb\fc what is this?').ok, true);
  });
});

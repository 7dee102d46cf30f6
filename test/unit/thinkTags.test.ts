import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { ThinkTagSplitter, type ThinkSegment } from '../../src/core/providers/thinkTags';
import { withThinkingSection, withoutThinking } from '../../src/core/reasoning/answerKinds';

function split(chunks: string[]): { thinking: string; visible: string; segments: ThinkSegment[] } {
  const splitter = new ThinkTagSplitter();
  const segments = [...chunks.flatMap((c) => splitter.feed(c)), ...splitter.flush()];
  return {
    segments,
    thinking: segments.filter((s) => s.thinking).map((s) => s.text).join(''),
    visible: segments.filter((s) => !s.thinking).map((s) => s.text).join(''),
  };
}

describe('inline <think> tags', () => {
  it('routes the tagged part to thinking and the rest to the reply', () => {
    const r = split(['<think>\nLet me see: 6*7', ' = 42.\n</think>\n\nThe answer is \\boxed{42}.']);
    assert.equal(r.thinking, '\nLet me see: 6*7 = 42.\n');
    assert.equal(r.visible, '\n\nThe answer is \\boxed{42}.');
  });

  it('holds back a tag split across chunks, and only that', () => {
    const splitter = new ThinkTagSplitter();
    assert.deepEqual(splitter.feed('Hello <thi'), [{ thinking: false, text: 'Hello ' }]);
    assert.deepEqual(splitter.feed('nk>deep'), [{ thinking: true, text: 'deep' }]);
    assert.deepEqual(splitter.feed(' thought</'), [{ thinking: true, text: ' thought' }]);
    assert.deepEqual(splitter.feed('think>done'), [{ thinking: false, text: 'done' }]);
    assert.deepEqual(splitter.flush(), []);
  });

  it('a "<" that starts no tag is not held back at the end', () => {
    assert.equal(split(['a < b', ' and x<']).visible, 'a < b and x<');
  });

  it('any chunking of a tagged reply splits the same way (property)', () => {
    const text = fc.array(fc.constantFrom('a', ' ', '<', '>', '/', 't', 'h', 'i', 'n', 'k', '\n'), { maxLength: 30 }).map((cs) => cs.join(''));
    fc.assert(fc.property(text, text, text, fc.array(fc.nat(80), { maxLength: 6 }), (before, inside, after, cuts) => {
      fc.pre(!`${before}${inside}`.includes('<think>') && !inside.includes('</think>') && !`${inside}${after}`.includes('</think>'));
      const whole = `${before}<think>${inside}</think>${after}`;
      const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((x, y) => x - y);
      const chunks = [0, ...points, whole.length].slice(1).map((end, i, ends) => whole.slice(i === 0 ? 0 : ends[i - 1], end));
      const r = split(chunks);
      assert.equal(r.thinking, inside);
      assert.equal(r.visible, before + after);
    }), { numRuns: 500 });
  });

  it('a chain shown with its thinking section reads back as its reply', () => {
    const shown = withThinkingSection('step 1\nstep 2', 'So \\boxed{3}.');
    assert.match(shown, /^<think>\nstep 1\nstep 2\n<\/think>\n\nSo/);
    assert.equal(withoutThinking(shown), 'So \\boxed{3}.');
    assert.equal(withThinkingSection(undefined, 'x'), 'x');
  });
});

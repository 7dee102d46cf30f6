import * as assert from 'node:assert/strict';
import type { AttemptView } from '../../src/core/view/runView';
import { PREVIEW_CHARS, attemptLine, looksLikeCode, previewLine } from '../../src/webview/panelText';

describe('panel text for code and prose runs', function () {
  const attempt: AttemptView = { attempt: 2, purpose: 'attempt', maxTokens: 1600, finishReason: 'stop', answer: 'B', completionTokens: 1234 };

  it('names a code or prose attempt by its cluster, a short one by its value', function () {
    assert.equal(attemptLine(attempt, true), '#2 chain · stop · 1.2k output tokens · → answer B');
    assert.equal(attemptLine({ ...attempt, answer: '42' }, false), '#2 chain · stop · 1.2k output tokens · → 42');
    assert.equal(attemptLine({ ...attempt, finishReason: null, answer: null, completionTokens: null }, true), '#2 chain · streaming · up to 1.6k');
  });

  it('a chain that repeated an earlier one says so and that it was not counted', function () {
    assert.equal(attemptLine({ ...attempt, answer: '42', duplicateOf: 1 }, false), '#2 chain · stop · 1.2k output tokens · → 42 · same as #1, not counted');
  });

  it('a value tree\'s step says its depth, the step it continues and its value once scored', function () {
    const step: AttemptView = { attempt: 5, purpose: 'step', maxTokens: 256, finishReason: 'stop', answer: null, completionTokens: 140 };
    assert.equal(attemptLine({ ...step, step: { depth: 2, parent: 1, value: 0.8 } }, false), '#5 tree step · depth 2 after #1 · value 0.80 · stop · 140 output tokens');
    assert.equal(attemptLine({ ...step, step: { depth: 1 } }, false), '#5 tree step · depth 1 · stop · 140 output tokens');
    assert.equal(attemptLine({ ...step, attempt: 6, purpose: 'value', completionTokens: 1, scored: 5 }, false), '#6 step value of #5 · stop · 1 output token');
  });

  it('previews an answer by its first line: code as written, prose without markdown marks', function () {
    assert.equal(previewLine('def f(x):\n    return x', 'code'), 'def f(x): …');
    assert.equal(previewLine('x = 1', 'code'), 'x = 1');
    assert.equal(previewLine('## **Defaults** are `evaluated` once\n\nMore.', 'prose'), 'Defaults are evaluated once');
    assert.equal(previewLine('```python\nprint(1)\n```', 'prose'), 'print(1)');
    const long = previewLine('a'.repeat(500), 'prose');
    assert.equal(long.length, PREVIEW_CHARS);
    assert.ok(long.endsWith('…'));
  });

  it('tells a question that is code from prose, math and markdown with fences', function () {
    assert.equal(looksLikeCode('def mean(values):\n    total = 0\n    for v in values:\n        total += v\n    return total / len(values)'), true);
    assert.equal(looksLikeCode('function f() {\n  return 1;\n}'), true);
    assert.equal(looksLikeCode('Why does this fail?\nIt worked yesterday.\nNothing changed since.'), false);
    assert.equal(looksLikeCode('Explain this:\n```js\nlet a = 1;\n```\nplease'), false, 'fences render as markdown');
    assert.equal(looksLikeCode('Let $f(x) = x^2$.\nFind f(3),\nthen f(4).'), false, 'math');
    assert.equal(looksLikeCode('x = 1\ny = 2'), false, 'too short to tell');
  });
});

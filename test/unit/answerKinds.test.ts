import * as assert from 'node:assert/strict';
import {
  answerKindFor, classifyQuestion, extractKindAnswer, fencedBlocks, isUnknown, selectionIsText, withoutThinking,
  type AnswerKind, type QuestionContext,
} from '../../src/core/reasoning/answerKinds';
import { composeQuestion, describeContext, fenceFor } from '../../src/core/run/questionContext';

const context: QuestionContext = { path: 'src/sum.ts', languageId: 'typescript', startLine: 12, endLine: 18, code: 'function sum(xs: number[]) {\n  let s = 0;\n  for (let i = 1; i < xs.length; i++) s += xs[i];\n  return s;\n}' };

describe('classifyQuestion', () => {
  const table: Array<[string, AnswerKind, Parameters<typeof classifyQuestion>[1]?]> = [
    ['What is 6 * 7?', 'short'],
    ['Find the remainder when $2^{100}$ is divided by 7.', 'short'],
    ['How many positive divisors does 36 have?', 'short'],
    ['Janet has 3 apples and buys 5 more. How many does she have?', 'short'],
    ['Let $x$ be a real number such that $x^2 = 4$. What is the largest $x$?', 'short'],
    ['Explain the difference between let and const in JavaScript', 'prose'],
    ['Why does this throw a TypeError?', 'prose', { context }],
    ['How does the event loop work in Node.js?', 'prose'],
    ['What is the difference between a process and a thread?', 'prose'],
    ['Describe how HTTPS keeps a connection private.', 'prose'],
    ['Write a function that reverses a linked list in Python.', 'code'],
    ['Implement a debounce function in TypeScript', 'code'],
    ['Refactor this code to use async/await', 'code', { context }],
    ['Find the bug in this loop', 'code'],
    ['Write unit tests for the parser module', 'code'],
    ['Is this thread-safe?', 'prose', { context }],
    ['What happens when 2 + 2 is evaluated here?', 'prose', { context }],
    ['anything at all', 'code', { action: 'find-bug', context }],
    ['anything at all', 'code', { action: 'improve', context }],
    ['anything at all', 'code', { action: 'write-tests', context }],
    ['anything at all', 'prose', { action: 'explain', context }],
    ['Tell me about monads', 'prose'],
    ['hello', 'prose'],
  ];
  for (const [question, kind, options] of table) {
    it(`${JSON.stringify(question)}${options?.action ? ` (${options.action})` : ''}${options?.context ? ' about code' : ''} → ${kind}`, () => {
      assert.equal(classifyQuestion(question, options), kind);
    });
  }

  it('a MATH diagram in Asymptote is not code to write', () => {
    assert.equal(classifyQuestion('[asy]\nimport graph;\ndraw(circle((0,0),4));\n[/asy]\nThe circles have radii $4$ and $6$. Find the area of the ring.'), 'short');
  });

  it('the setting wins over the classifier unless it is auto', () => {
    assert.equal(answerKindFor('prose', 'What is 6 * 7?'), 'prose');
    assert.equal(answerKindFor('auto', 'What is 6 * 7?'), 'short');
  });

  it('markdown and plain text selections are the question itself', () => {
    assert.ok(selectionIsText('markdown') && selectionIsText('plaintext'));
    assert.ok(!selectionIsText('typescript') && !selectionIsText('python'));
  });
});

describe('extractKindAnswer', () => {
  it('code: the last fenced block, with its language', () => {
    const text = 'First a sketch:\n```js\nlet a = 1;\n```\nThe fix:\n```typescript\nfunction f() {\n  return 1;\n}\n```\n';
    const a = extractKindAnswer('code', text)!;
    assert.equal(a.raw, 'function f() {\n  return 1;\n}');
    assert.equal(a.language, 'typescript');
    assert.equal(a.form, 'code-block');
    assert.equal(text.slice(a.offset, a.offset + a.raw.length), a.raw);
  });

  it('code: a four-backtick fence holds a nested three-backtick fence', () => {
    const text = 'Here is the README section:\n````markdown\n# Title\n```sh\nnpm test\n```\n````\n';
    const a = extractKindAnswer('code', text)!;
    assert.equal(a.raw, '# Title\n```sh\nnpm test\n```');
    assert.equal(a.language, 'markdown');
    assert.deepEqual(fencedBlocks(text).map((b) => b.closed), [true]);
  });

  it('code: a tilde fence and an info string with attributes', () => {
    const a = extractKindAnswer('code', 'Answer:\n~~~python title="x.py"\nprint(1)\n~~~')!;
    assert.equal(a.raw, 'print(1)');
    assert.equal(a.language, 'python');
  });

  it('code: a reply cut inside its last block is no answer (a forced answer is asked for)', () => {
    assert.equal(extractKindAnswer('code', 'The fix:\n```ts\nfunction f() {\n  return'), undefined);
  });

  it('code: a reply with no block at all is still read as the answer', () => {
    const a = extractKindAnswer('code', 'def f(x):\n    return x + 1')!;
    assert.equal(a.form, 'unfenced-code');
    assert.equal(a.raw, 'def f(x):\n    return x + 1');
  });

  it('code: a reply whose blocks are all empty gave no code, and is no answer (not its prose read as code)', () => {
    assert.equal(extractKindAnswer('code', 'There is no recorded answer for this code, so here it is unchanged.\n\n```\n\n```'), undefined);
  });

  it('prose: the whole reply minus visible reasoning', () => {
    const a = extractKindAnswer('prose', '<think>they want let vs const</think>\n`const` cannot be reassigned; `let` can.')!;
    assert.equal(a.raw, '`const` cannot be reassigned; `let` can.');
    assert.equal(a.form, 'prose');
  });

  it('short: \\boxed{} as before, and thinking is not mistaken for the answer', () => {
    assert.equal(extractKindAnswer('short', 'So $\\boxed{42}$.')!.raw, '42');
    assert.equal(extractKindAnswer('short', '<think>maybe \\boxed{41}</think>The answer is \\boxed{42}.')!.raw, '42');
  });

  it('never "unknown" as an answer', () => {
    for (const kind of ['short', 'code', 'prose'] as const) {
      assert.equal(extractKindAnswer(kind, kind === 'short' ? '\\boxed{unknown}' : '   '), undefined, kind);
    }
    assert.ok(isUnknown('unknown') && isUnknown(' N/A ') && isUnknown('\\text{unknown}') && !isUnknown('42'));
  });

  it('withoutThinking drops closed, unclosed and orphan-closed reasoning sections', () => {
    assert.equal(withoutThinking('<think>a</think>b'), 'b');
    assert.equal(withoutThinking('b<think>never closed'), 'b');
    assert.equal(withoutThinking('hidden start</think>answer'), 'answer');
  });
});

describe('questions about code', () => {
  it('the question is sent with the code fenced in its language, its path and lines', () => {
    const sent = composeQuestion('Find the bug.', { ...context, before: 'import x from "y";\n', after: '\nexport default sum;' });
    assert.match(sent, /^Find the bug\.\n/);
    assert.match(sent, /`src\/sum\.ts` lines 12-18 \(typescript\)/);
    assert.ok(sent.includes('```typescript\nfunction sum'));
    assert.match(sent, /lines before it \(11-11\)/);
    assert.match(sent, /lines after it \(19-20\)/);
  });

  it('code holding backticks cannot close its fence', () => {
    const code = 'const s = `a ```` b`;';
    assert.equal(fenceFor(code), '`````');
    const sent = composeQuestion('Explain.', { ...context, code });
    const blocks = fencedBlocks(sent);
    assert.equal(blocks[0].code, code);
  });

  it('a question with no context is sent as it is; one line reads "line N"', () => {
    assert.equal(composeQuestion('What is 6 * 7?'), 'What is 6 * 7?');
    assert.equal(describeContext({ ...context, endLine: 12 }), '`src/sum.ts` line 12');
  });
});

import * as assert from 'node:assert/strict';
import { composeQuestion, describeContext } from '../../src/core/run/questionContext';
import { documentContext, fitReplacement, selectedLines, selectionContext } from '../../src/core/run/selectionContext';

// A file as an editor sees it: the text ends with a line break, so the last line is empty.
const FILE = [
  '// Sums for the report.',
  'export function sumTo(n: number): number {',
  '  let total = 0;',
  '  for (let i = 1; i < n; i++) {',
  '    total += i;',
  '  }',
  '  return total;',
  '}',
  '',
  'console.log(sumTo(10));',
  '',
];
const FUNCTION = FILE.slice(1, 8).join('\n');

describe('selection context: the code a question is about', () => {
  it('counts lines from 1, and a selection ending at the start of a line does not include that line', () => {
    assert.deepEqual(selectedLines({ line: 1, character: 0 }, { line: 8, character: 0 }), { startLine: 2, endLine: 8 });
    assert.deepEqual(selectedLines({ line: 1, character: 0 }, { line: 7, character: 1 }), { startLine: 2, endLine: 8 });
    assert.deepEqual(selectedLines({ line: 3, character: 4 }, { line: 3, character: 9 }), { startLine: 4, endLine: 4 });
    // An empty line's start is still that line when the selection starts there too.
    assert.deepEqual(selectedLines({ line: 5, character: 0 }, { line: 5, character: 0 }), { startLine: 6, endLine: 6 });
  });

  it('carries the path, language, lines and code, with whole lines above and below', () => {
    const context = selectionContext({
      path: 'src/sum.ts', languageId: 'typescript', lines: FILE,
      start: { line: 1, character: 0 }, end: { line: 8, character: 0 }, code: `${FUNCTION}\n`, contextLines: 3,
    });
    assert.equal(context.path, 'src/sum.ts');
    assert.equal(context.languageId, 'typescript');
    assert.equal(context.startLine, 2);
    assert.equal(context.endLine, 8);
    assert.equal(context.code, `${FUNCTION}\n`);
    // Only one line above line 2; below: line 9 (empty), 10, and the final empty line 11, which has no line break.
    assert.equal(context.before, '// Sums for the report.\n');
    assert.equal(context.after, '\nconsole.log(sumTo(10));\n');
    assert.equal(describeContext(context), '`src/sum.ts` lines 2-8');
  });

  it('the lines it sends are the ones the composed question labels', () => {
    const context = selectionContext({
      path: 'src/sum.ts', languageId: 'typescript', lines: FILE,
      start: { line: 3, character: 0 }, end: { line: 4, character: 15 }, code: FILE.slice(3, 5).join('\n'), contextLines: 2,
    });
    assert.equal(context.before, 'export function sumTo(n: number): number {\n  let total = 0;\n');
    assert.equal(context.after, '  }\n  return total;\n');
    const sent = composeQuestion('Why?', context);
    assert.match(sent, /The code is `src\/sum\.ts` lines 4-5 \(typescript\):/);
    assert.match(sent, /the lines before it \(2-3\)/);
    assert.match(sent, /And the lines after it \(6-7\)/);
  });

  it('sends no lines around the selection with contextLines 0, and none past the file', () => {
    const none = selectionContext({
      path: 'a.py', languageId: 'python', lines: ['x = 1', 'y = 2'], start: { line: 0, character: 0 }, end: { line: 1, character: 5 }, code: 'x = 1\ny = 2', contextLines: 0,
    });
    assert.equal(none.before, undefined);
    assert.equal(none.after, undefined);
    const edge = selectionContext({
      path: 'a.py', languageId: 'python', lines: ['x = 1', 'y = 2'], start: { line: 0, character: 0 }, end: { line: 1, character: 5 }, code: 'x = 1\ny = 2', contextLines: 50,
    });
    assert.equal(edge.before, undefined);
    assert.equal(edge.after, undefined);
  });

  it('a whole file is lines 1 to its last line with text', () => {
    const text = `${FILE.join('\n')}`;
    assert.deepEqual(documentContext('src/sum.ts', 'typescript', text), { path: 'src/sum.ts', languageId: 'typescript', startLine: 1, endLine: 10, code: text });
    assert.equal(documentContext('one.txt', 'plaintext', 'only').endLine, 1);
    assert.equal(documentContext('empty.txt', 'plaintext', '').endLine, 1);
  });

  it('a replacement keeps the line break of a selection of whole lines', () => {
    assert.equal(fitReplacement('a\nb\n', 'c\nd'), 'c\nd\n');
    assert.equal(fitReplacement('a\r\nb\r\n', 'c'), 'c\r\n');
    assert.equal(fitReplacement('a\nb\n', 'c\n'), 'c\n');
    assert.equal(fitReplacement('a + b', 'a - b'), 'a - b');
  });
});

import * as assert from 'assert';
import { answersEqual, extractAnswer, locateAnswer, normalizeAnswer } from '../../src/core/reasoning/answers';
import { loadMath } from '../../tools/recordedData';

describe('extractAnswer', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['last boxed wins', 'First \\boxed{3}, then finally \\boxed{4}.', '4'],
    ['nested braces', 'So $\\boxed{\\frac{\\sqrt{3}}{2}}$', '\\frac{\\sqrt{3}}{2}'],
    ['fbox', 'answer \\fbox{12}', '12'],
    ['boxed without braces', 'thus $\\boxed 7$', '7'],
    ['GSM8K A:', 'She has 3 + 4 = 7 apples.\nA: 7', '7'],
    ['GSM8K ####', 'Reasoning 2*3=6\n#### 6', '6'],
    ['the answer is', 'So the answer is 42.', '42'],
    ['final answer', 'Final answer: x = 3', 'x = 3'],
    ['last number of final line', 'We add them.\nTotal 12 then 15 apples\n', '15'],
    ['no number in final line', 'Let me think about this.\nI am unsure.', undefined],
    ['box cut off mid-stream', 'so \\boxed{\\frac{1}{', undefined],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => assert.strictEqual(extractAnswer(text), expected));
  }

  it('reports form and offset of the answer', () => {
    const text = 'so \\boxed{42} done';
    const found = locateAnswer(text)!;
    assert.strictEqual(found.form, 'boxed');
    assert.strictEqual(text.slice(found.offset, found.offset + found.raw.length), '42');
    const plain = 'Total\nThe sum is 7 and 9';
    const last = locateAnswer(plain)!;
    assert.strictEqual(last.form, 'last-number');
    assert.strictEqual(plain.slice(last.offset, last.offset + 1), '9');
  });
});

describe('answersEqual / normalizeAnswer', () => {
  const equal: Array<[string, string]> = [
    ['\\frac{1}{2}', '0.5'],
    ['\\frac{1}{2}', '1/2'],
    ['\\dfrac{3}{4}', '\\frac{3}{4}'],
    ['\\tfrac{3}{4}', '0.75'],
    ['\\frac12', '\\frac{1}{2}'],
    ['1,000', '1000'],
    ['900,000,000', '900000000'],
    ['10{,}000', '10000'],
    ['007', '7'],
    ['5.', '5'],
    ['x = 5', '5'],
    ['$5$', '5'],
    ['\\$12.50', '12.5'],
    ['25\\%', '25'],
    ['30^\\circ', '30'],
    ['30^{\\circ}', '30'],
    ['5 \\text{ cm}', '5'],
    ['\\text{(A)}', 'A'],
    ['\\left( 1, 2 \\right)', '(1,2)'],
    ['\\frac{\\sqrt{3}}{2}', '\\frac{\\sqrt3}{2}'],
    ['3\\,000', '3000'],
    ['-\\frac{40}{153}', '-40/153'],
    ['1\\frac{1}{10}', '\\frac{11}{10}'],
    ['37.50', '37.5'],
    ['\\frac{2}{4}', '\\frac{1}{2}'],
    ['4a - 2', '4a-2'],
    ['\\frac{-1}{2}', '-0.5'],
  ];
  const different: Array<[string, string]> = [
    ['\\frac{1}{2}', '\\frac{1}{3}'],
    ['6290000', '6287000'],
    ['12', '1.39'],
    ['4:30', '4:30p..'],
    ['A', 'C'],
    ['\\sqrt{34}+3\\sqrt{10}', '28'],
    ['-4', '4'],
    ['7\\pi', '7'],
    ['1\\frac{8}{91}', '1\\frac{1}{10}'],
    ['9999', '10000'],
  ];
  for (const [a, b] of equal) {
    it(`${a} == ${b}`, () => {
      assert.ok(answersEqual(a, b), `${normalizeAnswer(a)} vs ${normalizeAnswer(b)}`);
      assert.strictEqual(normalizeAnswer(a), normalizeAnswer(b));
    });
  }
  for (const [a, b] of different) {
    it(`${a} != ${b}`, () => assert.ok(!answersEqual(a, b)));
  }
  it('undefined never equals anything', () => {
    assert.ok(!answersEqual(undefined, '1'));
    assert.ok(!answersEqual(undefined, undefined));
  });
});

describe('answers on the recorded MATH chains', () => {
  it('extraction + equivalence agrees with the recorded score in >= 97% of 800 chains', () => {
    const rows = loadMath();
    let agree = 0;
    let total = 0;
    for (const row of rows) {
      row.code.forEach((chain, i) => {
        total++;
        if (answersEqual(extractAnswer(chain), row.gt) === row.score[i]) {
          agree++;
        }
      });
    }
    assert.strictEqual(total, 800);
    assert.ok(agree / total >= 0.97, `agreement ${agree}/${total}`);
  });
});

import * as assert from 'assert';
import { codeDefects, codeLanguage, undefinedNames } from '../../src/core/reasoning/codeChecks';

const fn = (body: string, head = 'def count_up(n):\n    """Return the numbers below n."""\n') => `${head}${body}`;

describe('codeDefects', () => {
  it('finds nothing in whole Python code', () => {
    const code = [
      'import math',
      'from typing import List, Tuple as T',
      '',
      'def close(numbers: List[float], threshold: float) -> bool:',
      '    """True when two numbers are closer than threshold."""',
      '    ordered = sorted(numbers)  # a comment with an apostrophe: don\'t',
      '    for i, (a, b) in enumerate(zip(ordered, ordered[1:])):',
      '        if abs(a - b) < threshold and math.isfinite(a):',
      '            return True',
      '    squares = [x * x for x in numbers if x]',
      '    pairs = {k: v for k, v in zip(squares, numbers)}',
      '    total = sum(map(lambda y: y + 1, squares))',
      '    with open("f") as handle, open(\'g\') as other:',
      '        pass',
      '    try:',
      '        (first, second) = numbers[0], numbers[1]',
      '    except IndexError as error:',
      '        raise ValueError(f"short: {error}") from error',
      '    if (n := len(pairs)) > total:',
      '        print(n, first, second, sep="")',
      '    return False',
    ].join('\n');
    assert.deepStrictEqual(codeDefects(code, 'python'), []);
  });

  it('flags a reply that ran on, as a stuck model writes', () => {
    assert.deepStrictEqual(codeDefects(fn(`    total = n\n    return total\n    ${'#'.repeat(300)}`), 'python'), ['runaway']);
    assert.deepStrictEqual(codeDefects(fn(`    # ${'-'.repeat(76)}\n    return list(range(n))`), 'python'), [], 'a separator line is not a runaway');
  });

  it('flags brackets and strings left open', () => {
    assert.ok(codeDefects(fn('    return [i for i in range(n)'), 'python').includes('unbalanced'));
    assert.ok(codeDefects(fn('    return list(range(n)))'), 'python').includes('unbalanced'));
    assert.ok(codeDefects(fn('    return "numbers'), 'python').includes('unterminated-string'));
    assert.ok(codeDefects(fn('    """never closed\n    return n'), 'python').includes('unterminated-string'));
  });

  it('flags a Python block with no body and an indentation that matches no block', () => {
    assert.deepStrictEqual(codeDefects(fn('    out = []\n    for i in range(n):\n    return out'), 'python'), ['empty-block']);
    assert.ok(codeDefects(fn('    out = []\n    if n:'), 'python').includes('empty-block'), 'a block opened on the last line');
    assert.deepStrictEqual(codeDefects(fn('    if n:\n        out = [1]\n      return out'), 'python'), ['bad-indent']);
    assert.deepStrictEqual(codeDefects(fn('    out = []\n        return out'), 'python'), ['bad-indent']);
  });

  it('flags a function that is only a stub, or documents a result and never returns one', () => {
    assert.deepStrictEqual(codeDefects(fn(''), 'python'), ['stub']);
    assert.deepStrictEqual(codeDefects(fn('    pass'), 'python'), ['stub']);
    assert.deepStrictEqual(codeDefects(fn('    raise NotImplementedError("todo")'), 'python'), ['stub']);
    assert.deepStrictEqual(codeDefects(fn('    out = list(range(n))\n    print(out)'), 'python'), ['no-return']);
    assert.deepStrictEqual(codeDefects(fn('    yield from range(n)'), 'python'), []);
    assert.deepStrictEqual(codeDefects('def main():\n    print("hi")', 'python'), [], 'an undocumented procedure may return nothing');
  });

  it('flags a name nothing defines: an unwritten helper, a module never imported', () => {
    assert.deepStrictEqual(undefinedNames(fn('    return [i for i in range(n) if is_prime(i)]')), ['is_prime']);
    assert.deepStrictEqual(undefinedNames(fn('    return math.floor(n)')), ['math']);
    assert.deepStrictEqual(codeDefects(fn('    return [i for i in range(n) if is_prime(i)]'), 'python'), ['undefined-name']);
    const helper = 'def is_prime(k):\n    return k > 1 and all(k % d for d in range(2, k))\n\n' + fn('    return [i for i in range(n) if is_prime(i)]');
    assert.deepStrictEqual(codeDefects(helper, 'python'), []);
  });

  it('takes the names the question shows as defined, and never flags attributes, keyword arguments or string prefixes', () => {
    const question = 'Use the helper is_prime from the code above.';
    assert.deepStrictEqual(undefinedNames(fn('    return [i for i in range(n) if is_prime(i)]'), question), []);
    assert.deepStrictEqual(undefinedNames(fn('    return sorted(range(n), key=abs, reverse=True).copy()')), []);
    assert.deepStrictEqual(undefinedNames(fn('    return [rb"x", f"{n}", br"y"]')), []);
    assert.deepStrictEqual(undefinedNames(fn('    global seen\n    seen = n\n    return seen')), []);
    assert.deepStrictEqual(undefinedNames(`from math import *\n${fn('    return floor(sqrt(n))')}`), [], 'a star import may define anything');
  });

  it('reads other languages for brackets and strings only', () => {
    assert.deepStrictEqual(codeDefects('function f(a) {\n  // a comment (with a paren\n  return `x ${a}` + "}";\n}', 'javascript'), []);
    assert.deepStrictEqual(codeDefects('function f(a) {\n  return [a;\n}', 'ts'), ['unbalanced']);
    assert.deepStrictEqual(codeDefects("fn first<'a>(x: &'a str) -> &'a str {\n    x\n}", 'rust'), [], "a lifetime's quote is not a string");
  });
});

describe('codeLanguage', () => {
  it('takes the fence\'s language (aliases resolved), else Python when a def line says so', () => {
    assert.strictEqual(codeLanguage('x = 1', 'py'), 'python');
    assert.strictEqual(codeLanguage('x', 'TypeScript'), 'typescript');
    assert.strictEqual(codeLanguage('def f(x):\n    return x'), 'python');
    assert.strictEqual(codeLanguage('const f = (x) => x;'), '');
  });
});

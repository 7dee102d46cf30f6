import * as assert from 'assert';
import { answerSimilarity, CLUSTER_THRESHOLDS, codeComparer, codeSimilarity, codeTokens, proseSimilarity, questionCode, similarityFor } from '../../src/core/reasoning/similarity';

const prompt = [
  'def count_vowels(text: str) -> int:',
  '    """Return how many vowels the text holds.',
  '    >>> count_vowels("banana")',
  '    3',
  '    """',
].join('\n');
const question = `Complete this function so that it does what its docstring says.\n\nThe code is \`v.py\` lines 1-5 (python):\n\n\`\`\`python\n${prompt}\n\`\`\``;

const loop = `${prompt}\n    count = 0\n    for ch in text:\n        if ch in "aeiou":\n            count += 1\n    return count`;
const renamed = `${prompt}\n    # count them one by one\n    total = 0\n    for letter in text:\n        if letter in "aeiou":\n            total += 1\n\n    return total`;
const comprehension = `${prompt}\n    return sum(1 for c in text.lower() if c in "aeiou")`;
const wrong = `${prompt}\n    return len(text) - text.count(" ")`;

describe('code similarity', () => {
  it('drops comments and spacing and canonicalises local names', () => {
    assert.deepStrictEqual(codeTokens('x = a  +  b # sum'), codeTokens('total = first + second'));
    assert.notDeepStrictEqual(codeTokens('x = f(a)'), codeTokens('x = g(a)'), 'called names are kept');
  });

  it('finds renamed identifiers alike and different logic not', () => {
    const compare = codeComparer(question);
    for (const similar of [(x: string, y: string) => codeSimilarity(x, y), compare]) {
      assert.strictEqual(similar(loop, renamed), 1);
      assert.ok(similar(loop, comprehension) < 0.5 && similar(loop, wrong) < 0.5);
    }
    // The run's clusters compare by the question: different bodies stay apart.
    assert.ok(compare(loop, comprehension) < CLUSTER_THRESHOLDS.code);
    assert.ok(compare(loop, wrong) < CLUSTER_THRESHOLDS.code);
    assert.ok(compare(loop, renamed) >= CLUSTER_THRESHOLDS.code);
  });

  it('given the question, compares what each answer adds to the question\'s code', () => {
    const compare = codeComparer(question);
    assert.ok(compare(comprehension, wrong) < codeSimilarity(comprehension, wrong), 'the shared signature no longer counts');
    assert.ok(compare(loop, wrong) <= 0.1);
    assert.strictEqual(compare(prompt, `${prompt}\n`), 1, 'two answers that add nothing are alike');
    assert.strictEqual(compare(prompt, loop), 0);
    assert.strictEqual(codeSimilarity(loop, wrong, question), compare(loop, wrong));
  });

  it('reads the question\'s code from its fenced blocks, else none', () => {
    assert.strictEqual(questionCode(question), prompt);
    assert.strictEqual(questionCode('Write a function that counts vowels.'), '');
    assert.strictEqual(codeComparer('Write a function that counts vowels.')(loop, wrong), codeSimilarity(loop, wrong));
  });
});

describe('similarityFor', () => {
  it('is the kind\'s own comparison: code by the question, prose by ROUGE-L, short by value', () => {
    assert.strictEqual(similarityFor('code', question)(comprehension, wrong), codeComparer(question)(comprehension, wrong));
    assert.strictEqual(similarityFor('code')(comprehension, wrong), codeSimilarity(comprehension, wrong));
    const [a, b] = ['The cache is stale because the key ignores the locale.', 'The key ignores the locale, so the cache is stale.'];
    assert.strictEqual(similarityFor('prose', question)(a, b), proseSimilarity(a, b));
    assert.strictEqual(similarityFor('short')('\\frac{1}{2}', '0.5'), 1);
    assert.strictEqual(similarityFor('short')('1', '2'), answerSimilarity('short', '1', '2'));
  });
});

import * as assert from 'node:assert/strict';
import { AnswerClusters, clusterKey, mbrIndex } from '../../src/core/reasoning/clusters';
import { answerSimilarity, codeSimilarity, codeTokens, CLUSTER_THRESHOLDS, proseSimilarity, rougeL } from '../../src/core/reasoning/similarity';
import { parseSelection, selectionMessages } from '../../src/core/reasoning/universalSelection';

const sumLoop = `def total(xs):
    # add them up
    s = 0
    for x in xs:
        s += x
    return s`;
const sumRenamed = `def total(values):
    acc = 0   # running sum
    for v in values:
        acc += v
    return acc`;
const maxLoop = `def total(xs):
    best = xs[0]
    for x in xs[1:]:
        if x > best:
            best = x
    return best`;

describe('code similarity', () => {
  it('drops comments and spacing and renames locals, so a renamed copy is the same code', () => {
    assert.deepEqual(codeTokens(sumLoop), codeTokens(sumRenamed));
    assert.equal(codeSimilarity(sumLoop, sumRenamed), 1);
  });

  it('keeps called names and members: different calls are different code', () => {
    assert.ok(codeSimilarity('return sorted(xs)[0]', 'return reversed(xs)[0]') < 1);
    assert.ok(codeTokens('a.append(b)').includes('append'));
  });

  it('different logic is not similar', () => {
    assert.ok(codeSimilarity(sumLoop, maxLoop) < CLUSTER_THRESHOLDS.code, `${codeSimilarity(sumLoop, maxLoop)}`);
  });

  it('strings are kept whole and comment markers inside them are not comments', () => {
    assert.ok(codeTokens('x = "# not a comment"').includes('"# not a comment"'));
    assert.ok(codeSimilarity('print("a")', 'print("b")') < 1);
  });
});

describe('prose similarity', () => {
  const a = 'const cannot be reassigned after it is declared, while let can be reassigned.';
  const b = 'Unlike let, a const binding cannot be reassigned after it is declared.';
  const c = 'Use a hash map to count each word, then sort the entries by count.';

  it('ROUGE-L on words: paraphrases are closer than unrelated answers', () => {
    assert.ok(proseSimilarity(a, b) >= CLUSTER_THRESHOLDS.prose, `${proseSimilarity(a, b)}`);
    assert.ok(proseSimilarity(a, c) < CLUSTER_THRESHOLDS.prose, `${proseSimilarity(a, c)}`);
  });

  it('hand-worked LCS: 3 of 4 words in order', () => {
    assert.equal(rougeL(['a', 'b', 'c', 'd'], ['a', 'c', 'd']), (2 * 1 * 0.75) / 1.75);
    assert.equal(rougeL([], []), 1);
    assert.equal(rougeL(['a'], []), 0);
  });

  it('short answers are alike only when their values are', () => {
    assert.equal(answerSimilarity('short', '\\frac{1}{2}', '0.5'), 1);
    assert.equal(answerSimilarity('short', '2', '3'), 0);
  });
});

describe('answer clusters', () => {
  const exact = (x: string, y: string) => (x[0] === y[0] ? 0.9 : 0.1);

  it('similar answers share a stable key, others start a new one', () => {
    const clusters = new AnswerClusters(exact, 0.5);
    assert.deepEqual(['apple', 'avocado', 'banana', 'apricot'].map((x) => clusters.add(x)), ['A', 'A', 'B', 'A']);
    assert.deepEqual(clusters.clusters.map((c) => c.members), [[0, 1, 3], [2]]);
  });

  it('the medoid is the member most alike the rest (minimum Bayes risk)', () => {
    const sim = (x: string, y: string) => 1 - Math.abs(Number(x) - Number(y)) / 10;
    const clusters = new AnswerClusters(sim, 0.5);
    for (const x of ['1', '3', '4']) {
      clusters.add(x);
    }
    assert.equal(clusters.answer(clusters.medoid('A')!), '3');
    assert.ok(Math.abs(clusters.cohesion('A') - 0.85) < 1e-9);
    assert.equal(mbrIndex(['1', '3', '4'], sim), 1);
    assert.equal(mbrIndex([], sim), -1);
  });

  it('keys run A..Z, then AA', () => {
    assert.deepEqual([0, 25, 26, 27].map(clusterKey), ['A', 'Z', 'AA', 'AB']);
  });
});

describe('Universal Self-Consistency reply', () => {
  it('reads the stated choice, in range', () => {
    assert.equal(parseSelection('The most consistent response is Response 2.', 3), 1);
    assert.equal(parseSelection('**The most consistent response is Response 3**', 3), 2);
    assert.equal(parseSelection('Response 1 agrees with the others best.', 2), 0);
    assert.equal(parseSelection('2', 3), 1);
  });

  it('garbage, out-of-range and contradictory replies are no choice', () => {
    for (const reply of ['', 'I cannot decide.', 'The most consistent response is Response 7.', 'Response 1 or Response 2, hard to say', '<think>Response 1</think>unsure']) {
      assert.equal(parseSelection(reply, 3), undefined, reply);
    }
  });

  it('the prompt lists every candidate under its number and cuts long ones', () => {
    const messages = selectionMessages('Q?', ['one', 'x'.repeat(10_000)]);
    const user = messages[1].content;
    assert.match(user, /Response 1:\none/);
    assert.match(user, /Response 2:\nx+\n…\(cut\)/);
    assert.ok(user.length < 9000);
  });
});

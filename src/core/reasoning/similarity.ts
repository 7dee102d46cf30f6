/**
 * When two code or prose answers say the same thing. Code: token trigrams after normalisation
 * (comments and whitespace dropped, local names canonicalised, so a renamed variable changes
 * nothing), compared by Jaccard; given the question, the trigrams of the question's own code are
 * left out, so two answers are compared on what they add to it. Prose: ROUGE-L F1 over lower-cased
 * words. Both in [0, 1].
 */
import { fencedBlocks, type AnswerKind } from './answerKinds';
import { normalizeAnswer } from './answers';

/** Keywords of the languages people ask about most; they are kept as they are, never renamed. */
const KEYWORDS = new Set(`
and as assert async await break case catch class const continue def default del do elif else enum except export extends
false finally fn for from func function global go if impl import in instanceof interface is lambda let match mod mut new
nil none not null of or package pass pub raise return self static struct super switch this throw true try type typeof
use var void while with yield None True False undefined public private protected int float double char bool boolean
string str list dict set tuple long short unsigned signed auto template typename namespace using final abstract override
readonly keyof declare module require chan defer select map range len print println printf`.split(/\s+/).filter(Boolean));

/**
 * The code as a token sequence a comparison can trust: comments and blank space dropped; strings as
 * one token each; names that are called (`f(`) or reached as members (`.x`) kept; every other name
 * renamed by first appearance (`v0`, `v1`, ...), so renaming a local changes nothing.
 */
export function codeTokens(code: string): string[] {
  const src = stripComments(code);
  const re = /("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|([A-Za-z_$][\w$]*)|(\d[\w.]*)|(===|!==|\*\*=|<<=|>>=|=>|->|==|!=|<=|>=|&&|\|\||\+\+|--|\+=|-=|\*=|\/=|%=|\/\/|\*\*|<<|>>|::|\S)/g;
  const names = new Map<string, string>();
  const out: string[] = [];
  let previous = '';
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const [token, str, name, num] = m;
    let t: string;
    if (str !== undefined) {
      t = str.length > 2 + 40 ? 'STR' : str;
    } else if (name !== undefined) {
      const next = /^\s*(\S)/.exec(src.slice(re.lastIndex, re.lastIndex + 20))?.[1];
      if (KEYWORDS.has(name) || previous === '.' || next === '(') {
        t = name;
      } else {
        let alias = names.get(name);
        if (!alias) {
          alias = `v${names.size}`;
          names.set(name, alias);
        }
        t = alias;
      }
    } else if (num !== undefined) {
      t = num;
    } else {
      t = token;
    }
    out.push(t);
    previous = t;
  }
  return out;
}

/** Comments of C-like, Python, shell and SQL code, keeping strings intact. */
function stripComments(code: string): string {
  return code.replace(/("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\/\*[\s\S]*?\*\/|\/\/[^\n]*|#[^\n]*|--[ \t][^\n]*/g,
    (_match, str: string | undefined) => (str !== undefined ? (/^("""|''')/.test(str) ? ' ' : str) : ' '));
}

/** The set of n-grams of a token sequence (a short sequence is its own single gram). */
export function ngrams(tokens: readonly string[], n = 3): Set<string> {
  const grams = new Set<string>();
  if (tokens.length === 0) {
    return grams;
  }
  if (tokens.length < n) {
    grams.add(tokens.join('\u0001'));
    return grams;
  }
  for (let i = 0; i + n <= tokens.length; i++) {
    grams.add(tokens.slice(i, i + n).join('\u0001'));
  }
  return grams;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) {
    return 1;
  }
  let common = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const g of small) {
    if (large.has(g)) {
      common++;
    }
  }
  return common / (a.size + b.size - common);
}

/** The code a question carries: its fenced blocks (a selection and the lines around it), else none. */
export function questionCode(question: string): string {
  return fencedBlocks(question).map((b) => b.code).join('\n');
}

/**
 * Token-trigram Jaccard of code answers to one question, after normalisation. Trigrams of the
 * question's code (`questionCode`) are left out of both sides: answers that repeat the signature and
 * docstring they were given, or the code they were asked to fix, are compared on their own body or
 * fix, not on what they were all handed. Two answers that add nothing to it are alike (1). Each
 * answer's trigrams are computed once.
 */
export function codeComparer(question = ''): (a: string, b: string) => number {
  const given = ngrams(codeTokens(questionCode(question)));
  const grams = new Map<string, Set<string>>();
  const own = (code: string) => {
    let set = grams.get(code);
    if (!set) {
      set = ngrams(codeTokens(code));
      for (const g of given) {
        set.delete(g);
      }
      grams.set(code, set);
    }
    return set;
  };
  return (a, b) => jaccard(own(a), own(b));
}

/** Token-trigram Jaccard of two pieces of code after normalisation (optionally on what they add to a question's code). */
export function codeSimilarity(a: string, b: string, question = ''): number {
  return codeComparer(question)(a, b);
}

/** Lower-cased words and numbers of a text, markdown marks dropped; at most `limit` of them. */
export function proseWords(text: string, limit = 1500): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}_]+(?:['’.][\p{L}\p{N}]+)*/gu) ?? []).slice(0, limit);
}

/** ROUGE-L F1: the longest common subsequence of words over both lengths. */
export function rougeL(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) {
    return a.length === b.length ? 1 : 0;
  }
  let prev = new Uint16Array(b.length + 1);
  let cur = new Uint16Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  const lcs = prev[b.length];
  const p = lcs / b.length;
  const r = lcs / a.length;
  return p + r === 0 ? 0 : (2 * p * r) / (p + r);
}

export function proseSimilarity(a: string, b: string): number {
  return rougeL(proseWords(a), proseWords(b));
}

/** How alike two answers of a kind are, in [0, 1], for answers to `question` (code compares what they add to its code). */
export function similarityFor(kind: AnswerKind, question = ''): (a: string, b: string) => number {
  if (kind === 'code') {
    return codeComparer(question);
  }
  return (a, b) => answerSimilarity(kind, a, b);
}

/** How alike two answers of a kind are, in [0, 1]; short answers are alike only when their values are. */
export function answerSimilarity(kind: AnswerKind, a: string, b: string): number {
  switch (kind) {
    case 'code':
      return codeSimilarity(a, b);
    case 'prose':
      return proseSimilarity(a, b);
    case 'short':
      return normalizeAnswer(a) === normalizeAnswer(b) ? 1 : 0;
  }
}

/**
 * Answers at least this alike join one cluster. Code: measured on the HumanEval tune file with the
 * cluster votes of anytime-sc's Beta rule (bench/code.ts --strategies=beta-clusters --threshold=X):
 * 0.5 passed 0.255 at 64% of MBR@10's tokens, 0.3 0.268 at 60%, 0.2 0.274 at 55%, 0.1 0.277 at 47%;
 * every setting lies on the MBR@k curve, lower ones cheaper. But below 0.5 a cluster no longer means
 * "the same program": a sum loop and a max loop share a quarter of their trigrams. So 0.5, and the
 * cheaper stops come from the default code strategy, which picks by similarity, not by cluster.
 */
export const CLUSTER_THRESHOLDS: Record<AnswerKind, number> = { short: 1, code: 0.5, prose: 0.35 };

/**
 * When a chain is a copy of another (an endpoint that is not sampling): the same text once
 * whitespace is normalised, or, for chains long enough that two real samples rarely come so close,
 * ROUGE-L of at least SAME_CHAIN_SIMILARITY. Measured on the 8 recorded Qwen2.5-Math samples of 100
 * MATH questions (real sampling): 36 of 800 second chains are exact copies of the first, 65 at 0.99,
 * 108 at 0.97; so near-copies start high, where a server's batch nondeterminism still lands.
 */
export const SAME_CHAIN_SIMILARITY = 0.99;
/** Below this many characters only an exact copy counts as one. */
export const SAME_CHAIN_MIN_CHARS = 400;

/** A chain's text as compared for copies: whitespace runs as one space, trimmed. */
export function chainKey(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Whether two chains (as `chainKey` gives them) are one chain returned twice. */
export function sameChain(a: string, b: string): boolean {
  if (a === b) {
    return true;
  }
  const [short, long] = a.length <= b.length ? [a.length, b.length] : [b.length, a.length];
  // A copy this close in words is close in length too: lengths 10% apart cannot reach the threshold.
  if (short < SAME_CHAIN_MIN_CHARS || short < long * 0.9) {
    return false;
  }
  return proseSimilarity(a, b) >= SAME_CHAIN_SIMILARITY;
}

/**
 * Final-answer extraction from a reasoning chain, and the normal form answers are voted on.
 * Covers MATH-style `\boxed{}` answers and GSM8K-style `A: N` / `#### N` endings.
 */

export type AnswerForm = 'boxed' | 'gsm8k' | 'answer-is' | 'last-number';

export interface ExtractedAnswer {
  /** The answer text as written in the chain (braces of \boxed removed). */
  raw: string;
  /** How it was found; a `boxed` answer is the cleanest signal a chain finished as asked. */
  form: AnswerForm;
  /** Character offset of `raw` in the chain (for locating its logprobs). */
  offset: number;
}

/** The final answer of a chain, or undefined when it states none. */
export function extractAnswer(text: string): string | undefined {
  return locateAnswer(text)?.raw;
}

/** Like extractAnswer, also telling where and in which form the answer was found. */
export function locateAnswer(text: string): ExtractedAnswer | undefined {
  const boxed = lastBoxed(text);
  if (boxed === 'cut') {
    return undefined;
  }
  if (boxed && boxed.raw.trim()) {
    return boxed;
  }
  const patterns: Array<[RegExp, AnswerForm]> = [
    [/(?:^|\n)[ \t]*(?:A[ \t]*:|####)[ \t]*([^\n]+?)[ \t]*(?=\n|$)/g, 'gsm8k'],
    [/final answer\s*(?:is)?\s*[:：]?\s*([^\n]+)/gi, 'answer-is'],
    [/the answer is\s*[:：]?\s*([^\n]+)/gi, 'answer-is'],
  ];
  for (const [re, form] of patterns) {
    let last: RegExpExecArray | null = null;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      last = m;
    }
    if (last) {
      const captured = last[1];
      const raw = captured.trim().replace(/[.。]+$/, '').trim();
      if (raw) {
        return { raw, form, offset: last.index + last[0].lastIndexOf(captured) };
      }
    }
  }
  const lines = text.split('\n');
  let lineStart = text.length;
  for (let i = lines.length - 1; i >= 0; i--) {
    lineStart -= lines[i].length + (i < lines.length - 1 ? 1 : 0);
    if (!lines[i].trim()) {
      continue;
    }
    const numbers = [...lines[i].matchAll(/-?\d[\d,]*(?:\.\d+)?|-?\.\d+/g)];
    if (numbers.length === 0) {
      return undefined;
    }
    const m = numbers[numbers.length - 1];
    return { raw: m[0].replace(/,$/, ''), form: 'last-number', offset: Math.max(0, lineStart) + (m.index ?? 0) };
  }
  return undefined;
}

/** The content of the last `\boxed{...}` (or `\fbox{...}`), nested braces balanced. */
function lastBoxed(text: string): ExtractedAnswer | 'cut' | undefined {
  const re = /\\(?:boxed|fbox)\s*/g;
  let start = -1;
  let afterCommand = -1;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    start = m.index;
    afterCommand = m.index + m[0].length;
  }
  if (start < 0) {
    return undefined;
  }
  if (text[afterCommand] !== '{') {
    // `\boxed 5`: the answer runs to the next `$` or whitespace.
    const m = /^[^\s$]+/.exec(text.slice(afterCommand));
    return m ? { raw: m[0], form: 'boxed', offset: afterCommand } : undefined;
  }
  let depth = 0;
  for (let i = afterCommand; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && (text[i + 1] === '{' || text[i + 1] === '}')) {
      i++;
      continue;
    }
    if (c === '{') {
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) {
        return { raw: text.slice(afterCommand + 1, i), form: 'boxed', offset: afterCommand + 1 };
      }
    }
  }
  return 'cut'; // unbalanced: the chain was cut inside the box, so no other number is its answer
}

/**
 * The canonical form answers are voted on: LaTeX spacing, units, currency, percent and degree
 * marks removed; numbers (integers, decimals, fractions, mixed numbers) as exact reduced rationals.
 */
export function normalizeAnswer(answer: string): string {
  let s = answer.trim();
  s = s.replace(/^\$+|\$+$/g, '').trim();
  s = s.replace(/\\(?:displaystyle|left|right|big|Big|bigg|Bigg)(?![a-zA-Z])/g, '');
  s = s.replace(/\\[,!;:> ]|\\q?quad(?![a-zA-Z])/g, ' ');
  s = s.replace(/\\[dt]frac(?![a-zA-Z])/g, '\\frac');
  s = s.replace(/\^\s*\{?\s*\\circ\s*\}?|°|\\degree(?![a-zA-Z])/g, '');
  s = s.replace(/\\%|%/g, '');
  s = s.replace(/\\\$|\$/g, '');
  s = s.replace(/\{,\}/g, ',');
  s = stripTextWrappers(s);
  s = s.replace(/\s+/g, ' ').trim();
  // "x = 5", "a_1 = 5": keep the value.
  const assignment = /^[a-zA-Z](?:_\{?\w+\}?)?\s*=\s*(.+)$/.exec(s);
  if (assignment && !assignment[1].includes('=')) {
    s = assignment[1];
  }
  s = s.replace(/[.。]+$/, '').trim();
  // "(A)" / "A)" multiple choice.
  const choice = /^\(?([A-E])\)$/.exec(s);
  if (choice) {
    s = choice[1];
  }
  s = s.replace(/\\frac\s*(\d)\s*(\d)/g, '\\frac{$1}{$2}').replace(/\\frac\s*\{([^{}]*)\}\s*(\d)/g, '\\frac{$1}{$2}');
  s = s.replace(/\\sqrt\s*(\d+)/g, '\\sqrt{$1}');
  const numeric = exactRational(s.replace(/\s+/g, ''));
  if (numeric) {
    return numeric;
  }
  return s.replace(/\s+/g, '');
}

/** True when both answers name the same value (after normalisation; numbers compared exactly, then within 1e-9). */
export function answersEqual(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) {
    return false;
  }
  const na = normalizeAnswer(a);
  const nb = normalizeAnswer(b);
  if (na === nb) {
    return true;
  }
  const x = rationalValue(na);
  const y = rationalValue(nb);
  return x !== undefined && y !== undefined && Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
}

/** `\text{...}`-like wrappers: an answer that is only text keeps it; a trailing unit is dropped. */
function stripTextWrappers(s: string): string {
  const wrapper = /\\(?:text|textbf|mathrm|mbox|mathbf|textit)\s*\{([^{}]*)\}/;
  const whole = new RegExp(`^${wrapper.source}$`).exec(s.trim());
  if (whole) {
    return whole[1].trim();
  }
  // A value followed by a unit in \text{}: "5 \text{ cm}", "12\mbox{ inches}".
  s = s.replace(new RegExp(`(\\S)\\s*${wrapper.source}\\s*(\\^\\{?\\d\\}?)?\\s*$`), (_m, before: string, inner: string) =>
    /^[\sa-zA-Z.]*$/.test(inner) ? before : `${before}${inner}`);
  return s.replace(new RegExp(wrapper.source, 'g'), '$1');
}

/** "p/q" or "n" for a plain number, fraction or mixed number; undefined for anything else. */
function exactRational(s: string): string | undefined {
  let m = /^([+-]?)(\d{1,3}(?:,\d{3})+|\d*)(?:\.(\d*))?$/.exec(s);
  if (m && (m[2] || m[3])) {
    const intPart = m[2].replace(/,/g, '') || '0';
    const frac = m[3] ?? '';
    return formatRational(m[1] === '-', BigInt(intPart + frac), 10n ** BigInt(frac.length));
  }
  // \frac{p}{q}, -\frac{p}{q}, mixed 1\frac{1}{10}, and p/q.
  m = /^([+-]?)(\d*)\\frac\{([+-]?\d+)\}\{([+-]?\d+)\}$/.exec(s) ?? /^([+-]?)()(\d+)\/(\d+)$/.exec(s);
  if (m) {
    const whole = BigInt(m[2] || '0');
    let p = BigInt(m[3]);
    let q = BigInt(m[4]);
    if (q === 0n) {
      return undefined;
    }
    let negative = m[1] === '-';
    if (q < 0n) {
      q = -q;
      p = -p;
    }
    if (p < 0n) {
      p = -p;
      negative = !negative;
    }
    return formatRational(negative, whole * q + p, q);
  }
  return undefined;
}

function formatRational(negative: boolean, p: bigint, q: bigint): string {
  const g = gcd(p, q);
  p /= g;
  q /= g;
  const sign = negative && p !== 0n ? '-' : '';
  return q === 1n ? `${sign}${p}` : `${sign}${p}/${q}`;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) {
    [a, b] = [b, a % b];
  }
  return a === 0n ? 1n : a;
}

function rationalValue(normal: string): number | undefined {
  const m = /^(-?\d+)(?:\/(\d+))?$/.exec(normal);
  return m ? Number(m[1]) / Number(m[2] ?? '1') : undefined;
}

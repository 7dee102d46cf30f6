import { loadMath } from '../../tools/recordedData';

/** The first recorded chain of each of the first `count` MATH questions (bench/data). */
export function recordedChains(count: number): string[] {
  return loadMath().slice(0, count).map((r) => r.code[0]);
}

/** Deterministic chunking with sizes 1..24, like SSE deltas of a few tokens. */
export function chunked(text: string, seed: number): string[] {
  const out: string[] = [];
  let s = seed;
  for (let i = 0; i < text.length;) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const n = 1 + (s % 24);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

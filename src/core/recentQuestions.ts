/** The recent questions the question boxes offer again: most recent first, no duplicates, bounded. */

/** How many recent questions are kept. */
export const RECENT_QUESTIONS_LIMIT = 20;

/** Longer questions are asked but not remembered (a pasted document is not a question to pick again). */
export const RECENT_QUESTION_MAX_CHARS = 2000;

/** The stored list, whatever was stored: strings only, trimmed, deduplicated, bounded. */
export function recentQuestions(stored: unknown): string[] {
  if (!Array.isArray(stored)) {
    return [];
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const item of stored) {
    const q = typeof item === 'string' ? item.trim() : '';
    if (q && q.length <= RECENT_QUESTION_MAX_CHARS && !seen.has(q)) {
      seen.add(q);
      out.push(q);
    }
    if (out.length >= RECENT_QUESTIONS_LIMIT) {
      break;
    }
  }
  return out;
}

/** The list with `question` first (moved there if it was already in it). Blank or very long questions leave it as it is. */
export function rememberQuestion(list: readonly string[], question: string): string[] {
  const q = question.trim();
  const current = recentQuestions(list);
  if (!q || q.length > RECENT_QUESTION_MAX_CHARS) {
    return current;
  }
  return [q, ...current.filter((x) => x !== q)].slice(0, RECENT_QUESTIONS_LIMIT);
}

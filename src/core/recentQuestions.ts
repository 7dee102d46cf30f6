/** The recent questions the question boxes offer again: most recent first, no duplicates, bounded. */

/** How many recent questions are kept. */
export const RECENT_QUESTIONS_LIMIT = 20;

/** Longer questions are asked but not remembered (a pasted document is not a question to pick again). */
export const RECENT_QUESTION_MAX_CHARS = 2000;

/** A remembered list's rules: how many it keeps and which entries it accepts. */
export interface RecentRules {
  limit: number;
  accepts: (item: string) => boolean;
}

const QUESTION_RULES: RecentRules = { limit: RECENT_QUESTIONS_LIMIT, accepts: (q) => q.length <= RECENT_QUESTION_MAX_CHARS };

/** A stored list, whatever was stored: strings only, trimmed, accepted, deduplicated, bounded. */
export function recentItems(stored: unknown, rules: RecentRules): string[] {
  if (!Array.isArray(stored)) {
    return [];
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const item of stored) {
    const q = typeof item === 'string' ? item.trim() : '';
    if (q && rules.accepts(q) && !seen.has(q)) {
      seen.add(q);
      out.push(q);
    }
    if (out.length >= rules.limit) {
      break;
    }
  }
  return out;
}

/** The list with `item` first (moved there if it was already in it); an item the rules refuse leaves it as it is. */
export function rememberItem(list: readonly string[], item: string, rules: RecentRules): string[] {
  const q = item.trim();
  const current = recentItems(list, rules);
  if (!q || !rules.accepts(q)) {
    return current;
  }
  return [q, ...current.filter((x) => x !== q)].slice(0, rules.limit);
}

/** The stored recent questions. */
export function recentQuestions(stored: unknown): string[] {
  return recentItems(stored, QUESTION_RULES);
}

/** The recent questions with `question` first. Blank or very long questions leave the list as it is. */
export function rememberQuestion(list: readonly string[], question: string): string[] {
  return rememberItem(list, question, QUESTION_RULES);
}

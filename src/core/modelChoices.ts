/**
 * What Select Model offers: the endpoint's models, the ids used before, and the id being typed. An
 * endpoint may list no models (llama.cpp, some proxies) or not the one wanted: a typed id is then
 * the way to choose, and the ids used are remembered.
 */
import { isModelId } from './config';
import { recentItems, rememberItem, type RecentRules } from './recentQuestions';

export const RECENT_MODELS_LIMIT = 10;
const MODEL_RULES: RecentRules = { limit: RECENT_MODELS_LIMIT, accepts: isModelId };

export function recentModels(stored: unknown): string[] {
  return recentItems(stored, MODEL_RULES);
}

export function rememberModel(list: readonly string[], id: string): string[] {
  return rememberItem(list, id, MODEL_RULES);
}

export type ModelChoice =
  | { kind: 'typed'; id: string; label: string; detail: string }
  | { kind: 'invalid'; label: string }
  | { kind: 'note'; label: string };

/**
 * The rows above the listed models for what is typed: "Use <id>" when it is a model id not already
 * listed or remembered (Enter picks it), a hint when it cannot be one, and a note when the endpoint
 * listed none.
 */
export function typedChoices(typed: string, listed: readonly string[], recent: readonly string[], listedNone: boolean): ModelChoice[] {
  const id = typed.trim();
  const rows: ModelChoice[] = [];
  if (id) {
    if (!isModelId(id)) {
      rows.push({ kind: 'invalid', label: `"${id.slice(0, 60)}" cannot be a model id (letters, digits and . : / @ + - _ only)` });
    } else if (!listed.includes(id) && !recent.includes(id)) {
      rows.push({ kind: 'typed', id, label: `Use "${id}"`, detail: listedNone ? 'the endpoint lists no models; this id is sent as typed' : 'an id the endpoint did not list; it is sent as typed' });
    }
  }
  if (listedNone && !id) {
    rows.push({ kind: 'note', label: 'The endpoint lists no models: type a model id and press Enter' });
  }
  return rows;
}

/**
 * The runs one answer panel keeps: a reused panel shows the session's runs one at a time, and its
 * header lists them so that an earlier run is one click away. The host keeps each run's view; the
 * page gets only this list (and the shown run's view), so the list is checked on arrival there.
 */
import { STRATEGY_NAMES, type StrategyName } from '../config';
import { RUN_STATES, type RunState, type RunView } from './runView';
import { shortTitle } from './runViewText';

/** Runs one panel keeps; past this, the oldest finished one that is not shown is dropped. */
export const PANEL_RUNS_LIMIT = 20;

/** Longest best answer a list entry carries (a short value; longer ones are cut). */
export const RUN_ENTRY_ANSWER_CHARS = 24;

/** One run in the panel's list. Texts are untrusted (questions and answers): the page shows them as text. */
export interface RunListEntry {
  runId: string;
  /** The question, shortened as the panel's title is. */
  title: string;
  strategy: StrategyName;
  state: RunState;
  /** The best answer so far when it is a short value, cut to RUN_ENTRY_ANSWER_CHARS. */
  answer?: string;
}

/** The panel's runs, oldest first, and the one it shows. */
export interface RunList {
  runs: RunListEntry[];
  shown: string;
}

export function runListEntry(view: RunView): RunListEntry {
  const best = view.answers[view.answers.length - 1];
  const answer = best && (best.answerKind ?? 'short') === 'short' ? cut(best.answer, RUN_ENTRY_ANSWER_CHARS) : undefined;
  return {
    runId: view.header.runId,
    title: shortTitle(view.header.question),
    strategy: view.header.strategy,
    state: view.status.state,
    ...(answer ? { answer } : {}),
  };
}

/**
 * Which runs leave the panel so that at most `limit` stay: the oldest first, never the shown one
 * nor one still running (its events must reach a view, and Stop must reach it).
 */
export function runsToDrop(runs: readonly Pick<RunListEntry, 'runId' | 'state'>[], shown: string, limit = PANEL_RUNS_LIMIT): string[] {
  const droppable = runs.filter((r) => r.runId !== shown && r.state !== 'running');
  return droppable.slice(0, Math.max(0, runs.length - limit)).map((r) => r.runId);
}

const RUN_ID = /^[\w-]{1,100}$/;

/** Bounds on what the page accepts: more runs than a panel keeps, longer titles than shortTitle makes. */
const LISTED_RUNS_MAX = 100;
const TITLE_CHARS_MAX = 100;

/** Whether a text can be a run id (a UUID): the page names runs by it, so the host checks it too. */
export function isRunId(value: unknown): value is string {
  return typeof value === 'string' && RUN_ID.test(value);
}

/** Checks a run list from the host: exact shapes, bounded lengths, the shown run among them; else undefined. */
export function parseRunList(raw: unknown): RunList | undefined {
  if (typeof raw !== 'object' || raw === null) {
    return undefined;
  }
  const { runs, shown } = raw as { runs?: unknown; shown?: unknown };
  if (!Array.isArray(runs) || runs.length === 0 || runs.length > LISTED_RUNS_MAX || !isRunId(shown)) {
    return undefined;
  }
  const entries: RunListEntry[] = [];
  for (const r of runs as unknown[]) {
    const e = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    const strategy = STRATEGY_NAMES.find((s) => s === e.strategy);
    const state = RUN_STATES.find((s) => s === e.state);
    if (!isRunId(e.runId) || typeof e.title !== 'string' || !strategy || !state || (e.answer !== undefined && typeof e.answer !== 'string')) {
      return undefined;
    }
    const answer = typeof e.answer === 'string' ? cut(e.answer, RUN_ENTRY_ANSWER_CHARS) : undefined;
    entries.push({ runId: e.runId, title: e.title.slice(0, TITLE_CHARS_MAX), strategy, state, ...(answer ? { answer } : {}) });
  }
  return entries.some((e) => e.runId === shown) ? { runs: entries, shown } : undefined;
}

function cut(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

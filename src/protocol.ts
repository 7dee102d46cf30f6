/**
 * Every message between the answer panel's host (src/host/answerPanel.ts) and its webview
 * (src/webview/main.ts), and the spend view's (at the end). Both sides import this file; it has no
 * runtime dependency on either.
 *
 * Flow: the webview posts `ready`; the host answers with a complete `snapshot`; afterwards it posts
 * batched `update`s, each numbered. An update carries only the parts of the view that changed and
 * the reasoning text to append. A webview that sees a gap in the numbers asks for a snapshot.
 * A panel keeps the runs shown in it: `runs` lists them (the snapshot and updates are the shown
 * run's), and `showRun` asks for another of them, which then comes as a snapshot.
 */
import { STRATEGY_NAMES, type ChainStrategyName, type StrategyName } from './core/config';
import type { SnapshotMessage, UpdateMessage } from './core/view/runViewMessages';
import type { SpendSnapshot } from './core/view/spendView';
import { ANSWER_KINDS, type AnswerKind } from './core/reasoning/answerKinds';
import { isRunId, type RunList } from './core/view/panelRuns';

export type { RunHeader } from './core/view/runView';
export type { SnapshotMessage, UpdateMessage } from './core/view/runViewMessages';
export type { SpendSnapshot } from './core/view/spendView';
export type { RunList, RunListEntry } from './core/view/panelRuns';

export const ANSWER_PANEL_VIEW_TYPE = 'budgetReasoner.answer';

const CHAIN_STRATEGIES = STRATEGY_NAMES.filter((s): s is ChainStrategyName => s !== 'cascade');
/** What the panel offers to rerun with: the strategies one ReasoningRun carries out, the single chain first. */
export const RERUN_STRATEGIES: readonly ChainStrategyName[] = ['single', ...CHAIN_STRATEGIES.filter((s) => s !== 'single')];

// ---- host -> webview ----

// SnapshotMessage (the whole view) and UpdateMessage (the parts that changed) are defined in
// core/view/runViewMessages.ts, next to the publisher that posts them.

export type NoticeLevel = 'info' | 'warning' | 'error';

/** A short line for the user inside the panel ("Copied", "No editor to insert into"). */
export interface NoticeMessage {
  type: 'notice';
  level: NoticeLevel;
  text: string;
}

/** The runs the panel keeps, oldest first, and which one it shows (checked on arrival with parseRunList). */
export interface RunListMessage extends RunList {
  type: 'runs';
}

export type ToWebviewMessage = SnapshotMessage | UpdateMessage | NoticeMessage | RunListMessage;

// ---- webview -> host ----

export interface ReadyMessage { type: 'ready' }
/** Sent when an update's seq is not the next one expected: something was lost. */
export interface RequestSnapshotMessage { type: 'requestSnapshot'; lastSeq: number }
export interface StopMessage { type: 'stop' }
/** Resume the run with this many more tokens (the webview proposes the current budget: doubling it). */
export interface ContinueMessage { type: 'continue'; extraTokens: number }
/**
 * Which answer: an index into view.answers; absent = the current best. `block`: the index of a fenced
 * code block in that answer's markdown (fencedBlocks of core/reasoning/answerKinds), to copy or insert
 * that block alone. The host reads its own copy of both.
 */
export interface CopyMessage { type: 'copy'; answerIndex?: number; block?: number }
/** At the cursor, or in place of the selection the question came from. */
export const INSERT_MODES = ['cursor', 'replace'] as const;
export type InsertMode = typeof INSERT_MODES[number];
/** `replace` of a code answer opens a diff of the selection against it; nothing changes until the user accepts. */
export interface InsertMessage { type: 'insert'; mode: InsertMode; answerIndex?: number; block?: number }
/**
 * Run the question again; `answerKind` re-runs it as another kind ("re-run as code");
 * `preferenceExamples` turns the run's preference examples on or off (absent: as the settings say).
 */
export interface RerunMessage { type: 'rerun'; strategy: StrategyName; answerKind?: AnswerKind; preferenceExamples?: boolean }
export interface OpenSpendReportMessage { type: 'openSpendReport' }
/** A link the user clicked in rendered markdown; the host only opens http(s) after VS Code's own prompt. */
export interface OpenLinkMessage { type: 'openLink'; href: string }
/** Show another run of the panel's list; the host ignores a run it does not keep. */
export interface ShowRunMessage { type: 'showRun'; runId: string }

export type FromWebviewMessage =
  | ReadyMessage
  | RequestSnapshotMessage
  | StopMessage
  | ContinueMessage
  | CopyMessage
  | InsertMessage
  | RerunMessage
  | OpenSpendReportMessage
  | OpenLinkMessage
  | ShowRunMessage;

/** Largest continuation a click may ask for; a typo of extra zeros should not authorise a fortune. */
export const MAX_CONTINUE_TOKENS = 1_000_000;

/**
 * Checks a message from the webview. The page renders untrusted model output, so its messages are
 * untrusted too: exact shape, types and ranges, or `{ error }` naming what was wrong.
 */
export function parseFromWebviewMessage(raw: unknown): { message: FromWebviewMessage } | { error: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { error: 'not an object' };
  }
  const m = raw as Record<string, unknown>;
  const index = (x: unknown): number | undefined | false =>
    x === undefined ? undefined : Number.isSafeInteger(x) && (x as number) >= 0 ? x as number : false;
  switch (m.type) {
    case 'ready':
    case 'stop':
    case 'openSpendReport':
      return { message: { type: m.type } };
    case 'requestSnapshot':
      return Number.isSafeInteger(m.lastSeq) ? { message: { type: 'requestSnapshot', lastSeq: m.lastSeq as number } } : { error: 'requestSnapshot.lastSeq must be an integer' };
    case 'continue': {
      const t = m.extraTokens;
      return Number.isSafeInteger(t) && (t as number) > 0 && (t as number) <= MAX_CONTINUE_TOKENS
        ? { message: { type: 'continue', extraTokens: t as number } }
        : { error: `continue.extraTokens must be an integer in 1..${MAX_CONTINUE_TOKENS}` };
    }
    case 'copy': {
      const i = index(m.answerIndex);
      const block = index(m.block);
      if (i === false || block === false) {
        return { error: `copy.${i === false ? 'answerIndex' : 'block'} must be a non-negative integer` };
      }
      return { message: { type: 'copy', ...(i !== undefined ? { answerIndex: i } : {}), ...(block !== undefined ? { block } : {}) } };
    }
    case 'insert': {
      const i = index(m.answerIndex);
      const block = index(m.block);
      const mode = INSERT_MODES.find((x) => x === m.mode);
      if (mode === undefined) {
        return { error: `insert.mode must be ${INSERT_MODES.map((x) => `"${x}"`).join(' or ')}` };
      }
      if (i === false || block === false) {
        return { error: `insert.${i === false ? 'answerIndex' : 'block'} must be a non-negative integer` };
      }
      return { message: { type: 'insert', mode, ...(i !== undefined ? { answerIndex: i } : {}), ...(block !== undefined ? { block } : {}) } };
    }
    case 'rerun': {
      if (!(RERUN_STRATEGIES as readonly unknown[]).includes(m.strategy)) {
        return { error: `rerun.strategy must be one of ${RERUN_STRATEGIES.join(', ')}` };
      }
      if (m.answerKind !== undefined && !(ANSWER_KINDS as readonly unknown[]).includes(m.answerKind)) {
        return { error: `rerun.answerKind must be one of ${ANSWER_KINDS.join(', ')}` };
      }
      if (m.preferenceExamples !== undefined && typeof m.preferenceExamples !== 'boolean') {
        return { error: 'rerun.preferenceExamples must be true or false' };
      }
      return {
        message: {
          type: 'rerun',
          strategy: m.strategy as StrategyName,
          ...(m.answerKind !== undefined ? { answerKind: m.answerKind as AnswerKind } : {}),
          ...(m.preferenceExamples !== undefined ? { preferenceExamples: m.preferenceExamples } : {}),
        },
      };
    }
    case 'openLink':
      return typeof m.href === 'string' && m.href.length <= 2048 && isSafeExternalLink(m.href)
        ? { message: { type: 'openLink', href: m.href } }
        : { error: 'openLink.href must be an http(s) URL' };
    case 'showRun':
      return isRunId(m.runId) ? { message: { type: 'showRun', runId: m.runId } } : { error: 'showRun.runId must be a run id' };
    default:
      return { error: `unknown message type ${JSON.stringify(String(m.type)).slice(0, 60)}` };
  }
}

/** Only plain web links leave the panel; javascript:, data:, file:, command: and the like never do. */
export function isSafeExternalLink(href: string): boolean {
  try {
    const url = new URL(href);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

// ---- the spend view (src/host/spendView.ts <-> src/webview/spendMain.ts) ----
//
// Flow: the page posts `spendReady`; the host answers with a complete `spendSnapshot`, and sends
// another whenever the ledger changes. Every snapshot is whole, so a lost one is made good by the next.

export const SPEND_VIEW_TYPE = 'budgetReasoner.spend';

export interface SpendSnapshotMessage { type: 'spendSnapshot'; snapshot: SpendSnapshot }
export type ToSpendViewMessage = SpendSnapshotMessage;

export interface SpendReadyMessage { type: 'spendReady' }
/** "Export CSV": the host asks where to save and writes the ledger's records. */
export interface ExportCsvMessage { type: 'exportCsv' }
export type FromSpendViewMessage = SpendReadyMessage | ExportCsvMessage;

/** Checks a message from the spend view: the page shows model ids from the ledger, so it is untrusted too. */
export function parseFromSpendViewMessage(raw: unknown): { message: FromSpendViewMessage } | { error: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { error: 'not an object' };
  }
  const m = raw as Record<string, unknown>;
  if (Object.keys(m).length !== 1) {
    return { error: 'unexpected fields' };
  }
  return m.type === 'spendReady' || m.type === 'exportCsv'
    ? { message: { type: m.type } }
    : { error: `unknown message type ${JSON.stringify(String(m.type)).slice(0, 60)}` };
}

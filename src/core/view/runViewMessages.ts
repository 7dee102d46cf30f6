/**
 * The two messages RunViewPublisher posts to the answer panel: the whole view, or the parts that
 * changed since the previous message. They live in core so the publisher needs nothing above it;
 * src/protocol.ts re-exports them as part of the host -> webview protocol.
 */
import type { ReasoningAppend, RunView, RunViewChanges } from './runView';

/** The whole view: sent on ready, on a snapshot request, and after the panel was hidden. */
export interface SnapshotMessage {
  type: 'snapshot';
  seq: number;
  view: RunView;
}

/** The parts of the view that changed since the previous message. */
export interface UpdateMessage {
  type: 'update';
  /** Exactly one more than the previous message's seq. */
  seq: number;
  changes: RunViewChanges;
  reasoning?: ReasoningAppend;
}

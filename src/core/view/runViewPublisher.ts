/**
 * Host-side half of the panel protocol, free of VS Code so that it is unit-tested and reused by the
 * browser harness: folds run events into the RunView, and posts at most one message per interval
 * (a complete snapshot when the webview is (re)ready, else the changed parts and the reasoning to append),
 * except that each new answer goes out in a post of its own.
 * Streamed deltas of one attempt are joined and folded into the view once per post (or when the view
 * is read, or another event comes), not once per delta: folding copies the view's objects each time,
 * and a run streams thousands of deltas between two posts' worth of change.
 */
import type { RunEvent } from '../reasoning/runEvents';
import { diffRunView, reduceRunView, withHeader, type RunHeader, type RunView } from './runView';
import type { SnapshotMessage, UpdateMessage } from './runViewMessages';

export interface PublisherClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: PublisherClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** ~30 posts a second: smooth to the eye, cheap for the extension host. */
export const PUBLISH_INTERVAL_MS = 33;

export interface PublisherStats {
  /** Messages posted (snapshots and updates). */
  posts: number;
  /** Run events received. */
  events: number;
  snapshots: number;
}

export class RunViewPublisher {
  private current: RunView;
  /** What the webview has, as far as we know; undefined until a snapshot went out. */
  private sent: RunView | undefined;
  private seq = 0;
  private ready = false;
  private timer: unknown;
  private lastPostAt = Number.NEGATIVE_INFINITY;
  /** Deltas of one attempt received since the view was last folded, joined. */
  private pendingDelta: { attempt: number; text: string; thinking: boolean } | undefined;
  readonly stats: PublisherStats = { posts: 0, events: 0, snapshots: 0 };

  constructor(
    view: RunView,
    private readonly post: (message: SnapshotMessage | UpdateMessage) => void,
    private readonly clock: PublisherClock = systemClock,
    private readonly intervalMs = PUBLISH_INTERVAL_MS,
  ) {
    this.current = view;
  }

  get view(): RunView {
    this.foldPending();
    return this.current;
  }

  push(event: RunEvent): void {
    this.stats.events++;
    if (event.type === 'delta') {
      if (!event.text) {
        return;
      }
      // Joined only with deltas of the same attempt and the same kind (thinking or reply).
      if (this.pendingDelta && (this.pendingDelta.attempt !== event.attempt || this.pendingDelta.thinking !== (event.thinking === true))) {
        this.foldPending();
      }
      if (this.pendingDelta) {
        this.pendingDelta.text += event.text;
      } else {
        this.pendingDelta = { attempt: event.attempt, text: event.text, thinking: event.thinking === true };
      }
    } else {
      if (event.type === 'answer' && this.sent && this.current.answers !== this.sent.answers) {
        // Answers are never batched together: the page shows each one, however fast they come.
        this.flush();
      }
      this.foldPending();
      this.current = reduceRunView(this.current, event);
    }
    this.schedule();
  }

  updateHeader(patch: Partial<RunHeader>): void {
    this.foldPending();
    this.current = withHeader(this.current, patch);
    this.schedule();
  }

  /** Replaces the whole view (a restored panel); the next message is a snapshot. */
  replaceView(view: RunView): void {
    // Deltas not yet folded belong to the view being replaced.
    this.pendingDelta = undefined;
    this.current = view;
    this.sent = undefined;
    if (this.ready) {
      this.snapshot();
    }
  }

  /** The webview (re)loaded and listens, or lost an update: it gets everything. */
  webviewReady(): void {
    this.ready = true;
    this.snapshot();
  }

  /** The webview is hidden (its page is discarded) or gone: posts would be lost, so none are made. */
  webviewGone(): void {
    this.ready = false;
    this.sent = undefined;
    this.cancelTimer();
  }

  /** Posts pending changes now if any (used when the run ends and on dispose). */
  flush(): void {
    this.cancelTimer();
    if (!this.ready) {
      return;
    }
    if (!this.sent) {
      this.snapshot();
      return;
    }
    this.foldPending();
    const { changes, reasoning } = diffRunView(this.sent, this.current);
    if (Object.keys(changes).length === 0 && !reasoning) {
      return;
    }
    this.seq++;
    this.send({ type: 'update', seq: this.seq, changes, ...(reasoning ? { reasoning } : {}) });
  }

  dispose(): void {
    this.cancelTimer();
    this.ready = false;
  }

  private snapshot(): void {
    this.cancelTimer();
    this.foldPending();
    this.seq++;
    this.stats.snapshots++;
    this.send({ type: 'snapshot', seq: this.seq, view: this.current });
  }

  private send(message: SnapshotMessage | UpdateMessage): void {
    this.sent = this.current;
    this.lastPostAt = this.clock.now();
    this.stats.posts++;
    this.post(message);
  }

  /** Folds the joined deltas into the view: the same view as folding them one by one, up to where a long text's kept tail starts. */
  private foldPending(): void {
    const pending = this.pendingDelta;
    if (pending) {
      this.pendingDelta = undefined;
      this.current = reduceRunView(this.current, { type: 'delta', attempt: pending.attempt, text: pending.text, ...(pending.thinking ? { thinking: true as const } : {}) });
    }
  }

  private schedule(): void {
    if (!this.ready || this.timer !== undefined) {
      return;
    }
    const delay = Math.max(0, this.lastPostAt + this.intervalMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delay);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}

/**
 * The answer panel's webview: keeps the RunView the host sends (snapshots, then numbered updates),
 * renders it at most once per animation frame (each new answer, though, before the next one lands),
 * and stores it with setState so that a reloaded window can restore the panel. It never trusts
 * what it renders: see sanitize.ts.
 */
import { parseRunList } from '../core/view/panelRuns';
import { appendBounded, applyRunViewUpdate, parseRunView, type RunView } from '../core/view/runView';
import type { FromWebviewMessage, ToWebviewMessage } from '../protocol';
import { highlightStats } from './highlight';
import { markdownStats } from './markdown';
import { PanelDom, type ReasoningDomChange } from './panelDom';

interface VsCodeApi<State> {
  postMessage(message: FromWebviewMessage): void;
  getState(): State | undefined;
  setState(state: State): void;
}
declare function acquireVsCodeApi<State>(): VsCodeApi<State>;

/** What the panel persists: enough to draw the run again after a reload. */
interface StoredState {
  view: RunView;
  seq: number;
}

const vscode = acquireVsCodeApi<StoredState>();
const root = document.getElementById('root');
if (!root) {
  throw new Error('answer panel: #root is missing');
}
const dom = new PanelDom(root, (m) => vscode.postMessage(m));

let view: RunView | undefined;
let seq = -1;
let waitingForSnapshot = true;
// Rendering is coalesced: what changed since the last frame.
let rendered: RunView | undefined;
let fullRender = true;
let reasoningChange: ReasoningDomChange | undefined;
let frame: number | undefined;

/** Render and store counts (no behaviour depends on them); the browser tests read them through a test hook. */
const panelStats = {
  renders: 0, updates: 0, snapshots: 0, snapshotRequests: 0,
  /** Milliseconds of each render (the last 5,000). */
  renderMs: [] as number[],
  get markdownRenders() {
    return markdownStats.markdownRenders;
  },
  /** Times the highlighter bundle was requested (0 until a code block appears), and blocks highlighted. */
  get highlighterLoads() {
    return highlightStats.highlighterLoads;
  },
  get highlighted() {
    return highlightStats.highlighted;
  },
};
if (__TEST_HOOKS__) {
  (globalThis as { __budgetReasonerPanel?: unknown }).__budgetReasonerPanel = panelStats;
}

function scheduleRender(): void {
  if (frame === undefined) {
    frame = requestAnimationFrame(renderNow);
  }
}

function renderNow(): void {
  frame = undefined;
  if (!view) {
    return;
  }
  const t0 = performance.now();
  dom.render(view, fullRender ? undefined : rendered, reasoningChange);
  panelStats.renders++;
  if (panelStats.renderMs.push(performance.now() - t0) > 5000) {
    panelStats.renderMs.shift();
  }
  rendered = view;
  fullRender = false;
  reasoningChange = undefined;
  vscode.setState({ view, seq });
}

function requestSnapshot(): void {
  if (!waitingForSnapshot) {
    waitingForSnapshot = true;
    panelStats.snapshotRequests++;
    vscode.postMessage({ type: 'requestSnapshot', lastSeq: seq });
  }
}

function onMessage(message: ToWebviewMessage): void {
  switch (message.type) {
    case 'snapshot': {
      const parsed = parseRunView(message.view);
      if (!parsed) {
        return;
      }
      view = parsed;
      seq = message.seq;
      waitingForSnapshot = false;
      fullRender = true;
      reasoningChange = undefined;
      panelStats.snapshots++;
      scheduleRender();
      return;
    }
    case 'update': {
      if (!view || waitingForSnapshot) {
        return;
      }
      if (message.seq !== seq + 1) {
        // A lost update would leave holes in the appended reasoning: start again from a snapshot.
        requestSnapshot();
        return;
      }
      if (message.changes.answers && frame !== undefined && view.answers !== rendered?.answers) {
        // An answer not yet drawn is drawn now, before the next one replaces it: each answer shows.
        cancelAnimationFrame(frame);
        renderNow();
      }
      const before = view;
      const { view: next, consistent } = applyRunViewUpdate(view, message.changes, message.reasoning);
      if (!consistent) {
        requestSnapshot();
        return;
      }
      view = next;
      seq = message.seq;
      panelStats.updates++;
      const r = message.reasoning;
      if (r) {
        // When the bounded tail dropped text from its front, the <pre> is rebuilt from it.
        const trimmed = !r.reset && appendBounded(before.reasoning.text, r.append).length < before.reasoning.text.length + r.append.length;
        if (r.reset || trimmed || reasoningChange?.reset) {
          reasoningChange = { reset: true, append: '' };
        } else {
          reasoningChange = { reset: false, append: (reasoningChange?.append ?? '') + r.append };
        }
      }
      scheduleRender();
      return;
    }
    case 'notice':
      dom.notice(message.level, String(message.text));
      return;
    case 'runs': {
      const list = parseRunList(message);
      if (list) {
        dom.renderRuns(list);
      }
      return;
    }
  }
}

window.addEventListener('message', (event: MessageEvent) => {
  const data = event.data as unknown;
  if (typeof data === 'object' && data !== null && typeof (data as { type?: unknown }).type === 'string') {
    onMessage(data as ToWebviewMessage);
  }
});

// Draw what was stored at once (a reloaded or re-shown panel), then ask the host for the truth.
const stored = vscode.getState();
const storedView = stored ? parseRunView(stored.view) : undefined;
if (storedView) {
  view = storedView;
  scheduleRender();
}
vscode.postMessage({ type: 'ready' });

/**
 * The answer panel, VS Code side. A panel shows one run at a time and keeps the runs shown in it:
 * the next run (a Re-run too) comes into the panel of the last one, and its header lists the
 * earlier runs, one click away (or, with `panelPerRun`, each run gets a panel of its own). Each
 * run has its own view and publisher; only the run shown posts to the page. A panel restores the
 * run it showed after a reload. The title is the shown run's question, shortened.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { StrategyName } from '../core/config';
import type { AnswerKind, QuestionContext } from '../core/reasoning/answerKinds';
import type { RunEvent } from '../core/reasoning/runEvents';
import { answerPayload, type AnswerPayload } from '../core/view/answerPayload';
import { runListEntry, runsToDrop } from '../core/view/panelRuns';
import { markInterrupted, parseRunView, type RunHeader, type RunView } from '../core/view/runView';
import { RunViewPublisher, type PublisherStats } from '../core/view/runViewPublisher';
import { shortTitle } from '../core/view/runViewText';
import { ANSWER_PANEL_VIEW_TYPE, parseFromWebviewMessage, type FromWebviewMessage, type InsertMode, type NoticeLevel, type ToWebviewMessage } from '../protocol';
import { Disposable } from './lifecycle';
import { panelHtml } from './panelHtml';
import type { RunSurface } from './runSurface';

/** What the user asked for in the panel. Copy is already done by the panel; the rest is the caller's. Texts come from the host's view. */
export type PanelAction =
  | { kind: 'stop'; runId: string }
  | { kind: 'continue'; runId: string; extraTokens: number }
  | { kind: 'copy'; runId: string; payload: AnswerPayload }
  | { kind: 'insert'; runId: string; mode: InsertMode; payload: AnswerPayload }
  | {
      kind: 'rerun';
      runId: string;
      strategy: StrategyName;
      question: string;
      /** The kind the panel asked for ("re-run as ..."), else the run's own. */
      answerKind?: AnswerKind;
      /** The code the run was about, as its header kept it. */
      context?: QuestionContext;
      /** With or without preference examples, as the panel's toggle says (absent: the settings'). */
      preferenceExamples?: boolean;
    }
  | { kind: 'openSpendReport'; runId: string };

/** Where the panel logs what the webview sent that it refused (the Logger in host/logger.ts fits). */
export interface PanelLog {
  warn(component: string, message: string): void;
}

export interface AnswerPanelOptions {
  viewColumn?: vscode.ViewColumn;
  /** Focus stays in the editor by default: the run streams beside it. */
  preserveFocus?: boolean;
  log?: PanelLog;
}

const consoleLog: PanelLog = { warn: (component, message) => console.warn(`[${component}] ${message}`) };

/**
 * How long a run waits for a new panel's page to listen before it starts anyway. A loaded machine
 * takes seconds to build a webview; a run that did not wait could end before its page showed anything.
 */
export const PANEL_READY_WAIT_MS = 10_000;

/** Events after which the panel's run list may read differently (state, best answer). */
const LISTED_EVENTS: ReadonlySet<RunEvent['type']> = new Set(['attempt-started', 'answer', 'stopped', 'error']);

/** One run shown in an answer panel: its view, its publisher, and the actions taken on it there. */
export class PanelRun implements RunSurface {
  private readonly publisher: RunViewPublisher;
  private readonly actionEmitter = new vscode.EventEmitter<PanelAction>();
  private readonly closeEmitter = new vscode.EventEmitter<void>();
  private closed = false;

  /** Fired for every valid action the user takes on this run while the panel shows it. */
  readonly onDidAction: vscode.Event<PanelAction> = this.actionEmitter.event;
  /** Fired when the run leaves its panel: the panel closed, or dropped it as one of its oldest. */
  readonly onDidClose: vscode.Event<void> = this.closeEmitter.event;

  constructor(readonly panel: AnswerPanel, view: RunView, post: (message: ToWebviewMessage) => void, private readonly listChanged: () => void) {
    this.publisher = new RunViewPublisher(view, post);
  }

  get runId(): string {
    return this.publisher.view.header.runId;
  }

  /** Everything shown so far (also while another run is shown). */
  get view(): RunView {
    return this.publisher.view;
  }

  /** Posts and events so far: at most one post per ~33 ms however fast events arrive (each answer apart). */
  get stats(): Readonly<PublisherStats> {
    return this.publisher.stats;
  }

  push(event: RunEvent): void {
    if (this.closed) {
      return;
    }
    this.publisher.push(event);
    if (event.type === 'stopped' || event.type === 'error') {
      this.publisher.flush();
    }
    if (LISTED_EVENTS.has(event.type)) {
      this.listChanged();
    }
  }

  /** Changes the header, e.g. a larger run budget after Continue. */
  updateHeader(patch: Partial<RunHeader>): void {
    if (!this.closed) {
      this.publisher.updateHeader(patch);
    }
  }

  /** A short line inside the panel, e.g. "Inserted" or "No editor to insert into". */
  notify(text: string, level: NoticeLevel = 'info'): void {
    this.panel.notify(text, level);
  }

  /** Shows this run in its panel and brings the panel to the front. */
  reveal(): void {
    this.panel.show(this);
    this.panel.reveal(undefined, false);
  }

  /** The page listens and shows this run: it gets the whole view, then updates. */
  attach(): void {
    this.publisher.webviewReady();
  }

  /** The page shows another run or is gone: nothing is posted for this one. */
  detach(): void {
    this.publisher.webviewGone();
  }

  fire(action: PanelAction): void {
    this.actionEmitter.fire(action);
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.publisher.dispose();
    this.closeEmitter.fire();
    this.actionEmitter.dispose();
    this.closeEmitter.dispose();
  }
}

export class AnswerPanel extends Disposable {
  private readonly runs: PanelRun[] = [];
  private shown!: PanelRun;
  private readonly disposeEmitter = this._register(new vscode.EventEmitter<void>());
  private closed = false;
  /** Whether the page may listen (it said `ready`, or was shown again); posts made before are lost. */
  private listening = false;
  /** Whether the page said `ready` since it was last hidden: only then does a waiting run start. */
  private pageReady = false;
  private readonly readyWaiters = new Set<(ready: boolean) => void>();
  /** The run list as last posted, to post it only when it reads differently. */
  private listed = '';

  readonly onDidDispose: vscode.Event<void> = this.disposeEmitter.event;

  /** A new panel showing `view`: a run about to start, or one that happened elsewhere (a chat response). */
  static create(extensionUri: vscode.Uri, view: RunView, options: AnswerPanelOptions = {}): AnswerPanel {
    const panel = vscode.window.createWebviewPanel(
      ANSWER_PANEL_VIEW_TYPE,
      shortTitle(view.header.question),
      { viewColumn: options.viewColumn ?? vscode.ViewColumn.Beside, preserveFocus: options.preserveFocus ?? true },
      webviewOptions(extensionUri),
    );
    return new AnswerPanel(panel, extensionUri, view, options.log ?? consoleLog);
  }

  /** Takes over a panel VS Code restored after a reload, showing the stored view. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, view: RunView, log: PanelLog = consoleLog): AnswerPanel {
    panel.webview.options = webviewOptions(extensionUri);
    return new AnswerPanel(panel, extensionUri, view, log);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    view: RunView,
    private readonly log: PanelLog,
  ) {
    super();
    this.shown = this.newRun(view);
    panel.title = shortTitle(view.header.question);
    panel.iconPath = {
      light: vscode.Uri.joinPath(extensionUri, 'media', 'answer-light.svg'),
      dark: vscode.Uri.joinPath(extensionUri, 'media', 'answer-dark.svg'),
    };
    this._register(panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)));
    // Without retainContextWhenHidden a hidden webview's page is discarded; on show it reloads,
    // says `ready` and gets a full snapshot, so nothing posted while hidden needs to reach it.
    this._register(panel.onDidChangeViewState(() => {
      if (!panel.visible) {
        this.listening = false;
        this.pageReady = false;
        this.shown.detach();
      } else {
        // Normally the reloaded page's `ready` brings the snapshot; this covers a page that was kept.
        // It does not start a waiting run: a new panel turns visible before its page has loaded.
        this.attachShown();
      }
    }));
    this._register(panel.onDidDispose(() => this.dispose()));
    panel.webview.html = this.html();
  }

  /** The run the panel shows. */
  get shownRun(): PanelRun {
    return this.shown;
  }

  get visible(): boolean {
    return !this.closed && this.panel.visible;
  }

  /**
   * Shows a further run here, in front; the earlier ones stay in the header's list. The oldest
   * finished ones leave the panel past PANEL_RUNS_LIMIT.
   */
  addRun(view: RunView): PanelRun {
    const run = this.newRun(view);
    this.show(run);
    for (const runId of runsToDrop(this.runs.map((r) => runListEntry(r.view)), run.runId)) {
      const old = this.runs.findIndex((r) => r.runId === runId);
      this.runs.splice(old, 1)[0].close();
    }
    this.postRunList();
    this.reveal(undefined, true);
    return run;
  }

  /** Shows one of the panel's runs: the page gets its whole view. */
  show(run: PanelRun): void {
    if (run === this.shown || !this.runs.includes(run)) {
      return;
    }
    this.shown.detach();
    this.shown = run;
    this.panel.title = shortTitle(run.view.header.question);
    if (this.listening) {
      run.attach();
    }
    this.postRunList();
  }

  /**
   * Resolves true once the page listens, false if it did not within `timeoutMs` or the panel
   * closed. A run waits for this before its first event, so the page shows every state of it.
   */
  whenReady(timeoutMs = PANEL_READY_WAIT_MS): Promise<boolean> {
    if (this.pageReady || this.closed) {
      return Promise.resolve(this.pageReady);
    }
    return new Promise((resolve) => {
      const done = (ready: boolean) => {
        clearTimeout(timer);
        this.readyWaiters.delete(done);
        resolve(ready);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.readyWaiters.add(done);
    });
  }

  /** A short line inside the panel, e.g. "Inserted" or "No editor to insert into". */
  notify(text: string, level: NoticeLevel = 'info'): void {
    this.postMessage({ type: 'notice', level, text });
  }

  reveal(viewColumn?: vscode.ViewColumn, preserveFocus = false): void {
    if (!this.closed) {
      this.panel.reveal(viewColumn, preserveFocus);
    }
  }

  override dispose(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    for (const done of [...this.readyWaiters]) {
      done(false);
    }
    for (const run of this.runs.splice(0)) {
      run.close();
    }
    this.disposeEmitter.fire();
    super.dispose();
    this.panel.dispose();
  }

  private newRun(view: RunView): PanelRun {
    const run = new PanelRun(this, view, (m) => this.postMessage(m), () => this.postRunList());
    this.runs.push(run);
    return run;
  }

  /** The page said `ready` (or asked for a snapshot): it listens. */
  private pageListens(): void {
    this.pageReady = true;
    this.attachShown();
    for (const done of [...this.readyWaiters]) {
      done(true);
    }
  }

  private attachShown(): void {
    this.listening = true;
    this.listed = '';
    this.shown.attach();
    this.postRunList();
  }

  /** The runs the header lists, posted when they read differently from the last post. */
  private postRunList(): void {
    if (!this.listening) {
      return;
    }
    const message: ToWebviewMessage = { type: 'runs', runs: this.runs.map((r) => runListEntry(r.view)), shown: this.shown.runId };
    const text = JSON.stringify(message);
    if (text !== this.listed) {
      this.listed = text;
      this.postMessage(message);
    }
  }

  private postMessage(message: ToWebviewMessage): void {
    if (this.closed) {
      return;
    }
    this.panel.webview.postMessage(message).then(undefined, (e: unknown) => this.log.warn('panel', `post failed: ${String(e)}`));
  }

  private onMessage(raw: unknown): void {
    const parsed = parseFromWebviewMessage(raw);
    if ('error' in parsed) {
      // The page shows model output: a message it should never send is logged and dropped.
      this.log.warn('panel', `ignored a message from the answer panel: ${parsed.error}`);
      return;
    }
    this.handle(parsed.message).catch((e: unknown) => this.log.warn('panel', `action failed: ${String(e)}`));
  }

  /** The page's messages act on the run it shows (a Stop, Insert or Re-run of an earlier run is that run's). */
  private async handle(m: FromWebviewMessage): Promise<void> {
    const run = this.shown;
    const view = run.view;
    const runId = run.runId;
    switch (m.type) {
      case 'ready':
      case 'requestSnapshot':
        this.pageListens();
        return;
      case 'showRun': {
        const chosen = this.runs.find((r) => r.runId === m.runId);
        if (chosen) {
          this.show(chosen);
        }
        return;
      }
      case 'stop':
        run.fire({ kind: 'stop', runId });
        return;
      case 'continue':
        run.fire({ kind: 'continue', runId, extraTokens: m.extraTokens });
        return;
      case 'copy': {
        // The text comes from the host's own view, never from the page.
        const payload = this.payload(view, m.answerIndex, m.block, 'copy');
        if (!payload) {
          return;
        }
        await vscode.env.clipboard.writeText(payload.text);
        this.notify(m.block !== undefined ? 'Code block copied.' : 'Answer copied.');
        run.fire({ kind: 'copy', runId, payload });
        return;
      }
      case 'insert': {
        const payload = this.payload(view, m.answerIndex, m.block, 'insert');
        if (payload) {
          run.fire({ kind: 'insert', runId, mode: m.mode, payload });
        }
        return;
      }
      case 'rerun': {
        const { question, context, answerKind } = view.header;
        const kind = m.answerKind ?? answerKind;
        run.fire({
          kind: 'rerun', runId, strategy: m.strategy, question,
          ...(kind ? { answerKind: kind } : {}),
          ...(context ? { context } : {}),
          ...(m.preferenceExamples !== undefined ? { preferenceExamples: m.preferenceExamples } : {}),
        });
        return;
      }
      case 'openSpendReport':
        run.fire({ kind: 'openSpendReport', runId });
        return;
      case 'openLink':
        // openExternal shows VS Code's own "open external website?" prompt for untrusted domains.
        await vscode.env.openExternal(vscode.Uri.parse(m.href, true));
        return;
    }
  }

  /** The answer (or its code block) a Copy or Insert names, from the host's view; the panel says when there is none. */
  private payload(view: RunView, answerIndex: number | undefined, block: number | undefined, verb: 'copy' | 'insert'): AnswerPayload | undefined {
    const a = pickAnswer(view, answerIndex);
    if (!a) {
      this.notify(`There is no answer to ${verb} yet.`, 'warning');
      return undefined;
    }
    const payload = answerPayload(a, block);
    if (!payload) {
      this.notify(`That answer has no code block ${block! + 1} to ${verb}.`, 'warning');
    }
    return payload;
  }

  private html(): string {
    const webview = this.panel.webview;
    const asset = (...path: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...path)).toString();
    return panelHtml({
      cspSource: webview.cspSource,
      nonce: randomUUID(),
      styles: [asset('dist', 'katex', 'katex.min.css'), asset('media', 'webview-base.css'), asset('media', 'panel.css')],
      scripts: [asset('dist', 'webview.js')],
      title: shortTitle(this.shown.view.header.question),
    });
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    // No retainContextWhenHidden: the page is rebuilt from a snapshot when shown again (less memory).
    enableFindWidget: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

function pickAnswer(view: RunView, index: number | undefined): RunView['answers'][number] | undefined {
  return index === undefined ? view.answers[view.answers.length - 1] : view.answers[index];
}

/**
 * Restores answer panels after a window reload from the state the webview stored with setState.
 * The state is untrusted (the page renders model output): it is re-validated, and a run that was
 * still going is shown as interrupted. `onRestore` lets the caller wire actions (re-run, spend report).
 */
export function registerAnswerPanelSerializer(
  context: vscode.ExtensionContext,
  onRestore?: (panel: AnswerPanel) => void,
  log: PanelLog = consoleLog,
): vscode.Disposable {
  const serializer = vscode.window.registerWebviewPanelSerializer(ANSWER_PANEL_VIEW_TYPE, {
    async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
      const stored = typeof state === 'object' && state !== null ? (state as { view?: unknown }).view : undefined;
      const view = parseRunView(stored);
      if (!view) {
        log.warn('panel', 'an answer panel could not be restored (no valid stored state); closing it');
        panel.dispose();
        return;
      }
      const restored = AnswerPanel.revive(panel, context.extensionUri, markInterrupted(view), log);
      context.subscriptions.push(restored);
      onRestore?.(restored);
    },
  });
  context.subscriptions.push(serializer);
  return serializer;
}

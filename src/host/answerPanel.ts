/**
 * The answer panel, VS Code side. One panel per run: runs can be compared side by side (a re-run
 * with another strategy opens beside the first), a finished panel stays as the record of what the
 * run cost, and each panel restores on its own after a reload. The title is the question, shortened.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { StrategyName } from '../core/config';
import type { AnswerKind, QuestionContext } from '../core/reasoning/answerKinds';
import type { RunEvent } from '../core/reasoning/runEvents';
import { answerPayload, type AnswerPayload } from '../core/view/answerPayload';
import { initialRunView, markInterrupted, parseRunView, type RunHeader, type RunView } from '../core/view/runView';
import { RunViewPublisher, type PublisherStats } from '../core/view/runViewPublisher';
import { shortTitle } from '../core/view/runViewText';
import { ANSWER_PANEL_VIEW_TYPE, parseFromWebviewMessage, type FromWebviewMessage, type InsertMode, type NoticeLevel, type ToWebviewMessage } from '../protocol';
import { Disposable } from './lifecycle';
import { panelHtml } from './panelHtml';

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

export class AnswerPanel extends Disposable {
  private readonly publisher: RunViewPublisher;
  private readonly actionEmitter = this._register(new vscode.EventEmitter<PanelAction>());
  private readonly disposeEmitter = this._register(new vscode.EventEmitter<void>());
  private closed = false;

  /** Fired for every valid action the user takes in the panel. */
  readonly onDidAction: vscode.Event<PanelAction> = this.actionEmitter.event;
  readonly onDidDispose: vscode.Event<void> = this.disposeEmitter.event;

  static create(extensionUri: vscode.Uri, header: RunHeader, options: AnswerPanelOptions = {}): AnswerPanel {
    const panel = vscode.window.createWebviewPanel(
      ANSWER_PANEL_VIEW_TYPE,
      shortTitle(header.question),
      { viewColumn: options.viewColumn ?? vscode.ViewColumn.Beside, preserveFocus: options.preserveFocus ?? true },
      webviewOptions(extensionUri),
    );
    return new AnswerPanel(panel, extensionUri, initialRunView(header), options.log ?? consoleLog);
  }

  /** A panel showing a run that happened elsewhere (a chat response): finished, with Copy, Insert and the report. */
  static fromView(extensionUri: vscode.Uri, view: RunView, options: AnswerPanelOptions = {}): AnswerPanel {
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
    this.publisher = new RunViewPublisher(view, (m) => this.postMessage(m));
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
        this.publisher.webviewGone();
      } else {
        // Normally the reloaded page's `ready` brings the snapshot; this covers a page that was kept.
        this.publisher.webviewReady();
      }
    }));
    this._register(panel.onDidDispose(() => this.dispose()));
    panel.webview.html = this.html();
  }

  get runId(): string {
    return this.publisher.view.header.runId;
  }

  /** The current view model (for the caller's tests and for restoring). */
  get view(): RunView {
    return this.publisher.view;
  }

  /** Posts and events so far: at most one post per ~33 ms however fast events arrive. */
  get stats(): Readonly<PublisherStats> {
    return this.publisher.stats;
  }

  get visible(): boolean {
    return !this.closed && this.panel.visible;
  }

  push(event: RunEvent): void {
    if (this.closed) {
      return;
    }
    this.publisher.push(event);
    if (event.type === 'stopped' || event.type === 'error') {
      this.publisher.flush();
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
    this.publisher.dispose();
    this.disposeEmitter.fire();
    super.dispose();
    this.panel.dispose();
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

  private async handle(m: FromWebviewMessage): Promise<void> {
    const view = this.publisher.view;
    const runId = view.header.runId;
    switch (m.type) {
      case 'ready':
      case 'requestSnapshot':
        this.publisher.webviewReady();
        return;
      case 'stop':
        this.actionEmitter.fire({ kind: 'stop', runId });
        return;
      case 'continue':
        this.actionEmitter.fire({ kind: 'continue', runId, extraTokens: m.extraTokens });
        return;
      case 'copy': {
        // The text comes from the host's own view, never from the page.
        const payload = this.payload(view, m.answerIndex, m.block, 'copy');
        if (!payload) {
          return;
        }
        await vscode.env.clipboard.writeText(payload.text);
        this.notify(m.block !== undefined ? 'Code block copied.' : 'Answer copied.');
        this.actionEmitter.fire({ kind: 'copy', runId, payload });
        return;
      }
      case 'insert': {
        const payload = this.payload(view, m.answerIndex, m.block, 'insert');
        if (payload) {
          this.actionEmitter.fire({ kind: 'insert', runId, mode: m.mode, payload });
        }
        return;
      }
      case 'rerun': {
        const { question, context, answerKind } = view.header;
        const kind = m.answerKind ?? answerKind;
        this.actionEmitter.fire({ kind: 'rerun', runId, strategy: m.strategy, question, ...(kind ? { answerKind: kind } : {}), ...(context ? { context } : {}) });
        return;
      }
      case 'openSpendReport':
        this.actionEmitter.fire({ kind: 'openSpendReport', runId });
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
      styles: [asset('dist', 'katex', 'katex.min.css'), asset('media', 'panel.css')],
      scripts: [asset('dist', 'webview.js')],
      title: shortTitle(this.publisher.view.header.question),
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

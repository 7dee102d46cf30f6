/**
 * Replace selection for code: the answer is proposed, never written silently. A diff editor shows the
 * file (left, the live document) against the file with the selection replaced (right, a read-only
 * virtual document). Nothing changes until you click Apply (✓) in the diff's title bar, or Apply in
 * the notification that says the diff is open (VS Code shows title-bar actions only while their
 * group is active); Discard (✗) or closing the diff drops the proposal. Apply first checks that the
 * document did not change since the diff opened (its version and the selected text); if it did, it
 * says so and applies nothing.
 *
 * Why not a modal dialog: a modal blocks the diff, so a change longer than a screen could not be
 * read before deciding.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { fitReplacement, selectedLines } from '../core/run/selectionContext';
import type { NoticeLevel } from '../protocol';
import { columnOf, contextPath } from './codeContext';
import { Disposable } from './lifecycle';

export const PROPOSAL_SCHEME = 'budget-reasoner-proposal';
export const APPLY_PROPOSED_CHANGE_COMMAND = 'budgetReasoner.applyProposedChange';
export const DISCARD_PROPOSED_CHANGE_COMMAND = 'budgetReasoner.discardProposedChange';

/** What the answer panel says after Insert or Replace. */
export interface InsertNotice {
  text: string;
  level: NoticeLevel;
}

interface Proposal {
  target: vscode.Uri;
  range: vscode.Range;
  /** The document's version when the diff opened, and what the range held then. */
  version: number;
  original: string;
  replacement: string;
  /** The whole proposed document (the diff's right side). */
  text: string;
  /** "src/x.ts lines 3-9". */
  where: string;
}

export interface ProposalLog {
  info(component: string, message: string): void;
}

export class ProposedChanges extends Disposable implements vscode.TextDocumentContentProvider {
  private readonly proposals = new Map<string, Proposal>();
  private readonly changed = this._register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: ProposalLog) {
    super();
    this._register(vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, this));
    this._register(vscode.commands.registerCommand(APPLY_PROPOSED_CHANGE_COMMAND, (uri?: unknown) => this.apply(uri)));
    this._register(vscode.commands.registerCommand(DISCARD_PROPOSED_CHANGE_COMMAND, (uri?: unknown) => this.discard(uri)));
    // Closing the diff without a choice discards the proposal.
    this._register(vscode.window.tabGroups.onDidChangeTabs((e) => {
      for (const tab of e.closed) {
        const key = proposalKey(tab.input);
        if (key && this.proposals.delete(key)) {
          this.log.info('replace', 'proposed change discarded (diff closed)');
        }
      }
    }));
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.proposals.get(uri.toString())?.text ?? '';
  }

  /** Opens the diff of the selection replaced by `code`; the notice says what to do next (or why nothing opened). */
  async propose(document: vscode.TextDocument, range: vscode.Range, code: string): Promise<InsertNotice> {
    const original = document.getText(range);
    const replacement = fitReplacement(original, code);
    const { startLine, endLine } = selectedLines(range.start, range.end);
    const where = `${contextPath(document.uri)} ${startLine === endLine ? `line ${startLine}` : `lines ${startLine}-${endLine}`}`;
    if (replacement === original) {
      return { text: `The code is the same as the selection in ${where}: nothing to replace.`, level: 'info' };
    }
    const full = document.getText();
    const text = full.slice(0, document.offsetAt(range.start)) + replacement + full.slice(document.offsetAt(range.end));
    const name = document.uri.path.split('/').pop() || 'proposal';
    const uri = vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: `/${randomUUID()}/${name}` });
    this.proposals.set(uri.toString(), { target: document.uri, range, version: document.version, original, replacement, text, where });
    await vscode.commands.executeCommand('vscode.diff', document.uri, uri, `${name}: proposed change (✓ applies it)`, {
      preview: false,
      viewColumn: columnOf(document.uri),
    } satisfies vscode.TextDocumentShowOptions);
    this.log.info('replace', `proposed a change to ${where}: ${original.split('\n').length} lines -> ${replacement.split('\n').length}`);
    void vscode.window.showInformationMessage(`Budget Reasoner: review the proposed change to ${where}. Nothing changes until you apply it.`, 'Apply', 'Discard')
      .then((choice) => (choice === 'Apply' ? this.apply(uri) : choice === 'Discard' ? this.discard(uri) : undefined));
    return { text: `Review the change to ${where} in the diff: Apply (✓) or Discard (✗) in its title bar or its notification. Nothing changes until you apply.`, level: 'info' };
  }

  private async apply(arg: unknown): Promise<void> {
    const key = this.keyFor(arg);
    const p = key ? this.proposals.get(key) : undefined;
    if (!key || !p) {
      void vscode.window.showInformationMessage('Budget Reasoner: there is no proposed change here to apply (it was applied or discarded).');
      return;
    }
    this.proposals.delete(key);
    const document = await vscode.workspace.openTextDocument(p.target);
    if (document.version !== p.version || document.getText(p.range) !== p.original) {
      await this.closeDiff(key);
      this.log.info('replace', `not applied: ${p.where} changed after the diff opened`);
      void vscode.window.showWarningMessage(`Budget Reasoner: ${p.where} changed after the diff opened, so the proposed change was not applied. Use Replace selection again for a fresh diff.`);
      return;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.replace(p.target, p.range, p.replacement);
    if (!(await vscode.workspace.applyEdit(edit))) {
      this.proposals.set(key, p);
      void vscode.window.showErrorMessage(`Budget Reasoner: could not edit ${p.where}; nothing was changed.`);
      return;
    }
    await this.closeDiff(key);
    const start = p.range.start;
    const end = document.positionAt(document.offsetAt(start) + p.replacement.length);
    await vscode.window.showTextDocument(document, { viewColumn: columnOf(p.target), selection: new vscode.Range(start, end), preserveFocus: false });
    this.log.info('replace', `applied the proposed change to ${p.where}`);
    vscode.window.setStatusBarMessage(`Budget Reasoner: applied the change to ${p.where} (Undo reverts it)`, 8000);
  }

  private async discard(arg: unknown): Promise<void> {
    const key = this.keyFor(arg);
    if (key && this.proposals.delete(key)) {
      this.log.info('replace', 'proposed change discarded');
    }
    if (key) {
      await this.closeDiff(key);
    }
  }

  /** The proposal an editor-title action was clicked on (its resource), else the active diff's. */
  private keyFor(arg: unknown): string | undefined {
    if (arg instanceof vscode.Uri && arg.scheme === PROPOSAL_SCHEME) {
      return arg.toString();
    }
    return proposalKey(vscode.window.tabGroups.activeTabGroup.activeTab?.input);
  }

  private async closeDiff(key: string): Promise<void> {
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => proposalKey(t.input) === key);
    if (tabs.length) {
      await vscode.window.tabGroups.close(tabs);
    }
  }
}

function proposalKey(input: unknown): string | undefined {
  if (input instanceof vscode.TabInputTextDiff && input.modified.scheme === PROPOSAL_SCHEME) {
    return input.modified.toString();
  }
  if (input instanceof vscode.TabInputText && input.uri.scheme === PROPOSAL_SCHEME) {
    return input.uri.toString();
  }
  return undefined;
}

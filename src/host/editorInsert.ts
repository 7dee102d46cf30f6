/**
 * Puts an answer into the editor the question came from. Insert at cursor inserts. Replace selection
 * never overwrites code silently: code (a code answer, or one block) goes through a diff that you
 * apply or discard (proposedChange.ts); prose does not replace selected code at all; a selection of
 * text that was the question itself is replaced by a value or prose answer as before.
 */
import * as vscode from 'vscode';
import { selectionIsText } from '../core/reasoning/answerKinds';
import type { AnswerPayload } from '../core/view/answerPayload';
import { columnOf, contextPath, type QuestionSource } from './codeContext';
import type { InsertNotice, ProposedChanges } from './proposedChange';

export type { QuestionSource } from './codeContext';

/** Insert at the cursor, or replace the selection the question came from (through a diff for code). */
export async function insertAnswer(source: QuestionSource | undefined, mode: 'cursor' | 'replace', payload: AnswerPayload, proposals: ProposedChanges): Promise<InsertNotice> {
  const selection = source?.selection && !source.selection.isEmpty ? source.selection : undefined;
  if (mode === 'cursor' || !source?.uri || !selection) {
    const inserted = await insertAtCursor(source?.uri, payload.text);
    if (!inserted) {
      return { text: 'There is no editor to insert the answer into. Open one and try again.', level: 'warning' };
    }
    return mode === 'replace'
      ? { text: 'The question had no selection to replace: inserted at the cursor.', level: 'info' }
      : { text: 'Inserted at the cursor.', level: 'info' };
  }
  const document = await vscode.workspace.openTextDocument(source.uri);
  const where = contextPath(document.uri);
  if (source.selectedText !== undefined && document.getText(selection) !== source.selectedText) {
    return { text: `The selection in ${where} changed since you asked, so nothing was replaced. Select the code again and re-run, or Copy the answer.`, level: 'warning' };
  }
  if (payload.code) {
    return proposals.propose(document, selection, payload.text);
  }
  if (!selectionIsText(source.languageId ?? document.languageId)) {
    // Prose over code would break the file; a comment nobody asked for would too.
    return { text: `Not replaced: this answer is text, and the selection is code in ${where}. Insert at cursor puts the text at the cursor; Copy copies it.`, level: 'warning' };
  }
  const editor = await vscode.window.showTextDocument(document, { preserveFocus: false, viewColumn: columnOf(document.uri) });
  const ok = await editor.edit((edit) => edit.replace(selection, payload.text));
  return ok ? { text: 'Replaced the selection.', level: 'info' } : { text: `Could not edit ${where}.`, level: 'error' };
}

async function insertAtCursor(uri: vscode.Uri | undefined, text: string): Promise<boolean> {
  const target = uri ?? vscode.window.visibleTextEditors[0]?.document.uri;
  if (!target) {
    return false;
  }
  const doc = await vscode.workspace.openTextDocument(target);
  const editor = await vscode.window.showTextDocument(doc, { preserveFocus: false, viewColumn: columnOf(target) });
  return editor.edit((edit) => edit.insert(editor.selection.active, text));
}

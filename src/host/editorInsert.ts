/** Puts an answer into the editor the question came from. */
import * as vscode from 'vscode';
import type { QuestionSource } from './codeContext';

export type { QuestionSource } from './codeContext';

/** Insert at the cursor, or replace the selection the question came from, in that editor. */
export async function insertText(source: QuestionSource | undefined, mode: 'cursor' | 'replace', text: string): Promise<void> {
  const uri = source?.uri ?? vscode.window.visibleTextEditors[0]?.document.uri;
  if (!uri) {
    void vscode.window.showWarningMessage('Budget Reasoner: there is no editor to insert the answer into. Open one and try again.');
    return;
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  const editor = await vscode.window.showTextDocument(doc, { preserveFocus: false, viewColumn: vscode.ViewColumn.One });
  await editor.edit((edit) => {
    if (mode === 'replace' && source?.selection && !source.selection.isEmpty) {
      edit.replace(source.selection, text);
    } else {
      edit.insert(editor.selection.active, text);
    }
  });
}

/** Gathers the question for "Reason with budget": the editor's selection, or a typed question. */
import * as vscode from 'vscode';
import type { QuestionSource } from './editorInsert';

export interface AskedQuestion {
  /** As selected or typed; the run plan checks it. */
  text: string;
  source: QuestionSource;
}

/** The selection when there is one, else the input box; undefined when the user dismissed it. */
export async function askQuestion(): Promise<AskedQuestion | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (editor && !editor.selection.isEmpty) {
    return { text: editor.document.getText(editor.selection), source: { uri: editor.document.uri, selection: editor.selection } };
  }
  const text = await vscode.window.showInputBox({
    title: 'Reason with budget',
    prompt: 'Your question (or select text in the editor first)',
    ignoreFocusOut: true,
  });
  if (text === undefined) {
    return undefined; // dismissed
  }
  return { text, source: { uri: editor?.document.uri, selection: editor?.selection } };
}

/** The code a question is about, read from a document: a selection (editor or chat) or a whole file (chat's #file). */
import * as vscode from 'vscode';
import type { QuestionContext } from '../core/reasoning/answerKinds';
import { documentContext, selectionContext } from '../core/run/selectionContext';

/** Where the question came from, so Insert / Replace go back to the right editor. */
export interface QuestionSource {
  uri?: vscode.Uri;
  selection?: vscode.Range;
  /** What the selection held when the question was asked: Replace checks it is still there. */
  selectedText?: string;
  /** The document's language: a selection in a code file is never replaced by prose. */
  languageId?: string;
}

/** The column of a visible editor of `uri`, else the first. */
export function columnOf(uri: vscode.Uri): vscode.ViewColumn {
  return vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString())?.viewColumn ?? vscode.ViewColumn.One;
}

/** The path a person recognises: workspace-relative, or the untitled name. */
export function contextPath(uri: vscode.Uri): string {
  return vscode.workspace.asRelativePath(uri, false);
}

function documentLines(document: vscode.TextDocument): string[] {
  const lines: string[] = [];
  for (let i = 0; i < document.lineCount; i++) {
    lines.push(document.lineAt(i).text);
  }
  return lines;
}

/** A selection of `document` with `contextLines` whole lines above and below it. */
export function rangeContext(document: vscode.TextDocument, range: vscode.Range, contextLines: number): QuestionContext {
  return selectionContext({
    path: contextPath(document.uri),
    languageId: document.languageId,
    lines: documentLines(document),
    start: range.start,
    end: range.end,
    code: document.getText(range),
    contextLines,
  });
}

/** The whole document. */
export function fileContext(document: vscode.TextDocument): QuestionContext {
  return documentContext(contextPath(document.uri), document.languageId, document.getText());
}

/** Where Insert and Replace go back to for a selection, with what it held when the question was asked. */
export function selectionSource(document: vscode.TextDocument, range: vscode.Range): QuestionSource {
  return { uri: document.uri, selection: range, selectedText: document.getText(range), languageId: document.languageId };
}

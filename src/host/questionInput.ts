/**
 * Gathers the question for "Reason with budget". Selected code gets a quick pick of what to do with
 * it (explain, find the bug, ...), and the question carries the code as its context; selected text
 * (markdown, plain text) is the question itself; with no selection the question is typed.
 */
import * as vscode from 'vscode';
import { ACTION_QUESTIONS, selectionIsText, type QuestionContext, type SelectionAction } from '../core/reasoning/answerKinds';
import { describeContext } from '../core/run/questionContext';
import { rangeContext, selectionSource } from './codeContext';
import type { QuestionSource } from './editorInsert';
import { askTypedQuestion, RECENT_CODE_QUESTIONS_KEY, RECENT_QUESTIONS_KEY } from './recentQuestionPick';

export interface AskedQuestion {
  /** As selected or typed; the run plan checks it. */
  text: string;
  source: QuestionSource;
  /** The selected code the question is about (not for "Ask the selection itself"). */
  context?: QuestionContext;
  action?: SelectionAction;
}

interface ActionItem extends vscode.QuickPickItem {
  action: SelectionAction;
}

/** The quick pick's rows, in the order shown. */
export const ACTION_ITEMS: readonly ActionItem[] = [
  { action: 'explain', label: '$(book) Explain', detail: ACTION_QUESTIONS.explain },
  { action: 'find-bug', label: '$(bug) Find the bug', detail: ACTION_QUESTIONS['find-bug'] },
  { action: 'improve', label: '$(sparkle) Improve', detail: ACTION_QUESTIONS.improve },
  { action: 'write-tests', label: '$(beaker) Write tests', detail: ACTION_QUESTIONS['write-tests'] },
  { action: 'ask', label: '$(comment) Ask a question...', detail: 'Type your own question about this code' },
  { action: 'selection-is-question', label: '$(quote) Ask the selection itself', detail: 'The selected text is the question; no code context is added' },
];

export interface QuestionInputDeps {
  /** Where recent questions are kept (the extension's globalState). */
  memento: vscode.Memento;
  /** Lines above and below a selection sent with it (budgetReasoner.contextLines). */
  contextLines: number;
}

/** The question, with its code and the chosen action for selected code; undefined when the user dismissed a box. */
export async function askQuestion(deps: QuestionInputDeps): Promise<AskedQuestion | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (editor && !editor.selection.isEmpty) {
    const { document, selection } = editor;
    const source = selectionSource(document, selection);
    if (selectionIsText(document.languageId)) {
      return { text: document.getText(selection), source };
    }
    return askAboutCode(deps, rangeContext(document, selection, deps.contextLines), source);
  }
  const text = await askTypedQuestion(deps.memento, {
    title: 'Reason with budget',
    placeholder: 'Your question (or select text or code in the editor first)',
    key: RECENT_QUESTIONS_KEY,
  });
  if (text === undefined) {
    return undefined; // dismissed
  }
  return { text, source: { uri: editor?.document.uri, selection: editor?.selection, languageId: editor?.document.languageId } };
}

async function askAboutCode(deps: QuestionInputDeps, context: QuestionContext, source: QuestionSource): Promise<AskedQuestion | undefined> {
  const about = describeContext(context).replace(/`/g, '');
  const picked = await vscode.window.showQuickPick(ACTION_ITEMS, {
    title: `Reason with budget about ${about}`,
    placeHolder: 'What should the model do with the selected code?',
    ignoreFocusOut: true,
  });
  if (!picked) {
    return undefined;
  }
  const { action } = picked;
  if (action === 'selection-is-question') {
    return { text: context.code, source, action };
  }
  if (action === 'ask') {
    const text = await askTypedQuestion(deps.memento, {
      title: `Ask about ${about}`,
      placeholder: 'Your question about the selected code',
      key: RECENT_CODE_QUESTIONS_KEY,
    });
    return text === undefined ? undefined : { text, source, context, action };
  }
  return { text: ACTION_QUESTIONS[action], source, context, action };
}

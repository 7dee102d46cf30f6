/**
 * The typed-question box: a quick pick whose first row is what you type, with your recent questions
 * below it (most recent first) to pick again. Kept in globalState on this machine, never synced.
 */
import * as vscode from 'vscode';
import { recentQuestions, rememberQuestion } from '../core/recentQuestions';

/** globalState keys: questions about selected code, and questions on their own, are kept apart. */
export const RECENT_QUESTIONS_KEY = 'budgetReasoner.recentQuestions';
export const RECENT_CODE_QUESTIONS_KEY = 'budgetReasoner.recentCodeQuestions';

interface QuestionItem extends vscode.QuickPickItem {
  question: string;
}

/** One line of a question, shortened, for its row. */
function rowLabel(question: string): string {
  const line = question.replace(/\s+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

export interface QuestionBoxOptions {
  title: string;
  placeholder: string;
  /** Which list of recent questions (RECENT_QUESTIONS_KEY or RECENT_CODE_QUESTIONS_KEY). */
  key: string;
}

/** The typed (or picked) question, remembered first in its list; undefined when dismissed. */
export async function askTypedQuestion(memento: vscode.Memento, options: QuestionBoxOptions): Promise<string | undefined> {
  const recent = recentQuestions(memento.get<unknown>(options.key));
  const recentItems: QuestionItem[] = recent.map((q) => ({ label: rowLabel(q), question: q, iconPath: new vscode.ThemeIcon('history'), description: 'recent' }));
  const pick = vscode.window.createQuickPick<QuestionItem>();
  pick.title = options.title;
  pick.placeholder = options.placeholder;
  pick.ignoreFocusOut = true;
  pick.matchOnDescription = false;
  const update = () => {
    const typed = pick.value;
    // What is typed is always the first row, so Enter asks it rather than a recent question it happens to match.
    pick.items = typed.trim()
      ? [{ label: typed, question: typed, alwaysShow: true, iconPath: new vscode.ThemeIcon('question'), description: 'ask this' }, ...recentItems.filter((i) => i.question !== typed.trim())]
      : recentItems;
  };
  update();
  const question = await new Promise<string | undefined>((resolve) => {
    let done = false;
    pick.onDidChangeValue(update);
    pick.onDidAccept(() => {
      done = true;
      resolve(pick.selectedItems[0]?.question ?? pick.activeItems[0]?.question ?? pick.value);
      pick.hide();
    });
    pick.onDidHide(() => {
      if (!done) {
        resolve(undefined);
      }
      pick.dispose();
    });
    pick.show();
  });
  if (question !== undefined && question.trim()) {
    await memento.update(options.key, rememberQuestion(recent, question));
  }
  return question;
}

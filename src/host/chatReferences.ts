/**
 * @budget's references as the code a question is about: `#selection` (a Location), `#file` (a Uri)
 * and the editor's implicit selection become the same QuestionContext as "Reason with budget" builds
 * for selected code. One piece of code is sent: the first written in the prompt, else the implicit
 * selection. The implicit file and viewport are not sent (the user did not pick them, and a whole
 * file costs tokens).
 */
import * as vscode from 'vscode';
import type { QuestionContext } from '../core/reasoning/answerKinds';
import { describeContext } from '../core/run/questionContext';
import { fileContext, rangeContext, selectionSource, type QuestionSource } from './codeContext';

const IMPLICIT_SELECTION = 'vscode.implicit.selection';

/** What a chat request's references add to its question. */
export interface ChatCode {
  /** The prompt with the sent reference's `#…` text replaced by where the code is from ("`src/x.ts` lines 3-9"). */
  prompt: string;
  /** The prompt without the sent reference's text (empty when the reference was the whole prompt). */
  promptWithout: string;
  context?: QuestionContext;
  /** Where Insert and Replace go back to, for a selection. */
  source?: QuestionSource;
  /** Said in the response: references not sent, and why. */
  notes: string[];
}

type Reference = Pick<vscode.ChatPromptReference, 'id' | 'range' | 'value'>;

function asLocation(value: unknown): { uri: vscode.Uri; range: vscode.Range } | undefined {
  if (value instanceof vscode.Location) {
    return { uri: value.uri, range: value.range };
  }
  const v = value as { uri?: unknown; range?: unknown } | undefined;
  return v && v.uri instanceof vscode.Uri && v.range instanceof vscode.Range ? { uri: v.uri, range: v.range } : undefined;
}

function label(ref: Reference, prompt: string): string {
  return ref.range ? prompt.slice(ref.range[0], ref.range[1]) : 'the selection';
}

/** Reads the references' code; a reference that cannot be read is noted, not sent. */
export async function chatCode(prompt: string, references: readonly Reference[], contextLines: number): Promise<ChatCode> {
  // VS Code lists references last-in-prompt first; the user reads them first to last.
  const written = references.filter((r) => r.range !== undefined && (r.value instanceof vscode.Uri || asLocation(r.value))).sort((a, b) => a.range![0] - b.range![0]);
  const implicit = references.find((r) => r.id === IMPLICIT_SELECTION && asLocation(r.value) && !asLocation(r.value)!.range.isEmpty);
  const notes: string[] = [];
  for (const ref of [...written, ...(implicit ? [implicit] : [])]) {
    try {
      const location = asLocation(ref.value);
      const uri = location?.uri ?? (ref.value as vscode.Uri);
      const document = await vscode.workspace.openTextDocument(uri);
      const context = location ? rangeContext(document, location.range, contextLines) : fileContext(document);
      const others = written.filter((r) => r !== ref);
      if (others.length) {
        notes.push(`Only ${describeContext(context)} was sent: @budget asks about one piece of code at a time (not sent: ${others.map((r) => label(r, prompt)).join(', ')}).`);
      }
      return {
        prompt: ref.range ? prompt.slice(0, ref.range[0]) + describeContext(context) + prompt.slice(ref.range[1]) : prompt,
        promptWithout: ref.range ? prompt.slice(0, ref.range[0]) + prompt.slice(ref.range[1]) : prompt,
        context,
        ...(location ? { source: selectionSource(document, location.range) } : {}),
        notes,
      };
    } catch (e) {
      notes.push(`${label(ref, prompt)} could not be read as text, so it was not sent (${e instanceof Error ? e.message : String(e)}).`);
    }
  }
  return { prompt, promptWithout: prompt, notes };
}

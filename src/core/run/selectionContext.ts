/**
 * A selection of code as a QuestionContext: its 1-based line range as a person reads it, the code,
 * and a few whole lines above and below for orientation. Plain logic over the document's lines, so
 * the editor's selection and the chat's references build the same context.
 */
import type { QuestionContext } from '../reasoning/answerKinds';

/** A position as editors give it: 0-based line, 0-based character. */
export interface LinePosition {
  line: number;
  character: number;
}

/**
 * The 1-based, inclusive lines of a selection. A selection that ends at the start of a line (whole
 * lines selected with Shift+Down, or by clicking in the gutter) does not include that line.
 */
export function selectedLines(start: LinePosition, end: LinePosition): { startLine: number; endLine: number } {
  const last = end.line > start.line && end.character === 0 ? end.line - 1 : end.line;
  return { startLine: start.line + 1, endLine: last + 1 };
}

export interface SelectionInput {
  /** Workspace-relative path (or the untitled name). */
  path: string;
  languageId: string;
  /** The document's lines without their line breaks, as many as the editor counts (a final empty line included). */
  lines: readonly string[];
  start: LinePosition;
  end: LinePosition;
  /** The selected text, exactly. */
  code: string;
  /** Whole lines above and below the selection to send with it (budgetReasoner.contextLines). */
  contextLines: number;
}

/**
 * The context of a selection. `before` and `after` are whole lines, each with its line break (the
 * document's last line has none), so their line counts are what questionContext's labels say.
 */
export function selectionContext(input: SelectionInput): QuestionContext {
  const { startLine, endLine } = selectedLines(input.start, input.end);
  const n = Math.max(0, Math.floor(input.contextLines));
  const lines = input.lines;
  const beforeFrom = Math.max(0, startLine - 1 - n);
  const before = lines.slice(beforeFrom, startLine - 1).map((l) => `${l}\n`).join('');
  const afterTo = Math.min(lines.length, endLine + n);
  const afterLines = lines.slice(endLine, afterTo);
  const after = afterLines.length ? afterLines.join('\n') + (afterTo < lines.length ? '\n' : '') : '';
  return {
    path: input.path,
    languageId: input.languageId,
    startLine,
    endLine,
    code: input.code,
    ...(before ? { before } : {}),
    ...(after ? { after } : {}),
  };
}

/** A whole document as a context (the chat's `#file`): lines 1 to its last line with text. */
export function documentContext(path: string, languageId: string, text: string): QuestionContext {
  const lines = text.split(/\r?\n/);
  const endLine = Math.max(1, lines.length - (lines.length > 1 && lines[lines.length - 1] === '' ? 1 : 0));
  return { path, languageId, startLine: 1, endLine, code: text };
}

/**
 * What replaces a selection: the proposed code, keeping the selection's final line break when the
 * code has none (whole lines were selected), so the next line is not joined onto the code's last one.
 */
export function fitReplacement(selected: string, replacement: string): string {
  const lineBreak = /\r?\n$/.exec(selected)?.[0];
  return lineBreak && !/\n$/.test(replacement) ? replacement + lineBreak : replacement;
}

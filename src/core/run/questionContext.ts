/**
 * A question about code, as sent: the question, then the selection fenced with its language, its
 * path and lines, and a few lines around it for orientation. The same text is counted for the budget,
 * the context-window check and the cost preview, so what is shown is what is billed.
 */
import type { QuestionContext } from '../reasoning/answerKinds';

/** Where a question's code comes from, as the panel header says it: "`src/x.ts` lines 12-30". */
export function describeContext(context: QuestionContext): string {
  const lines = context.startLine === context.endLine ? `line ${context.startLine}` : `lines ${context.startLine}-${context.endLine}`;
  return `\`${context.path}\` ${lines}`;
}

/** A fence longer than any backtick run inside the code, so the code cannot close it. */
export function fenceFor(code: string): string {
  const longest = Math.max(2, ...[...code.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

function fenced(code: string, languageId: string): string {
  const fence = fenceFor(code);
  return `${fence}${languageId}\n${code.replace(/\n$/, '')}\n${fence}`;
}

/** The user message of a question, with its code when it is about a selection. */
export function composeQuestion(question: string, context?: QuestionContext): string {
  if (!context) {
    return question;
  }
  const parts = [question, '', `The code is ${describeContext(context)} (${context.languageId}):`, '', fenced(context.code, context.languageId)];
  const beforeLines = context.before ? context.before.replace(/\n$/, '').split('\n').length : 0;
  if (context.before?.trim()) {
    const from = context.startLine - beforeLines;
    parts.push('', `For orientation, the lines before it (${from}-${context.startLine - 1}):`, '', fenced(context.before, context.languageId));
  }
  if (context.after?.trim()) {
    const afterLines = context.after.replace(/\n$/, '').split('\n').length;
    parts.push('', `And the lines after it (${context.endLine + 1}-${context.endLine + afterLines}):`, '', fenced(context.after, context.languageId));
  }
  return parts.join('\n');
}

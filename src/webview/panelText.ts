/**
 * The panel's words for code and prose runs, as plain functions of the view (no DOM): attempt rows,
 * one-line previews of answers, and whether a question is itself code.
 */
import type { AnswerKind } from '../core/reasoning/answerKinds';
import { formatTokens } from '../core/tokens/amountText';
import { purposeLabel, type AttemptView } from '../core/view/runView';

/** Longest one-line preview of a code or prose answer in the list of progressive answers. */
export const PREVIEW_CHARS = 160;

/** "#2 chain · stop · 1.2k output tokens · → answer A" (a value for short answers: "→ 42"): a chain's length is its output; a copy says so: "· same as #1, not counted". */
export function attemptLine(a: AttemptView, clusters: boolean): string {
  const outcome = a.finishReason === null ? 'streaming' : a.finishReason;
  const tokens = a.completionTokens !== null ? ` · ${formatTokens(a.completionTokens)} output token${a.completionTokens === 1 ? '' : 's'}` : ` · up to ${formatTokens(a.maxTokens)}`;
  const answer = a.answer !== null ? ` · → ${clusters ? `answer ${a.answer}` : a.answer}` : '';
  const copy = a.duplicateOf !== undefined ? ` · same as #${a.duplicateOf}, not counted` : '';
  const step = a.step
    ? ` · depth ${a.step.depth}${a.step.parent !== undefined ? ` after #${a.step.parent}` : ''}${a.step.value !== undefined ? ` · value ${a.step.value.toFixed(2)}` : ''}`
    : a.scored !== undefined ? ` of #${a.scored}` : '';
  return `#${a.attempt} ${purposeLabel(a.purpose)}${step} · ${outcome}${tokens}${answer}${copy}`;
}

/** The first line of a code or prose answer, as plain text: markdown's marks dropped from prose. */
export function previewLine(answer: string, kind: AnswerKind): string {
  const lines = answer.split('\n').map((l) => l.trim()).filter((l) => l && !/^(?:`{3,}|~{3,})/.test(l));
  let line = lines[0] ?? '';
  if (kind === 'prose') {
    line = line.replace(/^(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+)+/, '').replace(/[*_`]+/g, '');
  }
  if (line.length > PREVIEW_CHARS) {
    return `${line.slice(0, PREVIEW_CHARS - 1)}…`;
  }
  return kind === 'code' && lines.length > 1 ? `${line} …` : line;
}

/**
 * A question that is itself code (a selection sent as the question): several lines, no markdown
 * fences and no math, most lines ending or starting like code does.
 */
export function looksLikeCode(text: string): boolean {
  if (/^\s*(?:`{3,}|~{3,})/m.test(text) || /\$[^$\n]+\$|\\\(|\\\[/.test(text)) {
    return false;
  }
  const lines = text.split('\n').filter((l) => l.trim());
  if (lines.length < 3) {
    return false;
  }
  const codeLike = /[;{}[\](),:]\s*$|^\s*(?:\/\/|#|\/\*|\*)|^\s*(?:def|class|function|import|from|export|return|if|elif|else|for|while|const|let|var|public|private|protected|static|fn|func|package|use|#include|struct|enum|interface|type|async|await|try|catch|except|with)\b|=>|==|!=|\+=|:=/;
  return lines.filter((l) => codeLike.test(l)).length / lines.length >= 0.6;
}

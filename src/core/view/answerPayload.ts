/**
 * What Copy and Insert take from an answer: the whole answer, or one fenced code block of it. The
 * host reads these from its own copy of the run's view; the panel only names an answer and a block.
 */
import { fencedBlocks } from '../reasoning/answerKinds';
import type { ProgressiveAnswer } from './runView';

export interface AnswerPayload {
  /** The text to copy or insert. */
  text: string;
  /** True when the text is code (a code answer, or one block): Replace then shows a diff first. */
  code: boolean;
  language?: string;
}

/**
 * The markdown whose fenced blocks `block` indexes: a prose answer's own markdown; a code answer is
 * one block (its code); a short answer's blocks are those of the chain that supports it. Indexes
 * are those of fencedBlocks, as the panel counts them (a block cut off at the end counts too).
 */
function blocksOf(answer: ProgressiveAnswer): Array<{ code: string; language: string }> {
  switch (answer.answerKind) {
    case 'code':
      return [{ code: answer.answer, language: answer.language ?? '' }];
    case 'prose':
      return fencedBlocks(answer.answer);
    default:
      return fencedBlocks(answer.text);
  }
}

/** The answer, or its block `block`; undefined when there is no such block. */
export function answerPayload(answer: ProgressiveAnswer, block?: number): AnswerPayload | undefined {
  if (block === undefined) {
    return {
      text: answer.answer,
      code: answer.answerKind === 'code',
      ...(answer.answerKind === 'code' && answer.language ? { language: answer.language } : {}),
    };
  }
  const b = blocksOf(answer)[block];
  return b && { text: b.code, code: true, ...(b.language ? { language: b.language } : {}) };
}

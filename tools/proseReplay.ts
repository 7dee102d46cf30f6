/**
 * Replies of the loopback server to questions it holds no recorded chains for, in the kind the
 * request asks for (by its system prompt): prose as paraphrases that differ in wording but say the
 * same thing (so consensus by similarity is exercised as a real chat model would exercise it), code
 * as the selection sent with the question, unchanged, in a fenced block. A value question keeps the
 * canned reply.
 */
import { SYSTEM_PROMPTS, fencedBlocks } from '../src/core/reasoning/answerKinds';

export type RequestedKind = 'short' | 'code' | 'prose';

/** The kind a request asks for, read from its system prompt (the product's own prompts). */
export function requestedKind(systemPrompt: string | undefined): RequestedKind {
  // The kind's prompt opens the system message; preference examples may follow it.
  if (systemPrompt?.startsWith(SYSTEM_PROMPTS.code)) {
    return 'code';
  }
  return systemPrompt?.startsWith(SYSTEM_PROMPTS.prose) ? 'prose' : 'short';
}

interface ParaphraseSet {
  matches: RegExp;
  replies: readonly string[];
}

/** A few questions with real answers, each said several ways. */
const KNOWN: readonly ParaphraseSet[] = [
  {
    matches: /\blet\b[\s\S]*\bconst\b|\bconst\b[\s\S]*\blet\b/i,
    replies: [
      '`const` declares a binding that cannot be reassigned, while `let` declares one that can be reassigned later. Both are block scoped and neither can be used before its declaration.\n\nNote that `const` does not make an object immutable: its properties can still change.',
      'A `let` binding can be reassigned later, while a `const` binding cannot be reassigned once declared. Both are block scoped and neither can be used before its declaration.\n\nA `const` object is not immutable: only the binding is fixed, its properties can still change.',
      'Both are block scoped and neither can be used before its declaration; the difference is that `const` declares a binding that cannot be reassigned, while `let` declares one that can.\n\n`const` does not freeze an object: its properties can still change.',
      '`const` declares a binding that cannot be reassigned; `let` declares a binding that can be reassigned later. Both are block scoped, and neither can be used before its declaration.\n\nKeep in mind that a `const` object is not immutable: its properties can still change.',
    ],
  },
];

/** Any other open question: an honest reply, worded several ways. */
function genericReplies(question: string): string[] {
  const topic = question.replace(/\s+/g, ' ').trim().slice(0, 80);
  return [
    `This replay server has no recorded answer for "${topic}", so it cannot explain it. It replays recorded chains for the MATH and GSM8K questions of its data, and answers other questions with this note.`,
    `The replay server has no recorded answer for "${topic}", so it cannot explain it. It replays the recorded chains of the MATH and GSM8K questions in its data, and answers any other question with this note.`,
    `There is no recorded answer for "${topic}" on this replay server, so it cannot explain it. It replays recorded chains for the MATH and GSM8K questions of its data and answers other questions with this note.`,
  ];
}

/** The `index`-th paraphrase of the answer to a prose question (cycling). */
export function proseReply(question: string, index: number): string {
  const replies = KNOWN.find((s) => s.matches.test(question))?.replies ?? genericReplies(question);
  return replies[index % replies.length];
}

/** A code question with no recorded answer: the code it was sent, unchanged, as a chat model would fence it. */
export function codeReply(userMessage: string): string {
  const code = fencedBlocks(userMessage)[0];
  if (!code) {
    return 'This replay server has no recorded code for this question.\n\n```text\n(no code)\n```';
  }
  return `This replay server has no recorded answer for this code, so here it is unchanged.\n\n\`\`\`${code.language}\n${code.code}\n\`\`\``;
}

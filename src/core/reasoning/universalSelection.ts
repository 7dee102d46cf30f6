/**
 * Universal Self-Consistency (Chen et al. 2023, arXiv 2311.17311): the candidates in one prompt, and
 * the model names the one most consistent with the others. Its reply is untrusted text: the first
 * clear "Response N" (or a bare number) in range is the choice; anything else is no choice.
 */
import type { ChatMessage } from '../providers/chatProvider';

/** The reply is a sentence naming one response. */
export const SELECT_MAX_TOKENS = 24;
/** Each candidate is cut to this many characters in the prompt: the call's cost grows with N x length. */
export const SELECT_CANDIDATE_CHARS = 4000;

export function selectionMessages(question: string, candidates: readonly string[]): ChatMessage[] {
  const listed = candidates.map((c, i) => {
    const text = c.length > SELECT_CANDIDATE_CHARS ? `${c.slice(0, SELECT_CANDIDATE_CHARS)}\n…(cut)` : c;
    return `Response ${i + 1}:\n${text}`;
  }).join('\n\n');
  return [
    { role: 'system', content: 'You compare candidate answers to one question.' },
    {
      role: 'user',
      content: `I have generated the following responses to the question: ${question}\n\n${listed}\n\nEvaluate these responses. Select the most consistent response based on majority consensus. Start your answer with "The most consistent response is Response X" (without quotes).`,
    },
  ];
}

/** The 0-based index the reply names, or undefined when it names none in 1..count (or several different ones). */
export function parseSelection(reply: string, count: number): number | undefined {
  const text = reply.replace(/\*\*|__|`/g, ' ').replace(/<think>[\s\S]*?<\/think>/gi, ' ');
  const inRange = (n: number) => Number.isInteger(n) && n >= 1 && n <= count;
  const stated = /most consistent response is\s*(?:response\s*)?#?\s*(\d+)/i.exec(text);
  if (stated && inRange(Number(stated[1]))) {
    return Number(stated[1]) - 1;
  }
  const named = [...text.matchAll(/\bresponse\s*#?\s*(\d+)\b/gi)].map((m) => Number(m[1])).filter(inRange);
  if (named.length > 0 && named.every((n) => n === named[0])) {
    return named[0] - 1;
  }
  const bare = /^\s*#?(\d+)\s*[.)]?\s*$/.exec(text);
  return bare && inRange(Number(bare[1])) ? Number(bare[1]) - 1 : undefined;
}

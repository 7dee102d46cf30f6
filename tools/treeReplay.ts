/**
 * The loopback server's answers to a value tree (src/core/reasoning/valueTree.ts): a step request
 * gets the next paragraph of a recorded chain that goes the way of the steps so far (successive
 * requests at the same point draw different chains, as sampling would), and a value request gets the
 * reward-model score of the recorded chain the step belongs to, 0-10 (a step no recorded chain
 * takes: 2). Replay only: the chains and their scores are recorded, not generated.
 */
import { STEP_INSTRUCTION, VALUE_INSTRUCTION } from '../src/core/reasoning/valueTree';
import { messageText, type PromptMessage } from './modelServerTokens';
import type { ChainSource, RecordedChain, RecordedQuestion, TraceLibrary } from './recordedData';

/** Recorded chains split as the tree splits them, whitespace collapsed so that steps compare. */
function paragraphs(text: string): string[] {
  return text.split(/\n[ \t]*\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter(Boolean);
}

/** The part of a chain after `path`, or undefined when the chain does not go that way (the last step may be a cut paragraph). */
function continuation(chain: RecordedChain, path: string[]): string | undefined {
  const own = paragraphs(chain.text);
  for (let i = 0; i < path.length; i++) {
    const last = i === path.length - 1;
    if (own[i] === undefined || (last ? !own[i].startsWith(path[i]) : own[i] !== path[i])) {
      return undefined;
    }
  }
  const at = path.length;
  const cut = at > 0 ? own[at - 1].slice(path[at - 1].length).trim() : '';
  return [cut, ...own.slice(at)].filter(Boolean).join('\n\n');
}

export type TreeRequest =
  | { kind: 'step'; question: string; path: string[] }
  | { kind: 'value'; question: string; path: string[]; step: string };

/** What a chat request asks of a value tree, if it is one of its requests. */
export function treeRequest(messages: PromptMessage[]): TreeRequest | undefined {
  const users = messages.filter((m) => m.role === 'user').map((m) => messageText(m.content));
  const first = users[0] ?? '';
  if (first.includes(STEP_INSTRUCTION)) {
    const assistant = messages.find((m) => m.role === 'assistant');
    return { kind: 'step', question: first, path: assistant ? paragraphs(messageText(assistant.content)) : [] };
  }
  const last = users[users.length - 1] ?? '';
  const m = /^Question:\n([\s\S]*?)\n\nSolution so far:\n([\s\S]*?)\n\nNext step:\n([\s\S]*?)\n\n/.exec(last);
  if (last.includes(VALUE_INSTRUCTION) && m) {
    const path = m[2] === '(nothing yet)' ? [] : paragraphs(m[2]);
    return { kind: 'value', question: m[1], path, step: paragraphs(m[3]).join(' ') };
  }
  return undefined;
}

export class TreeReplay {
  /** Draws so far per question and path, so siblings get different chains. */
  private readonly drawn = new Map<string, number>();

  constructor(private readonly library: TraceLibrary) {}

  reset(): void {
    this.drawn.clear();
  }

  /**
   * The reply texts of a step request: per choice, the rest of a recorded chain past the steps so far
   * (the client's stop sequence cuts it at the next paragraph); empty when no recorded chain goes on
   * from there. Undefined when the question is not recorded for this source.
   */
  step(request: Extract<TreeRequest, { kind: 'step' }>, source: (q: RecordedQuestion) => ChainSource | undefined, n: number, greedy: boolean): { questionKey: string; chainIndexes: number[]; texts: string[] } | undefined {
    const found = this.chains(request.question, source);
    if (!found) {
      return undefined;
    }
    const going = found.chains.map((chain, index) => ({ index, rest: continuation(chain, request.path) })).filter((c) => c.rest !== undefined);
    const key = `${found.question.key}|${request.path.join('\n')}`;
    const start = greedy ? 0 : this.drawn.get(key) ?? 0;
    this.drawn.set(key, start + n);
    const picks = Array.from({ length: n }, (_, i) => going.length ? going[(start + i) % going.length] : undefined);
    return { questionKey: found.question.key, chainIndexes: picks.map((p) => p?.index ?? -1), texts: picks.map((p) => p?.rest ?? '') };
  }

  /** A value request's reply: the score of the recorded chain that takes this step from this path, 0-10. */
  value(request: Extract<TreeRequest, { kind: 'value' }>, source: (q: RecordedQuestion) => ChainSource | undefined): string {
    const found = this.chains(request.question, source);
    const path = [...request.path, request.step];
    const chain = found?.chains.find((c) => continuation(c, path) !== undefined);
    return chain ? String(Math.round(10 * Math.exp(chain.tokenLogprob))) : '2';
  }

  private chains(question: string, source: (q: RecordedQuestion) => ChainSource | undefined): { question: RecordedQuestion; chains: RecordedChain[] } | undefined {
    const q = this.library.match(question);
    const s = q && source(q);
    const chains = s ? q.chains[s] : undefined;
    return q && chains?.length ? { question: q, chains } : undefined;
  }
}

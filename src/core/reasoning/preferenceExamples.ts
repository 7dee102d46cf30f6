/**
 * Preference Data Prompting (arXiv 2601.11038, METHODS.md section 9) from the user's own runs: a
 * pair of the model's chains at one budget b, one that reached the agreed answer within b tokens
 * (an efficient solution) and one that had not by then (an inefficient one), shown before a new
 * question of the same kind as an in-context example. The paper samples 64 traces a question;
 * here the pairs come from chains the user already paid for (finished runs, calibration).
 */
import type { ChatMessage } from '../providers/chatProvider';
import { ANSWER_KINDS, type AnswerKind } from './answerKinds';
import { proseSimilarity } from './similarity';

/** Examples put before a question at most. */
export const PREFERENCE_EXAMPLES_K = 2;
/** Pairs kept; the oldest go first. */
export const MAX_PREFERENCE_PAIRS = 100;
/** A pair's question (as sent, code included) at most; a longer one makes no pair: it would cost every later prompt too much. */
export const MAX_PAIR_QUESTION_CHARS = 1500;
/** Each solution's text at most: an efficient solution longer than this makes no pair, an inefficient one is cut. */
export const MAX_SOLUTION_CHARS = 1500;
/** An inefficient chain with another answer is "about the same length" when it used at least this share of b. */
const MIN_LENGTH_SHARE = 0.5;
/** A chain that reached the answer only after this many times b did not reach it within b: its cut at b leaves the answer out. */
const LATE_FACTOR = 1.5;

/** One chain of a finished run (or calibration), as a pair is built from it. */
export interface PreferenceChain {
  /** The reasoning as the model wrote it (its reply; a chain that only thought: its thinking). */
  text: string;
  /** Output tokens the chain used. */
  outputTokens: number;
  /** Whether it reached the run's agreed answer (or calibration's correct one), whole, on its own. */
  reached: boolean;
  /** Cut by max_tokens. */
  cut: boolean;
}

/** Why the inefficient solution is worse at the pair's budget. */
export type InefficientReason = 'cut' | 'other-answer' | 'late';
const INEFFICIENT_REASONS: readonly InefficientReason[] = ['cut', 'other-answer', 'late'];

export interface PreferencePair {
  /** The question as it was sent (with its code context, if any). */
  question: string;
  answerKind: AnswerKind;
  /** The model whose chains these are, and its endpoint (a VS Code model: ''): pairs go only back to it. */
  model: string;
  endpoint: string;
  /** The budget b in output tokens: the efficient solution's length. */
  budget: number;
  efficient: string;
  /** Cut at about b tokens when it was longer. */
  inefficient: string;
  reason: InefficientReason;
}

export interface PairSource {
  question: string;
  answerKind: AnswerKind;
  model: string;
  endpoint: string;
  chains: readonly PreferenceChain[];
}

/**
 * The pair a run's chains make, or undefined: the shortest chain that reached the answer sets b;
 * the inefficient one is a chain that did not reach it (cut, or another answer) with at least half
 * of b, else one that reached it only well after b, cut at b; the nearest in length wins.
 */
export function buildPreferencePair(source: PairSource): PreferencePair | undefined {
  const usable = source.chains.filter((c) => c.outputTokens > 0 && clean(c.text));
  const efficient = usable.filter((c) => c.reached).sort((a, b) => a.outputTokens - b.outputTokens)[0];
  const question = clean(source.question);
  if (!efficient || question.length > MAX_PAIR_QUESTION_CHARS || clean(efficient.text).length > MAX_SOLUTION_CHARS) {
    return undefined;
  }
  const b = efficient.outputTokens;
  const candidates = usable
    .filter((c) => c !== efficient)
    .map((c) => ({ chain: c, reason: (c.reached ? 'late' : c.cut ? 'cut' : 'other-answer') as InefficientReason }))
    .filter(({ chain, reason }) => (reason === 'late' ? chain.outputTokens >= b * LATE_FACTOR : chain.outputTokens >= b * MIN_LENGTH_SHARE))
    // Chains that missed the answer contrast best; then the nearest in length.
    .sort((x, y) => Number(x.reason === 'late') - Number(y.reason === 'late') || Math.abs(x.chain.outputTokens - b) - Math.abs(y.chain.outputTokens - b));
  const worse = candidates[0];
  if (!worse) {
    return undefined;
  }
  const text = clean(worse.chain.text);
  // Its first b tokens, by its own chars per token: "about the same length" needs no tokenizer.
  const atBudget = worse.chain.outputTokens > b ? Math.floor((text.length * b) / worse.chain.outputTokens) : text.length;
  const inefficient = Math.min(atBudget, MAX_SOLUTION_CHARS) < text.length ? cutText(text, Math.min(atBudget, MAX_SOLUTION_CHARS)) : text;
  return { question, answerKind: source.answerKind, model: source.model, endpoint: source.endpoint, budget: b, efficient: clean(efficient.text), inefficient, reason: worse.reason };
}

/** What a new question is matched against. */
export interface ExampleQuery {
  question: string;
  answerKind: AnswerKind;
  model: string;
  endpoint: string;
}

/**
 * Up to k pairs for a question: of its kind and of the same model at the same endpoint (the model's
 * own chains, and never another endpoint's questions), the most similar questions first (ROUGE-L
 * over words), newer first on ties; the question itself is left out, so a re-run is not shown its own answer.
 */
export function selectPreferenceExamples(pairs: readonly PreferencePair[], query: ExampleQuery, k = PREFERENCE_EXAMPLES_K): PreferencePair[] {
  const asked = sameText(query.question);
  return pairs
    .map((pair, order) => ({ pair, order }))
    .filter(({ pair }) => pair.answerKind === query.answerKind && pair.model === query.model && pair.endpoint === query.endpoint && sameText(pair.question) !== asked)
    .map((x) => ({ ...x, similarity: proseSimilarity(x.pair.question, query.question) }))
    .sort((x, y) => y.similarity - x.similarity || y.order - x.order)
    .slice(0, Math.max(0, k))
    .map((x) => x.pair);
}

/** The examples as the model sees them: the paper's format (the question, then an efficient and an inefficient solution at one budget), our wording. */
export function preferenceExampleBlock(examples: readonly PreferencePair[]): string {
  const shown = examples.map((e, i) => [
    `### Example ${i + 1}`,
    `Question:\n${e.question}`,
    `Efficient solution (reaches the answer within ${e.budget} tokens):\n${e.efficient}`,
    `Inefficient solution (has not reached the right answer after the same ${e.budget} tokens):\n${e.inefficient}`,
  ].join('\n\n'));
  return [
    'Below are earlier questions, each solved twice within the same token budget: an efficient solution, where every step moves toward the answer, and an inefficient one. Reason like the efficient solutions.',
    ...shown,
    '### End of examples',
  ].join('\n\n');
}

/** The system prompt of a chain: the kind's prompt, then its preference examples (none: the prompt as it is). */
export function withPreferenceExamples(systemPrompt: string, examples: readonly PreferencePair[]): string {
  return examples.length ? `${systemPrompt}\n\n${preferenceExampleBlock(examples)}` : systemPrompt;
}

/**
 * A chain's messages, as sent and as the plan counts them: the system prompt with the examples, then
 * the question. The examples sit in the system message, so the question stays the last user message.
 */
export function chainPromptMessages(systemPrompt: string, examples: readonly PreferencePair[], question: string): ChatMessage[] {
  return [
    { role: 'system', content: withPreferenceExamples(systemPrompt, examples) },
    { role: 'user', content: question },
  ];
}

export interface PreferencePairsState {
  version: 1;
  /** Oldest first. */
  pairs: PreferencePair[];
}

/** The user's pairs, oldest first, at most `maxPairs`; what the host saves beside the local estimator's data. */
export class PreferencePairs {
  private readonly pairs: PreferencePair[] = [];
  /** Saved entries that were not usable pairs, dropped on reading. */
  readonly dropped: number = 0;

  /** From saved state: a file of another shape throws; malformed entries in it are dropped and counted. */
  constructor(state?: unknown, private readonly maxPairs = MAX_PREFERENCE_PAIRS) {
    if (state === undefined) {
      return;
    }
    const saved = state as Partial<PreferencePairsState> | null;
    if (saved === null || typeof saved !== 'object' || saved.version !== 1 || !Array.isArray(saved.pairs)) {
      throw new Error('not a version 1 list of preference pairs');
    }
    const valid = saved.pairs.map(parsePair).filter((p): p is PreferencePair => p !== undefined);
    this.dropped = saved.pairs.length - valid.length;
    for (const pair of valid) {
      this.add(pair);
    }
  }

  get list(): readonly PreferencePair[] {
    return this.pairs;
  }

  /** A newer pair of the same question, kind, model and endpoint replaces the older one. */
  add(pair: PreferencePair): void {
    const same = this.pairs.findIndex((p) => p.answerKind === pair.answerKind && p.model === pair.model && p.endpoint === pair.endpoint && sameText(p.question) === sameText(pair.question));
    if (same !== -1) {
      this.pairs.splice(same, 1);
    }
    this.pairs.push(pair);
    this.pairs.splice(0, Math.max(0, this.pairs.length - this.maxPairs));
  }

  toJSON(): PreferencePairsState {
    return { version: 1, pairs: this.pairs.map((p) => ({ ...p })) };
  }
}

const boundedString = (x: unknown, max: number): x is string => typeof x === 'string' && x.length > 0 && x.length <= max;

/** One saved pair, checked field by field (the file is only ours until something else writes it). */
function parsePair(raw: unknown): PreferencePair | undefined {
  const p = raw as Partial<Record<keyof PreferencePair, unknown>> | null;
  if (p === null || typeof p !== 'object') {
    return undefined;
  }
  const ok = boundedString(p.question, MAX_PAIR_QUESTION_CHARS)
    && (ANSWER_KINDS as readonly unknown[]).includes(p.answerKind)
    && boundedString(p.model, 200)
    && typeof p.endpoint === 'string' && p.endpoint.length <= 2048
    && Number.isSafeInteger(p.budget) && (p.budget as number) > 0
    && boundedString(p.efficient, MAX_SOLUTION_CHARS)
    && boundedString(p.inefficient, MAX_SOLUTION_CHARS)
    && (INEFFICIENT_REASONS as readonly unknown[]).includes(p.reason);
  return ok
    ? { question: clean(p.question as string), answerKind: p.answerKind as AnswerKind, model: p.model as string, endpoint: p.endpoint as string, budget: p.budget as number, efficient: clean(p.efficient as string), inefficient: clean(p.inefficient as string), reason: p.reason as InefficientReason }
    : undefined;
}

/** Model text as an example carries it: no control characters, no runs of blank lines, trimmed. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').replace(/\n{3,}/g, '\n\n').trim();
}

/** Questions compared for "the same question": whitespace and case aside. */
function sameText(text: string): string {
  return text.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** The text cut to at most `maxChars`, at a word where one is near, and marked as cut. */
function cutText(text: string, maxChars: number): string {
  const end = Math.max(1, maxChars - 2);
  const space = text.lastIndexOf(' ', end);
  return `${text.slice(0, space > end * 0.8 ? space : end).trimEnd()} …`;
}

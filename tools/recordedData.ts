/**
 * The recorded real reasoning traces in bench/data (see its README): the raw rows for benchmarks,
 * the held-out split, one question for tests, and the trace library the loopback model server replays
 * (matching a prompt to a recorded question, drawing successive recorded chains per question).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { countTokens } from './modelServerTokens';
import { repoRoot } from './repoRoot';

export const defaultTraceDataDir = path.join(repoRoot, 'bench', 'data');

export type TraceDataset = 'math' | 'gsm8k';

/** Who produced a recorded chain: the 8 Qwen2.5-Math samples, or one of the 4 GPT-3 GSM8K solvers. */
export type ChainSource = 'qwen25-math-cot' | '6b_finetuning' | '6b_verification' | '175b_finetuning' | '175b_verification';
export const GSM_MODELS = ['6b_finetuning', '6b_verification', '175b_finetuning', '175b_verification'] as const;

/** One line of qwen25-math-cot/math_cot_100.jsonl: a MATH question and its 8 sampled chains. */
export interface MathRow {
  idx: number;
  question: string;
  level: string;
  gt: string;
  code: string[];
  pred: string[];
  score: boolean[];
  pred_score: number[][];
}

/** One line of gsm8k/example_model_solutions.jsonl: a GSM8K question and each GPT-3 model's solution. */
export interface GsmSolutionRow {
  question: string;
  ground_truth: string;
  [model: string]: unknown;
}
type GsmSolution = { is_correct: boolean; solution: string };

function readJsonLines<Row>(file: string): Row[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Row);
}

export function loadMath(dataDir: string = defaultTraceDataDir): MathRow[] {
  return readJsonLines<MathRow>(path.join(dataDir, 'qwen25-math-cot', 'math_cot_100.jsonl'));
}

export function loadGsmSolutions(dataDir: string = defaultTraceDataDir): GsmSolutionRow[] {
  return readJsonLines<GsmSolutionRow>(path.join(dataDir, 'gsm8k', 'example_model_solutions.jsonl'));
}

export function loadGsmProblems(dataDir: string = defaultTraceDataDir): Array<{ question: string; answer: string }> {
  return readJsonLines<{ question: string; answer: string }>(path.join(dataDir, 'gsm8k', 'test.jsonl'));
}

/** Held-out rule (bench/data/README.md): tune on MATH idx 0-59 and GSM8K 0-799 only. */
export function mathSplit(row: MathRow): 'tune' | 'heldout' {
  return row.idx < 60 ? 'tune' : 'heldout';
}

export function gsmSplit(index: number): 'tune' | 'heldout' {
  return index < 800 ? 'tune' : 'heldout';
}

/** The reference answer of a GSM8K problem: what follows `####` in its recorded answer. */
export function gsmGold(answer: string): string {
  return String(answer).split('####').pop()!.trim();
}

/** A question of a recorded data set with its reference answer, and its split by the held-out rule. */
export interface GradedQuestion {
  /** `math:67` (MATH idx) or `gsm8k:12` (line of the file). */
  key: string;
  dataset: TraceDataset;
  split: 'tune' | 'heldout';
  question: string;
  gold: string;
}

/**
 * The questions of a MATH file (qwen25-math-cot's format: idx, question, gt) or a GSM8K file
 * (test.jsonl: question, answer ending `#### N`), told apart by their fields; anything else throws.
 */
export function loadGradedQuestions(file: string): GradedQuestion[] {
  return readJsonLines<Record<string, unknown>>(file).map((row, i): GradedQuestion => {
    if (typeof row.idx === 'number' && typeof row.question === 'string' && row.gt !== undefined) {
      return { key: `math:${row.idx}`, dataset: 'math', split: mathSplit(row as unknown as MathRow), question: row.question, gold: String(row.gt) };
    }
    if (typeof row.question === 'string' && typeof row.answer === 'string' && row.answer.includes('####')) {
      return { key: `gsm8k:${i}`, dataset: 'gsm8k', split: gsmSplit(i), question: row.question, gold: gsmGold(row.answer) };
    }
    throw new Error(`${path.basename(file)} line ${i + 1}: neither a MATH row (idx, question, gt) nor a GSM8K problem (question, answer with ####)`);
  });
}

export interface TraceQuestion {
  idx: number;
  text: string;
  gold: string;
}

/** A recorded MATH question by its idx. */
export function readTraceQuestion(idx: number): TraceQuestion {
  const row = loadMath().find((r) => r.idx === idx);
  if (!row) {
    throw new Error(`no recorded question with idx ${idx}`);
  }
  return { idx, text: row.question, gold: row.gt };
}

export interface RecordedChain {
  text: string;
  /** The answer the chain states, as recorded. */
  answer: string;
  correct: boolean;
  /**
   * Logprob given to every token of this chain when a client asks for logprobs. The data has no
   * logprobs, so MATH chains carry their reward-model score instead: ln(sigmoid(pred_score)), which
   * makes exp(mean token logprob) equal the reward model's probability (0.96 for a typical correct
   * chain, 0.31 for a typical wrong one). GSM8K has no such score: a fixed ln(0.9), blind to correctness.
   */
  tokenLogprob: number;
}

export interface RecordedQuestion {
  /** Stable id, e.g. `math:67` (MATH idx) or `gsm8k:12` (line of test.jsonl). */
  key: string;
  dataset: TraceDataset;
  index: number;
  question: string;
  gold: string;
  chains: Partial<Record<ChainSource, RecordedChain[]>>;
}

export const gsm8kTokenLogprob = Math.log(0.9);

function logSigmoid(x: number): number {
  // Clamped so that no token is ever certain or impossible.
  const p = Math.min(1 - 1e-6, Math.max(1e-6, 1 / (1 + Math.exp(-x))));
  return Math.log(p);
}

function normalizeWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export class TraceLibrary {
  readonly questions: RecordedQuestion[] = [];
  private readonly byNormalizedText = new Map<string, RecordedQuestion>();
  private readonly normalized: Array<{ text: string; question: RecordedQuestion }> = [];
  private readonly estimates = new Map<string, number>();

  constructor(readonly dataDir: string) {
    for (const row of loadMath(dataDir)) {
      const chains = row.code.map((text, i) => ({
        text,
        answer: String(row.pred[i]),
        correct: Boolean(row.score[i]),
        tokenLogprob: logSigmoid(Number(row.pred_score[i][0])),
      }));
      this.add({ key: `math:${row.idx}`, dataset: 'math', index: row.idx, question: row.question, gold: String(row.gt), chains: { 'qwen25-math-cot': chains } });
    }
    const problems = loadGsmProblems(dataDir);
    const solutions = loadGsmSolutions(dataDir);
    problems.forEach((row, i) => {
      const chains: RecordedQuestion['chains'] = {};
      for (const source of GSM_MODELS) {
        const s = solutions[i][source] as GsmSolution;
        chains[source] = [{ text: s.solution, answer: /A:\s*(.+)\s*$/.exec(s.solution)?.[1] ?? '', correct: Boolean(s.is_correct), tokenLogprob: gsm8kTokenLogprob }];
      }
      this.add({ key: `gsm8k:${i}`, dataset: 'gsm8k', index: i, question: row.question, gold: gsmGold(row.answer), chains });
    });
  }

  private add(question: RecordedQuestion): void {
    const text = normalizeWhitespace(question.question);
    this.questions.push(question);
    this.byNormalizedText.set(text, question);
    this.normalized.push({ text, question });
  }

  get(key: string): RecordedQuestion | undefined {
    return this.questions.find((q) => q.key === key);
  }

  /**
   * The recorded question a prompt asks: the longest recorded question text contained in it
   * (whitespace normalised), so instructions wrapped around the question do not matter.
   */
  match(prompt: string): RecordedQuestion | undefined {
    const text = normalizeWhitespace(prompt);
    const exact = this.byNormalizedText.get(text);
    if (exact) {
      return exact;
    }
    let best: { text: string; question: RecordedQuestion } | undefined;
    for (const candidate of this.normalized) {
      if ((!best || candidate.text.length > best.text.length) && text.includes(candidate.text)) {
        best = candidate;
      }
    }
    return best?.question;
  }

  /**
   * The TALE-EP budget the replay models answer for a question: o200k tokens of the shortest correct
   * recorded chain of that source (the shortest chain when none is correct), rounded up to a multiple of 10.
   */
  estimateBudget(question: RecordedQuestion, source: ChainSource): number | undefined {
    const chains = question.chains[source];
    if (!chains?.length) {
      return undefined;
    }
    const key = `${source}|${question.key}`;
    let budget = this.estimates.get(key);
    if (budget === undefined) {
      const correct = chains.filter((c) => c.correct);
      const lengths = (correct.length ? correct : chains).map((c) => countTokens(c.text));
      budget = Math.ceil(Math.min(...lengths) / 10) * 10;
      this.estimates.set(key, budget);
    }
    return budget;
  }
}

const libraries = new Map<string, TraceLibrary>();

/** The recorded traces under `dataDir`, parsed once per process. */
export function loadTraceLibrary(dataDir: string = defaultTraceDataDir): TraceLibrary {
  const dir = path.resolve(dataDir);
  let library = libraries.get(dir);
  if (!library) {
    library = new TraceLibrary(dir);
    libraries.set(dir, library);
  }
  return library;
}

/**
 * Which recorded chain each (model, question) pair serves next. Successive draws cycle through the
 * recorded chains; a seed shifts each question's starting chain deterministically.
 */
export class ChainCursor {
  private readonly next = new Map<string, number>();

  constructor(public seed: number | undefined = undefined) {}

  draw(model: string, question: RecordedQuestion, source: ChainSource, n: number): Array<{ chain: RecordedChain; chainIndex: number }> {
    const chains = question.chains[source] ?? [];
    if (!chains.length) {
      return [];
    }
    const key = `${model}|${question.key}`;
    const start = this.next.get(key) ?? 0;
    this.next.set(key, start + n);
    const offset = this.seed === undefined ? 0 : seededOffset(this.seed, question.key);
    return Array.from({ length: n }, (_, i) => {
      const chainIndex = (offset + start + i) % chains.length;
      return { chain: chains[chainIndex], chainIndex };
    });
  }

  /**
   * A sampling model's next `n` chains for a question: its recorded chains, every source pooled (MATH: the
   * 8 Qwen2.5-Math samples; GSM8K: the 4 GPT-3 solutions), in a seeded random order that is shuffled
   * anew each time it runs out. `chainIndex` indexes the pooled chains.
   */
  sample(model: string, question: RecordedQuestion, n: number): Array<{ chain: RecordedChain; chainIndex: number }> {
    const pool = Object.values(question.chains).flat();
    if (!pool.length) {
      return [];
    }
    const key = `${model}|${question.key}`;
    const start = this.next.get(key) ?? 0;
    this.next.set(key, start + n);
    return Array.from({ length: n }, (_, i) => {
      const drawn = start + i;
      const order = shuffledOrder(pool.length, seededOffset(this.seed ?? 0, `${key}#${Math.floor(drawn / pool.length)}`));
      const chainIndex = order[drawn % pool.length];
      return { chain: pool[chainIndex], chainIndex };
    });
  }

  /** The chain a question starts at (its seeded offset), without moving the cursor: what greedy decoding gives every time. */
  first(question: RecordedQuestion, source: ChainSource): { chain: RecordedChain; chainIndex: number } {
    const chains = question.chains[source] ?? [];
    const chainIndex = (this.seed === undefined ? 0 : seededOffset(this.seed, question.key)) % Math.max(1, chains.length);
    return { chain: chains[chainIndex], chainIndex };
  }

  reset(seed?: number): void {
    this.next.clear();
    if (seed !== undefined) {
      this.seed = seed;
    }
  }
}

/** FNV-1a of seed and question key: stable across runs and platforms. */
function seededOffset(seed: number, key: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}:${key}`) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** 0..length-1 in the order of a Fisher-Yates shuffle driven by a 32-bit seed (xorshift32). */
export function shuffledOrder(length: number, seed: number): number[] {
  const order = Array.from({ length }, (_, i) => i);
  let x = seed || 0x9e3779b9;
  for (let i = length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

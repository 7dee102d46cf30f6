/**
 * HumanEval replay for the loopback model server (bench/data/humaneval-codegen, see its README): a chat
 * request whose user message holds a problem's prompt gets, per choice, that problem's next recorded
 * CodeGen-16B sample, written as a chat model writes code: one sentence, then the whole function (the
 * prompt's imports, signature and docstring, then the recorded body) in one python fenced block.
 * Which sample comes next is a cursor per problem that the caller may set (`seek`); the server reports
 * the samples it served as the response's chainIndexes, so a benchmark maps an answer to its label.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { QuestionContext } from '../src/core/reasoning/answerKinds';
import { messageText, type PromptMessage } from './modelServerTokens';
import { repoRoot } from './repoRoot';

export const CODE_REPLAY_MODEL = 'codegen16b-replay';

export const defaultCodeDataFile = path.join(repoRoot, 'bench', 'data', 'humaneval-codegen', 'humaneval_codegen16b_tune.jsonl');

/** One line of a humaneval-codegen file: a problem, its test, and its recorded samples with their labels. */
export interface HumanEvalRow {
  task_id: string;
  prompt: string;
  entry_point: string;
  test: string;
  samples: string[];
  completions: string[];
  passed: boolean[];
}

export function loadHumanEval(file: string = defaultCodeDataFile): HumanEvalRow[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as HumanEvalRow);
}

/** What the user asks of a problem, with its prompt as the selected code (as the product sends a selection). */
export const CODE_QUESTION = 'Complete this function so that it does what its docstring says.';

/** A problem's prompt as the code a question is about: a python file of its own. */
export function codeQuestionContext(row: HumanEvalRow): QuestionContext {
  const code = row.prompt.replace(/^\s*\n/, '');
  return { path: `${row.task_id.replace(/\W+/g, '_')}.py`, languageId: 'python', startLine: 1, endLine: code.replace(/\n$/, '').split('\n').length, code };
}

/** The function of sample `i` as it stands in the reply's code block: the prompt, then the recorded body. */
export function sampleCode(row: HumanEvalRow, i: number): string {
  return `${row.prompt}${row.completions[i]}`.replace(/^\s*\n/, '').trimEnd();
}

/** Sample `i` as a chat reply: a sentence, then the whole function in one python block. */
export function sampleReply(row: HumanEvalRow, i: number): string {
  return `Here is a complete implementation of \`${row.entry_point}\`:\n\n\`\`\`python\n${sampleCode(row, i)}\n\`\`\``;
}

/**
 * Logprob given to every token of a replayed sample when a client asks for logprobs. The data has
 * none, so every token gets ln(0.9), blind to whether the sample passes.
 */
export const CODE_TOKEN_LOGPROB = Math.log(0.9);

const normalized = (text: string) => text.replace(/\s+/g, ' ').trim();

/** What the server sends for a request to the replay model (the shape of its own recorded replies). */
export interface CodeReplyTexts {
  kind: 'recorded' | 'forced-answer';
  questionKey: string;
  chainIndexes: number[];
  choices: Array<{ text: string; logprob: number; recorded: true }>;
}

export class CodeReplay {
  private data?: { rows: HumanEvalRow[]; prompts: Array<{ text: string; row: HumanEvalRow }> };
  private readonly next = new Map<string, number>();
  private readonly lastServed = new Map<string, number>();

  /** The file is read on first use, so a server that never serves code never reads it. */
  constructor(readonly file: string = defaultCodeDataFile) {}

  get rows(): readonly HumanEvalRow[] {
    return this.load().rows;
  }

  /** The problem a prompt asks: the longest recorded prompt (whitespace normalised) that it contains. */
  match(text: string): HumanEvalRow | undefined {
    const asked = normalized(text);
    let best: { text: string; row: HumanEvalRow } | undefined;
    for (const candidate of this.load().prompts) {
      if ((!best || candidate.text.length > best.text.length) && asked.includes(candidate.text)) {
        best = candidate;
      }
    }
    return best?.row;
  }

  /** Makes sample `index` (mod the number of samples) the next one served for the problem. */
  seek(taskId: string, index: number): void {
    this.next.set(taskId, index);
  }

  /** The sample the problem serves next. */
  position(taskId: string): number {
    const row = this.load().rows.find((r) => r.task_id === taskId);
    return row ? (this.next.get(taskId) ?? 0) % row.completions.length : 0;
  }

  /** Every problem starts again at sample 0. */
  reset(): void {
    this.next.clear();
    this.lastServed.clear();
  }

  /**
   * The reply to a chat request: the next `n` samples of the problem its user messages ask, or, for a
   * follow-up asking for the final code (the previous message is the model's), the sample served last
   * again, as a model would repeat its own code. Undefined when no user message holds a recorded prompt.
   * `greedy`: the sample the cursor is at, in every choice and on every call (the cursor stays).
   */
  reply(messages: readonly PromptMessage[], n: number, greedy = false): CodeReplyTexts | undefined {
    const users = messages.filter((m) => m.role === 'user');
    const row = [...users].reverse().map((m) => this.match(messageText(m.content))).find((r) => r !== undefined);
    if (!row) {
      return undefined;
    }
    const last = messages[messages.length - 1];
    const followUp = last.role === 'user' && messages[messages.length - 2]?.role === 'assistant' && this.lastServed.has(row.task_id);
    const count = row.completions.length;
    let indexes: number[];
    if (followUp) {
      indexes = Array.from({ length: n }, () => this.lastServed.get(row.task_id)!);
    } else {
      const start = this.next.get(row.task_id) ?? 0;
      this.next.set(row.task_id, greedy ? start : start + n);
      indexes = Array.from({ length: n }, (_, i) => (start + (greedy ? 0 : i)) % count);
      this.lastServed.set(row.task_id, indexes[indexes.length - 1]);
    }
    return {
      kind: followUp ? 'forced-answer' : 'recorded',
      questionKey: row.task_id,
      chainIndexes: indexes,
      choices: indexes.map((i) => ({ text: sampleReply(row, i), logprob: CODE_TOKEN_LOGPROB, recorded: true })),
    };
  }

  private load() {
    this.data ??= (() => {
      const rows = loadHumanEval(this.file);
      return { rows, prompts: rows.map((row) => ({ text: normalized(row.prompt), row })) };
    })();
    return this.data;
  }
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelServer } from '../support/modelServer';
import { repoRoot } from './codeServer';

export interface TraceQuestion {
  idx: number;
  text: string;
  gold: string;
}

/** A recorded MATH question from the replay data (bench/data). */
export function readTraceQuestion(idx: number): TraceQuestion {
  const file = path.join(repoRoot, 'bench', 'data', 'qwen25-math-cot', 'math_cot_100.jsonl');
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) {
      continue;
    }
    const row = JSON.parse(line);
    if (row.idx === idx) {
      return { idx, text: row.question, gold: row.gt };
    }
  }
  throw new Error(`no recorded question with idx ${idx}`);
}

/** Token usage the server itself reported, summed over every response it sent. */
export function usageTotals(server: ModelServer): { calls: number; promptTokens: number; completionTokens: number; totalTokens: number } {
  let promptTokens = 0;
  let completionTokens = 0;
  let calls = 0;
  for (const r of server.responses) {
    if (r.usage) {
      calls++;
      promptTokens += r.usage.prompt_tokens;
      completionTokens += r.usage.completion_tokens;
    }
  }
  return { calls, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

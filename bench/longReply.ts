import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A long recorded reply for the streaming benchmarks: real MATH chains joined until about `tokens`
 * tokens, their \boxed answers hidden, one \boxed{42} at the end (after `marker`, when given).
 */
export function longReply(countTokens: (text: string) => number, tokens: number, marker?: string): string {
  const file = path.resolve(__dirname, 'data', 'qwen25-math-cot', 'math_cot_100.jsonl');
  const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { code: string[] });
  const parts: string[] = [];
  let count = 0;
  for (const row of rows) {
    for (const chain of row.code) {
      const clean = chain.replace(/\\boxed\{/g, '\\fbox{');
      parts.push(clean);
      count += countTokens(clean);
      if (count >= tokens - 40) {
        return `${parts.join('\n\n')}\n\n${marker ? `${marker} ` : ''}So the answer is \\boxed{42}.`;
      }
    }
  }
  throw new Error('not enough recorded text');
}

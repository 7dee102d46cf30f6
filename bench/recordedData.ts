/** Loads the recorded traces (bench/data copy if present, else the shared folder) and splits them. */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';

export interface MathRow {
  idx: number;
  question: string;
  level: string;
  gt: string;
  code: string[];
  score: boolean[];
  pred_score: number[][];
}

export interface GsmSolutionRow {
  question: string;
  ground_truth: string;
  [model: string]: unknown;
}

export const GSM_MODELS = ['6b_finetuning', '6b_verification', '175b_finetuning', '175b_verification'] as const;

function dataFile(rel: string): string {
  const candidates = [path.join(__dirname, 'data', rel), path.join('/work/shared/data', rel)];
  const found = candidates.find(existsSync);
  if (!found) {
    throw new Error(`Recorded data ${rel} not found in ${candidates.join(' or ')}`);
  }
  return found;
}

function readJsonLines<T>(rel: string): T[] {
  return readFileSync(dataFile(rel), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as T);
}

export function loadMath(): MathRow[] {
  return readJsonLines<MathRow>('qwen25-math-cot/math_cot_100.jsonl');
}

export function loadGsmSolutions(): GsmSolutionRow[] {
  return readJsonLines<GsmSolutionRow>('gsm8k/example_model_solutions.jsonl');
}

/** Held-out rule (data/README.md): tune on MATH idx 0-59 and GSM8K 0-799 only. */
export function mathSplit(row: MathRow): 'tune' | 'heldout' {
  return row.idx < 60 ? 'tune' : 'heldout';
}

export function gsmSplit(index: number): 'tune' | 'heldout' {
  return index < 800 ? 'tune' : 'heldout';
}

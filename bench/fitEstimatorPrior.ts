/**
 * Fits the local budget estimator's cold-start prior on the TUNE split of the recorded traces and
 * writes it to src/core/budget/localEstimatorPrior.ts. Run: npx tsx bench/fitEstimatorPrior.ts
 * [--data DIR] [--code FILE] (defaults: bench/data and its humaneval-codegen tune file).
 * "Needed" tokens: MATH (idx 0-59) the shortest correct chain; GSM8K (0-799) the shortest correct
 * recorded solution; code (the tune file, even HumanEval ids) the shortest passing sample as the
 * model sends it (a sentence and the whole function in one block, tools/codeReplay.ts); questions
 * with no correct answer are left out.
 */
import { writeFileSync } from 'fs';
import * as path from 'path';
import { countTokens } from 'gpt-tokenizer/cjs/encoding/o200k_base';
import { LOCAL_ESTIMATOR_FEATURES, QUESTION_DOMAINS, questionDomain, questionFeatures, ridgeToward, type EstimatorPrior, type QuestionDomain } from '../src/core/budget/localEstimator';
import { extractAnswer, answersEqual } from '../src/core/reasoning/answers';
import { composeQuestion } from '../src/core/run/questionContext';
import { CODE_QUESTION, codeQuestionContext, defaultCodeDataFile, loadHumanEval, sampleReply } from '../tools/codeReplay';
import { defaultTraceDataDir, GSM_MODELS, gsmSplit, loadGsmSolutions, loadMath, mathSplit } from '../tools/recordedData';

export interface NeedExample {
  dataset: 'math' | 'gsm8k' | 'code';
  split: 'tune' | 'heldout';
  /** The question as the product sends it (a code question with its code). */
  question: string;
  needed: number;
}

export interface NeedSources {
  /** A folder laid out as bench/data (qwen25-math-cot, gsm8k). */
  dataDir?: string;
  /** A humaneval-codegen file; its rows are all of `codeSplit`. */
  codeFile?: string;
  codeSplit?: 'tune' | 'heldout';
  /** What a code answer needs: the reply as sent (default), or the recorded function body alone. */
  codeNeed?: 'reply' | 'body';
}

/** Every question with at least one correct recorded answer, with the tokens that answer took. */
export function needExamples(sources: NeedSources = {}): NeedExample[] {
  const dataDir = sources.dataDir ?? defaultTraceDataDir;
  const out: NeedExample[] = [];
  for (const row of loadMath(dataDir)) {
    const correct = row.code.filter((_, i) => row.score[i]).map((c) => countTokens(c));
    if (correct.length) {
      out.push({ dataset: 'math', split: mathSplit(row), question: row.question, needed: Math.min(...correct) });
    }
  }
  loadGsmSolutions(dataDir).forEach((row, i) => {
    const gold = extractAnswer(row.ground_truth);
    const correct = GSM_MODELS.map((m) => row[m] as { is_correct: boolean; solution: string })
      .filter((s) => s.is_correct && answersEqual(extractAnswer(s.solution), gold))
      .map((s) => countTokens(s.solution));
    if (correct.length) {
      out.push({ dataset: 'gsm8k', split: gsmSplit(i), question: row.question, needed: Math.min(...correct) });
    }
  });
  for (const row of loadHumanEval(sources.codeFile ?? defaultCodeDataFile)) {
    const passing = row.completions.flatMap((body, i) => (row.passed[i] ? [countTokens(sources.codeNeed === 'body' ? body : sampleReply(row, i))] : []));
    if (passing.length) {
      out.push({ dataset: 'code', split: sources.codeSplit ?? 'tune', question: composeQuestion(CODE_QUESTION, codeQuestionContext(row)), needed: Math.min(...passing) });
    }
  }
  return out;
}

/** Share of estimates inside [needed, 2 x needed]. */
export function inRangeShare(estimates: readonly number[], needed: readonly number[]): number {
  return estimates.filter((e, i) => e >= needed[i] && e <= 2 * needed[i]).length / Math.max(1, estimates.length);
}

/** Headrooms tried, in log tokens: multipliers 0.74x to 2.7x in steps of about 0.5%. */
const HEADROOMS = Array.from({ length: 261 }, (_, i) => -0.3 + i * 0.005);

/**
 * The prior from tune examples: ridge regression of ln(needed) on the features (the shared `level`
 * held at 0, so it is free to learn the user's model), then per domain the headroom that puts most
 * of the domain's tune estimates in range (the middle of the best run of headrooms, ties apart).
 */
export function fitPrior(tune: readonly NeedExample[], note = ''): EstimatorPrior {
  const rows = tune.map((e) => questionFeatures(e.question, countTokens));
  const targets = tune.map((e) => Math.log(e.needed));
  const strengths = LOCAL_ESTIMATOR_FEATURES.map((f) => (f === 'level' ? 1e9 : 1e-3));
  const weights = ridgeToward(LOCAL_ESTIMATOR_FEATURES.map(() => 0), strengths, rows, targets).map((w) => Number(w.toFixed(4)));
  const logNeeded = rows.map((x) => x.reduce((s, xi, j) => s + xi * weights[j], 0));
  const headroom = (domain: QuestionDomain): number => {
    const mine = tune.flatMap((e, i) => (questionDomain(e.question) === domain ? [i] : []));
    if (!mine.length) {
      return Number(Math.log(Math.SQRT2).toFixed(4));
    }
    const shares = HEADROOMS.map((h) => inRangeShare(mine.map((i) => Math.exp(logNeeded[i] + h)), mine.map((i) => tune[i].needed)));
    const best = Math.max(...shares);
    const first = shares.indexOf(best);
    let last = first;
    while (last + 1 < shares.length && shares[last + 1] === best) {
      last++;
    }
    return Number(HEADROOMS[Math.floor((first + last) / 2)].toFixed(4));
  };
  const count = (dataset: NeedExample['dataset']) => tune.filter((e) => e.dataset === dataset).length;
  return {
    features: [...LOCAL_ESTIMATOR_FEATURES],
    weights,
    priorStrength: 20,
    levelStrength: 1,
    logHeadroom: Object.fromEntries(QUESTION_DOMAINS.map((d) => [d, headroom(d)])) as Record<QuestionDomain, number>,
    fittedOn: `tune split: ${count('math')} MATH (idx 0-59), ${count('gsm8k')} GSM8K (0-799) and ${count('code')} HumanEval (even ids) questions, o200k tokens${note}`,
  };
}

function main(): void {
  const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
  const dataDir = arg('data');
  const codeFile = arg('code');
  const prior = fitPrior(needExamples({ ...(dataDir ? { dataDir } : {}), ...(codeFile ? { codeFile } : {}) }).filter((e) => e.split === 'tune'));
  const file = path.join(__dirname, '../src/core/budget/localEstimatorPrior.ts');
  writeFileSync(file, `// Generated by bench/fitEstimatorPrior.ts from recorded traces; do not edit by hand.
import type { EstimatorPrior } from './estimatorPrior';

export const localEstimatorPrior: EstimatorPrior = ${JSON.stringify(prior, null, 2).replace(/"(\w+)":/g, '$1:').replace(/"/g, "'")};
`);
  console.log(`wrote ${file}`);
  console.log(prior);
}

if (require.main === module) {
  main();
}

/**
 * How good is the local budget estimator? On the HELD-OUT split (MATH idx 60-99, GSM8K 800-1318):
 * share of estimates inside [needed, 2 x needed] and mean miss in tokens, next to TALE's published
 * 60.61% / 109.64. Writes bench/results/estimator.md. Run: npx tsx bench/estimator.ts
 */
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { countTokens } from 'gpt-tokenizer/cjs/encoding/o200k_base';
import { LocalBudgetEstimator } from '../src/core/budget/localEstimator';
import { needExamples } from './fitEstimatorPrior';
import type { NeedExample } from './fitEstimatorPrior';

interface Quality {
  n: number;
  inRange: number;
  meanMiss: number;
  medianRatio: number;
}

/** Miss = distance to the ideal range [needed, 2 x needed]; 0 inside it. */
function quality(examples: NeedExample[], predict: (e: NeedExample) => number): Quality {
  const misses: number[] = [];
  const ratios: number[] = [];
  let inside = 0;
  for (const e of examples) {
    const est = predict(e);
    ratios.push(est / e.needed);
    if (est >= e.needed && est <= 2 * e.needed) {
      inside++;
    } else {
      misses.push(est < e.needed ? e.needed - est : est - 2 * e.needed);
    }
  }
  ratios.sort((a, b) => a - b);
  return {
    n: examples.length,
    inRange: inside / examples.length,
    meanMiss: misses.length ? misses.reduce((s, m) => s + m, 0) / misses.length : 0,
    medianRatio: ratios[Math.floor(ratios.length / 2)],
  };
}

function main(): void {
  const all = needExamples();
  const rows: string[] = [];
  const table = (name: string, q: Quality): string =>
    `| ${name} | ${q.n} | ${(q.inRange * 100).toFixed(1)}% | ${q.meanMiss.toFixed(1)} | ${q.medianRatio.toFixed(2)} |`;

  for (const dataset of ['math', 'gsm8k'] as const) {
    const heldout = all.filter((e) => e.dataset === dataset && e.split === 'heldout');
    const prior = new LocalBudgetEstimator({ countTokens });
    rows.push(table(`${dataset} held-out, prior only`, quality(heldout, (e) => prior.predict(e.question))));
    // As a user would: the estimator learns from the tune split's runs of this dataset first.
    const learned = new LocalBudgetEstimator({ countTokens, maxHistory: 1000 });
    for (const e of all.filter((x) => x.dataset === dataset && x.split === 'tune')) {
      learned.learn(e.question, e.needed);
    }
    rows.push(table(`${dataset} held-out, after learning the tune split`, quality(heldout, (e) => learned.predict(e.question))));
    // Online: learn each held-out question only after estimating it (what a live user sees).
    const online = new LocalBudgetEstimator({ countTokens, maxHistory: 200 });
    rows.push(table(`${dataset} held-out, learning online`, quality(heldout, (e) => {
      const est = online.predict(e.question);
      online.learn(e.question, e.needed);
      return est;
    })));
  }
  const md = [
    '# Local budget estimator (no model call)',
    '',
    'Held-out questions only (MATH idx 60-99, GSM8K 800-1318); "needed" = o200k tokens of the shortest',
    'correct recorded answer (questions with none left out). In range = estimate within [needed, 2 x needed];',
    'miss = mean distance in tokens to that range over the estimates outside it.',
    '',
    '| estimator | questions | in range | mean miss (tokens) | median estimate/needed |',
    '|---|---|---|---|---|',
    ...rows,
    '| TALE-EP, GPT-4o-mini (published, arXiv 2412.18547) | - | 60.6% | 109.6 | - |',
    '',
    `Produced by bench/estimator.ts on ${new Date().toISOString().slice(0, 10)}. The prior is fitted by bench/fitEstimatorPrior.ts on the tune split.`,
    '',
  ].join('\n');
  const out = path.join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'estimator.md'), md);
  console.log(md);
}

main();

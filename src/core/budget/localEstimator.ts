/**
 * A budget estimate without a model call: a log-linear model of the tokens a question needs,
 * from features of its text. Its prior is fitted on recorded traces (bench/fitEstimatorPrior.ts);
 * it then learns from the user's own completed runs by Bayesian linear regression toward that prior.
 */
import type { SpendRecord } from '../ledger/spendRecord';
import type { EstimatorPrior } from './estimatorPrior';
import { localEstimatorPrior } from './localEstimatorPrior';

export type { EstimatorPrior } from './estimatorPrior';

/** Where a run's budget came from; 'fallback' = the local estimate after TALE's was unusable. */
export const BUDGET_SOURCES = ['tale', 'local', 'fixed', 'fallback'] as const;
export type BudgetSource = typeof BUDGET_SOURCES[number];

export interface BudgetEstimate {
  tokens: number;
  source: BudgetSource;
  /** Why this source, e.g. why TALE fell back; shown in the panel. */
  note?: string;
  /** Spend of any call the estimate made (TALE), already in the ledger. */
  records?: SpendRecord[];
}

export type CountTokens = (text: string) => number;

export const LOCAL_ESTIMATOR_FEATURES = [
  'bias',
  'logQuestionTokens',
  'logNumbers',
  'logLatexMarkers',
  'codeFence',
  'proofWords',
  'multiPart',
  'mathLevel',
] as const;

export interface LocalEstimatorState {
  version: 1;
  /** Features (never the question text) and observed needs of past runs, oldest first. */
  history: Array<{ features: number[]; needed: number }>;
}

export interface LocalEstimatorOptions {
  countTokens: CountTokens;
  prior?: EstimatorPrior;
  state?: LocalEstimatorState;
  /** Most past runs kept; the oldest are forgotten first. */
  maxHistory?: number;
  minTokens?: number;
  maxTokens?: number;
}

/** Features of a question's text; stable order = LOCAL_ESTIMATOR_FEATURES. */
export function questionFeatures(question: string, countTokens: CountTokens): number[] {
  const numbers = question.match(/\d+(?:[.,]\d+)*/g)?.length ?? 0;
  const latex = question.match(/\\[a-zA-Z]+|[$^_{}]/g)?.length ?? 0;
  const fence = /```/.test(question) ? 1 : 0;
  const proof = /\b(prove|show that|explain why|justify|derive)\b/i.test(question) ? 1 : 0;
  const parts = Math.min(4, question.match(/\b(?:and|then) (?:find|compute|determine|calculate|express)\b|\?\s*\S/gi)?.length ?? 0);
  const level = /\blevel\s*([1-5])\b/i.exec(question);
  return [
    1,
    Math.log1p(Math.max(0, countTokens(question))),
    Math.log1p(numbers),
    Math.log1p(latex),
    fence,
    proof,
    parts,
    level ? Number(level[1]) / 5 : 0,
  ];
}

export class LocalBudgetEstimator {
  private readonly prior: EstimatorPrior;
  private readonly history: Array<{ features: number[]; needed: number }>;
  private readonly maxHistory: number;
  private readonly minTokens: number;
  private readonly maxTokens: number;
  private weights: number[];

  constructor(private readonly options: LocalEstimatorOptions) {
    this.prior = options.prior ?? localEstimatorPrior;
    if (this.prior.weights.length !== LOCAL_ESTIMATOR_FEATURES.length) {
      throw new RangeError(`Estimator prior has ${this.prior.weights.length} weights, expected ${LOCAL_ESTIMATOR_FEATURES.length}`);
    }
    this.maxHistory = options.maxHistory ?? 200;
    this.minTokens = options.minTokens ?? 32;
    this.maxTokens = options.maxTokens ?? 8192;
    const saved = options.state?.version === 1 ? options.state.history : [];
    this.history = saved
      .filter((h) => Array.isArray(h.features) && h.features.length === LOCAL_ESTIMATOR_FEATURES.length && h.needed > 0)
      .slice(-this.maxHistory);
    this.weights = this.fit();
  }

  /** Runs learned from so far (bounded by maxHistory). */
  get learnedRuns(): number {
    return this.history.length;
  }

  estimate(question: string): BudgetEstimate {
    const tokens = this.predict(question);
    return {
      tokens,
      source: 'local',
      note: this.history.length ? `local estimate from ${this.history.length} past runs` : 'local estimate from the built-in prior',
    };
  }

  /** Predicted budget in tokens: the needed tokens with headroom, clamped. */
  predict(question: string): number {
    const x = questionFeatures(question, this.options.countTokens);
    const logNeeded = dot(this.weights, x);
    return clamp(Math.round(Math.exp(logNeeded + this.prior.logHeadroom)), this.minTokens, this.maxTokens);
  }

  /** Remembers what a completed run actually needed (e.g. tokens of its shortest correct chain). */
  learn(question: string, neededTokens: number): void {
    if (!(neededTokens > 0) || !Number.isFinite(neededTokens)) {
      return;
    }
    this.history.push({ features: questionFeatures(question, this.options.countTokens), needed: Math.round(neededTokens) });
    if (this.history.length > this.maxHistory) {
      this.history.splice(0, this.history.length - this.maxHistory);
    }
    this.weights = this.fit();
  }

  toJSON(): LocalEstimatorState {
    return { version: 1, history: this.history.map((h) => ({ features: [...h.features], needed: h.needed })) };
  }

  /** Posterior mean of ridge regression centred on the prior: (kI + X'X)^-1 (k w0 + X'y). */
  private fit(): number[] {
    const w0 = [...this.prior.weights];
    if (this.history.length === 0) {
      return w0;
    }
    return ridgeToward(w0, this.prior.priorStrength, this.history.map((h) => h.features), this.history.map((h) => Math.log(h.needed)));
  }
}

/** Solves (k I + X'X) w = k w0 + X'y by Gaussian elimination; also used to fit the prior (w0 = 0). */
export function ridgeToward(w0: readonly number[], strength: number, rows: readonly number[][], targets: readonly number[]): number[] {
  const d = w0.length;
  const a = Array.from({ length: d }, (_, i) => Array.from({ length: d + 1 }, (_, j) => (j === i ? strength : 0)));
  for (let i = 0; i < d; i++) {
    a[i][d] = strength * w0[i];
  }
  rows.forEach((x, r) => {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        a[i][j] += x[i] * x[j];
      }
      a[i][d] += x[i] * targets[r];
    }
  });
  for (let col = 0; col < d; col++) {
    let pivot = col;
    for (let r = col + 1; r < d; r++) {
      if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
        pivot = r;
      }
    }
    [a[col], a[pivot]] = [a[pivot], a[col]];
    if (Math.abs(a[col][col]) < 1e-12) {
      continue; // an unused feature: its weight stays at what the other rows imply (0 here)
    }
    for (let r = 0; r < d; r++) {
      if (r !== col) {
        const f = a[r][col] / a[col][col];
        for (let c = col; c <= d; c++) {
          a[r][c] -= f * a[col][c];
        }
      }
    }
  }
  return a.map((row, i) => (Math.abs(row[i]) < 1e-12 ? w0[i] : row[d] / row[i]));
}

function dot(w: readonly number[], x: readonly number[]): number {
  return w.reduce((s, wi, i) => s + wi * x[i], 0);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/**
 * A budget estimate without a model call: a log-linear model of the tokens a question needs,
 * from features of its text (its domain, its length, its numbers, the code it is about and that
 * code's docstrings). Its prior is fitted on recorded traces (bench/fitEstimatorPrior.ts); it then
 * learns from the user's own completed runs by Bayesian linear regression toward that prior, and
 * similar past questions' needs weigh in beside the regression.
 */
import type { SpendRecord } from '../ledger/spendRecord';
import { QUESTION_DOMAINS, type EstimatorPrior, type QuestionDomain } from './estimatorPrior';
import { localEstimatorPrior } from './localEstimatorPrior';

export { QUESTION_DOMAINS, type EstimatorPrior, type QuestionDomain } from './estimatorPrior';

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

/**
 * Features of a question as sent (with any code it is about), in this order. `level` is shared by
 * every question: 0 in the prior, it learns how much longer or shorter the user's model writes than
 * the recorded chains. Each domain then has its own level (its indicator) and slopes, so math
 * notation, word problems and code do not bend one another's fit.
 */
export const LOCAL_ESTIMATOR_FEATURES = [
  'level',
  'math',
  'math.logProseTokens',
  'math.logNumbers',
  'text',
  'text.logProseTokens',
  'text.logNumbers',
  'code',
  'code.logCodeTokens',
  'code.logDocTokens',
] as const;

/** How far apart (in feature units) two questions may be and still count as similar. */
const NEIGHBOUR_WIDTH = 0.2;
/** Runs' worth of trust in the regression before similar past questions outweigh it. */
const NEIGHBOUR_TRUST = 3;

export interface LocalEstimatorState {
  version: 2;
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

/** A fenced block as composeQuestion writes it: a fence of 3+ backticks, the code, the same fence. */
const FENCED_BLOCK = /(`{3,})[^\n`]*\n([\s\S]*?)\n?\1(?!`)/g;
/** LaTeX commands, sub/superscripts, braces, or a `$...$` span that is not money ("$2"). */
const MATH_NOTATION = /\\[a-zA-Z]+|[\^_{}]|\$[^$\s\d][^$\n]*\$/;
/** Docstrings and comments: the part of code that says what it should do. */
const CODE_DOCS = /("""|''')[\s\S]*?\1|\/\*[\s\S]*?\*\/|(?:^|\s)(?:#|\/\/).*$/gm;

/** The question's prose and its fenced code apart. */
function splitCode(question: string): { prose: string; code: string } {
  const blocks = [...question.matchAll(FENCED_BLOCK)].map((m) => m[2]);
  return { prose: blocks.length ? question.replace(FENCED_BLOCK, ' ') : question, code: blocks.join('\n') };
}

export function questionDomain(question: string): QuestionDomain {
  const { prose, code } = splitCode(question);
  return code.trim() ? 'code' : MATH_NOTATION.test(prose) ? 'math' : 'text';
}

/** Features of a question's text; stable order = LOCAL_ESTIMATOR_FEATURES. */
export function questionFeatures(question: string, countTokens: CountTokens): number[] {
  const { prose, code } = splitCode(question);
  const domain = questionDomain(question);
  const logTokens = (text: string) => Math.log1p(text ? Math.max(0, countTokens(text)) : 0);
  const block = (d: QuestionDomain, ...slopes: number[]) => (domain === d ? [1, ...slopes] : [0, ...slopes.map(() => 0)]);
  const logNumbers = Math.log1p(prose.match(/\d+(?:[.,]\d+)*/g)?.length ?? 0);
  const docs = code.match(CODE_DOCS)?.join('\n') ?? '';
  return [
    1,
    ...block('math', logTokens(prose), logNumbers),
    ...block('text', logTokens(prose), logNumbers),
    ...block('code', logTokens(code), logTokens(docs)),
  ];
}

function domainOf(features: readonly number[]): QuestionDomain {
  return QUESTION_DOMAINS.find((d) => features[LOCAL_ESTIMATOR_FEATURES.indexOf(d)] === 1) ?? 'text';
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
    // A state of another version holds other features: it cannot be read, so it starts afresh.
    const saved = options.state?.version === 2 ? options.state.history : [];
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

  /**
   * Predicted budget in tokens: the regression's needed tokens, moved toward what similar past
   * questions needed beyond it, with the domain's headroom, clamped.
   */
  predict(question: string): number {
    const x = questionFeatures(question, this.options.countTokens);
    const logNeeded = dot(this.weights, x) + this.neighbourShift(x);
    return clamp(Math.round(Math.exp(logNeeded + this.prior.logHeadroom[domainOf(x)])), this.minTokens, this.maxTokens);
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
    return { version: 2, history: this.history.map((h) => ({ features: [...h.features], needed: h.needed })) };
  }

  /** Posterior mean of ridge regression centred on the prior: (K + X'X)^-1 (K w0 + X'y). */
  private fit(): number[] {
    const w0 = [...this.prior.weights];
    if (this.history.length === 0) {
      return w0;
    }
    const strengths = LOCAL_ESTIMATOR_FEATURES.map((f) => (f === 'level' ? this.prior.levelStrength : this.prior.priorStrength));
    return ridgeToward(w0, strengths, this.history.map((h) => h.features), this.history.map((h) => Math.log(h.needed)));
  }

  /**
   * What past runs of similar questions needed beyond the regression (log tokens), weighed by
   * their similarity and shrunk toward 0: a question asked again moves toward what it needed.
   */
  private neighbourShift(x: readonly number[]): number {
    let weight = 0;
    let shift = 0;
    for (const h of this.history) {
      const similarity = Math.exp(-squaredDistance(x, h.features) / (2 * NEIGHBOUR_WIDTH ** 2));
      weight += similarity;
      shift += similarity * (Math.log(h.needed) - dot(this.weights, h.features));
    }
    return shift / (NEIGHBOUR_TRUST + weight);
  }
}

/**
 * Solves (K + X'X) w = K w0 + X'y by Gaussian elimination, K the diagonal of `strength` (one number
 * for every weight, or one each); also used to fit the prior (w0 = 0).
 */
export function ridgeToward(w0: readonly number[], strength: number | readonly number[], rows: readonly number[][], targets: readonly number[]): number[] {
  const d = w0.length;
  const k = (i: number) => (typeof strength === 'number' ? strength : strength[i]);
  const a = Array.from({ length: d }, (_, i) => Array.from({ length: d + 1 }, (_, j) => (j === i ? k(i) : 0)));
  for (let i = 0; i < d; i++) {
    a[i][d] = k(i) * w0[i];
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

function squaredDistance(a: readonly number[], b: readonly number[]): number {
  return a.reduce((s, ai, i) => s + (ai - b[i]) ** 2, 0);
}

function dot(w: readonly number[], x: readonly number[]): number {
  return w.reduce((s, wi, i) => s + wi * x[i], 0);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

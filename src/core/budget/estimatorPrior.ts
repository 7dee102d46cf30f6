/**
 * The shape of the local estimator's fitted prior. Its own module so that the generated prior
 * (localEstimatorPrior.ts, written by bench/fitEstimatorPrior.ts) and the estimator that loads it
 * both import it without importing each other.
 */

/**
 * What kind of question, told from its text before any call: a question with fenced code (`code`),
 * one with math notation (`math`: LaTeX commands, `^`, `_`, braces), or plain words (`text`).
 * Each has its own level and slopes, and its own headroom.
 */
export const QUESTION_DOMAINS = ['math', 'text', 'code'] as const;
export type QuestionDomain = typeof QUESTION_DOMAINS[number];

/** Fitted coefficients over LOCAL_ESTIMATOR_FEATURES, predicting ln(needed tokens). */
export interface EstimatorPrior {
  features: readonly string[];
  weights: readonly number[];
  /** Ridge strength pulling learned weights toward the prior; in units of one observation. */
  priorStrength: number;
  /**
   * The same for the shared `level` weight (0 in the prior): kept weak, so that a model that writes
   * longer or shorter chains than the recorded ones moves every estimate after a few runs.
   */
  levelStrength: number;
  /**
   * Added to the predicted log tokens, per domain: the multiplier (e^h) that put most tune-split
   * estimates inside [needed, 2 x needed]; ln(sqrt 2) would centre a symmetric spread.
   */
  logHeadroom: Readonly<Record<QuestionDomain, number>>;
  /** What it was fitted on, for the record. */
  fittedOn: string;
}

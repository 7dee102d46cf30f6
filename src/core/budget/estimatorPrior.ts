/**
 * The shape of the local estimator's fitted prior. Its own module so that the generated prior
 * (localEstimatorPrior.ts, written by bench/fitEstimatorPrior.ts) and the estimator that loads it
 * both import it without importing each other.
 */

/** Fitted coefficients over LOCAL_ESTIMATOR_FEATURES, predicting ln(needed tokens). */
export interface EstimatorPrior {
  features: readonly string[];
  weights: readonly number[];
  /** Ridge strength pulling learned weights toward the prior; in units of one observation. */
  priorStrength: number;
  /** Added to the predicted log tokens: ln(sqrt 2) centres the estimate in [needed, 2 x needed]. */
  logHeadroom: number;
  /** What it was fitted on, for the record. */
  fittedOn: string;
}

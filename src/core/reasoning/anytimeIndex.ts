/**
 * The Anytime Index (arXiv 2601.11038): normalised area under the best-so-far quality curve.
 * Higher means good answers arrived earlier in the token budget.
 */

export interface AnytimePoint {
  /** Tokens spent when this quality was reached (checkpoint b_t). */
  tokens: number;
  /** Quality at that checkpoint (accuracy, or confidence), >= 0. */
  quality: number;
}

/** Q*_t = max_{i<=t} Q_i over points sorted by tokens. */
export function bestSoFarCurve(points: readonly AnytimePoint[]): AnytimePoint[] {
  const sorted = [...points].sort((a, b) => a.tokens - b.tokens);
  let best = -Infinity;
  return sorted.map((p) => ({ tokens: p.tokens, quality: (best = Math.max(best, p.quality)) }));
}

/**
 * AI = sum_t (Q*_t + Q*_{t+1})/2 * (b_{t+1} - b_t) / ((b_T - b_1) * Q_max), in [0, 1].
 * Degenerate curves (one point, or all points at one budget) score their best quality / Q_max,
 * the limit of the formula as the span shrinks. An empty curve, or Q_max <= 0, scores 0.
 */
export function anytimeIndex(points: readonly AnytimePoint[], qMax = 1): number {
  if (points.length === 0 || !(qMax > 0)) {
    return 0;
  }
  const curve = bestSoFarCurve(points);
  const span = curve[curve.length - 1].tokens - curve[0].tokens;
  if (span <= 0) {
    return clamp01(curve[curve.length - 1].quality / qMax);
  }
  let area = 0;
  for (let t = 0; t + 1 < curve.length; t++) {
    area += ((curve[t].quality + curve[t + 1].quality) / 2) * (curve[t + 1].tokens - curve[t].tokens);
  }
  return clamp01(area / (span * qMax));
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/**
 * Anytime Index of a live run's confidence curve: from (0 tokens, 0) through its answer points to
 * the tokens spent now, holding the last confidence. 0 before the first answer.
 */
export function runAnytimeIndex(points: readonly AnytimePoint[], tokensSpent: number): number {
  if (points.length === 0) {
    return 0;
  }
  const last = points[points.length - 1];
  return anytimeIndex([{ tokens: 0, quality: 0 }, ...points, { tokens: Math.max(tokensSpent, last.tokens), quality: last.quality }]);
}

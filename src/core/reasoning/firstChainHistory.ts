/**
 * What a model's own runs say about its first chains: of the runs whose first chain finished like
 * this one (the reliability model's score, in buckets), how often the later chains agreed with it.
 * A lone first chain's confidence is that rate as a Beta posterior toward a modest prior, below 1
 * always; the first-chain trust rule asks it for enough confirmations first. Pure: the host keeps
 * one per user (persisted beside the local estimator's data), the benchmark one per simulated user.
 */

/** Lower edges of the score buckets above the first (which starts at 0). */
export const FIRST_CHAIN_BUCKETS = [0.5, 0.7, 0.85, 0.95] as const;

export const FIRST_CHAIN_PRIOR = {
  /** A lone chain of a model with no history is trusted this much at most (less when its own score is lower). */
  mean: 0.6,
  /** The prior weighs as much as this many checked first chains. */
  strength: 2,
  /** Never shown higher, however long the history: one chain is one chain. */
  maxConfidence: 0.99,
  /** A bucket's counts are scaled down past this many checks, so the recent runs weigh most. */
  maxChecked: 100,
  /** Models kept; the one used longest ago is forgotten first. */
  maxModels: 50,
};

/** One bucket's record: first chains checked by later chains of their run, and how many of them were confirmed. */
export interface FirstChainTally {
  confirmed: number;
  checked: number;
}

/** What one finished run says about its first chain; see `firstChainCheck` in strategies.ts. */
export interface FirstChainCheck {
  /** The first chain's reliability score (chainReliability). */
  score: number;
  /** Whether the later chains' leading answer was the first chain's. */
  confirmed: boolean;
}

export interface FirstChainEvidence {
  /** Earlier first chains in this one's bucket, checked and confirmed (rounded for display). */
  confirmed: number;
  checked: number;
  /** P(later chains would confirm this one): the bucket's rate toward the prior, below 1. */
  confidence: number;
}

/** The evidence about one model's first chains, as a strategy asks for it. */
export interface FirstChainEvidenceSource {
  evidence(score: number): FirstChainEvidence;
}

export interface FirstChainHistoryState {
  version: 1;
  /** Per model id, in order of last use (oldest first): one tally per bucket. */
  models: Array<{ model: string; buckets: FirstChainTally[] }>;
}

export function firstChainBucket(score: number): number {
  let bucket = 0;
  FIRST_CHAIN_BUCKETS.forEach((edge, i) => {
    if (score >= edge) {
      bucket = i + 1;
    }
  });
  return bucket;
}

/** The posterior for a chain of this score given its bucket's tally: a prior no higher than the score itself. */
export function firstChainEvidence(score: number, tally: FirstChainTally = { confirmed: 0, checked: 0 }, prior = FIRST_CHAIN_PRIOR): FirstChainEvidence {
  const mean = Math.max(0, Math.min(prior.mean, score));
  const confidence = (tally.confirmed + mean * prior.strength) / (tally.checked + prior.strength);
  return { confirmed: Math.round(tally.confirmed), checked: Math.round(tally.checked), confidence: Math.min(prior.maxConfidence, confidence) };
}

/** No history: every lone chain gets the prior. */
export const NO_FIRST_CHAIN_HISTORY: FirstChainEvidenceSource = { evidence: (score) => firstChainEvidence(score) };

const emptyBuckets = (): FirstChainTally[] => Array.from({ length: FIRST_CHAIN_BUCKETS.length + 1 }, () => ({ confirmed: 0, checked: 0 }));

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;

export class FirstChainHistory {
  private readonly models = new Map<string, FirstChainTally[]>();

  /** From saved state; anything malformed in it is dropped. */
  constructor(state?: unknown, private readonly prior = FIRST_CHAIN_PRIOR) {
    const saved = state as Partial<FirstChainHistoryState> | undefined;
    if (saved?.version !== 1 || !Array.isArray(saved.models)) {
      return;
    }
    for (const entry of saved.models.slice(-prior.maxModels)) {
      const buckets = entry?.buckets;
      if (typeof entry?.model !== 'string' || !Array.isArray(buckets) || buckets.length !== FIRST_CHAIN_BUCKETS.length + 1) {
        continue;
      }
      if (buckets.every((b) => isCount(b?.confirmed) && isCount(b?.checked) && b.confirmed <= b.checked)) {
        this.models.set(entry.model, buckets.map((b) => ({ confirmed: b.confirmed, checked: b.checked })));
      }
    }
  }

  /** Models with any history. */
  get size(): number {
    return this.models.size;
  }

  evidence(model: string, score: number): FirstChainEvidence {
    return firstChainEvidence(score, this.models.get(model)?.[firstChainBucket(score)], this.prior);
  }

  /** The evidence source a strategy of a run on `model` asks. */
  of(model: string): FirstChainEvidenceSource {
    return { evidence: (score) => this.evidence(model, score) };
  }

  learn(model: string, check: FirstChainCheck): void {
    const buckets = this.models.get(model) ?? emptyBuckets();
    const tally = buckets[firstChainBucket(check.score)];
    tally.checked += 1;
    tally.confirmed += check.confirmed ? 1 : 0;
    if (tally.checked > this.prior.maxChecked) {
      const scale = this.prior.maxChecked / tally.checked;
      tally.checked *= scale;
      tally.confirmed *= scale;
    }
    // Re-inserted: the map's order is the order of last use.
    this.models.delete(model);
    this.models.set(model, buckets);
    for (const old of [...this.models.keys()].slice(0, Math.max(0, this.models.size - this.prior.maxModels))) {
      this.models.delete(old);
    }
  }

  toJSON(): FirstChainHistoryState {
    return { version: 1, models: [...this.models].map(([model, buckets]) => ({ model, buckets: buckets.map((b) => ({ ...b })) })) };
  }
}

/**
 * Consensus over answers that cannot be compared for equality: answers that say the same thing form
 * one cluster, and the clusters are the votes the stopping rules count. An answer joins the cluster it
 * is most alike on average when that is at least the threshold, else it starts a new one; a member never
 * moves, so a cluster's key is a stable vote. The answer shown for a cluster is its medoid: the member
 * with the highest summed similarity to the others (minimum Bayes risk).
 */

export interface Cluster {
  /** Stable vote key: "A", "B", ... in order of first appearance. */
  key: string;
  /** Indexes of the members, in arrival order. */
  members: number[];
}

export class AnswerClusters {
  private readonly answers: string[] = [];
  /** sims[i][j] for j < i. */
  private readonly sims: number[][] = [];
  private readonly clusterList: Cluster[] = [];
  private readonly clusterOf: number[] = [];

  constructor(private readonly similarity: (a: string, b: string) => number, readonly threshold: number) {}

  /** Adds an answer; returns its cluster's key. */
  add(answer: string): string {
    const index = this.answers.length;
    this.sims.push(this.answers.map((other) => this.similarity(answer, other)));
    this.answers.push(answer);
    let best: { cluster: Cluster; mean: number } | undefined;
    for (const cluster of this.clusterList) {
      const mean = cluster.members.reduce((s, j) => s + this.sim(index, j), 0) / cluster.members.length;
      if (mean >= this.threshold && (!best || mean > best.mean)) {
        best = { cluster, mean };
      }
    }
    const cluster = best?.cluster ?? this.newCluster();
    cluster.members.push(index);
    this.clusterOf.push(this.clusterList.indexOf(cluster));
    return cluster.key;
  }

  get size(): number {
    return this.answers.length;
  }

  get clusters(): readonly Cluster[] {
    return this.clusterList;
  }

  answer(index: number): string {
    return this.answers[index];
  }

  keyOf(index: number): string {
    return this.clusterList[this.clusterOf[index]].key;
  }

  sim(i: number, j: number): number {
    if (i === j) {
      return 1;
    }
    return i > j ? this.sims[i][j] : this.sims[j][i];
  }

  /** The member of a cluster most alike the rest of it (ties: the earliest, or the preferred index). */
  medoid(key: string, prefer?: (index: number) => number): number | undefined {
    const cluster = this.clusterList.find((c) => c.key === key);
    if (!cluster) {
      return undefined;
    }
    let best = cluster.members[0];
    let bestScore = -Infinity;
    for (const i of cluster.members) {
      const score = cluster.members.reduce((s, j) => s + (i === j ? 0 : this.sim(i, j)), 0) + (prefer ? prefer(i) * 1e-6 : 0);
      if (score > bestScore + 1e-12) {
        best = i;
        bestScore = score;
      }
    }
    return best;
  }

  /** The mean similarity of a cluster's members to its medoid (1 for a single member). */
  cohesion(key: string): number {
    const m = this.medoid(key);
    const cluster = this.clusterList.find((c) => c.key === key);
    if (m === undefined || !cluster || cluster.members.length < 2) {
      return 1;
    }
    const others = cluster.members.filter((i) => i !== m);
    return others.reduce((s, i) => s + this.sim(m, i), 0) / others.length;
  }

  private newCluster(): Cluster {
    const cluster = { key: clusterKey(this.clusterList.length), members: [] };
    this.clusterList.push(cluster);
    return cluster;
  }
}

/** "A".."Z", then "AA", "AB", ... */
export function clusterKey(index: number): string {
  let key = '';
  let n = index;
  do {
    key = String.fromCharCode(65 + (n % 26)) + key;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return key;
}

/** Index of the answer with the highest summed similarity to all others (MBR); -1 for none. */
export function mbrIndex(answers: readonly string[], similarity: (a: string, b: string) => number): number {
  let best = -1;
  let bestScore = -Infinity;
  const n = answers.length;
  const sims: number[][] = answers.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      sims[i][j] = sims[j][i] = similarity(answers[i], answers[j]);
    }
  }
  for (let i = 0; i < n; i++) {
    const score = sims[i].reduce((s, x) => s + x, 0);
    if (score > bestScore + 1e-12) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}

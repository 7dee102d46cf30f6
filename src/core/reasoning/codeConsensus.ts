/**
 * The default strategy for code answers: sample one chain at a time, set aside answers that look
 * broken (codeChecks.ts: ran on, left brackets open, call a name nothing defines, never return, ...),
 * and show the whole-looking answer most alike the other whole-looking ones (similarity MBR over the
 * clean answers). It stops once two clean answers agree (the model writes much the same program
 * again) or at a few clean answers, and never draws more than a few chains, so a question whose
 * answers keep breaking costs a bounded amount. Only what a live run sees is used: the texts.
 * Tuned on the HumanEval tune file (bench/code.ts); see bench/results/code.md.
 */
import { agreementConfidence } from './stoppingRules';
import { ANYTIME_DEFAULTS, commonAction, maxChainsStop, nextChainMaxTokens, ONE_UNCHECKED_ANSWER, type AnytimeParams, type Assessment, type ChainRecord, type ReasoningStrategy, type RunAction, type RunProgress } from './strategies';

/** Every tunable of the code strategy in one place (tuned on the HumanEval tune file only). */
export const CODE_DEFAULTS = {
  /** No early stop before this many clean answers. */
  minClean: 2,
  /** Two clean answers at least this alike (question-aware token-trigram Jaccard) settle the run. */
  agree: 0.7,
  /**
   * Clean answers less alike than this on average settle it too (the model is guessing). 0 = off:
   * measured at 0.05-0.25 it saves chains on hard problems and loses as much pass rate, the same frontier.
   */
  apart: 0,
  /** Stop at this many clean answers. */
  maxClean: 3,
  /** The most chains a run draws, clean or not. */
  maxChains: 5,
};

export type CodeParams = typeof CODE_DEFAULTS;

/** An answer that looks whole: it has code and no defect. */
export function isClean(chain: ChainRecord): boolean {
  return chain.vote !== undefined && chain.cluster !== undefined && (chain.defects?.length ?? 0) === 0;
}

/**
 * The answer to show: among the clean answers (or all answers, when none is clean, or when `clean` is
 * false), the one with the highest summed similarity to the others (MBR); ties go to the earliest.
 */
export function chooseCodeAnswer(state: RunProgress, options: { clean?: boolean } = {}): ChainRecord | undefined {
  const answered = state.chains.filter((c) => c.vote !== undefined && c.cluster !== undefined);
  const clean = options.clean === false ? [] : answered.filter(isClean);
  const candidates = clean.length > 0 ? clean : answered;
  const clusters = state.clusters;
  if (!clusters || candidates.length <= 1) {
    return candidates[0];
  }
  let best = candidates[0];
  let bestScore = -Infinity;
  for (const c of candidates) {
    const score = candidates.reduce((s, o) => s + (o === c ? 0 : clusters.sim(c.cluster!, o.cluster!)), 0);
    if (score > bestScore + 1e-12) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** What the clean answers say so far: how many, the closest pair, the mean pairwise similarity. */
export function cleanAgreement(state: RunProgress): { clean: number; closest: number; mean: number } {
  const clean = state.chains.filter(isClean);
  const clusters = state.clusters;
  let closest = 0;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < clean.length; i++) {
    for (let j = 0; j < i; j++) {
      const s = clusters ? clusters.sim(clean[i].cluster!, clean[j].cluster!) : 0;
      closest = Math.max(closest, s);
      sum += s;
      pairs++;
    }
  }
  return { clean: clean.length, closest, mean: pairs ? sum / pairs : 0 };
}

export class CodeConsensus implements ReasoningStrategy {
  readonly name = 'anytime-sc';

  constructor(private readonly params: CodeParams = CODE_DEFAULTS, private readonly chainParams: AnytimeParams = ANYTIME_DEFAULTS) {}

  assess(state: RunProgress): Assessment {
    const chosen = chooseCodeAnswer(state);
    const answered = state.chains.filter((c) => c.vote !== undefined).length;
    if (!chosen) {
      return { confidence: 0, ruleState: state.chains.length ? `${state.chains.length} chains, no code yet` : 'no answers yet', settled: false };
    }
    const { clean, closest, mean } = cleanAgreement(state);
    const p = this.params;
    const broken = answered - clean;
    const brokenNote = broken > 0 ? `; ${broken} of ${answered} look broken` : '';
    let ruleState: string;
    let settled = false;
    if (clean >= p.maxClean) {
      ruleState = `${clean} whole-looking answers`;
      settled = true;
    } else if (clean >= p.minClean && closest >= p.agree) {
      ruleState = 'two whole-looking answers agree';
      settled = true;
    } else if (clean >= p.minClean && mean < p.apart) {
      ruleState = 'the whole-looking answers are far apart';
      settled = true;
    } else {
      ruleState = `${clean} whole-looking answer${clean === 1 ? '' : 's'}, looking for agreement`;
    }
    const agreeing = clean > 0 && isClean(chosen)
      ? state.chains.filter((c) => isClean(c) && (c === chosen || state.clusters!.sim(c.cluster!, chosen.cluster!) >= p.agree)).length
      : 1;
    const confidence = agreeing > 1 ? agreementConfidence(agreeing, state.chains.length) : Math.min(ONE_UNCHECKED_ANSWER, 1 / Math.max(1, state.chains.length));
    return { leader: chosen.vote, answerIndex: chosen.cluster, confidence, ruleState: ruleState + brokenNote, settled };
  }

  next(state: RunProgress): RunAction {
    const common = commonAction(state, this.chainParams);
    if (common) {
      return common;
    }
    if (state.chains.length > 0 && state.extraChainsOwed === 0) {
      if (this.assess(state).settled) {
        return { kind: 'stop', reason: 'converged', message: 'The code answers settle it.' };
      }
      if (state.chains.length >= this.params.maxChains) {
        return maxChainsStop(state.chains.length);
      }
    }
    return { kind: 'chain', maxTokens: nextChainMaxTokens(state, this.chainParams), n: 1, promptBudget: state.chainBudget, logprobs: false };
  }
}

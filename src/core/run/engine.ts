/**
 * One interface for what a run drives, whatever its strategy: a ReasoningRun (chains on one model)
 * or a cascade of them. Built from a plan, so the host never chooses strategies or converts budgets.
 */
import type { BudgetEstimate } from '../budget/localEstimator';
import { CascadeRun, type CascadeTier } from '../reasoning/cascade';
import type { ModelCaller } from '../budget/modelCaller';
import { samplingTemperature } from '../providers/openaiProvider';
import { NO_FIRST_CHAIN_HISTORY, type FirstChainEvidenceSource } from '../reasoning/firstChainHistory';
import { ReasoningRun, type RunEngine, type RunListener, type RunOutcome } from '../reasoning/reasoningRun';
import { createStoppingRule } from '../reasoning/stoppingRules';
import { AnytimeSelfConsistency, createStrategy, type ReasoningStrategy } from '../reasoning/strategies';
import { CodeConsensus } from '../reasoning/codeConsensus';
import { ValueTreeRun } from '../reasoning/valueTree';
import type { SamplingStrategyName } from '../config';
import type { EngineSpec, PlanModel, RunPlan } from './plan';

export type { RunEngine };

/**
 * The strategy of a chains plan: the tuned anytime-sc by default (for code answers its code form,
 * which sets broken-looking answers aside), else the named strategy with the named rule; `history`
 * is what the model's earlier first chains say, for the confidence of a lone chain.
 */
export function strategyOf(spec: Extract<EngineSpec, { kind: 'chains' }> & { strategy: SamplingStrategyName }, history: FirstChainEvidenceSource = NO_FIRST_CHAIN_HISTORY): ReasoningStrategy {
  if (spec.strategy === 'anytime-sc' && spec.stoppingRule === 'auto') {
    return spec.answerKind === 'code' ? new CodeConsensus() : new AnytimeSelfConsistency(undefined, undefined, true, history);
  }
  return createStrategy(spec.strategy, spec.stoppingRule === 'auto' ? undefined : createStoppingRule(spec.stoppingRule, { threshold: spec.confidenceThreshold }), undefined, history);
}

export interface EngineOptions {
  /** Replaces a chains plan's own strategy (benchmarks compare strategies on the same plan). */
  strategy?: ReasoningStrategy;
  /** What each model's earlier first chains say (default: no history). */
  history?: (model: PlanModel) => FirstChainEvidenceSource;
}

/** The run's budget as the engines take it. */
function runBudget(estimate: BudgetEstimate, chainTokens: number) {
  return { chainTokens, source: estimate.source, ...(estimate.note ? { note: estimate.note } : {}), ...(estimate.records ? { records: estimate.records } : {}) };
}

/** The engine of a plan (a value tree is its own engine); `callerOf` gives each model's metered caller (under the plan's caps). */
export function createRunEngine(plan: RunPlan, callerOf: (model: PlanModel) => ModelCaller, listener: RunListener, options: EngineOptions = {}): RunEngine {
  const budget = runBudget(plan.estimate, plan.chainTokens);
  const spec = plan.engine;
  // Left out for models that take only their default (an endpoint that rejects it anyway is retried without it).
  const temperatureOf = (m: PlanModel) => {
    const t = samplingTemperature(m.id, plan.temperature);
    return t === undefined ? {} : { temperature: t };
  };
  if (spec.kind === 'chains') {
    const model = plan.models[0];
    const strategy = spec.strategy;
    if (strategy === 'value-tree') {
      // A search over steps, not chains: its own engine, with what it shares with a chains run.
      return new ValueTreeRun(callerOf(model), {
        question: plan.prompt,
        systemPrompt: plan.systemPrompt,
        answerKind: spec.answerKind,
        budget: { ...budget, totalTokens: plan.budgetTokens },
        ...temperatureOf(model),
      }, listener);
    }
    return new ReasoningRun(callerOf(model), {
      question: plan.prompt,
      systemPrompt: plan.systemPrompt,
      answerKind: spec.answerKind,
      selector: spec.selector,
      strategy: options.strategy ?? strategyOf({ ...spec, strategy }, options.history?.(model)),
      budget: { ...budget, totalTokens: plan.budgetTokens },
      ...(plan.examples.length ? { examples: plan.examples } : {}),
      ...temperatureOf(model),
    }, listener);
  }
  const tiers: CascadeTier[] = plan.models.map((m) => ({ caller: callerOf(m), name: m.id, price: m.price!, ...temperatureOf(m) }));
  const cascade = new CascadeRun(tiers, {
    question: plan.prompt,
    systemPrompt: plan.systemPrompt,
    budget: { ...budget, totalDollars: spec.totalDollars, totalTokens: plan.budgetTokens },
  }, (event) => listener(event.type === 'budget-estimated' ? { ...event, totalTokens: plan.budgetTokens } : event));
  return new CascadeEngine(cascade, plan.budgetTokens, spec.dollarsPerToken);
}

/** A cascade as a RunEngine: its budget is dollars, so Continue's tokens are priced at the strongest model. */
class CascadeEngine implements RunEngine {
  constructor(private readonly cascade: CascadeRun, private budgetTokens: number, private readonly dollarsPerToken: number) {}

  start(signal?: AbortSignal): Promise<RunOutcome> {
    return this.cascade.start(signal);
  }

  /** A free model gets a token's worth of a billionth of a dollar: it costs nothing. */
  continueWith(extraTokens: number, signal?: AbortSignal): Promise<RunOutcome> {
    this.budgetTokens += extraTokens;
    return this.cascade.continueWith(Math.max(extraTokens * this.dollarsPerToken, 1e-9), signal);
  }

  stop(): void {
    this.cascade.stop();
  }

  get outcome(): RunOutcome | undefined {
    return this.cascade.outcome;
  }

  get totalBudget(): number {
    return this.budgetTokens;
  }

  agreeingChainTokens(): number[] {
    return [];
  }

  /** A cascade's tiers stop on their weighted votes, not on a lone chain: no first-chain evidence to learn. */
  firstChainCheck(): undefined {
    return undefined;
  }
}

/**
 * One question's way from the command (or @budget) to a running engine: gather the facts, let the
 * run plan decide, present its refusal or confirmation, estimate, plan again with the estimate,
 * then run. Every rule it follows lives in core/run; this file only sequences them.
 */
import { randomUUID } from 'node:crypto';
import type { BudgetEstimate } from '../core/budget/localEstimator';
import { TaleBudgetEstimator } from '../core/budget/taleEstimator';
import type { Settings, StrategyName } from '../core/config';
import type { ChatProvider } from '../core/providers/chatProvider';
import { CapRefusal } from '../core/budget/modelCaller';
import type { AnswerKind, QuestionContext, SelectionAction } from '../core/reasoning/answerKinds';
import type { RunEvent } from '../core/reasoning/runEvents';
import { meteredCallers } from '../core/run/callers';
import { formatTracedCall } from '../core/budget/requestTrace';
import { createRunEngine } from '../core/run/engine';
import { planRun, TALE_MAX_CHAIN_TOKENS, type PlanModel, type PlanRequest, type PlanResult, type RunPlan } from '../core/run/plan';
import { capRefusal, refusal, type Refusal } from '../core/run/refusal';
import { initialRunView, type RunHeader } from '../core/view/runView';
import type { PanelRun } from './answerPanel';
import type { QuestionSource } from './editorInsert';
import { runModels } from './modelResolution';
import type { ProposedChanges } from './proposedChange';
import { RunRegistry, type ActiveRun, type RunSummary } from './runRegistry';
import { notificationPresenter, type RunPresenter, type RunSurface } from './runSurface';
import type { Services } from './services';
import { readSettings } from './settings';

/** Per-run overrides (tests, the chat participant, Re-run). */
export interface ReasonArgs {
  question?: string;
  strategy?: StrategyName;
  budgetTokens?: number;
  /** The code the question is about (the selection, or the chat's references). */
  context?: QuestionContext;
  /** What the user chose to do with the selection. */
  action?: SelectionAction;
  /** This run's answer kind ("re-run as ..."). */
  answerKind?: AnswerKind;
  /** This run with or without preference examples (Re-run's toggle). */
  preferenceExamples?: boolean;
}

/** How a run started from somewhere other than the command (the chat participant) differs. */
export interface StartOptions {
  source?: QuestionSource;
  /** A model chosen by the caller (the chat's picked model) instead of the configured provider. */
  model?: { provider: ChatProvider; id: string };
  /** Presents refusals and the confirmation, and shows the run; default: notifications and a new answer panel. */
  presenter?: RunPresenter;
  /** Cancels the run, e.g. the chat's cancellation. */
  signal?: AbortSignal;
}

/** A run that ran (to any end), or why it did not start: nothing was sent then. */
export type StartResult = { started: true; summary: RunSummary } | { started: false; refusal: Refusal };

export class RunPipeline {
  readonly registry: RunRegistry;

  constructor(private readonly services: Services, proposals: ProposedChanges) {
    this.registry = new RunRegistry(services, (r, source) => this.start(r.question, readSettings().settings, {
      strategy: r.strategy,
      ...(r.answerKind ? { answerKind: r.answerKind } : {}),
      ...(r.context ? { context: r.context } : {}),
      ...(r.action ? { action: r.action } : {}),
      ...(r.preferenceExamples !== undefined ? { preferenceExamples: r.preferenceExamples } : {}),
    }, { source }), proposals);
  }

  async start(question: string | undefined, settings: Settings, args: ReasonArgs, options: StartOptions): Promise<StartResult> {
    const { services } = this;
    const presenter = options.presenter ?? notificationPresenter(services.log);
    const refuse = async (r: Refusal): Promise<StartResult> => {
      await presenter.present(r);
      return { started: false, refusal: r };
    };
    const strategy = args.strategy ?? settings.strategy;
    const models = await runModels(services, settings, strategy, options.model);
    const [estimator, ratios, ledger, pairs] = await Promise.all([services.localEstimator(), services.tokenRatios(), services.ledger(), services.preferencePairs()]);
    const request: PlanRequest = {
      question,
      settings,
      strategy,
      ...(args.budgetTokens !== undefined ? { budgetTokens: args.budgetTokens } : {}),
      ...(args.context ? { context: args.context } : {}),
      ...(args.action ? { action: args.action } : {}),
      ...(args.answerKind ? { answerKind: args.answerKind } : {}),
      ...(args.preferenceExamples !== undefined ? { preferenceExamples: args.preferenceExamples } : {}),
      preferencePairs: pairs.list,
      models: models.map((m) => m.plan),
      tokens: services.tokens,
      ratios,
      estimate: (q) => estimator.estimate(q),
      learnedRuns: estimator.learnedRuns,
    };
    // Nothing is sent before this plan is accepted; today's spend is checked once the panel shows the run.
    const planned = planRun(request);
    if (!planned.ok) {
      return refuse(planned.refusal);
    }
    // Before anything is sent (the TALE call included): a run that may cost more than the user's threshold asks first.
    if (planned.plan.confirm && !(await presenter.confirm(planned.plan.preview))) {
      return refuse(refusal('declined', 'Declined at the cost confirmation.'));
    }
    let plan = planned.plan;
    const callable = (m: PlanModel) => models[plan.models.indexOf(m)].callable!;

    const runId = randomUUID();
    const callers = meteredCallers({
      runId, sessionId: services.sessionId, ledger, sharedReservations: await services.sharedReservations(), tokens: services.tokens, ratios,
      ...(settings.logRequests ? { trace: (call) => services.log.info('request', formatTracedCall(call)) } : {}),
    });
    const abort = new AbortController();
    const header: RunHeader = { runId, ...plan.header };
    let panelRun: PanelRun | undefined;
    const surface: RunSurface = presenter.open?.(header) ?? (panelRun = this.registry.openInPanel(initialRunView(header), settings.panelPerRun));
    if (panelRun) {
      this.registry.opened(panelRun, abort);
    }
    let active: ActiveRun | undefined;
    const onCancel = () => {
      abort.abort();
      active?.engine.stop();
    };
    options.signal?.addEventListener('abort', onCancel, { once: true });
    try {
      // Nothing is sent before the panel's page listens (or a bounded wait ran out): on a loaded
      // machine a new page takes seconds, and a run that did not wait could end before it showed anything.
      if (panelRun && !(await panelRun.panel.whenReady()) && !abort.signal.aborted) {
        services.log.warn('panel', `${runId.slice(0, 8)}: the answer panel did not load in time; the run starts anyway`);
      }
      // The chain budget (a TALE call when the plan says so), then the plan again with it and today's spend:
      // a run whose first chain cannot fit is refused here, in its panel, naming the cap.
      const estimate = plan.estimateStep === 'tale'
        ? await this.estimate(plan, callers(callable(plan.models[0]), plan.estimateCaps), abort.signal, surface)
        : plan.estimate;
      const final: PlanResult = 'kind' in estimate
        ? { ok: false, refusal: estimate }
        : planRun({ ...request, estimate: () => estimate, today: await ledger.today() });
      if (!final.ok) {
        surface.push({ type: 'stopped', reason: final.refusal.kind === 'cap' ? 'cap-reached' : 'error', message: final.refusal.message });
        await services.refreshMeter();
        return refuse(final.refusal);
      }
      plan = final.plan;
      services.setLiveRun({ runId, budgetTokens: plan.budgetTokens, running: true });
      const onEvent = (event: RunEvent) => {
        // A chat run opened in a panel (and continued there) shows its events in the panel.
        (active?.surface ?? surface).push(event);
        if (event.type === 'spend') {
          void services.refreshMeter();
        } else if (event.type === 'error') {
          services.log.warn('run', `${runId.slice(0, 8)}: ${event.message}`);
        }
      };
      const history = await services.firstChainHistory();
      const engine = createRunEngine(plan, (m) => callers(callable(m), plan.caps), onEvent, { history: (m) => history.of(m.id) });
      active = {
        runId, question: plan.question, model: plan.models[0].id, source: options.source ?? {}, surface, abort, caps: plan.caps, engine, learns: plan.learns,
        ...(plan.context ? { context: plan.context } : {}),
        ...(args.action ? { action: args.action } : {}),
        ...(settings.preferenceExamples === 'auto' ? { pairSource: { answerKind: plan.answerKind, endpoint: plan.models[0].baseUrl ?? '' } } : {}),
      };
      this.registry.add(active);
      const about = plan.header.about ? `, about ${plan.header.about.replace(/`/g, '')}${args.action ? ` (${args.action})` : ''}` : '';
      services.log.info('run', `${runId.slice(0, 8)} started: ${header.model}, ${plan.strategy}, ${plan.answerKind} answer, budget ${plan.budgetTokens} tokens (${plan.estimate.source} chain estimate ${plan.chainTokens})${plan.examples.length ? `, ${plan.examples.length} preference examples` : ''}${about}`);
      if (abort.signal.aborted) {
        engine.stop();
      }
      const outcome = await engine.start(abort.signal);
      return { started: true, summary: await this.registry.finish(active, outcome) };
    } finally {
      options.signal?.removeEventListener('abort', onCancel);
    }
  }

  /** The TALE call; a failed call is shown in the run and becomes a refusal (its spend is in the ledger). */
  private async estimate(plan: RunPlan, caller: ConstructorParameters<typeof TaleBudgetEstimator>[0]['caller'], signal: AbortSignal, surface: RunSurface): Promise<BudgetEstimate | Refusal> {
    try {
      const fallback = await this.services.localEstimator();
      return await new TaleBudgetEstimator({ caller, fallback, capTokens: TALE_MAX_CHAIN_TOKENS }).estimate(plan.prompt, signal);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      surface.push({ type: 'error', message, kind: 'estimate' });
      return error instanceof CapRefusal
        ? capRefusal(message, error.cap)
        : { kind: 'estimate-failed', message, actions: [] };
    }
  }
}

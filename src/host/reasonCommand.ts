import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { budgetPromptLine } from '../core/budget/budgetTracker';
import { capsFromSettings, grant, type SpendCaps } from '../core/budget/caps';
import { autoRunBudget, confirmationMessage, needsConfirmation, TALE_MAX_CHAIN_TOKENS } from '../core/budget/costPreview';
import type { SpendLedger } from '../core/ledger/spendLedger';
import type { SharedReservations } from '../core/ledger/sharedReservations';
import { MeteredCaller } from '../core/budget/meteredCaller';
import { estimateBudget, TaleBudgetEstimator } from '../core/budget/taleEstimator';
import type { BudgetEstimate } from '../core/budget/localEstimator';
import type { CascadeTierSetting, Settings, StrategyName } from '../core/config';
import { isLocalEndpoint } from '../core/config';
import type { ChatProvider } from '../core/providers/chatProvider';
import { OpenAICompatibleProvider } from '../core/providers/openaiProvider';
import { checkQuestion } from '../core/question';
import { CapRefusal } from '../core/reasoning/modelCaller';
import { DEFAULT_SYSTEM_PROMPT, ReasoningRun, type RunOutcome } from '../core/reasoning/reasoningRun';
import type { RunEvent } from '../core/reasoning/runEvents';
import { createStoppingRule } from '../core/reasoning/stoppingRules';
import { AnytimeSelfConsistency, createStrategy } from '../core/reasoning/strategies';
import { CascadeRun, type CascadeTier } from '../core/reasoning/cascade';
import { contextProblem, contextWindowOf } from '../core/tokens/contextWindows';
import { tierPriceLookup, type PriceLookup, type TokenPrice } from '../core/tokens/prices';
import { reduceRunView, withHeader, type RunHeader, type RunView } from '../core/view/runView';
import type { InsertMode } from '../protocol';
import { AnswerPanel, type PanelAction } from './answerPanel';
import { confirmAboveUsd, previewRunCost, previewTarget } from './costPreview';
import { openWalkthroughStep, PROVIDER_STEP } from './walkthrough';
import { pickDailyCap, pickRequestBudget } from './budgetMenu';
import { LanguageModelProvider } from './lmProvider';
import { showError } from './logger';
import type { Services } from './services';
import { readSettings } from './settings';

/** Programmatic use (tests, the chat participant): a question and per-run overrides. */
export interface ReasonArgs {
  question?: string;
  strategy?: StrategyName;
  budgetTokens?: number;
}

/** What a finished run returns to a programmatic caller. */
export interface RunSummary {
  runId: string;
  answer?: string;
  reason: RunOutcome['reason'];
  message: string;
  tokens: number;
  dollars: number | null;
  chains: number;
}

/** A first chain shorter than this is not worth starting: the run is refused instead. */
const MIN_CHAIN_TOKENS = 64;
/** The least answer room the context check insists on. */
const MIN_ANSWER_TOKENS = 64;

/** Where the question came from, so Insert / Replace go back to the right editor. */
export interface QuestionSource {
  uri?: vscode.Uri;
  selection?: vscode.Selection;
}

/** Where a run shows itself: the answer panel, or a chat response. */
export interface RunSurface {
  push(event: RunEvent): void;
  updateHeader(patch: Partial<RunHeader>): void;
  /** Everything shown so far. */
  readonly view: RunView;
}

/** Runs shown elsewhere (chat responses) kept so they can be opened in a panel and continued; older ones are dropped. */
const KEPT_RUNS = 20;

/** How a run started from somewhere other than the command (the chat participant) differs. */
export interface StartOptions {
  source?: QuestionSource;
  /** A model chosen by the caller (the chat's picked model) instead of the configured provider. */
  model?: { provider: ChatProvider; id: string };
  /** Shows the run; default: a new answer panel beside the editor. */
  surface?: (header: RunHeader) => RunSurface;
  /** Says why a run was not started (nothing was sent); default: an error notification. */
  refuse?: (message: string) => Promise<void>;
  /** Cancels the run, e.g. the chat's cancellation. */
  signal?: AbortSignal;
}

/** A model the run can call: its provider, its id there, and how its tokens are priced. */
interface ResolvedModel {
  id: string;
  provider: ChatProvider;
  prices: PriceLookup;
}

/** What the command drives: one ReasoningRun, or a cascade of them. */
interface RunEngine {
  start(signal: AbortSignal): Promise<RunOutcome>;
  continueWith(extraTokens: number, signal: AbortSignal): Promise<RunOutcome>;
  stop(): void;
  readonly outcome: RunOutcome | undefined;
  readonly totalBudget: number;
  /** Completion tokens of each clean chain that reached `answer`: what the local estimator learns from. */
  agreeingChainTokens(answer: string): number[];
}

export class ReasonCommand {
  private readonly runs = new Map<string, ActiveRun>();
  /** The newest run's panel, for the streaming benchmark's post counts. */
  lastPanel: AnswerPanel | undefined;

  constructor(private readonly services: Services) {}

  /** A panel VS Code restored after a reload (or opened from a chat run): its run is over, but Copy, Insert and the report still work. */
  adoptRestored(panel: AnswerPanel): void {
    panel.onDidAction(async (action) => {
      // Copy is done by the panel itself.
      if (action.kind === 'insert') {
        await insertText(undefined, action.mode, action.answer);
      } else if (action.kind === 'openSpendReport') {
        await vscode.commands.executeCommand('budgetReasoner.showSpendReport');
      } else if (action.kind === 'rerun') {
        await this.start(action.question, readSettings().settings, { strategy: action.strategy }, {});
      }
    });
  }

  async run(args: ReasonArgs = {}): Promise<RunSummary | undefined> {
    const { settings } = this.settingsWithWarnings();

    const source: QuestionSource = {};
    let input = args.question;
    if (input === undefined) {
      const editor = vscode.window.activeTextEditor;
      if (editor && !editor.selection.isEmpty) {
        input = editor.document.getText(editor.selection);
        source.uri = editor.document.uri;
        source.selection = editor.selection;
      } else {
        input = await vscode.window.showInputBox({
          title: 'Reason with budget',
          prompt: 'Your question (or select text in the editor first)',
          ignoreFocusOut: true,
        });
        if (input === undefined) {
          return undefined; // dismissed
        }
        source.uri = editor?.document.uri;
        source.selection = editor?.selection;
      }
    }
    const checked = checkQuestion(input);
    if (!checked.ok) {
      void vscode.window.showWarningMessage(`Budget Reasoner: ${checked.message}`);
      return undefined;
    }
    return this.start(checked.question, settings, args, { source });
  }

  /** Settings, with their problems logged and the first one shown. */
  settingsWithWarnings(): { settings: Settings; problems: string[] } {
    const { settings, problems } = readSettings();
    for (const p of problems) {
      this.services.log.warn('settings', p);
    }
    if (problems.length) {
      void vscode.window.showWarningMessage(`Budget Reasoner: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more, see the log)` : ''}`);
    }
    return { settings, problems };
  }

  /** The whole pipeline for one question: checks, cost confirmation, estimate, caps, then the run. */
  async start(question: string, settings: Settings, args: ReasonArgs, options: StartOptions): Promise<RunSummary | undefined> {
    const { services } = this;
    const refuse = options.refuse ?? (async (message: string) => {
      await showError(services.log, message);
    });
    const strategyName = args.strategy ?? settings.strategy;
    // A cascade's models, cheapest first; else the one model. Missing keys and prices stop it here, before anything is sent.
    const models = strategyName === 'cascade'
      ? await this.cascadeModels(settings.cascade, settings, refuse)
      : await this.singleModel(settings, options.model);
    if (!models) {
      return undefined;
    }
    const first = models[0];
    const strongest = models[models.length - 1];
    const systemPrompt = DEFAULT_SYSTEM_PROMPT;
    const chatPrompt = (model: string) => services.tokens.countChatPrompt([{ role: 'system', content: systemPrompt }, { role: 'user', content: question }], model).tokens;
    for (const m of models) {
      const tooLong = contextProblem(chatPrompt(m.id), MIN_ANSWER_TOKENS, m.id, contextWindowOf(m.id));
      if (tooLong) {
        await refuse(tooLong);
        return undefined;
      }
    }
    const promptTokens = chatPrompt(first.id);

    // Before anything is sent (the TALE call included): a run that may cost more than the user's threshold asks first.
    // A cascade is previewed at its strongest model: the most it can cost.
    const threshold = confirmAboveUsd();
    if (threshold > 0) {
      const target = previewTarget(services, { ...settings, strategy: strategyName });
      const preview = await previewRunCost(services, target.settings, question, args.budgetTokens, target.prices);
      if (needsConfirmation(preview, threshold)) {
        const choice = await vscode.window.showWarningMessage(confirmationMessage(preview), { modal: true }, 'Run');
        if (choice !== 'Run') {
          services.log.info('run', 'declined at the cost confirmation; nothing was sent');
          return undefined;
        }
      }
    }

    const runId = randomUUID();
    const ledger = await services.ledger();
    const reservations = await services.sharedReservations();
    const fixedBudget = args.budgetTokens ?? (settings.requestBudget === 'auto' ? undefined : settings.requestBudget);
    const estimator = await services.localEstimator();
    const abort = new AbortController();

    // The estimate call is capped by the daily and dollar caps only: the run budget is not known yet.
    const estimateCaller = this.caller(first, runId, capsFromSettings(settings), ledger, reservations);
    const header: RunHeader = {
      runId,
      question,
      model: strongest.id,
      ...(strategyName === 'cascade' ? { models: models.map((m) => m.id) } : {}),
      strategy: strategyName,
      caps: describeCaps(settings),
      providerBillsInDollars: models.some((m) => m.provider.billsInDollars && m.prices(m.id)?.source !== 'local'),
      budgetTokens: fixedBudget,
      dollarCap: settings.requestCapUsd > 0 ? settings.requestCapUsd : undefined,
      stoppingRule: strategyName === 'cascade' ? 'a cheaper model settles it (weighted votes ≥ 0.8), else the next model' : stoppingRuleText(settings),
    };
    let panel: AnswerPanel | undefined;
    const surface: RunSurface = options.surface?.(header) ?? (panel = AnswerPanel.create(services.context.extensionUri, header, { log: services.log }));
    if (panel) {
      this.lastPanel = panel;
      // Closed while the budget is being estimated: nothing more is sent.
      panel.onDidDispose(() => abort.abort());
    }
    const onCancel = () => {
      abort.abort();
      active?.engine.stop();
    };
    let active: ActiveRun | undefined;
    options.signal?.addEventListener('abort', onCancel, { once: true });
    try {
      let estimate: BudgetEstimate;
      try {
        const tale = new TaleBudgetEstimator({ caller: estimateCaller, fallback: estimator, capTokens: TALE_MAX_CHAIN_TOKENS });
        estimate = settings.estimator === 'fixed' && fixedBudget !== undefined
          ? { tokens: fixedBudget, source: 'fixed' }
          : await estimateBudget(settings.estimator, question, { local: estimator, tale }, abort.signal);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        surface.push({ type: 'error', message, kind: 'estimate' });
        surface.push({ type: 'stopped', reason: error instanceof CapRefusal ? 'cap-reached' : 'error', message });
        await services.refreshMeter();
        await showError(services.log, message);
        return undefined;
      }
      // Budgets count billed tokens (prompt + completion), as the caps and the meter do.
      const chainTokens = Math.min(estimate.tokens, fixedBudget ?? Number.POSITIVE_INFINITY);
      const budgetTokens = fixedBudget ?? autoRunBudget(chainTokens, promptTokens);
      // One caps object for the run: Continue raises its token budget in place.
      const caps = capsFromSettings(settings, budgetTokens);
      // A run whose first chain cannot fit is refused here, naming the cap, before anything is sent.
      const refusal = await this.preflight(caps, first.prices(first.id), ledger, promptTokens + services.tokens.countText(budgetPromptLine(chainTokens), first.id).tokens, Math.min(chainTokens, MIN_CHAIN_TOKENS));
      if (refusal) {
        surface.push({ type: 'stopped', reason: 'cap-reached', message: refusal.message });
        await services.refreshMeter();
        await this.offerToRaise(refusal);
        return undefined;
      }
      services.setLiveRun({ runId, budgetTokens, running: true });

      const onEvent = (event: RunEvent) => {
        // A chat run opened in a panel (and continued there) shows its events in the panel.
        (active?.surface ?? surface).push(event);
        if (event.type === 'spend') {
          void services.refreshMeter();
        } else if (event.type === 'error') {
          services.log.warn('run', `${runId.slice(0, 8)}: ${event.message}`);
        }
      };
      const budget = { chainTokens, source: estimate.source, note: estimate.note, records: estimate.records };
      const engine = strategyName === 'cascade'
        ? this.cascadeEngine(models, { question, systemPrompt, budget, budgetTokens, promptTokens, settings, caps, runId, ledger, reservations }, onEvent)
        : singleEngine(new ReasoningRun(this.caller(first, runId, caps, ledger, reservations), {
          question,
          systemPrompt,
          strategy: strategyName === 'anytime-sc' && settings.stoppingRule === 'auto'
            ? new AnytimeSelfConsistency()
            : createStrategy(strategyName, settings.stoppingRule === 'auto' ? undefined : createStoppingRule(settings.stoppingRule, { threshold: settings.confidenceThreshold })),
          budget: { ...budget, totalTokens: budgetTokens },
        }, onEvent));
      active = { runId, question, source: options.source ?? {}, surface, abort, caps, engine, learns: strategyName !== 'cascade' };
      const run = active;
      this.runs.set(runId, run);
      if (panel) {
        this.wirePanel(run, panel, () => this.runs.delete(runId));
      } else {
        this.dropOldKeptRuns();
      }
      services.log.info('run', `${runId.slice(0, 8)} started: ${header.model}, ${strategyName}, budget ${budgetTokens} tokens (${estimate.source} chain estimate ${chainTokens})`);
      if (abort.signal.aborted) {
        engine.stop();
      }
      const outcome = await engine.start(abort.signal);
      return await this.finish(run, outcome);
    } finally {
      options.signal?.removeEventListener('abort', onCancel);
    }
  }

  /**
   * Opens a run shown elsewhere (a chat response) in the answer panel, or reveals the panel it is
   * already in; Continue, Copy and Insert work there. False when the run is no longer kept.
   */
  showInPanel(runId: string): boolean {
    const active = this.runs.get(runId);
    if (!active) {
      return false;
    }
    if (active.surface instanceof AnswerPanel) {
      active.surface.reveal(undefined, false);
      return true;
    }
    const panel = AnswerPanel.fromView(this.services.context.extensionUri, active.surface.view, { log: this.services.log, preserveFocus: false });
    this.services.context.subscriptions.push(panel);
    active.surface = panel;
    this.lastPanel = panel;
    // Closed, the panel stops a run it continued; the run stays kept (and can be opened again) with what it showed.
    this.wirePanel(active, panel, () => {
      active.surface = new ViewKeeper(panel.view);
    });
    return true;
  }

  private wirePanel(active: ActiveRun, panel: AnswerPanel, onClosed: () => void): void {
    panel.onDidAction((action) => void this.onPanelAction(active, panel, action));
    panel.onDidDispose(() => {
      active.abort.abort();
      active.engine.stop();
      onClosed();
    });
  }

  /** Keeps the newest KEPT_RUNS runs that have no panel of their own. */
  private dropOldKeptRuns(): void {
    const kept = [...this.runs.values()].filter((r) => !(r.surface instanceof AnswerPanel));
    for (const old of kept.slice(0, Math.max(0, kept.length - KEPT_RUNS))) {
      this.runs.delete(old.runId);
    }
  }

  private async finish(active: ActiveRun, outcome: RunOutcome): Promise<RunSummary> {
    const { services } = this;
    services.setLiveRun({ runId: active.runId, budgetTokens: active.engine.totalBudget, running: false });
    await services.refreshMeter();
    const totals = await (await services.ledger()).totalsForRun(active.runId);
    services.log.info('run', `${active.runId.slice(0, 8)} ${outcome.reason}: ${outcome.answer ?? 'no answer'} after ${totals.tokens} tokens in ${outcome.chains} chains (AI ${outcome.anytimeIndex.toFixed(2)})`);
    if (outcome.reason === 'converged' && outcome.answer !== undefined && active.learns) {
      await this.learn(active, outcome.answer);
    }
    if (outcome.reason === 'cap-reached') {
      await this.offerToRaise({ message: outcome.message });
    } else if (outcome.reason === 'error') {
      void showError(services.log, outcome.message);
    }
    return {
      runId: active.runId,
      answer: outcome.answer,
      reason: outcome.reason,
      message: outcome.message,
      tokens: totals.tokens,
      dollars: totals.unpriced ? null : totals.dollars,
      chains: outcome.chains,
    };
  }

  /** The grant the caps would give the run's first chain; a refusal when not even a minimal chain fits. */
  private async preflight(caps: SpendCaps, price: TokenPrice | undefined, ledger: SpendLedger, promptTokens: number, wanted: number): Promise<CapRefusal | undefined> {
    const today = await ledger.today();
    const g = grant({
      caps,
      spent: { run: { tokens: 0, dollars: 0 }, today: { tokens: today.tokens, dollars: today.dollars } },
      promptTokens,
      price,
      wanted,
      minUsefulTokens: wanted,
    });
    return g.ok ? undefined : g.refusal;
  }

  /** Says which cap stopped the run and offers to raise it. */
  private async offerToRaise(refusal: { message: string; cap?: string }): Promise<void> {
    const { settings } = readSettings();
    const daily = refusal.cap ? refusal.cap.startsWith('daily') : /daily/.test(refusal.message);
    const action = daily ? 'Raise Daily Cap' : 'Raise Budget';
    const choice = await vscode.window.showWarningMessage(`Budget Reasoner: ${refusal.message}`, action);
    if (choice === 'Raise Daily Cap') {
      await pickDailyCap(settings);
    } else if (choice === 'Raise Budget') {
      await pickRequestBudget(settings);
    }
  }

  /** Teaches the local estimator what a converged answer needed: the shortest chain that reached it. */
  private async learn(active: ActiveRun, answer: string): Promise<void> {
    const agreeing = active.engine.agreeingChainTokens(answer);
    if (!agreeing.length) {
      return;
    }
    const estimator = await this.services.localEstimator();
    estimator.learn(active.question, Math.min(...agreeing));
    await this.services.saveEstimator(estimator).catch((e) => this.services.log.warn('estimator', `could not save: ${String(e)}`));
  }

  private async onPanelAction(active: ActiveRun, panel: AnswerPanel, action: PanelAction): Promise<void> {
    switch (action.kind) {
      case 'stop':
        active.abort.abort();
        active.engine.stop();
        return;
      case 'continue': {
        if (!active.engine.outcome) {
          return;
        }
        active.abort = new AbortController();
        const budget = (active.caps.requestTokens ?? active.engine.totalBudget) + action.extraTokens;
        active.caps.requestTokens = budget;
        panel.updateHeader({ budgetTokens: budget });
        this.services.setLiveRun({ runId: active.runId, budgetTokens: budget, running: true });
        const outcome = await active.engine.continueWith(action.extraTokens, active.abort.signal);
        await this.finish(active, outcome);
        return;
      }
      case 'copy':
        return; // the panel wrote the clipboard itself
      case 'insert':
        await insertText(active.source, action.mode, action.answer);
        return;
      case 'rerun':
        await this.start(action.question, readSettings().settings, { strategy: action.strategy }, { source: active.source });
        return;
      case 'openSpendReport':
        await vscode.commands.executeCommand('budgetReasoner.showSpendReport');
        return;
    }
  }

  private caller(model: ResolvedModel, runId: string, caps: SpendCaps, ledger: SpendLedger, sharedReservations: SharedReservations): MeteredCaller {
    const { provider } = model;
    return new MeteredCaller({
      provider,
      model: model.id.replace(/^vscode-lm\//, ''),
      runId,
      sessionId: this.services.sessionId,
      caps,
      ledger,
      sharedReservations,
      // VS Code's language models count their own prompts; the local tokenizer covers the rest.
      ...(provider instanceof LanguageModelProvider ? { countPrompt: (messages) => provider.countTokens(messages.map((m) => m.content).join('\n')) } : {}),
      prices: model.prices,
      tokens: this.services.tokens,
    });
  }

  /** The configured model (or the caller's), ready to call; undefined when it is not usable (the user was told). */
  private async singleModel(settings: Settings, chosen: StartOptions['model']): Promise<ResolvedModel[] | undefined> {
    const prices = this.services.prices(settings);
    if (chosen) {
      return [{ id: chosen.id, provider: chosen.provider, prices }];
    }
    const provider = await this.provider(settings);
    return provider ? [{ id: settings.model, provider, prices }] : undefined;
  }

  /**
   * The cascade's models, cheapest first, each with its endpoint's key and a known price: the
   * cascade splits its dollars by price, so a model without one cannot take part.
   */
  private async cascadeModels(tiers: readonly CascadeTierSetting[], settings: Settings, refuse: (message: string) => Promise<void>): Promise<ResolvedModel[] | undefined> {
    if (tiers.length < 2) {
      await refuse('The cascade needs at least two models in "budgetReasoner.cascade", cheapest first. Nothing was sent.');
      return undefined;
    }
    const out: ResolvedModel[] = [];
    for (const [i, tier] of tiers.entries()) {
      const apiKey = await this.services.apiKeys.get(tier.baseUrl);
      if (!apiKey && !isLocalEndpoint(tier.baseUrl)) {
        await refuse(`Cascade model ${i + 1} (${tier.model}) needs an API key for ${tier.baseUrl}: set the base URL to it and run "Budget Reasoner: Set API Key". Nothing was sent.`);
        return undefined;
      }
      const prices = tierPriceLookup(tier, settings.prices);
      if (!prices(tier.model)) {
        await refuse(`No price is known for cascade model ${i + 1} (${tier.model}): add "input" and "output" (dollars per 1M tokens) to its entry in "budgetReasoner.cascade". Nothing was sent.`);
        return undefined;
      }
      out.push({ id: tier.model, provider: new OpenAICompatibleProvider({ baseURL: tier.baseUrl, apiKey }), prices });
    }
    return out;
  }

  /**
   * A cascade within the run's budget: its dollars are the budget's tokens at the strongest model's
   * dearest rate (never more than always-strong could cost), and never more than the per-request cap.
   */
  private cascadeEngine(models: ResolvedModel[], plan: CascadePlan, onEvent: (event: RunEvent) => void): RunEngine {
    const strongest = models[models.length - 1];
    const strongPrice = strongest.prices(strongest.id)!;
    const perToken = Math.max(strongPrice.input, strongPrice.output) / 1e6;
    const alwaysStrong = plan.budgetTokens * perToken;
    const capUsd = plan.settings.requestCapUsd;
    const totalDollars = capUsd > 0 ? Math.min(capUsd, alwaysStrong) : alwaysStrong;
    const tiers: CascadeTier[] = models.map((m) => ({
      caller: this.caller(m, plan.runId, plan.caps, plan.ledger, plan.reservations),
      name: m.id,
      price: m.prices(m.id)!,
    }));
    const cascade = new CascadeRun(tiers, {
      question: plan.question,
      systemPrompt: plan.systemPrompt,
      // The cascade splits output tokens among its models; the run's budget counts prompts too (as the
      // caps do), so it gets the budget's output part and each model's share holds in billed tokens.
      budget: { ...plan.budget, totalDollars, totalTokens: Math.max(1, Math.floor(plan.budgetTokens * plan.budget.chainTokens / (plan.budget.chainTokens + plan.promptTokens))) },
    }, (event) => onEvent(event.type === 'budget-estimated' ? { ...event, totalTokens: plan.budgetTokens } : event));
    let totalBudget = plan.budgetTokens;
    return {
      start: (signal) => cascade.start(signal),
      // Continue's extra tokens become dollars at the strongest model's rate (a free model gets a token's worth: it costs nothing).
      continueWith: (extraTokens, signal) => {
        totalBudget += extraTokens;
        return cascade.continueWith(Math.max(extraTokens * perToken, 1e-9), signal);
      },
      stop: () => cascade.stop(),
      get outcome() {
        return cascade.outcome;
      },
      get totalBudget() {
        return totalBudget;
      },
      agreeingChainTokens: () => [],
    };
  }

  /** The configured endpoint; asks for a key when a remote endpoint has none. */
  private async provider(settings: Settings): Promise<ChatProvider | undefined> {
    if (settings.model.startsWith('vscode-lm/')) {
      const lm = await LanguageModelProvider.find(settings.model.slice('vscode-lm/'.length));
      if (!lm) {
        await showError(this.services.log, `The VS Code language model "${settings.model}" is not available. Run "Budget Reasoner: Select Model".`);
      }
      return lm;
    }
    const apiKey = await this.services.apiKeys.get(settings.baseUrl);
    if (!apiKey && !isLocalEndpoint(settings.baseUrl)) {
      // Nothing configured yet: the walkthrough's provider step explains the choices better than a toast.
      await openWalkthroughStep(PROVIDER_STEP).catch((e) => this.services.log.warn('walkthrough', String(e)));
      const choice = await vscode.window.showWarningMessage(
        `Budget Reasoner: no API key is set for ${settings.baseUrl}. Nothing was sent.`, 'Set API Key', 'Use a Local Endpoint');
      if (choice === 'Set API Key') {
        await vscode.commands.executeCommand('budgetReasoner.setApiKey');
      } else if (choice === 'Use a Local Endpoint') {
        await vscode.commands.executeCommand('workbench.action.openSettings', 'budgetReasoner.baseUrl');
      }
      return undefined;
    }
    return new OpenAICompatibleProvider({ baseURL: settings.baseUrl, apiKey });
  }
}

/** What a cascade needs from the run being set up. */
interface CascadePlan {
  question: string;
  systemPrompt: string;
  budget: { chainTokens: number; source: BudgetEstimate['source']; note?: string; records?: BudgetEstimate['records'] };
  budgetTokens: number;
  /** Prompt tokens of one chain on the cheapest model. */
  promptTokens: number;
  settings: Settings;
  caps: SpendCaps;
  runId: string;
  ledger: SpendLedger;
  reservations: SharedReservations;
}

/** The view of a run whose panel was closed: it keeps folding events, for the next time it is shown. */
class ViewKeeper implements RunSurface {
  constructor(public view: RunView) {}

  push(event: RunEvent): void {
    this.view = reduceRunView(this.view, event);
  }

  updateHeader(patch: Partial<RunHeader>): void {
    this.view = withHeader(this.view, patch);
  }
}

function singleEngine(run: ReasoningRun): RunEngine {
  return {
    start: (signal) => run.start(signal),
    continueWith: (extraTokens, signal) => run.continueWith(extraTokens, signal),
    stop: () => run.stop(),
    get outcome() {
      return run.outcome;
    },
    get totalBudget() {
      return run.state.totalBudget;
    },
    agreeingChainTokens: (answer) => run.state.chains
      .filter((c) => c.answer !== undefined && c.answer === answer && c.finishReason === 'stop')
      .map((c) => c.completionTokens),
  };
}

interface ActiveRun {
  runId: string;
  question: string;
  source: QuestionSource;
  surface: RunSurface;
  abort: AbortController;
  caps: SpendCaps;
  engine: RunEngine;
  /** Whether a converged answer teaches the local estimator (not a cascade: its models' needs differ). */
  learns: boolean;
}

function describeCaps(s: Settings): string[] {
  const caps: string[] = [];
  if (s.requestCapUsd > 0) {
    caps.push(`$${s.requestCapUsd.toFixed(2)} per request`);
  }
  if (s.dailyCapUsd > 0) {
    caps.push(`$${s.dailyCapUsd.toFixed(2)} a day`);
  }
  if (s.dailyTokenCap > 0) {
    caps.push(`${s.dailyTokenCap.toLocaleString('en-US')} tokens a day`);
  }
  return caps;
}

function stoppingRuleText(s: Settings): string {
  switch (s.stoppingRule) {
    case 'auto':
      return 'tuned: trust a clean first chain, else Beta posterior ≥ 0.8';
    case 'beta':
      return `Beta posterior ≥ ${s.confidenceThreshold}`;
    case 'esc':
      return 'a window of agreeing answers';
    case 'epsilon':
      return 'confidence gain below epsilon';
  }
}

/** Insert at the cursor, or replace the selection the question came from, in that editor. */
async function insertText(source: QuestionSource | undefined, mode: InsertMode, text: string): Promise<void> {
  const uri = source?.uri ?? vscode.window.visibleTextEditors[0]?.document.uri;
  if (!uri) {
    void vscode.window.showWarningMessage('Budget Reasoner: there is no editor to insert the answer into. Open one and try again.');
    return;
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  const editor = await vscode.window.showTextDocument(doc, { preserveFocus: false, viewColumn: vscode.ViewColumn.One });
  await editor.edit((edit) => {
    if (mode === 'replace' && source?.selection && !source.selection.isEmpty) {
      edit.replace(source.selection, text);
    } else {
      edit.insert(editor.selection.active, text);
    }
  });
}

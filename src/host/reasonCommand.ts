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
import type { Settings, StrategyName } from '../core/config';
import { isLocalEndpoint } from '../core/config';
import type { ChatProvider } from '../core/providers/chatProvider';
import { OpenAICompatibleProvider } from '../core/providers/openaiProvider';
import { checkQuestion } from '../core/question';
import { CapRefusal } from '../core/reasoning/modelCaller';
import { DEFAULT_SYSTEM_PROMPT, ReasoningRun, type RunOutcome } from '../core/reasoning/reasoningRun';
import type { RunEvent } from '../core/reasoning/runEvents';
import { createStoppingRule } from '../core/reasoning/stoppingRules';
import { AnytimeSelfConsistency, createStrategy } from '../core/reasoning/strategies';
import { contextProblem, contextWindowOf } from '../core/tokens/contextWindows';
import { AnswerPanel, type PanelAction } from './answerPanel';
import { confirmAboveUsd, previewRunCost } from './costPreview';
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
interface QuestionSource {
  uri?: vscode.Uri;
  selection?: vscode.Selection;
}

export class ReasonCommand {
  private readonly runs = new Map<string, ActiveRun>();
  /** The newest run's panel, for the streaming benchmark's post counts. */
  lastPanel: AnswerPanel | undefined;

  constructor(private readonly services: Services) {}

  /** A panel VS Code restored after a reload: its run is over, but Copy, Insert and the report still work. */
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
    const { log } = this.services;
    const { settings, problems } = readSettings();
    for (const p of problems) {
      log.warn('settings', p);
    }
    if (problems.length) {
      void vscode.window.showWarningMessage(`Budget Reasoner: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more, see the log)` : ''}`);
    }

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
    return this.start(checked.question, settings, args, source);
  }

  private async start(question: string, settings: Settings, args: ReasonArgs, source: QuestionSource): Promise<RunSummary | undefined> {
    const { services } = this;
    const provider = await this.provider(settings);
    if (!provider) {
      return undefined;
    }
    const systemPrompt = DEFAULT_SYSTEM_PROMPT;
    const promptTokens = services.tokens.countChatPrompt([{ role: 'system', content: systemPrompt }, { role: 'user', content: question }], settings.model).tokens;
    const tooLong = contextProblem(promptTokens, MIN_ANSWER_TOKENS, settings.model, contextWindowOf(settings.model));
    if (tooLong) {
      await showError(services.log, tooLong);
      return undefined;
    }

    // Before anything is sent (the TALE call included): a run that may cost more than the user's threshold asks first.
    const threshold = confirmAboveUsd();
    if (threshold > 0) {
      const preview = await previewRunCost(services, settings, question, args.budgetTokens);
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
    const fixedBudget = args.budgetTokens ?? (settings.requestBudget === 'auto' ? undefined : settings.requestBudget);
    const estimator = await services.localEstimator();
    const abort = new AbortController();

    // The estimate call is capped by the daily and dollar caps only: the run budget is not known yet.
    const estimateCaller = this.caller(provider, settings, runId, capsFromSettings(settings), ledger, await services.sharedReservations());
    const strategyName = args.strategy ?? settings.strategy;
    const panel = AnswerPanel.create(services.context.extensionUri, {
      runId,
      question,
      model: settings.model,
      strategy: strategyName,
      caps: describeCaps(settings),
      providerBillsInDollars: provider.billsInDollars && services.prices(settings)(settings.model)?.source !== 'local',
      budgetTokens: fixedBudget,
      dollarCap: settings.requestCapUsd > 0 ? settings.requestCapUsd : undefined,
      stoppingRule: stoppingRuleText(settings),
    }, { log: services.log });
    this.lastPanel = panel;

    let estimate: BudgetEstimate;
    try {
      const tale = new TaleBudgetEstimator({ caller: estimateCaller, fallback: estimator, capTokens: TALE_MAX_CHAIN_TOKENS });
      estimate = settings.estimator === 'fixed' && fixedBudget !== undefined
        ? { tokens: fixedBudget, source: 'fixed' }
        : await estimateBudget(settings.estimator, question, { local: estimator, tale }, abort.signal);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      panel.push({ type: 'error', message, kind: 'estimate' });
      panel.push({ type: 'stopped', reason: error instanceof CapRefusal ? 'cap-reached' : 'error', message });
      await services.refreshMeter();
      await showError(services.log, message);
      return undefined;
    }
    // Budgets count billed tokens (prompt + completion), as the caps and the meter do.
    const chainTokens = Math.min(estimate.tokens, fixedBudget ?? Number.POSITIVE_INFINITY);
    const budgetTokens = fixedBudget ?? autoRunBudget(chainTokens, promptTokens);
    // One caps object for the run: Continue raises its token budget in place.
    const caps = capsFromSettings(settings, budgetTokens);
    const caller = this.caller(provider, settings, runId, caps, ledger, await services.sharedReservations());
    const strategy = strategyName === 'anytime-sc' && settings.stoppingRule === 'auto'
      ? new AnytimeSelfConsistency()
      : createStrategy(strategyName, settings.stoppingRule === 'auto' ? undefined : createStoppingRule(settings.stoppingRule, { threshold: settings.confidenceThreshold }));
    // A run whose first chain cannot fit is refused here, naming the cap, before anything is sent.
    const refusal = await this.preflight(caps, settings, ledger, promptTokens + services.tokens.countText(budgetPromptLine(chainTokens), settings.model).tokens, Math.min(chainTokens, MIN_CHAIN_TOKENS));
    if (refusal) {
      panel.push({ type: 'stopped', reason: 'cap-reached', message: refusal.message });
      await services.refreshMeter();
      await this.offerToRaise(refusal);
      return undefined;
    }
    services.setLiveRun({ runId, budgetTokens, running: true });

    const active: ActiveRun = { runId, question, source, panel, abort, caps, run: undefined as unknown as ReasoningRun };
    const onEvent = (event: RunEvent) => {
      panel.push(event);
      if (event.type === 'spend') {
        void services.refreshMeter();
      } else if (event.type === 'error') {
        services.log.warn('run', `${runId.slice(0, 8)}: ${event.message}`);
      }
    };
    active.run = new ReasoningRun(caller, {
      question,
      systemPrompt,
      strategy,
      budget: { chainTokens, totalTokens: budgetTokens, source: estimate.source, note: estimate.note, records: estimate.records },
    }, onEvent);
    this.runs.set(runId, active);
    panel.onDidAction((action) => void this.onPanelAction(active, action));
    panel.onDidDispose(() => {
      abort.abort();
      this.runs.delete(runId);
    });
    services.log.info('run', `${runId.slice(0, 8)} started: ${settings.model}, ${strategyName}, budget ${budgetTokens} tokens (${estimate.source} chain estimate ${chainTokens})`);
    const outcome = await active.run.start(abort.signal);
    return this.finish(active, outcome);
  }

  private async finish(active: ActiveRun, outcome: RunOutcome): Promise<RunSummary> {
    const { services } = this;
    services.setLiveRun({ runId: active.runId, budgetTokens: active.run.state.totalBudget, running: false });
    await services.refreshMeter();
    const totals = await (await services.ledger()).totalsForRun(active.runId);
    services.log.info('run', `${active.runId.slice(0, 8)} ${outcome.reason}: ${outcome.answer ?? 'no answer'} after ${totals.tokens} tokens in ${outcome.chains} chains (AI ${outcome.anytimeIndex.toFixed(2)})`);
    if (outcome.reason === 'converged' && outcome.answer !== undefined) {
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
  private async preflight(caps: SpendCaps, settings: Settings, ledger: SpendLedger, promptTokens: number, wanted: number): Promise<CapRefusal | undefined> {
    const today = await ledger.today();
    const g = grant({
      caps,
      spent: { run: { tokens: 0, dollars: 0 }, today: { tokens: today.tokens, dollars: today.dollars } },
      promptTokens,
      price: this.services.prices(settings)(settings.model),
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
    const agreeing = active.run.state.chains.filter((c) => c.answer !== undefined && c.answer === answer && c.finishReason === 'stop');
    if (!agreeing.length) {
      return;
    }
    const needed = Math.min(...agreeing.map((c) => c.completionTokens));
    const estimator = await this.services.localEstimator();
    estimator.learn(active.question, needed);
    await this.services.saveEstimator(estimator).catch((e) => this.services.log.warn('estimator', `could not save: ${String(e)}`));
  }

  private async onPanelAction(active: ActiveRun, action: PanelAction): Promise<void> {
    switch (action.kind) {
      case 'stop':
        active.abort.abort();
        active.run.stop();
        return;
      case 'continue': {
        if (!active.run.outcome) {
          return;
        }
        active.abort = new AbortController();
        const budget = (active.caps.requestTokens ?? active.run.state.totalBudget) + action.extraTokens;
        active.caps.requestTokens = budget;
        active.panel.updateHeader({ budgetTokens: budget });
        this.services.setLiveRun({ runId: active.runId, budgetTokens: budget, running: true });
        const outcome = await active.run.continueWith(action.extraTokens, active.abort.signal);
        await this.finish(active, outcome);
        return;
      }
      case 'copy':
        return; // the panel wrote the clipboard itself
      case 'insert':
        await insertText(active.source, action.mode, action.answer);
        return;
      case 'rerun':
        await this.start(action.question, readSettings().settings, { strategy: action.strategy }, active.source);
        return;
      case 'openSpendReport':
        await vscode.commands.executeCommand('budgetReasoner.showSpendReport');
        return;
    }
  }

  private caller(provider: ChatProvider, settings: Settings, runId: string, caps: SpendCaps, ledger: SpendLedger, sharedReservations: SharedReservations): MeteredCaller {
    return new MeteredCaller({
      provider,
      model: settings.model.replace(/^vscode-lm\//, ''),
      runId,
      sessionId: this.services.sessionId,
      caps,
      ledger,
      sharedReservations,
      // VS Code's language models count their own prompts; the local tokenizer covers the rest.
      ...(provider instanceof LanguageModelProvider ? { countPrompt: (messages) => provider.countTokens(messages.map((m) => m.content).join('\n')) } : {}),
      prices: this.services.prices(settings),
      tokens: this.services.tokens,
    });
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

interface ActiveRun {
  runId: string;
  question: string;
  source: QuestionSource;
  panel: AnswerPanel;
  abort: AbortController;
  caps: SpendCaps;
  run: ReasoningRun;
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
async function insertText(source: QuestionSource | undefined, mode: 'cursor' | 'replace', text: string): Promise<void> {
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

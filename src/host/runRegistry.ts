/**
 * The runs of this window: each with its engine, its caps and where it shows itself. Picks the
 * panel a run shows in (the last run's, unless `panelPerRun`), wires the panel's buttons to the run
 * shown (Stop, Continue, Insert, Re-run), keeps runs shown in chat so they can be opened in a panel
 * later, and closes a run's books when it finishes.
 */
import * as vscode from 'vscode';
import type { SpendCaps } from '../core/budget/caps';
import type { StrategyName } from '../core/config';
import type { AnswerKind, QuestionContext, SelectionAction } from '../core/reasoning/answerKinds';
import { buildPreferencePair } from '../core/reasoning/preferenceExamples';
import type { RunEngine, RunOutcome } from '../core/reasoning/reasoningRun';
import { continuedBudget } from '../core/run/plan';
import { composeQuestion } from '../core/run/questionContext';
import { capRefusal } from '../core/run/refusal';
import type { AnswerPayload } from '../core/view/answerPayload';
import type { RunView } from '../core/view/runView';
import type { InsertMode } from '../protocol';
import { AnswerPanel, PanelRun, type PanelAction } from './answerPanel';
import { insertAnswer, type QuestionSource } from './editorInsert';
import { showError } from './logger';
import type { ProposedChanges } from './proposedChange';
import { notificationPresenter, ViewKeeper, type RunSurface } from './runSurface';
import type { Services } from './services';
import { readSettings } from './settings';

/** Runs shown elsewhere (chat responses) kept so they can be opened in a panel and continued; older ones are dropped. */
const KEPT_RUNS = 20;

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

export interface ActiveRun {
  runId: string;
  question: string;
  /** The model the run's chains go to (its first-chain history is kept under this id). */
  model: string;
  source: QuestionSource;
  /** What Re-run asks again with the question: the code it is about and the action chosen on it. */
  context?: QuestionContext;
  action?: SelectionAction;
  surface: RunSurface;
  abort: AbortController;
  /** The run's caps: Continue raises requestTokens in place. */
  caps: SpendCaps;
  engine: RunEngine;
  /** Whether a converged answer teaches the local estimator (the plan decides). */
  learns: boolean;
  /** Set once the run taught the model's first-chain history, so a continued run does not teach it twice. */
  checkedFirstChain?: boolean;
  /** What a preference pair of this run is (its answer kind, the model's endpoint); absent when `preferenceExamples` is off. */
  pairSource?: { answerKind: AnswerKind; endpoint: string };
}

/** What a Re-run asks: the run's question, code and action, with the strategy (and answer kind) picked in the panel. */
export interface RerunRequest {
  question: string;
  strategy: StrategyName;
  answerKind?: AnswerKind;
  context?: QuestionContext;
  action?: SelectionAction;
  /** With or without preference examples (the panel's toggle); absent: as the settings say. */
  preferenceExamples?: boolean;
}

/** Starts another run of a question (Re-run in a panel). */
export type Rerun = (request: RerunRequest, source: QuestionSource) => Promise<unknown>;

export class RunRegistry {
  private readonly runs = new Map<string, ActiveRun>();
  /** The panel the next run shows in (the newest one still open), unless `panelPerRun`. */
  private nextRunPanel: AnswerPanel | undefined;
  /** The newest run shown in a panel, for the streaming benchmark's post counts. */
  newestPanelRun: PanelRun | undefined;

  constructor(private readonly services: Services, private readonly rerun: Rerun, private readonly proposals: ProposedChanges) {}

  /**
   * Where a run shows: in front in the panel of the last run, whose header keeps the earlier ones
   * a click away; in a new panel when there is none or `panelPerRun` is on.
   */
  openInPanel(view: RunView, panelPerRun: boolean, options: { preserveFocus?: boolean } = {}): PanelRun {
    const reused = panelPerRun ? undefined : this.nextRunPanel;
    const run = reused ? reused.addRun(view) : this.newPanel(view, options).shownRun;
    this.newestPanelRun = run;
    return run;
  }

  /** A new run: shown in a panel (which stops it when closed), or kept among the newest runs shown elsewhere. */
  add(run: ActiveRun): void {
    this.runs.set(run.runId, run);
    if (run.surface instanceof PanelRun) {
      this.wirePanel(run, run.surface, () => this.runs.delete(run.runId));
    } else {
      this.dropOldKeptRuns();
    }
  }

  /** A panel run opened before the run was added (closed while the budget is estimated: nothing more is sent). */
  opened(run: PanelRun, abort: AbortController): void {
    run.onDidClose(() => abort.abort());
  }

  /** A panel VS Code restored after a reload: its run is over, but Copy, Insert, Re-run and the report still work, and the next run comes here. */
  adoptRestored(panel: AnswerPanel): void {
    this.useForNextRun(panel);
    const restored = panel.shownRun;
    restored.onDidAction(async (action) => {
      // Copy is done by the panel itself. The run's source editor is not known after a reload.
      if (action.kind === 'insert') {
        await this.insert(restored, {}, action.mode, action.payload);
      } else if (action.kind === 'openSpendReport') {
        await vscode.commands.executeCommand('budgetReasoner.showSpendReport');
      } else if (action.kind === 'rerun') {
        await this.rerun(rerunRequest(action), {});
      }
    });
  }

  /**
   * Opens a run shown elsewhere (a chat response) in the answer panel, or shows it in the panel it
   * is already in; Continue, Copy and Insert work there. False when the run is no longer kept.
   */
  showInPanel(runId: string): boolean {
    const active = this.runs.get(runId);
    if (!active) {
      return false;
    }
    if (active.surface instanceof PanelRun) {
      active.surface.reveal();
      return true;
    }
    const run = this.openInPanel(active.surface.view, readSettings().settings.panelPerRun, { preserveFocus: false });
    run.reveal();
    active.surface = run;
    // Closed, the panel stops a run it continued; the run stays kept (and can be opened again) with what it showed.
    this.wirePanel(active, run, () => {
      active.surface = new ViewKeeper(run.view);
    });
    return true;
  }

  /** Closes the run's books: the meter, the log, what the estimator learns, and the cap it hit. */
  async finish(active: ActiveRun, outcome: RunOutcome): Promise<RunSummary> {
    const { services } = this;
    services.setLiveRun({ runId: active.runId, budgetTokens: active.engine.totalBudget, running: false });
    await services.refreshMeter();
    const totals = await (await services.ledger()).totalsForRun(active.runId);
    services.log.info('run', `${active.runId.slice(0, 8)} ${outcome.reason}: ${outcome.answer ?? 'no answer'} after ${totals.tokens} tokens in ${outcome.chains} chains (AI ${outcome.anytimeIndex.toFixed(2)})`);
    if (outcome.reason === 'converged' && outcome.answer !== undefined && active.learns) {
      await this.learn(active, outcome.answer);
      await this.keepPreferencePair(active, outcome.answer);
    }
    // The token ratios learned from every call's usage, whatever the outcome.
    await services.saveLearned().catch((e) => services.log.warn('estimator', `could not save: ${String(e)}`));
    await this.checkFirstChain(active);
    if (outcome.reason === 'cap-reached') {
      await notificationPresenter(services.log).present(capRefusal(outcome.message));
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

  private newPanel(view: RunView, options: { preserveFocus?: boolean }): AnswerPanel {
    const panel = AnswerPanel.create(this.services.context.extensionUri, view, { log: this.services.log, ...options });
    this.services.context.subscriptions.push(panel);
    this.useForNextRun(panel);
    return panel;
  }

  private useForNextRun(panel: AnswerPanel): void {
    this.nextRunPanel = panel;
    panel.onDidDispose(() => {
      if (this.nextRunPanel === panel) {
        this.nextRunPanel = undefined;
      }
    });
  }

  private wirePanel(active: ActiveRun, run: PanelRun, onClosed: () => void): void {
    run.onDidAction((action) => void this.onPanelAction(active, run, action));
    run.onDidClose(() => {
      active.abort.abort();
      active.engine.stop();
      onClosed();
    });
  }

  /** Keeps the newest KEPT_RUNS runs that are not in a panel. */
  private dropOldKeptRuns(): void {
    const kept = [...this.runs.values()].filter((r) => !(r.surface instanceof PanelRun));
    for (const old of kept.slice(0, Math.max(0, kept.length - KEPT_RUNS))) {
      this.runs.delete(old.runId);
    }
  }

  /**
   * Teaches the local estimator what a converged answer needed: the shortest chain that reached it
   * (saved with the token ratios), under the question as sent (with its code), as it was estimated.
   */
  private async learn(active: ActiveRun, answer: string): Promise<void> {
    const agreeing = active.engine.agreeingChainTokens(answer);
    if (!agreeing.length) {
      return;
    }
    (await this.services.localEstimator()).learn(composeQuestion(active.question, active.context), Math.min(...agreeing));
  }

  /** Keeps the run's chains as a preference pair, when they make one (a continued run's newer pair replaces it). */
  private async keepPreferencePair(active: ActiveRun, answer: string): Promise<void> {
    const chains = active.pairSource && active.engine.preferenceChains?.(answer);
    // Under the question as sent, with its code, as the plan chooses examples by it.
    const pair = chains && buildPreferencePair({ ...active.pairSource!, question: composeQuestion(active.question, active.context), model: active.model, chains });
    if (!pair) {
      return;
    }
    const pairs = await this.services.preferencePairs();
    pairs.add(pair);
    this.services.log.info('examples', `${active.runId.slice(0, 8)}: kept a preference pair at ${pair.budget} tokens (the other chain: ${pair.reason}); ${pairs.list.length} pairs`);
    await this.services.savePreferencePairs(pairs).catch((e) => this.services.log.warn('examples', `could not save: ${String(e)}`));
  }

  /** Teaches the model's history whether later chains confirmed the run's first chain, once per run. */
  private async checkFirstChain(active: ActiveRun): Promise<void> {
    const check = active.checkedFirstChain ? undefined : active.engine.firstChainCheck();
    if (!check) {
      return;
    }
    active.checkedFirstChain = true;
    const history = await this.services.firstChainHistory();
    history.learn(active.model, check);
    await this.services.saveFirstChainHistory(history).catch((e) => this.services.log.warn('history', `could not save: ${String(e)}`));
  }

  /** Insert or Replace, with what happened said in the panel. */
  private async insert(run: PanelRun, source: QuestionSource, mode: InsertMode, payload: AnswerPayload): Promise<void> {
    const notice = await insertAnswer(source, mode, payload, this.proposals);
    run.notify(notice.text, notice.level);
  }

  private async onPanelAction(active: ActiveRun, run: PanelRun, action: PanelAction): Promise<void> {
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
        const budget = continuedBudget(active.caps, active.engine.totalBudget, action.extraTokens);
        run.updateHeader({ budgetTokens: budget });
        this.services.setLiveRun({ runId: active.runId, budgetTokens: budget, running: true });
        const outcome = await active.engine.continueWith(action.extraTokens, active.abort.signal);
        await this.finish(active, outcome);
        return;
      }
      case 'copy':
        return; // the panel wrote the clipboard itself
      case 'insert':
        await this.insert(run, active.source, action.mode, action.payload);
        return;
      case 'rerun':
        // The same question about the same code, asked the same way: only the strategy (and a kind asked for) change.
        await this.rerun({ ...rerunRequest(action), ...(active.context ? { context: active.context } : {}), ...(active.action ? { action: active.action } : {}) }, active.source);
        return;
      case 'openSpendReport':
        await vscode.commands.executeCommand('budgetReasoner.showSpendReport');
        return;
    }
  }
}

function rerunRequest(action: Extract<PanelAction, { kind: 'rerun' }>): RerunRequest {
  return {
    question: action.question,
    strategy: action.strategy,
    ...(action.answerKind ? { answerKind: action.answerKind } : {}),
    ...(action.context ? { context: action.context } : {}),
    ...(action.preferenceExamples !== undefined ? { preferenceExamples: action.preferenceExamples } : {}),
  };
}

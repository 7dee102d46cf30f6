import * as vscode from 'vscode';
import { showBudgetMenu } from './host/budgetMenu';
import { Logger, showError } from './host/logger';
import { calibrate } from './host/calibrateCommand';
import { selectModel } from './host/selectModel';
import { exportSpendCsv, registerSpendViewSerializer, showSpendReport } from './host/spendView';
import { registerAnswerPanelSerializer } from './host/answerPanel';
import { BudgetChat, OPEN_RUN_PANEL_COMMAND } from './host/chatParticipant';
import { SelectionCostPreview } from './host/selectionCostPreview';
import { ReasonCommand, type ReasonArgs } from './host/reasonCommand';
import { Services } from './host/services';
import { readSettings, SECTION } from './host/settings';
import { openSampleQuestion, openWalkthroughOnFirstRun } from './host/walkthrough';

/** What activate() returns: used by the extension-host tests and other extensions. */
export interface BudgetReasonerApi {
  reason(args?: ReasonArgs): ReturnType<ReasonCommand['run']>;
  meter(): { text: string; ariaLabel: string | undefined; tooltip: string };
  ledgerFile(): Promise<string>;
  /** The @budget chat participant's handler, callable without the chat UI (tests; VS Code without chat). */
  chat: Pick<BudgetChat, 'handle'>;
  /** Posts and events of the newest run's panel (host-side batching), for benchmarks; development and test builds only. */
  lastPanelStats?(): { posts: number; events: number; snapshots: number } | undefined;
  activationMs: number;
}

// Builds the object graph and registers commands; the SDK, tokenizer and ledger load on first use.
export function activate(context: vscode.ExtensionContext): BudgetReasonerApi {
  const t0 = performance.now();
  const log = new Logger();
  context.subscriptions.push(log);
  const services = new Services(context, log);
  context.subscriptions.push(services);
  const reason = new ReasonCommand(services);

  const command = (id: string, fn: (...args: never[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: never[]) => {
    try {
      return await fn(...args);
    } catch (error) {
      log.error(id, 'failed', error);
      void showError(log, error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }));
  command('budgetReasoner.reason', (args?: ReasonArgs) => reason.run(args && typeof args === 'object' && !(args instanceof vscode.Uri) ? args : {}));
  command('budgetReasoner.setApiKey', async () => {
    if (await services.apiKeys.promptAndStore(readSettings().settings.baseUrl)) {
      log.info('keys', `key stored for ${readSettings().settings.baseUrl}`);
    }
  });
  command('budgetReasoner.clearApiKey', async () => {
    const { baseUrl } = readSettings().settings;
    await services.apiKeys.clear(baseUrl);
    void vscode.window.showInformationMessage(`Budget Reasoner: API key for ${baseUrl} cleared.`);
  });
  command('budgetReasoner.selectModel', () => selectModel(services));
  command('budgetReasoner.budgetMenu', () => showBudgetMenu(readSettings().settings, { resetSession: () => services.resetSession() }));
  command('budgetReasoner.showSpendReport', () => showSpendReport(services));
  command('budgetReasoner.exportSpendCsv', () => exportSpendCsv(services));
  command('budgetReasoner.calibrate', () => calibrate(services));
  command('budgetReasoner.showLog', () => log.show());
  command('budgetReasoner.trySample', () => openSampleQuestion(context.extensionUri));
  const chat = new BudgetChat(services, reason);
  chat.register(context);
  command(OPEN_RUN_PANEL_COMMAND, (runId: unknown) => chat.openPanel(runId));
  context.subscriptions.push(new SelectionCostPreview(services));
  registerAnswerPanelSerializer(context, (panel) => reason.pipeline.registry.adoptRestored(panel), log);
  registerSpendViewSerializer(services);

  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SECTION)) {
      void services.refreshMeter();
    }
  }));
  // The meter shows today's spend from the ledger as soon as the extension is active (after a reload too).
  void services.refreshMeter().catch((e) => log.error('meter', 'could not read the ledger', e));
  void openWalkthroughOnFirstRun(context, services);

  const activationMs = performance.now() - t0;
  log.info('activate', `activated in ${activationMs.toFixed(1)} ms`);
  return {
    reason: (args) => reason.run(args),
    meter: () => services.meter.rendered,
    ledgerFile: async () => (await services.ledger()).file,
    chat,
    ...(__TEST_HOOKS__ ? { lastPanelStats: () => reason.pipeline.registry.newestPanelRun?.stats } : {}),
    activationMs,
  };
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions.
}

/**
 * Where a run shows itself (the answer panel, a chat response) and how each place presents what
 * the run plan decided: a refusal with its actions, and the cost confirmation.
 */
import * as vscode from 'vscode';
import { confirmationMessage, type CostPreview } from '../core/run/costPreview';
import type { RunEvent } from '../core/reasoning/runEvents';
import { REFUSAL_ACTIONS, type Refusal, type RefusalAction } from '../core/run/refusal';
import { reduceRunView, withHeader, type RunHeader, type RunView } from '../core/view/runView';
import { pickDailyCap, pickRequestBudget } from './budgetMenu';
import { showError, type Logger } from './logger';
import { readSettings } from './settings';
import { openWalkthroughStep, PROVIDER_STEP } from './walkthrough';

/** Shows one run as its events arrive. */
export interface RunSurface {
  push(event: RunEvent): void;
  updateHeader(patch: Partial<RunHeader>): void;
  /** Everything shown so far. */
  readonly view: RunView;
}

/** How one kind of place (the panel and notifications, or a chat response) presents a run and the reasons it did not start. */
export interface RunPresenter {
  /** Says why the run did not start (nothing was sent) and offers the refusal's actions. */
  present(refusal: Refusal): Promise<void>;
  /** Asks before a run whose worst case is above the user's threshold; true = run it. */
  confirm(preview: CostPreview): Promise<boolean>;
  /** Where the run's events go; undefined = a new answer panel. */
  open?(header: RunHeader): RunSurface;
}

/** The cost confirmation as a modal dialog (nothing is sent until the user picks Run). */
export async function confirmInModal(preview: CostPreview): Promise<boolean> {
  return (await vscode.window.showWarningMessage(confirmationMessage(preview), { modal: true }, 'Run')) === 'Run';
}

/** Carries out a refusal's action: the budget pickers for the caps, else the action's command. */
export async function runRefusalAction(action: RefusalAction): Promise<void> {
  const { settings } = readSettings();
  if (action === 'raise-daily-cap') {
    await pickDailyCap(settings);
  } else if (action === 'raise-budget') {
    await pickRequestBudget(settings);
  } else {
    const spec: { command: string; args?: readonly string[] } = REFUSAL_ACTIONS[action];
    await vscode.commands.executeCommand(spec.command, ...(spec.args ?? []));
  }
}

/** Reason with budget's presenter: notifications with the refusal's actions as buttons, and a modal confirmation. */
export function notificationPresenter(log: Logger): RunPresenter {
  return {
    async present(refusal) {
      const titles = refusal.actions.map((a) => REFUSAL_ACTIONS[a].title);
      let choice: string | undefined;
      switch (refusal.kind) {
        case 'declined':
          log.info('run', 'declined at the cost confirmation; nothing was sent');
          return;
        case 'bad-question':
          void vscode.window.showWarningMessage(`Budget Reasoner: ${refusal.message}`);
          return;
        case 'cap':
          choice = await vscode.window.showWarningMessage(`Budget Reasoner: ${refusal.message}`, ...titles);
          break;
        case 'no-key':
          if (refusal.tier === undefined) {
            // Nothing configured yet: the walkthrough's provider step explains the choices better than a toast.
            await openWalkthroughStep(PROVIDER_STEP).catch((e) => log.warn('walkthrough', String(e)));
            choice = await vscode.window.showWarningMessage(`Budget Reasoner: ${refusal.message}`, ...titles);
            break;
          }
          choice = await showError(log, refusal.message, ...titles);
          break;
        default:
          choice = await showError(log, refusal.message, ...titles);
      }
      const action = refusal.actions.find((a) => REFUSAL_ACTIONS[a].title === choice);
      if (action) {
        await runRefusalAction(action);
      }
    },
    confirm: confirmInModal,
  };
}

/** The view of a run whose panel was closed: it keeps folding events, for the next time it is shown. */
export class ViewKeeper implements RunSurface {
  constructor(public view: RunView) {}

  push(event: RunEvent): void {
    this.view = reduceRunView(this.view, event);
  }

  updateHeader(patch: Partial<RunHeader>): void {
    this.view = withHeader(this.view, patch);
  }
}

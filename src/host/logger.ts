import * as vscode from 'vscode';
import { stripKeys } from '../core/providers/openaiProvider';

/** The "Budget Reasoner" log output channel; every line goes through stripKeys so no key is ever logged. */
export class Logger {
  private channel: vscode.LogOutputChannel | undefined;

  private get out(): vscode.LogOutputChannel {
    this.channel ??= vscode.window.createOutputChannel('Budget Reasoner', { log: true });
    return this.channel;
  }

  info(component: string, message: string): void {
    this.out.info(`[${component}] ${stripKeys(message)}`);
  }

  warn(component: string, message: string): void {
    this.out.warn(`[${component}] ${stripKeys(message)}`);
  }

  error(component: string, message: string, error?: unknown): void {
    const detail = error instanceof Error ? `: ${error.message}` : error !== undefined ? `: ${String(error)}` : '';
    this.out.error(`[${component}] ${stripKeys(message + detail)}`);
  }

  show(): void {
    this.out.show(true);
  }

  dispose(): void {
    this.channel?.dispose();
  }
}

/** Tells the user what happened and what to do, with a button to the log. */
export async function showError(logger: Logger, message: string, ...actions: string[]): Promise<string | undefined> {
  const choice = await vscode.window.showErrorMessage(`Budget Reasoner: ${stripKeys(message)}`, ...actions, 'Open Log');
  if (choice === 'Open Log') {
    logger.show();
    return undefined;
  }
  return choice;
}

import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import { firstRunDecision } from '../core/firstRun';
import type { ApiKeyStore } from './apiKeys';
import type { Logger } from './logger';
import { readSettings } from './settings';

/** `publisher.name#walkthroughId`, as package.json contributes it. */
export const WALKTHROUGH_ID = 'budget-reasoner.budget-reasoner#gettingStarted';
export const PROVIDER_STEP = 'budgetReasoner.chooseProvider';

/** Opens the walkthrough, at one step when given. */
export async function openWalkthroughStep(step?: string): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', step ? { category: WALKTHROUGH_ID, step } : WALKTHROUGH_ID);
}

/** Opens a bundled MATH question in an untitled Markdown document and selects it, ready for Reason with budget. */
export async function openSampleQuestion(extensionUri: vscode.Uri): Promise<void> {
  const file = vscode.Uri.joinPath(extensionUri, 'media', 'sample-question.md').fsPath;
  const question = (await fs.readFile(file, 'utf8')).trim();
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: `${question}\n` });
  const editor = await vscode.window.showTextDocument(doc);
  const end = doc.positionAt(question.length);
  editor.selection = new vscode.Selection(new vscode.Position(0, 0), end);
}

/** globalState flag: the first-run decision was made (walkthrough shown, or found unnecessary). */
export const FIRST_RUN_DECIDED = 'budgetReasoner.walkthrough.firstRunDecided';

/**
 * On the first activation only: opens the walkthrough when no provider is configured yet.
 * Call without awaiting at the end of activate(); it never throws (failures are logged).
 */
export async function openWalkthroughOnFirstRun(context: vscode.ExtensionContext, deps: { apiKeys: Pick<ApiKeyStore, 'get'>; log: Logger }): Promise<void> {
  try {
    if (context.globalState.get<boolean>(FIRST_RUN_DECIDED)) {
      return;
    }
    const { baseUrl, model } = readSettings().settings;
    const hasApiKey = Boolean(await deps.apiKeys.get(baseUrl));
    const decision = firstRunDecision({ alreadyDecided: false, hasApiKey, baseUrl, model });
    if (decision === 'open') {
      await openWalkthroughStep();
      deps.log.info('walkthrough', 'first run: nothing configured yet; opened the walkthrough');
    } else {
      deps.log.info('walkthrough', 'first run: a provider is configured; the walkthrough stays closed');
    }
    await context.globalState.update(FIRST_RUN_DECIDED, true);
  } catch (error) {
    deps.log.error('walkthrough', 'first-run check failed', error);
  }
}

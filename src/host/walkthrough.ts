import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';

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

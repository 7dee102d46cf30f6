import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BudgetReasonerApi } from '../src/extension';

// Runs inside code-server's extension host (extensionTestsPath) for bench/streaming.ts: one long
// streamed run through the real host and panel, measuring the host's CPU and its posts to the panel.
export async function run(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
  const config = JSON.parse(fs.readFileSync(path.join(folder, '.bench.json'), 'utf8')) as { resultsFile: string; question: string };
  const ext = vscode.extensions.all.find((e) => e.packageJSON.name === 'budget-reasoner')!;
  const api = (await ext.activate()) as BudgetReasonerApi;
  // Warm the tokenizer and SDK so their one-time load does not count as per-token cost.
  await vscode.commands.executeCommand('budgetReasoner.reason', { question: 'warm-up: what is 1+1?' });
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const summary = await vscode.commands.executeCommand<{ tokens: number; reason: string }>('budgetReasoner.reason', { question: config.question });
  const wallMs = Date.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  fs.writeFileSync(config.resultsFile, JSON.stringify({ summary, wallMs, cpuUserUs: cpu.user, cpuSystemUs: cpu.system, panel: api.lastPanelStats() }));
  // Leave the panel on screen long enough for the runner to read it.
  await new Promise((r) => setTimeout(r, 3000));
}

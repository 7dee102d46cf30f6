import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BudgetReasonerApi } from '../src/extension';

interface BenchConfig {
  resultsFile: string;
  question: string;
  /** Milliseconds of idle host to measure after the warm-up: what the host burns when nothing streams. */
  idleMs?: number;
  /** Where to write a V8 CPU profile of the extension host during the measured run (optional). */
  profileFile?: string;
}

function cpuUs(cpu: NodeJS.CpuUsage): { user: number; system: number } {
  return { user: cpu.user, system: cpu.system };
}

/** A V8 CPU profile of this process (the extension host), in-process: the host needs no --inspect flag. */
function startProfiler(): { stop(file: string): Promise<void> } {
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params: object = {}) => new Promise<unknown>((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  const started = post('Profiler.enable').then(() => post('Profiler.setSamplingInterval', { interval: 200 })).then(() => post('Profiler.start'));
  return {
    async stop(file) {
      await started;
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      fs.writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

// Runs inside code-server's extension host (extensionTestsPath) for bench/streaming.ts: one long
// streamed run through the real host and panel, measuring the host's CPU and its posts to the panel.
export async function run(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
  const config = JSON.parse(fs.readFileSync(path.join(folder, '.bench.json'), 'utf8')) as BenchConfig;
  const ext = vscode.extensions.all.find((e) => e.packageJSON.name === 'budget-reasoner')!;
  const api = (await ext.activate()) as BudgetReasonerApi;
  // Warm the tokenizer and SDK so their one-time load does not count as per-token cost.
  await vscode.commands.executeCommand('budgetReasoner.reason', { question: 'warm-up: what is 1+1?' });
  // The same host doing nothing for a while: its own background work (other extensions, the
  // workbench's RPC, timers, GC) that the per-token figure would otherwise charge to the stream.
  const idleMs = config.idleMs ?? 0;
  const idle0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, idleMs));
  const idle = cpuUs(process.cpuUsage(idle0));
  const profiler = config.profileFile ? startProfiler() : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const summary = await vscode.commands.executeCommand<{ tokens: number; reason: string }>('budgetReasoner.reason', { question: config.question });
  const wallMs = Date.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await profiler?.stop(config.profileFile!);
  fs.writeFileSync(config.resultsFile, JSON.stringify({
    summary, wallMs, cpuUserUs: cpu.user, cpuSystemUs: cpu.system, panel: api.lastPanelStats?.(),
    idle: { ms: idleMs, cpuUserUs: idle.user, cpuSystemUs: idle.system },
    host: { node: process.version, execArgv: process.execArgv, extensions: vscode.extensions.all.filter((e) => e.isActive).map((e) => e.id) },
  }));
  // Leave the panel on screen long enough for the runner to read it.
  await new Promise((r) => setTimeout(r, 3000));
}

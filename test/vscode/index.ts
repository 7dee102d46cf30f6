import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

// Loaded by the extension host (extensionTestsPath). Runs every *.test.js beside this file and
// writes the counts where the e2e runner can read them; a rejection makes codeAutomationExit non-zero.
export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, forbidOnly: true });
  for (const file of fs.readdirSync(__dirname)) {
    if (file.endsWith('.test.js')) {
      mocha.addFile(path.join(__dirname, file));
    }
  }
  const config = readTestConfig();
  const failed: { title: string; error: string }[] = [];
  const { passes, failures } = await new Promise<{ passes: number; failures: number }>((resolve) => {
    const runner = mocha.run(() => resolve({ passes: runner.stats?.passes ?? 0, failures: runner.stats?.failures ?? 0 }));
    runner.on('fail', (test, err) => failed.push({ title: test.fullTitle(), error: String(err?.message ?? err).slice(0, 500) }));
  });
  if (config?.resultsFile) {
    fs.writeFileSync(config.resultsFile, JSON.stringify({ passes, failures, failed }));
  }
  if (failures > 0 || passes === 0) {
    throw new Error(`${failures} of ${passes + failures} extension-host tests failed.`);
  }
}

export interface HostTestConfig {
  resultsFile?: string;
  serverUrl?: string;
}

export function readTestConfig(): HostTestConfig | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const file = folder && path.join(folder, '.budget-reasoner-test.json');
  return file && fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

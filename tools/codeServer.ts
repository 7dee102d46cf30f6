import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './freePort';
import { repoRoot } from './repoRoot';

/** A code-server (VS Code 1.100 in the browser) on loopback with isolated dirs, per DESIGN.md's recipe. */
export interface CodeServer {
  port: number;
  runDir: string;
  workspace: string;
  userSettingsPath: string;
  /** code-server's --user-data-dir: settings, logs, globalStorage. */
  userDataDir: string;
  /** Where the extension host writes its log files. */
  logsDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  settings: Record<string, unknown>;
  extraArgs?: string[];
  runDir?: string;
  port?: number;
  /** Keep VS Code's workspace trust on (default off): a folder opens in Restricted Mode until trusted. */
  workspaceTrust?: boolean;
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const runDir = options.runDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'br-cs-'));
  for (const d of ['ud/User', 'ext', 'xdgc', 'xdgd', 'xdgcache', 'ws', 'tmp']) {
    fs.mkdirSync(path.join(runDir, d), { recursive: true });
  }
  const port = options.port ?? (await freePort());
  const userSettingsPath = path.join(runDir, 'ud', 'User', 'settings.json');
  if (!fs.existsSync(userSettingsPath)) {
    fs.writeFileSync(userSettingsPath, JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'telemetry.telemetryLevel': 'off',
      'security.workspace.trust.enabled': options.workspaceTrust === true,
      'chat.commandCenter.enabled': false,
      'git.openRepositoryInParentFolders': 'never',
      'workbench.colorTheme': 'Default Dark Modern',
      ...options.settings,
    }, null, 2));
  }
  fs.writeFileSync(path.join(runDir, 'config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const entry = require.resolve('code-server/out/node/entry.js', { paths: [repoRoot] });
  const log = fs.openSync(path.join(runDir, 'cs.log'), 'a');
  const child = spawn(process.execPath, [entry,
    '--config', path.join(runDir, 'config.yaml'), '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override',
    '--user-data-dir', path.join(runDir, 'ud'), '--extensions-dir', path.join(runDir, 'ext'),
    ...(options.extraArgs ?? []), path.join(runDir, 'ws')], {
    env: {
      ...process.env,
      EXTENSIONS_GALLERY: '{}',
      XDG_CONFIG_HOME: path.join(runDir, 'xdgc'),
      XDG_DATA_HOME: path.join(runDir, 'xdgd'),
      XDG_CACHE_HOME: path.join(runDir, 'xdgcache'),
      // code-server leaves vscode-ipc-*.sock files in TMPDIR.
      TMPDIR: path.join(runDir, 'tmp'),
    },
    stdio: ['ignore', log, log],
    detached: true,
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      throw new Error(`code-server did not start; see ${path.join(runDir, 'cs.log')}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    port,
    runDir,
    workspace: path.join(runDir, 'ws'),
    userSettingsPath,
    userDataDir: path.join(runDir, 'ud'),
    logsDir: path.join(runDir, 'ud', 'logs'),
    process: child,
    async stop() {
      if (child.exitCode !== null) {
        return;
      }
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/** The workbench URL that loads this repo as a development extension (and optionally a test module). */
export function workbenchUrl(port: number, folder: string, options: { testsPath?: string } = {}): string {
  const payload: [string, string][] = [['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${repoRoot}`]];
  if (options.testsPath) {
    payload.push(['extensionTestsPath', `vscode-remote://127.0.0.1:${port}${options.testsPath}`]);
  }
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** The newest extension host's "Budget Reasoner" log (one exthostN folder per window load). */
export function extensionLog(cs: CodeServer): { file: string; text: string } | undefined {
  const logs: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        walk(p);
      } else if (e.name === 'Budget Reasoner.log') {
        logs.push(p);
      }
    }
  };
  if (fs.existsSync(cs.logsDir)) {
    walk(cs.logsDir);
  }
  const file = logs.sort((a, b) => fs.statSync(a).birthtimeMs - fs.statSync(b).birthtimeMs || a.localeCompare(b)).at(-1);
  return file ? { file, text: fs.readFileSync(file, 'utf8') } : undefined;
}

/** Waits until a log written after `since` (a log file path, or none) contains `pattern`. */
export async function waitForLog(cs: CodeServer, pattern: RegExp, since?: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = extensionLog(cs);
    if (log && log.file !== since && pattern.test(log.text)) {
      return log.text;
    }
    if (Date.now() > deadline) {
      throw new Error(`no ${pattern} in the extension log (${log?.file ?? 'none'}):\n${log?.text ?? ''}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Installs a VSIX into runDir's extensions folder (as users get the extension: a development host
 * ignores the theme setting), with code-server's own folders inside runDir; start it with startCodeServer({ runDir }).
 */
export function installVsix(runDir: string, vsix = path.join(repoRoot, 'budget-reasoner.vsix'), stdio: 'ignore' | 'inherit' = 'ignore'): void {
  fs.mkdirSync(path.join(runDir, 'ext'), { recursive: true });
  const entry = require.resolve('code-server/out/node/entry.js', { paths: [repoRoot] });
  execFileSync(process.execPath, [entry, '--extensions-dir', path.join(runDir, 'ext'), '--user-data-dir', path.join(runDir, 'ud'), '--install-extension', vsix], {
    stdio, env: { ...process.env, EXTENSIONS_GALLERY: '{}', XDG_CONFIG_HOME: path.join(runDir, 'xdgc'), XDG_DATA_HOME: path.join(runDir, 'xdgd') },
  });
}

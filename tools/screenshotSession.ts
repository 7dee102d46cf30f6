/**
 * What the code-server screenshot scripts share: media/screenshots/, the recorded question they ask,
 * the extension packaged as a VSIX, and for each of VS Code's themes a loopback model server and a
 * code-server with the VSIX installed (as users get it: a development host ignores the theme setting).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installVsix, startCodeServer, type CodeServer } from './codeServer';
import { startModelServer, type ModelServer, type ModelServerOptions } from './modelServer';
import { readTraceQuestion, type TraceQuestion } from './recordedData';
import { repoRoot } from './repoRoot';

export const WORKBENCH_THEMES = { dark: 'Default Dark Modern', light: 'Default Light Modern' } as const;
export type ThemeName = keyof typeof WORKBENCH_THEMES;

/** The recorded MATH question the screenshots ask (idx 70: a few chains, a clear answer). */
const SCREENSHOT_QUESTION = 70;

export interface ThemedSession {
  name: ThemeName;
  server: ModelServer;
  cs: CodeServer;
  /** The code-server's user data and extensions, before it starts (see `prepare`). */
  runDir: string;
  /** The workbench on the session's workspace, with the installed extension. */
  url: string;
}

export interface ScreenshotSessionOptions {
  /** The loopback server of one theme's session. */
  server: (name: ThemeName) => ModelServerOptions;
  /** The extension's settings besides the theme, against the session's server. */
  settings: (server: ModelServer) => Record<string, unknown>;
  /** Runs on the session's directory before code-server starts (e.g. to write a ledger). */
  prepare?: (runDir: string) => void;
}

/**
 * Packages the extension, then for each theme starts a server and a code-server with the VSIX and
 * `question.md` (the recorded question) in its workspace, runs `shoot`, and stops both whatever happens.
 */
export async function forEachTheme(options: ScreenshotSessionOptions, shoot: (session: ThemedSession, outDir: string) => Promise<void>): Promise<void> {
  const outDir = path.join(repoRoot, 'media', 'screenshots');
  fs.mkdirSync(outDir, { recursive: true });
  const question: TraceQuestion = readTraceQuestion(SCREENSHOT_QUESTION);
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: repoRoot, stdio: 'inherit' });
  for (const [name, theme] of Object.entries(WORKBENCH_THEMES) as [ThemeName, string][]) {
    const server = await startModelServer(options.server(name));
    try {
      const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'br-shots-'));
      installVsix(runDir);
      options.prepare?.(runDir);
      const cs = await startCodeServer({ runDir, settings: { ...options.settings(server), 'workbench.colorTheme': theme } });
      try {
        fs.writeFileSync(path.join(cs.workspace, 'question.md'), `${question.text}\n`);
        await shoot({ name, server, cs, runDir, url: `http://127.0.0.1:${cs.port}/?folder=${encodeURIComponent(cs.workspace)}` }, outDir);
      } finally {
        await cs.stop();
      }
    } finally {
      await server.close();
    }
  }
}

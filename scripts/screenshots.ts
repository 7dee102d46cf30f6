// `npm run screenshots`: a run in the answer panel mid-run and finished, in VS Code's dark and light
// themes, for the README (media/screenshots/). Real code-server, real extension, recorded traces.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startModelServer } from '../tools/modelServer';
import { installVsix, startCodeServer } from '../tools/codeServer';
import { repoRoot } from '../tools/repoRoot';
import { readTraceQuestion } from '../tools/recordedData';
import { openFile, openWorkbench, panelFrame, panelFrames, runCommand, selectAllInEditor } from '../tools/workbench';

const THEMES = { dark: 'Default Dark Modern', light: 'Default Light Modern' } as const;

async function main(): Promise<void> {
  const outDir = path.join(repoRoot, 'media', 'screenshots');
  fs.mkdirSync(outDir, { recursive: true });
  const question = readTraceQuestion(70);
  // The extension installed from its VSIX, as users get it (a development host ignores the theme setting).
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: repoRoot, stdio: 'inherit' });
  for (const [name, theme] of Object.entries(THEMES)) {
    // Slow at first, so the run is caught with some answers in and a chain streaming.
    const server = await startModelServer({ tokensPerSecond: 60 });
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'br-shots-'));
    installVsix(runDir);
    const cs = await startCodeServer({
      runDir,
      settings: {
        'budgetReasoner.baseUrl': server.url,
        'budgetReasoner.model': 'qwen2.5-math-replay',
        'budgetReasoner.estimator': 'local',
        'workbench.colorTheme': theme,
      },
    });
    try {
      fs.writeFileSync(path.join(cs.workspace, 'question.md'), `${question.text}\n`);
      const wb = await openWorkbench(`http://127.0.0.1:${cs.port}/?folder=${encodeURIComponent(cs.workspace)}`);
      await wb.page.setViewportSize({ width: 1500, height: 1000 });
      await openFile(wb.page, 'question.md');
      await selectAllInEditor(wb.page);
      await runCommand(wb.page, 'Reason with budget');
      const panel = panelFrame(wb.page);
      const shoot = async (file: string) => {
        await wb.page.mouse.move(5, 500);
        // KaTeX's fonts load when math first shows: a shot taken before shows blanks where the math goes.
        for (const frame of await panelFrames(wb.page)) {
          await frame.evaluate('document.fonts.ready.then(() => undefined)');
        }
        await wb.page.waitForTimeout(800);
        await wb.page.screenshot({ path: path.join(outDir, file) });
        console.log(`wrote media/screenshots/${file}`);
      };
      // Mid-run: two answers in, the third chain streaming into the live reasoning.
      await panel.locator('#answers .answer-item').nth(1).waitFor({ timeout: 120_000 });
      await panel.locator('#reasoning').filter({ hasText: /\w{3,}\s+\w{3,}/ }).waitFor({ timeout: 60_000 });
      await panel.locator('#status').filter({ hasText: /running/i }).waitFor({ timeout: 5_000 });
      await shoot(`panel-midrun-${name}.png`);
      server.setTokensPerSecond(800);
      // By its state: "Running · budget set" would match a text pattern for the end.
      await panel.locator('#status[data-state="finished"]').waitFor({ timeout: 120_000 });
      await panel.locator('#answer-chain summary').click();
      await shoot(`panel-${name}.png`);
      await wb.close();
    } finally {
      await cs.stop();
      await server.close();
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// `npm run screenshots`: a run in the answer panel mid-run and finished, in VS Code's dark and light
// themes, for the README (media/screenshots/). Real code-server, real extension, recorded traces.
import * as path from 'node:path';
import { forEachTheme } from '../tools/screenshotSession';
import { openFile, openWorkbench, panelFrame, panelFrames, runCommand, selectAllInEditor } from '../tools/workbench';

async function main(): Promise<void> {
  await forEachTheme({
    // Slow at first, so the run is caught with some answers in and a chain streaming.
    server: () => ({ tokensPerSecond: 60 }),
    settings: (server) => ({
      'budgetReasoner.baseUrl': server.url,
      'budgetReasoner.model': 'qwen2.5-math-replay',
      'budgetReasoner.estimator': 'local',
    }),
  }, async ({ name, server, url }, outDir) => {
    const wb = await openWorkbench(url);
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
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

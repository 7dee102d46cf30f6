// `npm run screenshots:spend`: the status-bar meter during a run and idle (with its tooltip), and the
// spend view in VS Code's dark and light themes, for the README (media/screenshots/). Real code-server,
// the extension installed from its VSIX, a real run on recorded traces; the 29 days before today
// are a generated history (tools/spendHistory.ts) written into the ledger first, so the charts have
// several days and models to show. The loopback model is priced through `budgetReasoner.prices` so
// that today's run costs dollars.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot } from '../tools/repoRoot';
import { forEachTheme } from '../tools/screenshotSession';
import { ledgerLines, spendHistory } from '../tools/spendHistory';
import { extensionStorageDir } from '../test/e2e/fixtures';
import { meterLabelMatching, openWorkbench, panelFrame, reasonOnFile, runCommand, spendViewFrame, statusBarMeter } from '../tools/workbench';

const VIEWPORT = { width: 1500, height: 1000 };

async function main(): Promise<void> {
  await forEachTheme({
    // Slow enough in the dark run that the meter can be caught mid-run.
    server: (name) => ({ tokensPerSecond: name === 'dark' ? 60 : 800 }),
    settings: (server) => ({
      'budgetReasoner.baseUrl': server.url,
      'budgetReasoner.model': 'qwen2.5-math-replay',
      'budgetReasoner.estimator': 'local',
      'budgetReasoner.prices': { 'qwen2.5-math-replay': { input: 2, output: 8 } },
      'budgetReasoner.dailyCapUsd': 0.25,
    }),
    prepare: (runDir) => {
      const ledgerFile = path.join(extensionStorageDir(path.join(runDir, 'ud')), 'spend.jsonl');
      fs.mkdirSync(path.dirname(ledgerFile), { recursive: true });
      fs.writeFileSync(ledgerFile, ledgerLines(spendHistory(new Date(), 29)));
    },
  }, async ({ name, url }, outDir) => {
    const wb = await openWorkbench(url, { deviceScaleFactor: 2 });
    const { page } = wb;
    await page.setViewportSize(VIEWPORT);
    await meterLabelMatching(page, /spent today/);
    await reasonOnFile(page, 'question.md');
    if (name === 'dark') {
      await meterLabelMatching(page, /^Budget Reasoner: running, [1-9]\d* of/, 60_000);
      await page.mouse.move(5, 500);
      const meter = await statusBarMeter(page).boundingBox();
      const left = Math.max(0, (meter?.x ?? VIEWPORT.width - 400) - 260);
      await save(page, path.join(outDir, 'meter-running.png'), { x: left, y: VIEWPORT.height - 26, width: VIEWPORT.width - left, height: 26 });
    }
    await panelFrame(page).locator('#status[data-state="finished"]').waitFor({ timeout: 180_000 });
    await meterLabelMatching(page, /; last run \d+ of/);
    if (name === 'dark') {
      await statusBarMeter(page).hover();
      const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'last run' }).first();
      await hover.waitFor({ timeout: 10_000 });
      const box = await hover.boundingBox();
      const left = Math.max(0, (box?.x ?? VIEWPORT.width - 620) - 16);
      const top = Math.max(0, (box?.y ?? VIEWPORT.height - 420) - 16);
      await save(page, path.join(outDir, 'meter-idle.png'), { x: left, y: top, width: VIEWPORT.width - left, height: VIEWPORT.height - top });
      await page.mouse.move(5, 500);
    }
    // The spend view alone in the editor area.
    await runCommand(page, 'View: Close All Editors');
    await runCommand(page, 'Budget Reasoner: Show Spend Report');
    const frame = await spendViewFrame(page);
    await frame.locator('#chart-days rect.bar').first().waitFor({ timeout: 30_000 });
    await page.mouse.move(5, 500);
    await save(page, path.join(outDir, name === 'dark' ? 'spend-view.png' : 'spend-view-light.png'));
    await wb.close();
  });
}

/**
 * A screenshot once the workbench has painted (two animation frames): a crop (`clip`) at twice the
 * pixels so that the status bar reads well, the whole window at one pixel per CSS pixel.
 */
async function save(page: Page, file: string, clip?: { x: number; y: number; width: number; height: number }): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
  await page.screenshot({ path: file, ...(clip ? { clip } : { scale: 'css' }) });
  console.log(`wrote ${path.relative(repoRoot, file)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

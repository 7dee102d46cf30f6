// `npx tsx scripts/screenshotsKinds.ts`: the answer panel with a code answer (dark theme) and with a
// prose answer (light theme): media/screenshots/panel-code.png and panel-prose.png. The panel is its
// real page and bundles in Chromium under its CSP, fed by the host-side publisher
// (tools/panelHarness.ts) with the hand-written runs of test/webview/panelFixtures.ts; the code
// answer's selection and first chain are opened. Build first: `node esbuild.js`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchChromium, openPanel, publishedMessages, savePanelScreenshot, startHarnessServer, type ThemeName } from '../tools/panelHarness';
import { repoRoot } from '../tools/repoRoot';
import { codeRun, proseRun } from '../test/webview/panelFixtures';

const SHOTS: Array<{ file: string; theme: ThemeName; run: ReturnType<typeof codeRun>; open: string[] }> = [
  { file: 'panel-code.png', theme: 'dark', run: codeRun(), open: ['#about summary', '#attempts .attempt[data-attempt="2"] summary'] },
  { file: 'panel-prose.png', theme: 'light', run: proseRun(), open: [] },
];

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'webview-highlight.js'))) {
    throw new Error('dist/webview-highlight.js is missing: run `node esbuild.js` first');
  }
  const outDir = path.join(repoRoot, 'media', 'screenshots');
  fs.mkdirSync(outDir, { recursive: true });
  const server = await startHarnessServer();
  const browser = await launchChromium();
  try {
    for (const shot of SHOTS) {
      const { messages } = publishedMessages(shot.run.header, shot.run.events);
      const p = await openPanel(browser, server.origin, { theme: shot.theme, width: 760, height: 900 });
      await p.deliver(messages);
      await p.settle();
      for (const selector of shot.open) {
        await p.page.click(selector);
      }
      // Every code block on the page highlighted (or left plain on purpose).
      await p.page.waitForFunction(() => document.querySelectorAll('.code-block code:not([data-highlighted])').length === 0);
      await p.page.mouse.move(0, 0);
      await savePanelScreenshot(p, path.join(outDir, shot.file));
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// `npx tsx scripts/screenshotsCascade.ts`: the answer panel after a real model cascade, in VS Code's dark
// and light themes (media/screenshots/panel-cascade.png and panel-cascade-light.png). The cascade runs
// through the real stack against the loopback model server (tools/cascadeRun.ts); the panel is
// its real page and bundle in Chromium, fed by the host-side publisher (tools/panelHarness.ts).
// Build first: `node esbuild.js`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { recordCascadeRun } from '../tools/cascadeRun';
import { launchChromium, openPanel, publishedMessages, savePanelScreenshot, startHarnessServer, streamed } from '../tools/panelHarness';
import { repoRoot } from '../tools/repoRoot';

const SHOTS = { dark: 'panel-cascade.png', light: 'panel-cascade-light.png' } as const;

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'webview.js'))) {
    throw new Error('dist/webview.js is missing: run `node esbuild.js` first');
  }
  const outDir = path.join(repoRoot, 'media', 'screenshots');
  fs.mkdirSync(outDir, { recursive: true });
  const cascade = await recordCascadeRun();
  const { messages } = publishedMessages(cascade.header, streamed(cascade.events));
  const server = await startHarnessServer();
  const browser = await launchChromium();
  try {
    for (const [theme, name] of Object.entries(SHOTS)) {
      const p = await openPanel(browser, server.origin, { theme: theme as keyof typeof SHOTS, width: 760, height: 900 });
      await p.deliver(messages);
      await p.settle();
      await savePanelScreenshot(p, path.join(outDir, name));
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

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Frame, type FrameLocator, type Locator, type Page } from 'playwright-core';

export const artifactsDir = path.resolve(__dirname, 'artifacts');

export interface Workbench {
  context: BrowserContext;
  page: Page;
  /** Resolves with the code the extension host passed to codeAutomationExit (extension test runs). */
  automationExit: Promise<number>;
  automationLogs: string[];
  close(): Promise<void>;
}

/** Debian's chromium driven by playwright-core; no browser download. */
export async function openWorkbench(url: string): Promise<Workbench> {
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'br-chrome-'));
  const context = await chromium.launchPersistentContext(udd, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    env: { ...process.env, XDG_CONFIG_HOME: path.join(udd, 'xdg-config'), XDG_CACHE_HOME: path.join(udd, 'xdg-cache') },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const automationLogs: string[] = [];
  let exitResolve!: (code: number) => void;
  const automationExit = new Promise<number>((r) => (exitResolve = r));
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
    const line = `[${type}] ${Array.isArray(args) ? args.join(' ') : JSON.stringify(args)}`;
    automationLogs.push(line);
    if (process.env.E2E_VERBOSE) {
      console.log('    ext-host:', line.slice(0, 400));
    }
  });
  await page.exposeFunction('codeAutomationExit', (code: number) => exitResolve(code));
  page.on('pageerror', (e) => {
    if (process.env.E2E_VERBOSE) {
      console.log('    [pageerror]', String(e).slice(0, 300));
    }
  });
  await page.goto(url);
  await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
  return {
    context, page, automationExit, automationLogs,
    async close() {
      await context.close();
      fs.rmSync(udd, { recursive: true, force: true });
    },
  };
}

export async function runCommand(page: Page, title: string): Promise<void> {
  // No Escape here: in the editor it would clear the selection the command is meant to use.
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/** Opens a workspace file from the Explorer (Quick Open's file search is slow to index on a cold start). */
export async function openFile(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+Shift+E');
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.dblclick();
  await page.locator(`.tabs-container .tab[aria-label*="${name}"]`).first().waitFor({ timeout: 15_000 });
  await page.locator('.monaco-editor .view-lines').first().waitFor({ timeout: 15_000 });
}

export async function selectAllInEditor(page: Page): Promise<void> {
  // The editor area's editor, not the Output panel's (also a Monaco editor).
  await page.locator('.editor-group-container .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+A');
}

/** The answer panel's document: outer webview iframe, then the active frame holding our HTML. */
export function panelFrame(page: Page, index = 0): FrameLocator {
  return page.frameLocator('iframe.webview.ready').nth(index).frameLocator('#active-frame');
}

export function statusBarMeter(page: Page): Locator {
  return page.locator('#budgetReasoner\\.meter, [id="budget-reasoner.budget-reasoner.meter"], .statusbar-item[id$="budgetReasoner.meter"]').first();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, name);
  await page.screenshot({ path: file });
  return file;
}

/** The answer panel's Frame (for evaluate): the innermost frame holding #answer, newest panel last. */
export async function panelFrames(page: Page): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (const f of page.frames()) {
    try {
      if (await f.$('#answer')) {
        frames.push(f);
      }
    } catch {
      // detached while navigating
    }
  }
  return frames;
}

/** The text of the notification toasts currently shown. */
export async function notifications(page: Page): Promise<string> {
  return (await page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts()).join('\n');
}

/** In an afterEach: keeps a screenshot of the workbench when the test that just ran failed. */
export async function screenshotIfFailed(test: Mocha.Test | undefined, wb: Workbench | undefined): Promise<void> {
  if (test?.state === 'failed' && wb) {
    await screenshot(wb.page, `failed-${test.title.replace(/\W+/g, '-').slice(0, 60)}.png`).catch(() => undefined);
  }
}

/** Opens a workspace file, selects all of it and runs "Reason with budget" on it, as a user would. */
export async function reasonOnFile(page: Page, file: string): Promise<void> {
  await openFile(page, file);
  await selectAllInEditor(page);
  await runCommand(page, 'Reason with budget');
}

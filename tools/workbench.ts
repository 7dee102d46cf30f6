import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Frame, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { repoRoot } from './repoRoot';

/** Screenshots of e2e runs (test/e2e/artifacts, not committed). */
export const artifactsDir = path.join(repoRoot, 'test', 'e2e', 'artifacts');

export interface Workbench {
  context: BrowserContext;
  page: Page;
  /** Resolves with the code the extension host passed to codeAutomationExit (extension test runs). */
  automationExit: Promise<number>;
  automationLogs: string[];
  /** Chromium's profile folder (the browser side of VS Code's storage: localStorage, IndexedDB). */
  profileDir: string;
  /** keepProfile: leave profileDir on disk (the caller removes it) to inspect what the browser stored. */
  close(options?: { keepProfile?: boolean }): Promise<void>;
}

/** Debian's chromium driven by playwright-core; no browser download. `deviceScaleFactor` 2 for screenshots that stay sharp when cropped. */
export async function openWorkbench(url: string, options: { deviceScaleFactor?: number } = {}): Promise<Workbench> {
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'br-chrome-'));
  const context = await chromium.launchPersistentContext(udd, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    deviceScaleFactor: options.deviceScaleFactor ?? 1,
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
    context, page, automationExit, automationLogs, profileDir: udd,
    async close(options = {}) {
      await context.close();
      if (!options.keepProfile) {
        fs.rmSync(udd, { recursive: true, force: true });
      }
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
  // Into the palette's own input: had the palette closed meanwhile (a quick input closing late),
  // a page-level Enter would reach the editor and replace its selection with a line break.
  await input.press('Enter');
}

/** The folder the workbench URL opened (`?folder=`, as workbenchUrl and code-server write it). */
export function workbenchFolder(page: Page): string {
  const folder = new URL(page.url()).searchParams.get('folder');
  if (!folder) {
    throw new Error(`the workbench URL names no folder: ${page.url()}`);
  }
  return folder;
}

/**
 * Opens a file by its full path through "File: Open File...", which code-server shows as VS Code's
 * simple file dialog (a quick input taking a path). Unlike double-clicking the Explorer's row or
 * searching Quick Open, it depends neither on the Explorer having rendered the folder nor on a file
 * index, both slow on a loaded machine. `file` is absolute or relative to the workbench's folder.
 */
export async function openFile(page: Page, file: string): Promise<void> {
  const folder = workbenchFolder(page);
  const full = path.resolve(folder, file);
  const tab = page.locator(`.tabs-container .tab.active[aria-label*="${path.basename(full)}"]`).first();
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill('>File: Open File...');
  // Click the command itself: Enter would run whichever row the filter put first.
  await page.locator('.quick-input-widget .monaco-list-row', { has: page.locator('.label-name', { hasText: /^File: Open File\.\.\.$/ }) })
    .first().click({ timeout: 30_000 });
  await page.locator('.quick-input-widget .quick-input-title', { hasText: /^Open File$/ }).waitFor({ timeout: 30_000 });
  // While it loads, the dialog sets its box more than once (a default folder, then the workspace's):
  // type the path only once it shows the workspace folder, or the dialog overwrites it.
  const boxHolds = (value: string, timeout: number) => page.waitForFunction(
    (v) => document.querySelector<HTMLInputElement>('.quick-input-widget .quick-input-box input')?.value === v, value, { timeout });
  await boxHolds(`${folder.replace(/\/+$/, '')}/`, 30_000).catch(() => undefined);
  for (let attempt = 1; ; attempt++) {
    await input.fill(full);
    try {
      await boxHolds(full, 5_000);
      await page.keyboard.press('Enter');
      // The dialog closes once it opened the file: a file already open in the active tab would pass the
      // tab check below while the dialog, still loading, puts its folder back in the box and stays open.
      await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 20_000 });
      await tab.waitFor({ timeout: 20_000 });
      break;
    } catch (e) {
      // Overwritten after all, or Enter came before the dialog took the path: type it again.
      if (attempt >= 3 || !(await input.isVisible())) {
        throw e;
      }
    }
  }
  await page.locator('.editor-group-container .monaco-editor .view-lines').first().waitFor({ timeout: 30_000 });
}

/**
 * Polls `check` until it returns something truthy (which it returns), for states the DOM cannot be
 * asked about directly (files on disk, the model server's log). Throws after `timeoutMs` naming `what`.
 */
export async function waitUntil<T>(check: () => T | Promise<T>, what: string, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until the status-bar meter's accessible label (which carries exact counts) matches `pattern`; returns it. */
export async function meterLabelMatching(page: Page, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const meter = statusBarMeter(page);
  await meter.waitFor({ timeout: timeoutMs });
  let label = '';
  await waitUntil(async () => pattern.test(label = (await meter.getAttribute('aria-label')) ?? ''), `a meter label matching ${pattern}`, timeoutMs)
    .catch(() => undefined);
  return label;
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

/** The spend view's Frame (for evaluate and locators), once it has drawn its first snapshot. */
export async function spendViewFrame(page: Page, timeoutMs = 30_000): Promise<Frame> {
  return waitUntil(async (): Promise<Frame | false> => {
    for (const f of page.frames()) {
      try {
        if (await f.$('.spend #summary')) {
          return f;
        }
      } catch {
        // detached while navigating
      }
    }
    return false;
  }, 'the spend view', timeoutMs) as Promise<Frame>;
}

/** Which colour the status-bar meter shows: VS Code marks a warning or error background with a class. */
export async function meterKind(page: Page): Promise<'normal' | 'warning' | 'error'> {
  return statusBarMeter(page).evaluate((el) => {
    const item = el.closest('.statusbar-item') ?? el;
    return item.classList.contains('error-kind') ? 'error' : item.classList.contains('warning-kind') ? 'warning' : 'normal';
  });
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

/** What an e2e spec started and must close, read when its hooks run. */
export interface SpecResources {
  wb?: Workbench;
  cs?: { stop(): Promise<void> };
  servers?: Array<{ close(): Promise<void> } | undefined>;
}

/**
 * The hooks every e2e spec needs: a screenshot of a failed test, and, at the end, the browser,
 * code-server and the model servers closed. `resources` is called when the hooks run.
 */
export function closeAfterSpec(resources: () => SpecResources): void {
  afterEach(async function () {
    await screenshotIfFailed(this.currentTest, resources().wb);
  });
  after(async function () {
    const { wb, cs, servers = [] } = resources();
    await wb?.close();
    await cs?.stop();
    for (const server of servers) {
      await server?.close();
    }
  });
}

/** Opens a workspace file, selects all of it and runs "Reason with budget" on it, as a user would. */
export async function reasonOnFile(page: Page, file: string): Promise<void> {
  await openFile(page, file);
  await selectAllInEditor(page);
  await runCommand(page, 'Reason with budget');
}

/** What each frame (the workbench and every webview) shows: body text, the values of its inputs, and its HTML. */
export async function frameTexts(page: Page): Promise<Array<{ url: string; text: string }>> {
  const texts: Array<{ url: string; text: string }> = [];
  for (const f of page.frames()) {
    try {
      const shown = await f.evaluate(() => [
        document.body?.innerText ?? '',
        ...[...document.querySelectorAll('input, textarea')].map((e) => (e as HTMLInputElement).value),
      ].join('\n'));
      texts.push({ url: f.url(), text: `${shown}\n${await f.content()}` });
    } catch {
      // detached while navigating
    }
  }
  return texts;
}

/** Answers VS Code's "Do you trust the authors?" dialog, as a user would. */
export async function answerTrustDialog(page: Page, trust: boolean): Promise<void> {
  const dialog = page.locator('.monaco-dialog-box').filter({ hasText: /trust the authors/i });
  await dialog.waitFor({ timeout: 60_000 });
  await dialog.locator('.monaco-button', { hasText: trust ? /Yes, I trust/i : /No, I don.t trust/i }).first().click();
  await dialog.waitFor({ state: 'hidden', timeout: 15_000 });
}

/** Everything the workbench's origin keeps in the browser: localStorage, sessionStorage and every IndexedDB store. */
export async function browserStorage(page: Page): Promise<Array<{ where: string; key: string; value: string }>> {
  return page.evaluate(async () => {
    const out: Array<{ where: string; key: string; value: string }> = [];
    for (const [where, s] of [['localStorage', localStorage], ['sessionStorage', sessionStorage]] as const) {
      for (let i = 0; i < s.length; i++) {
        out.push({ where, key: String(s.key(i)), value: s.getItem(String(s.key(i))) ?? '' });
      }
    }
    for (const info of await indexedDB.databases()) {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(String(info.name));
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      for (const store of [...db.objectStoreNames]) {
        const rows = await new Promise<Array<[IDBValidKey, unknown]>>((resolve, reject) => {
          const tx = db.transaction(store, 'readonly');
          const keys = tx.objectStore(store).getAllKeys();
          const values = tx.objectStore(store).getAll();
          tx.oncomplete = () => resolve(keys.result.map((k, i) => [k, values.result[i]]));
          tx.onerror = () => reject(tx.error);
        });
        for (const [k, v] of rows) {
          const value = typeof v === 'string' ? v : v instanceof Uint8Array ? new TextDecoder().decode(v) : JSON.stringify(v);
          out.push({ where: `IndexedDB ${info.name}/${store}`, key: String(k), value });
        }
      }
      db.close();
    }
    return out;
  });
}

/** What one answer panel showed at one moment (see recordPanelStates). */
export interface PanelState {
  /** Date.now() in the page when the panel's DOM changed to this. */
  t: number;
  /** Which panel: numbered in the order their pages appeared. */
  panel: number;
  /** Items in the progressive answers list. */
  answers: number;
  /** The best answer's text (its first 80 characters). */
  answer: string;
  /** The status line, e.g. "Running · attempt 2: chain". */
  status: string;
  /** The run's state as the status line marks it: running, finished or interrupted ('' before the first view). */
  state: string;
  /** The run list's shown entry, when the panel lists runs. */
  run: string;
}

// Page-side, as a string: tsx would add helpers to a compiled function that the page does not have.
// Every 5 ms it looks for panel pages (a webview iframe's inner frame with #root, same origin in
// code-server) and watches each with a MutationObserver that logs every change of what it shows.
const PANEL_RECORDER = `(() => {
  if (window.__panelStates) return;
  const log = [];
  window.__panelStates = log;
  const roots = new WeakMap();
  let panels = 0;
  const record = (root, panel) => {
    const doc = root.ownerDocument;
    const text = (sel) => (doc.querySelector(sel)?.textContent ?? '').replace(/\\s+/g, ' ').trim().slice(0, 80);
    const s = { t: Date.now(), panel, answers: doc.querySelectorAll('#answers .answer-item').length, answer: text('#answer'), status: text('#status'), state: doc.getElementById('status')?.dataset.state ?? '', run: text('#runs [aria-current="true"]') };
    let last;
    for (let i = log.length - 1; i >= 0 && !last; i--) if (log[i].panel === panel) last = log[i];
    if (!last || last.answers !== s.answers || last.answer !== s.answer || last.status !== s.status || last.state !== s.state || last.run !== s.run) log.push(s);
  };
  setInterval(() => {
    for (const outer of document.querySelectorAll('iframe.webview')) {
      for (const inner of outer.contentDocument?.querySelectorAll('iframe') ?? []) {
        const root = inner.contentDocument?.getElementById('root');
        if (root && !roots.has(root)) {
          const panel = panels++;
          roots.set(root, panel);
          record(root, panel);
          new MutationObserver(() => record(root, panel)).observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
        }
      }
    }
  }, 5);
})()`;

/**
 * Starts recording, in the workbench page itself, every state each answer panel's page shows from
 * the moment it appears (a panel's pages are numbered; a reloaded page counts as a new one).
 */
export async function recordPanelStates(page: Page): Promise<{ states(): Promise<PanelState[]> }> {
  await page.evaluate(PANEL_RECORDER);
  return { states: async () => (await page.evaluate('window.__panelStates')) as PanelState[] };
}

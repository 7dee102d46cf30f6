/**
 * A browser harness for the answer panel (and the spend view, at /spend) without VS Code: a loopback HTTP server serves the panel's
 * real page (src/host/panelHtml.ts) with the same CSP, as a header too, plus a fake
 * acquireVsCodeApi that records what the page posts; Debian's chromium is driven by playwright-core.
 * Messages come from the real host-side publisher fed a recorded run on a scripted clock.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunEvent } from '../src/core/reasoning/runEvents';
import { initialRunView, type RunHeader } from '../src/core/view/runView';
import { RunViewPublisher } from '../src/core/view/runViewPublisher';
import type { FromSpendViewMessage, FromWebviewMessage, ToSpendViewMessage, ToWebviewMessage } from '../src/protocol';
import { panelContentSecurityPolicy, panelHtml } from '../src/host/panelHtml';
import { themes, type HarnessTheme } from './panelThemes';
import { repoRoot } from './repoRoot';
import { ScriptedClock } from './scriptedClock';

export type ThemeName = keyof typeof themes;

/** Splits each recorded delta into token-sized pieces (~4 characters), as a provider streams them. */
export function streamed(events: readonly RunEvent[], charsPerDelta = 4): RunEvent[] {
  const out: RunEvent[] = [];
  for (const e of events) {
    if (e.type === 'delta' && e.text.length > charsPerDelta) {
      for (let i = 0; i < e.text.length; i += charsPerDelta) {
        out.push({ type: 'delta', attempt: e.attempt, text: e.text.slice(i, i + charsPerDelta) });
      }
    } else {
      out.push(e);
    }
  }
  return out;
}

/**
 * The messages the host would post for these events, arriving `msPerEvent` apart: a snapshot
 * (the page said ready), then batched updates. Also returns the publisher's stats.
 */
export function publishedMessages(header: RunHeader, events: readonly RunEvent[], msPerEvent = 2.5): {
  messages: ToWebviewMessage[]; posts: number; events: number;
} {
  const clock = new ScriptedClock();
  const messages: ToWebviewMessage[] = [];
  // structuredClone: what postMessage does to a message, so later reducer steps cannot alias it.
  const publisher = new RunViewPublisher(initialRunView(header), (m) => messages.push(structuredClone(m)), clock);
  publisher.webviewReady();
  for (const e of events) {
    clock.advance(msPerEvent);
    publisher.push(e);
  }
  clock.advance(1000);
  publisher.flush();
  return { messages, posts: publisher.stats.posts, events: publisher.stats.events };
}

export interface HarnessServer {
  origin: string;
  /** Every request the server saw, as method and path. */
  requests: string[];
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript', '.css': 'text/css', '.woff2': 'font/woff2', '.svg': 'image/svg+xml', '.map': 'application/json',
};

/** The fake VS Code API and theme, served as a nonce'd script before the panel's own. */
function fakeVsCodeScript(theme: HarnessTheme): string {
  return `(() => {
  const theme = ${JSON.stringify(theme)};
  document.body.classList.add(theme.bodyClass);
  for (const [k, v] of Object.entries(theme.variables)) document.documentElement.style.setProperty(k, v);
  window.__posted = [];
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  let state = window.__initialState;
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
    getState: () => state,
    setState: (s) => { state = s; window.__storedState = s; },
  });
  window.__deliver = (messages) => { for (const m of messages) window.dispatchEvent(new MessageEvent('message', { data: m })); };
})();`;
}

export async function startHarnessServer(): Promise<HarnessServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${req.method} ${url.pathname}`);
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (url.pathname === '/panel' || url.pathname === '/spend') {
      const nonce = randomUUID();
      const theme = (url.searchParams.get('theme') ?? 'dark') as ThemeName;
      const fake = `/harness/fake-vscode.js?theme=${encodeURIComponent(theme)}`;
      // The spend view's page (src/host/spendView.ts) is the same page with its own bundle and stylesheet.
      const html = url.pathname === '/spend'
        ? panelHtml({ cspSource: origin, nonce, styles: ['/media/webview-base.css', '/media/spend.css'], scripts: [fake, '/dist/spend.js'], rootClass: 'spend' })
        : panelHtml({ cspSource: origin, nonce, styles: ['/dist/katex/katex.min.css', '/media/webview-base.css', '/media/panel.css'], scripts: [fake, '/dist/webview.js'] });
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': panelContentSecurityPolicy(origin, nonce) });
      res.end(html);
      return;
    }
    if (url.pathname === '/harness/fake-vscode.js') {
      const theme = themes[(url.searchParams.get('theme') ?? 'dark') as ThemeName] ?? themes.dark;
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(fakeVsCodeScript(theme));
      return;
    }
    const rel = path.normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
    const allowed = rel.startsWith(`dist${path.sep}`) || rel.startsWith(`media${path.sep}`);
    const file = path.join(repoRoot, rel);
    if (!allowed || !file.startsWith(repoRoot + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': contentTypes[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    env: { ...process.env, XDG_CONFIG_HOME: path.join(os.tmpdir(), 'br-webview-xdg'), XDG_CACHE_HOME: path.join(os.tmpdir(), 'br-webview-xdg-cache') },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

export interface PanelPage {
  page: Page;
  /** Every URL the page requested (including ones the server never saw). */
  pageRequests: string[];
  pageErrors: string[];
  posted(): Promise<Array<FromWebviewMessage | FromSpendViewMessage>>;
  deliver(messages: ReadonlyArray<ToWebviewMessage | ToSpendViewMessage>): Promise<void>;
  /** Waits until the page has rendered everything delivered so far. */
  settle(): Promise<void>;
}

/** Opens the answer panel's page, or with `view: 'spend'` the spend view's, once it has said it is ready. */
export async function openPanel(browser: Browser, origin: string, options: { theme?: ThemeName; initialState?: unknown; width?: number; height?: number; view?: 'panel' | 'spend' } = {}): Promise<PanelPage> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 760, height: options.height ?? 1100 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const pageRequests: string[] = [];
  const pageErrors: string[] = [];
  page.on('request', (r) => pageRequests.push(r.url()));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  if (options.initialState !== undefined) {
    await page.addInitScript((s) => {
      (window as unknown as { __initialState: unknown }).__initialState = s;
    }, options.initialState);
  }
  const view = options.view ?? 'panel';
  await page.goto(`${origin}/${view}?theme=${options.theme ?? 'dark'}`);
  await page.waitForFunction((ready) => (window as unknown as { __posted: Array<{ type: string }> }).__posted.some((m) => m.type === ready), view === 'spend' ? 'spendReady' : 'ready');
  const settle = () => page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
  return {
    page,
    pageRequests,
    pageErrors,
    posted: () => page.evaluate(() => (window as unknown as { __posted: Array<FromWebviewMessage | FromSpendViewMessage> }).__posted),
    deliver: async (messages) => {
      await page.evaluate((m) => (window as unknown as { __deliver: (m: unknown) => void }).__deliver(m), messages as unknown[]);
    },
    settle,
  };
}

/** A full-page screenshot of a panel that rendered without errors, then its page closed (the screenshot scripts). */
export async function savePanelScreenshot(p: PanelPage, file: string): Promise<void> {
  if (p.pageErrors.length) {
    throw new Error(`panel errors: ${p.pageErrors.join('; ')}`);
  }
  await p.page.screenshot({ path: file, fullPage: true });
  console.log(`wrote ${path.relative(repoRoot, file)}`);
  await p.page.context().close();
}

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { SpendRecord } from '../../src/core/ledger/spendRecord';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { initialRunView, reduceRunView, type RunView } from '../../src/core/view/runView';
import { exactTokens, preciseDollars } from '../../src/core/view/runViewText';
import { CASCADE_LADDER, recordCascadeRun, type RecordedCascade } from '../../tools/cascadeRun';
import {
  launchChromium, openPanel, publishedMessages, startHarnessServer, streamed,
  type HarnessServer, type PanelPage, type ThemeName,
} from '../../tools/panelHarness';
import { repoRoot } from '../../tools/repoRoot';
import { loadRecordedRun, screenshotPath } from './panelFixtures';

const LADDER = CASCADE_LADDER.map((r) => r.model);

/** What the cost table should say, from the ledger's records summed by hand. */
function expectedCostRows(records: readonly SpendRecord[]): string[][] {
  const rows = new Map<string, { calls: number; tin: number; tout: number; dollars: number | null }>();
  for (const r of records) {
    const row = rows.get(r.model) ?? { calls: 0, tin: 0, tout: 0, dollars: 0 };
    row.calls++;
    row.tin += r.promptTokens;
    row.tout += r.completionTokens;
    row.dollars = row.dollars === null || r.dollars === null ? null : row.dollars + r.dollars;
    rows.set(r.model, row);
  }
  return [...rows.entries()].map(([model, r]) => [model, String(r.calls), exactTokens(r.tin), exactTokens(r.tout), r.dollars === null ? 'unpriced' : preciseDollars(r.dollars)]);
}

// A real cascade (CascadeRun -> MeteredCaller -> openai SDK -> loopback model server) through the
// host-side publisher into the panel's real page and bundle in Debian's chromium.
describe('answer panel webview: a model cascade (chromium)', function () {
  this.timeout(120_000);
  let server: HarnessServer;
  let browser: Browser;
  let cascade: RecordedCascade;
  let messages: ReturnType<typeof publishedMessages>['messages'];

  before(async function () {
    assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'webview.js')), 'dist/webview.js exists: run `node esbuild.js` first');
    cascade = await recordCascadeRun();
    messages = publishedMessages(cascade.header, streamed(cascade.events)).messages;
    server = await startHarnessServer();
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await server?.close();
  });

  async function cascadePanel(theme: ThemeName = 'dark'): Promise<PanelPage> {
    const p = await openPanel(browser, server.origin, { theme });
    await p.deliver(messages);
    await p.settle();
    return p;
  }

  it('labels each answer, the best answer, each attempt and the live reasoning with its model', async function () {
    const p = await cascadePanel('dark');
    const { page } = p;
    assert.equal(await page.getAttribute('#answer', 'data-answer'), cascade.gold);
    // Newest first: the strong model's answer on top.
    assert.deepEqual(await page.locator('#answers .answer-item .model-badge').allTextContents(), [...LADDER].reverse());
    assert.deepEqual(await page.locator('#answers .answer-item .item-answer').allTextContents(), ['7', '36', '144']);
    assert.deepEqual(await page.locator('#answers .answer-item .model-badge').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.tier)), ['2', '1', '0']);
    assert.equal(await page.textContent('#answer-model'), LADDER[2]);
    assert.equal(await page.isVisible('#answer-model'), true);
    assert.deepEqual(await page.locator('#attempts .attempt .model-badge').allTextContents(), LADDER);
    assert.match((await page.locator('#attempts .attempt').first().textContent()) ?? '', /^#1 chain · stop · \d+ output tokens · → 144gpt3-6b-finetuning$/);
    assert.equal(await page.textContent('#reasoning-model'), LADDER[2]);
    assert.equal(await page.textContent('#meta .meta-part'), LADDER.join(' → '));
    assert.deepEqual(p.pageErrors, []);
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations), [], 'no CSP violations');
    await page.context().close();
  });

  it('shows the cost by model with the ledger numbers and the run total', async function () {
    const p = await cascadePanel('dark');
    const { page } = p;
    const final = cascade.events.reduce(reduceRunView, initialRunView(cascade.header));
    assert.equal(await page.isVisible('#model-costs'), true);
    assert.equal(await page.textContent('#model-costs caption'), 'Cost by model');
    assert.deepEqual(await page.locator('#model-costs thead th').allTextContents(), ['Model', 'Calls', 'Tokens in', 'Tokens out', 'Cost']);
    const rows = await page.locator('#model-costs tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent ?? '')));
    assert.deepEqual(rows, expectedCostRows(cascade.records));
    assert.deepEqual(await page.locator('#model-costs tbody tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.model)), LADDER);
    const total = await page.locator('#model-costs tfoot tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent ?? '')));
    assert.deepEqual(total, [['Total', String(cascade.records.length), exactTokens(final.budget.promptTokens), exactTokens(final.budget.completionTokens), preciseDollars(final.budget.dollars!)]]);
    // The strong model's one call costs more than the two 6B models' three.
    const dollars = rows.map((r) => Number(r[4].replace('$', '')));
    assert.ok(dollars[2] > dollars[0] + dollars[1], JSON.stringify(dollars));
    await page.context().close();
  });

  it('keeps a single-model run exactly as before: no badges, no cost table', async function () {
    const run = loadRecordedRun();
    const p = await openPanel(browser, server.origin);
    await p.deliver(publishedMessages(run.header, streamed(run.events)).messages);
    await p.settle();
    const { page } = p;
    assert.ok(await page.locator('#answers .answer-item').count() > 1);
    assert.equal(await page.locator('.model-badge').count(), 2, 'only the hidden best-answer and reasoning badges exist');
    assert.equal(await page.locator('.model-badge:visible').count(), 0);
    assert.equal(await page.isHidden('#model-costs'), true);
    assert.equal(await page.locator('#model-costs tr').count(), 0);
    assert.equal(await page.textContent('#meta .meta-part'), run.header.model);

    // Spend billed to a second model (say the estimate went elsewhere) makes it a multi-model run.
    const view = run.events.reduce(reduceRunView, initialRunView(run.header));
    const other: RunEvent = { type: 'spend', record: { ...firstRecord(run.events), model: 'gpt-4.1-nano', dollars: null } };
    await p.deliver([{ type: 'snapshot', seq: 10_000, view: reduceRunView(view, other) }]);
    await p.settle();
    assert.equal(await page.isVisible('#model-costs'), true);
    assert.deepEqual(await page.locator('#model-costs tbody th').allTextContents(), [run.header.model, 'gpt-4.1-nano']);
    assert.equal(await page.locator('#model-costs tbody tr').last().locator('td').last().textContent(), 'unpriced');
    await page.context().close();
  });

  it('renders hostile and very long model names as text, cut to fit', async function () {
    const hostile = '<img src=x onerror=window.__pwned=1>';
    const long = `${'very-long-model-name-'.repeat(8)}end`; // under MODEL_NAME_LIMIT: shown whole, cut only by CSS
    // The same run with the models renamed: every place a model name reaches the page.
    const rename = (m: string | undefined) => (m === LADDER[0] ? hostile : m === LADDER[1] ? long : m);
    const events: RunEvent[] = cascade.events.map((e) => {
      if (e.type === 'spend') {
        return { ...e, record: { ...e.record, model: rename(e.record.model)! } };
      }
      return (e.type === 'attempt-started' || e.type === 'answer') && e.model ? { ...e, model: rename(e.model) } : e;
    });
    const header = { ...cascade.header, models: LADDER.map((m) => rename(m)!) };
    const view: RunView = events.reduce(reduceRunView, initialRunView(header));
    const p = await openPanel(browser, server.origin, { width: 420 });
    const { page } = p;
    await p.deliver([{ type: 'snapshot', seq: 1, view }]);
    await p.settle();
    assert.deepEqual(await page.locator('#answers .model-badge').allTextContents(), [LADDER[2], long, hostile]);
    assert.equal(await page.locator('#model-costs tbody th').first().textContent(), hostile);
    assert.equal(await page.locator('#attempts .model-badge').first().getAttribute('title'), `model: ${hostile}`);
    assert.equal(await page.textContent('#meta .meta-part'), `${hostile} → ${long} → ${LADDER[2]}`);
    const found = await page.evaluate(() => ({
      imgs: document.querySelectorAll('#root img').length,
      pwned: (window as unknown as { __pwned?: unknown }).__pwned,
      // Nothing pushes the page sideways at 420 px: long names are cut with an ellipsis.
      overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      badges: Array.from(document.querySelectorAll<HTMLElement>('.model-badge:not([hidden])'), (b) => ({ text: b.textContent, cut: b.scrollWidth > b.clientWidth, right: b.getBoundingClientRect().right })),
      tableRight: document.querySelector('#model-costs table')!.getBoundingClientRect().right,
      rootRight: document.getElementById('root')!.getBoundingClientRect().right,
    }));
    assert.equal(found.imgs, 0);
    assert.equal(found.pwned, undefined);
    assert.equal(found.overflow, 0);
    assert.ok(found.badges.filter((b) => b.text === long).every((b) => b.cut), 'the long name is cut');
    assert.ok(found.badges.every((b) => b.right <= found.rootRight + 0.5), JSON.stringify(found.badges));
    assert.ok(found.tableRight <= found.rootRight + 0.5);
    assert.deepEqual(p.pageErrors, []);
    await page.screenshot({ path: screenshotPath('panel-cascade-hostile-narrow.png'), fullPage: true });
    await page.context().close();
  });

  it('draws the cascade in dark, light and high-contrast themes (screenshots in test/webview/artifacts)', async function () {
    for (const theme of ['dark', 'light', 'high-contrast'] as const) {
      const p = await cascadePanel(theme);
      const colours = await p.page.evaluate(() => {
        const badge = document.querySelector<HTMLElement>('#answers .model-badge')!;
        const s = getComputedStyle(badge);
        return { color: s.color, background: getComputedStyle(document.body).backgroundColor, dot: getComputedStyle(badge, '::before').backgroundColor };
      });
      // Badge text in the theme's foreground, its tier dot in a chart colour (not the fallback grey).
      assert.notEqual(colours.color, colours.background);
      assert.notEqual(colours.dot, 'rgba(0, 0, 0, 0)');
      await p.page.screenshot({ path: screenshotPath(`panel-cascade-${theme}.png`), fullPage: true });
      await p.page.context().close();
    }
  });
});

function firstRecord(events: readonly RunEvent[]): SpendRecord {
  const e = events.find((x): x is Extract<RunEvent, { type: 'spend' }> => x.type === 'spend');
  assert.ok(e);
  return e.record;
}

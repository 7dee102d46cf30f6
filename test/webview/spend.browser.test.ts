import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { localDay, spendByDayAndModel } from '../../src/core/ledger/spendLedger';
import type { SpendSnapshot } from '../../src/core/view/spendView';
import { launchChromium, openPanel, startHarnessServer, type HarnessServer, type ThemeName } from '../../tools/panelHarness';
import { repoRoot } from '../../tools/repoRoot';
import { spendHistory } from '../../tools/spendHistory';
import { spendRecord } from '../support/scripted';

// The spend view's real page and bundle under the same CSP in Debian's chromium, fed a snapshot as the host sends it.
describe('spend view webview (chromium)', function () {
  this.timeout(60_000);
  let server: HarnessServer;
  let browser: Browser;
  const now = new Date();
  const hostile = '<img src=x onerror="window.__pwned=1">';
  const records = [...spendHistory(now, 12), spendRecord({ time: now.toISOString(), model: hostile, dollars: 0.01 })];
  const snapshot: SpendSnapshot = { rows: spendByDayAndModel(records), today: localDay(now), dailyCapUsd: 0.15, dailyTokenCap: 0, warnAtPercent: 80, ledgerFile: '/home/u/spend.jsonl' };

  before(async function () {
    assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'spend.js')), 'dist/spend.js exists: run `node esbuild.js` first');
    server = await startHarnessServer();
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await server?.close();
  });

  for (const theme of ['dark', 'light', 'high-contrast'] as ThemeName[]) {
    it(`draws a bar segment per day and model and the table, in the ${theme} theme, with no CSP violation`, async function () {
      const p = await openPanel(browser, server.origin, { theme, view: 'spend', width: 1000, height: 900 });
      await p.deliver([{ type: 'spendSnapshot', snapshot }]);
      await p.page.locator('#chart-days rect.bar').first().waitFor();
      const inRange = snapshot.rows.filter((r) => r.day > localDay(new Date(now.getFullYear(), now.getMonth(), now.getDate() - 30)));
      assert.equal(await p.page.locator('#chart-days rect.bar').count(), inRange.length);
      assert.equal(await p.page.locator('#spend-table tbody tr').count(), inRange.length);
      assert.equal(await p.page.locator('#chart-models rect.bar').count(), new Set(inRange.map((r) => r.model)).size);
      assert.equal(await p.page.locator('#daily-cap').count(), 1, 'the daily cap is drawn across the chart');
      // Two different models get two different fills from the theme's chart colours.
      const fills = await p.page.$$eval('#chart-models rect.bar', (rects) => [...new Set(rects.map((r) => getComputedStyle(r).fill))]);
      assert.ok(fills.length >= 4, fills.join(' '));
      assert.deepEqual(await p.page.evaluate(() => (window as unknown as { __violations: string[] }).__violations), []);
      assert.deepEqual(p.pageErrors, []);
      await p.page.context().close();
    });
  }

  it('shows a model id from the ledger as text, never markup', async function () {
    const p = await openPanel(browser, server.origin, { view: 'spend' });
    await p.deliver([{ type: 'spendSnapshot', snapshot }]);
    await p.page.locator('#spend-table tbody tr').first().waitFor();
    assert.equal(await p.page.locator('#spend-table img, #chart-days img, .legend img').count(), 0);
    assert.ok((await p.page.locator('#spend-table').innerText()).includes(hostile));
    assert.equal(await p.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    await p.page.context().close();
  });

  it('ignores a snapshot of the wrong shape, switches range and measure, keeps the choice, and asks the host to export', async function () {
    const p = await openPanel(browser, server.origin, { view: 'spend' });
    await p.deliver([{ type: 'spendSnapshot', snapshot: { ...snapshot, rows: [{ day: 'yesterday' }] } } as never]);
    assert.equal(await p.page.locator('#summary').count(), 0, 'nothing drawn from a bad snapshot');
    await p.deliver([{ type: 'spendSnapshot', snapshot }]);
    await p.page.locator('[aria-label="Range"] button', { hasText: '7 days' }).click();
    const week = snapshot.rows.filter((r) => r.day > localDay(new Date(now.getFullYear(), now.getMonth(), now.getDate() - 7)));
    assert.equal(await p.page.locator('#spend-table tbody tr').count(), week.length);
    assert.match(await p.page.locator('#summary').innerText(), /spent, last 7 days/);
    await p.page.locator('[aria-label="Measure"] button', { hasText: 'Tokens' }).click();
    const values = await p.page.$$eval('#chart-days rect.bar', (rects) => rects.map((r) => Number(r.getAttribute('data-value'))));
    assert.deepEqual(values.sort((a, b) => a - b), week.map((r) => r.tokens).sort((a, b) => a - b));
    assert.deepEqual(await p.page.evaluate(() => (window as unknown as { __storedState: unknown }).__storedState), { range: 7, metric: 'tokens' });
    await p.page.locator('#export-csv').click();
    assert.deepEqual((await p.posted()).map((m) => m.type), ['spendReady', 'exportCsv']);
    await p.page.context().close();
  });
});

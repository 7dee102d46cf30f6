import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isSpendRecord, localDay, spendCsv } from '../../src/core/ledger/spendLedger';
import type { SpendRecord } from '../../src/core/ledger/spendRecord';
import { formatDollars } from '../../src/core/tokens/amountText';
import { percentText } from '../../src/core/view/meterView';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { startCodeServer, workbenchUrl, type CodeServer } from '../../tools/codeServer';
import { readTraceQuestion } from '../../tools/recordedData';
import { ledgerLines, spendHistory } from '../../tools/spendHistory';
import {
  closeAfterSpec, meterKind, meterLabelMatching, openWorkbench, panelFrame, reasonOnFile, runCommand, screenshot, spendViewFrame, statusBarMeter,
  waitUntil, type Workbench,
} from '../../tools/workbench';
import { extensionStorageDir } from './fixtures';

const readLedger = (file: string): SpendRecord[] => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim())
  .map((l) => JSON.parse(l) as unknown).filter(isSpendRecord);

/** The ledger's records summed by local day and model, as the spend view's table should show them. */
function byDayAndModel(records: readonly SpendRecord[]): Map<string, { calls: number; promptTokens: number; completionTokens: number; reasoningTokens: number; dollars: number }> {
  const rows = new Map<string, { calls: number; promptTokens: number; completionTokens: number; reasoningTokens: number; dollars: number }>();
  for (const r of records) {
    const key = `${localDay(new Date(r.time))} ${r.model}`;
    const row = rows.get(key) ?? { calls: 0, promptTokens: 0, completionTokens: 0, reasoningTokens: 0, dollars: 0 };
    row.calls += 1;
    row.promptTokens += r.promptTokens;
    row.completionTokens += r.completionTokens;
    row.reasoningTokens += r.reasoningTokens;
    row.dollars += r.dollars ?? 0;
    rows.set(key, row);
  }
  return rows;
}

// The status-bar meter idle and warning, and the spend view, in a real VS Code: the ledger holds ten
// earlier days of several models (tools/spendHistory.ts) before code-server starts; today's spend is
// a real run against the loopback server, priced through a price override so that it costs dollars.
describe('e2e: the budget meter and the spend view in code-server', function () {
  let server: ModelServer;
  let cs: CodeServer;
  let wb: Workbench;
  let ledgerFile: string;
  const question = readTraceQuestion(67);

  before(async function () {
    server = await startModelServer({ tokensPerSecond: 800 });
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'br-cs-'));
    ledgerFile = path.join(extensionStorageDir(path.join(runDir, 'ud')), 'spend.jsonl');
    fs.mkdirSync(path.dirname(ledgerFile), { recursive: true });
    fs.writeFileSync(ledgerFile, ledgerLines(spendHistory(new Date(), 10)));
    cs = await startCodeServer({
      runDir,
      settings: {
        'budgetReasoner.baseUrl': server.url,
        'budgetReasoner.model': 'qwen2.5-math-replay',
        'budgetReasoner.estimator': 'local',
        'budgetReasoner.prices': { 'qwen2.5-math-replay': { input: 20, output: 80 } },
        'budgetReasoner.requestCapUsd': 0,
        'budgetReasoner.confirmAboveUsd': 0,
      },
    });
    fs.writeFileSync(path.join(cs.workspace, 'question.md'), `${question.text}\n`);
  });

  closeAfterSpec(() => ({ wb, cs, servers: [server] }));

  /** Picks `item` from the meter's menu and types `value` into the input box it opens, as a user would. */
  async function setFromMeter(item: string, value: string): Promise<void> {
    await wb.page.mouse.move(10, 10);
    await statusBarMeter(wb.page).click();
    await wb.page.locator('.quick-input-widget .monaco-list-row', { hasText: item }).first().click();
    const input = wb.page.locator('.quick-input-widget .quick-input-box input');
    await wb.page.locator('.quick-input-widget .quick-input-title', { hasText: item === 'Set daily cap' ? 'Daily dollar cap' : 'Meter warning threshold' }).waitFor({ timeout: 15_000 });
    await input.fill(value);
    await input.press('Enter');
  }

  it('after a run, the idle meter shows today\'s spend against the daily cap, warns at the threshold set and turns the error colour at the cap', async function () {
    wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace));
    const { page } = wb;
    // Ten earlier days are in the ledger; none of it is today's.
    let label = await meterLabelMatching(page, /spent today/);
    assert.equal(label, 'Budget Reasoner: 0 tokens and $0 spent today, 0% of the $2.00 daily cap');

    await reasonOnFile(page, 'question.md');
    await panelFrame(page).locator('#status[data-state="finished"]').waitFor({ timeout: 90_000 });
    label = await meterLabelMatching(page, /; last run \d+ of \d+ tokens/);
    const today = readLedger(ledgerFile).filter((r) => localDay(new Date(r.time)) === localDay(new Date()));
    const tokens = today.reduce((n, r) => n + r.promptTokens + r.completionTokens, 0);
    const dollars = today.reduce((n, r) => n + (r.dollars ?? 0), 0);
    const share = dollars / 2;
    assert.ok(today.length >= 1 && share >= 0.01, `a run priced at least 1% of the cap: ${today.length} records, ${formatDollars(dollars)}`);
    // The run alone is today's spend: the label says it twice, as today's and as the last run.
    assert.equal(label, `Budget Reasoner: ${tokens} tokens and ${formatDollars(dollars)} spent today, ${percentText(share)} of the $2.00 daily cap; last run ${tokens} of ${label.match(/of (\d+) tokens, /)?.[1]} tokens, ${formatDollars(dollars)}`);
    assert.match(await statusBarMeter(page).innerText(), new RegExp(`${formatDollars(dollars).replace('$', '\\$')}/\\$2\\.00 today`));
    assert.equal(await meterKind(page), 'normal', `${percentText(share)} is under the default 80%`);

    // A threshold at today's share: the warning colour, said in the label too.
    const threshold = Math.max(1, Math.floor(share * 100));
    await setFromMeter('Set warning threshold', String(threshold));
    await waitUntil(async () => (await meterKind(page)) === 'warning', 'the warning colour');
    label = await meterLabelMatching(page, /; warning: /);
    assert.match(label, new RegExp(`; warning: ${percentText(share)} of the daily dollar cap; last run `));
    await screenshot(page, 'meter-warning.png');

    // A daily cap below today's spend: the error colour.
    await setFromMeter('Set daily cap', (dollars / 2).toFixed(4));
    await waitUntil(async () => (await meterKind(page)) === 'error', 'the error colour');
    label = await meterLabelMatching(page, /; at the daily dollar cap/);
    assert.match(label, /spent today, \d+% of the \$[\d.]+ daily cap; at the daily dollar cap; last run/);
    await screenshot(page, 'meter-error.png');
  });

  it('opens the spend view as a webview: a bar per day and model, a table equal to the ledger, and Export CSV writes the ledger', async function () {
    const { page } = wb;
    await runCommand(page, 'Budget Reasoner: Show Spend Report');
    const frame = await spendViewFrame(page);
    await frame.locator('#chart-days rect.bar').first().waitFor({ timeout: 30_000 });
    const records = readLedger(ledgerFile);
    const expected = byDayAndModel(records);
    assert.ok(new Set([...expected.keys()].map((k) => k.split(' ')[0])).size >= 5, 'several days in the ledger');
    assert.ok(new Set([...expected.keys()].map((k) => k.split(' ')[1])).size >= 4, 'several models in the ledger');

    const rows = await frame.$$eval('#spend-table tbody tr', (trs) => trs.map((tr) => ({
      key: `${tr.getAttribute('data-day')} ${tr.getAttribute('data-model')}`,
      cells: Object.fromEntries([...tr.querySelectorAll('td[data-key]')].map((td) => [td.getAttribute('data-key'), { value: td.getAttribute('data-value'), text: td.textContent }])),
    })));
    assert.deepEqual(rows.map((r) => r.key).sort(), [...expected.keys()].sort(), 'one table row per day and model in the ledger');
    for (const row of rows) {
      const want = expected.get(row.key)!;
      for (const key of ['calls', 'promptTokens', 'completionTokens', 'reasoningTokens'] as const) {
        assert.equal(Number(row.cells[key].value), want[key], `${row.key} ${key}`);
        assert.equal(row.cells[key].text, want[key].toLocaleString('en-US'), `${row.key} ${key} as shown`);
      }
      assert.ok(Math.abs(Number(row.cells.dollars.value) - want.dollars) < 1e-9, `${row.key} dollars ${row.cells.dollars.value} vs ${want.dollars}`);
      assert.equal(row.cells.dollars.text, formatDollars(want.dollars), `${row.key} dollars as shown`);
    }
    assert.ok(rows.some((r) => r.key === `${localDay(new Date())} qwen2.5-math-replay`), "today's run is in the table");

    // The chart: one segment per table row, each day's bar left of the next day's; in tokens on request.
    const bars = async () => frame.$$eval('#chart-days rect.bar', (rects) => rects.map((r) => ({
      key: `${r.getAttribute('data-day')} ${r.getAttribute('data-model')}`, x: Number(r.getAttribute('x')), value: Number(r.getAttribute('data-value')),
    })));
    const dollarBars = await bars();
    assert.deepEqual(dollarBars.map((b) => b.key).sort(), [...expected.keys()].sort(), 'a bar segment per day and model');
    const firstX = new Map<string, number>();
    dollarBars.forEach((b) => firstX.set(b.key.split(' ')[0], b.x));
    const days = [...firstX.keys()];
    assert.deepEqual(days, [...days].sort(), 'days left to right, oldest first');
    assert.ok(days.every((d, i) => i === 0 || firstX.get(d)! > firstX.get(days[i - 1])!));
    await frame.locator('[aria-label="Measure"] button', { hasText: 'Tokens' }).click();
    await frame.locator('[aria-label="Measure"] button[aria-pressed="true"]', { hasText: 'Tokens' }).waitFor();
    for (const b of await bars()) {
      const want = expected.get(b.key)!;
      assert.equal(b.value, want.promptTokens + want.completionTokens, `${b.key} tokens`);
    }
    await screenshot(page, 'spend-view.png');

    // Export CSV: VS Code's save dialog (a path box in code-server), then the file holds every ledger record.
    const target = path.join(cs.workspace, 'spend-export.csv');
    await frame.locator('#export-csv').click();
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    // The dialog offers a file in the workspace folder; once it shows it (it sets its box more than once
    // while it loads), the path typed over it stays.
    const offered = path.join(cs.workspace, `budget-reasoner-spend-${localDay(new Date())}.csv`);
    const boxHolds = (value: string) => page.waitForFunction((v) => document.querySelector<HTMLInputElement>('.quick-input-widget .quick-input-box input')?.value === v, value, { timeout: 30_000 });
    await boxHolds(offered);
    await input.fill(target);
    await boxHolds(target);
    await page.locator('.quick-input-widget .monaco-button', { hasText: /^OK$/ }).click();
    const csv = await waitUntil(() => fs.existsSync(target) && fs.readFileSync(target, 'utf8'), 'the exported CSV', 30_000);
    assert.equal(csv, spendCsv(readLedger(ledgerFile)));
    assert.equal(csv.trim().split('\r\n').length, records.length + 1, 'a header and a line per record');
    await page.locator('.notifications-toasts', { hasText: 'spend exported to' }).waitFor({ timeout: 15_000 });
  });
});

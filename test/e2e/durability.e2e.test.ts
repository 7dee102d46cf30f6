import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { startCodeServer, workbenchUrl, type CodeServer } from '../../tools/codeServer';
import { readTraceQuestion } from '../../tools/recordedData';
import {
  closeAfterSpec, meterLabelMatching, openFile, openWorkbench, panelFrame, reasonOnFile, runCommand, screenshot, selectAllInEditor, statusBarMeter,
  type Workbench,
} from '../../tools/workbench';

/** The extension-host processes of one code-server: its descendants started with --type=extensionHost. */
function extensionHostPids(root: number): number[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).trim().split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] }));
  const descendants = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rows) {
      if (descendants.has(r.ppid) && !descendants.has(r.pid)) {
        descendants.add(r.pid);
        grew = true;
      }
    }
  }
  return rows.filter((r) => descendants.has(r.pid) && /extensionHost/i.test(r.args)).map((r) => r.pid);
}

function findLedger(dir: string): string | undefined {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findLedger(full);
      if (found) {
        return found;
      }
    } else if (entry.name === 'spend.jsonl') {
      return full;
    }
  }
  return undefined;
}

const wholeRecords = (file: string) => fs.readFileSync(file, 'utf8').split('\n').flatMap((l) => {
  try {
    return [JSON.parse(l) as { runId: string; purpose: string; promptTokens: number; completionTokens: number }];
  } catch {
    return [];
  }
});

/** Less than the two windows' runs need together (about 1,700 tokens), so the cap has to bind. */
const DAILY_TOKENS = 1200;

// SIGKILL the extension host in the middle of a streaming run: every record whose usage had arrived
// survives, a torn tail is ignored, and after reopening the meter's "today" matches the ledger.
describe('e2e: durability in code-server', function () {
  let server: ModelServer;
  let cs: CodeServer;
  let wb: Workbench | undefined;

  before(async function () {
    server = await startModelServer({ tokensPerSecond: 40 });
    cs = await startCodeServer({
      settings: {
        'budgetReasoner.baseUrl': server.url,
        'budgetReasoner.model': 'qwen2.5-math-replay',
        'budgetReasoner.estimator': 'tale',
        'budgetReasoner.dailyTokenCap': DAILY_TOKENS,
      },
    });
    fs.writeFileSync(path.join(cs.workspace, 'question.md'), `${readTraceQuestion(74).text}\n`);
  });

  closeAfterSpec(() => ({ wb, cs, servers: [server] }));

  it('a killed extension host loses no recorded call; the torn tail is skipped; the meter matches the ledger', async function () {
    wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace));
    const { page } = wb;
    await reasonOnFile(page, 'question.md');
    // The TALE estimate call has its record; the first chain is streaming (slowly) when the host dies.
    await panelFrame(page).locator('#reasoning').filter({ hasText: /\w{3,}/ }).waitFor({ timeout: 60_000 });
    const ledgerFile = findLedger(cs.runDir);
    assert.ok(ledgerFile, 'the ledger file exists');
    const before = wholeRecords(ledgerFile);
    assert.ok(before.some((r) => r.purpose === 'estimate'), 'the estimate call was recorded before the kill');
    const pids = extensionHostPids(cs.process.pid!);
    assert.ok(pids.length >= 1, 'found the extension host process');
    for (const pid of pids) {
      process.kill(pid, 'SIGKILL');
    }
    // A crash in the middle of an append leaves a partial last line.
    fs.appendFileSync(ledgerFile, '{"time":"2026-11-23T21:00:00.000Z","runId":"torn","purp');

    await page.reload();
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    // The new extension host has activated the extension (at startup) once its meter is back; then its commands run.
    await statusBarMeter(page).waitFor({ timeout: 90_000 });
    await runCommand(page, 'Budget Reasoner: Show Log');
    const after = wholeRecords(ledgerFile);
    for (const r of before) {
      assert.ok(after.some((a) => JSON.stringify(a) === JSON.stringify(r)), `record of ${r.purpose} survived`);
    }
    assert.ok(fs.readFileSync(ledgerFile, 'utf8').includes('"runId":"torn","purp'), 'the torn tail is kept, not deleted');
    const today = after.reduce((n, r) => n + r.promptTokens + r.completionTokens, 0);
    const label = await meterLabelMatching(page, new RegExp(`${today} tokens`));
    assert.match(label, new RegExp(`Budget Reasoner: ${today} tokens and .* spent today`), `meter "${label}" vs ledger ${today} tokens`);
    console.log(`      durability: ${before.length} records before the kill, ${after.length} whole records after, ${today} tokens today on the meter and in the ledger`);
    await screenshot(page, 'after-kill.png');

    // The user is told of the skipped line once; it stays in the file, and the next start does not repeat it.
    const skippedNotice = /partly written last line|unreadable line/;
    assert.match(await notificationCenter(page), skippedNotice, 'the skipped torn line was reported');
    await page.reload();
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    // The meter shows today's tokens once the extension has read the ledger (where the notice would come from).
    await page.locator(`[aria-label*="Budget Reasoner: ${today} tokens"]`).first().waitFor({ timeout: 60_000 });
    await page.waitForTimeout(2000);
    assert.doesNotMatch(await notificationCenter(page), skippedNotice, 'the same skipped line is not reported again');
  });

  it('two windows (two extension hosts) running at once hold one daily token cap', async function () {
    await wb?.close();
    wb = undefined;
    server.setTokensPerSecond(500);
    const ledgerFile = findLedger(cs.runDir)!;
    const spentBefore = wholeRecords(ledgerFile).reduce((n, r) => n + r.promptTokens + r.completionTokens, 0);
    fs.writeFileSync(path.join(cs.workspace, 'mixed.md'), `${readTraceQuestion(70).text}\n`);
    const windows = [await openWorkbench(workbenchUrl(cs.port, cs.workspace)), await openWorkbench(workbenchUrl(cs.port, cs.workspace))];
    try {
      for (const w of windows) {
        await openFile(w.page, 'mixed.md');
        await selectAllInEditor(w.page);
      }
      await Promise.all(windows.map((w) => runCommand(w.page, 'Reason with budget')));
      await Promise.all(windows.map((w) => panelFrame(w.page).locator('#status[data-state="finished"]').waitFor({ timeout: 120_000 })));
      const records = wholeRecords(ledgerFile);
      const spent = records.reduce((n, r) => n + r.promptTokens + r.completionTokens, 0);
      const runs = new Set(records.map((r) => r.runId)).size;
      console.log(`      two windows: ${spent - spentBefore} tokens in ${runs - 1} runs after ${spentBefore} earlier today; daily cap ${DAILY_TOKENS}`);
      assert.ok(spent > spentBefore, 'the windows made calls');
      assert.ok(windows.length === 2 && (await Promise.all(windows.map((w) => panelFrame(w.page).locator('#status').innerText()))).some((t) => /cap/i.test(t)), 'the cap stopped at least one window');
      assert.ok(spent <= DAILY_TOKENS, `${spent} tokens today against a cap of ${DAILY_TOKENS}`);
    } finally {
      for (const w of windows) {
        await w.close();
      }
    }
  });
});

/** Every notification of this window, from the notification centre (toasts hide after a while). */
async function notificationCenter(page: Page): Promise<string> {
  await runCommand(page, 'Notifications: Show Notifications');
  const center = page.locator('.notifications-center');
  await center.waitFor({ timeout: 10_000 });
  const text = (await center.locator('.notification-list-item-message').allInnerTexts()).join('\n');
  await runCommand(page, 'Notifications: Hide Notifications');
  return text;
}

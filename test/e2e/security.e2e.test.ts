import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { startCodeServer, workbenchUrl, type CodeServer } from '../../tools/codeServer';
import { readTraceQuestion } from '../../tools/recordedData';
import { extensionStorageDir, filesContaining, filesUnder, usageTotals } from './fixtures';
import {
  answerTrustDialog, browserStorage, closeAfterSpec, frameTexts, meterLabelMatching as meterLabel, notifications, openWorkbench, panelFrame, reasonOnFile,
  runCommand, screenshot, type Workbench,
} from '../../tools/workbench';

interface LedgerLine {
  runId: string;
  promptTokens: number;
  completionTokens: number;
}

const ledgerLines = (file: string): LedgerLine[] => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LedgerLine);
const tokensOf = (lines: LedgerLine[]) => lines.reduce((n, r) => n + r.promptTokens + r.completionTokens, 0);

async function meterLabelMatching(wb: Workbench, re: RegExp): Promise<string> {
  const label = await meterLabel(wb.page, re);
  assert.match(label, re);
  return label;
}

const finished = (wb: Workbench) => panelFrame(wb.page).locator('#status[data-state="finished"]').waitFor({ timeout: 90_000 });

// A corrupt spend ledger and the API key, in one code-server: the ledger is damaged before it starts,
// the key is set later through VS Code's own input box.
describe('e2e: security in code-server (ledger, API key)', function () {
  let server: ModelServer;
  let cs: CodeServer;
  let wb: Workbench | undefined;
  let ledgerFile: string;
  /** Binary garbage with a few line breaks: unreadable lines, no record, so the whole file is corrupt. */
  const garbage = Buffer.concat([randomBytes(3000), Buffer.from('\nnot a ledger line\n'), randomBytes(3000), Buffer.from('\n')]);
  const KEY = `sk-test-LEAKCHECK-${randomBytes(12).toString('hex')}`;
  /** The key's random part alone: a partly masked key ("sk-…" plus the rest) would still show it. */
  const KEY_TAIL = KEY.slice('sk-test-'.length);
  const first = readTraceQuestion(67);
  const second = readTraceQuestion(74);

  before(async function () {
    server = await startModelServer({ tokensPerSecond: 800 });
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'br-cs-'));
    ledgerFile = path.join(extensionStorageDir(path.join(runDir, 'ud')), 'spend.jsonl');
    fs.mkdirSync(path.dirname(ledgerFile), { recursive: true });
    fs.writeFileSync(ledgerFile, garbage);
    cs = await startCodeServer({
      runDir,
      settings: {
        'budgetReasoner.baseUrl': server.url,
        'budgetReasoner.model': 'qwen2.5-math-replay',
      },
    });
    fs.writeFileSync(path.join(cs.workspace, 'question.md'), `${first.text}\n`);
    fs.writeFileSync(path.join(cs.workspace, 'second.md'), `${second.text}\n`);
  });

  closeAfterSpec(() => ({ wb, cs, servers: [server] }));

  it('moves a corrupt ledger aside byte for byte, warns where it went, and starts a new ledger that the meter reads', async function () {
    wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace));
    const { page } = wb;
    // The extension activates on startup and reads the ledger for the meter: no command needed.
    const toast = page.locator('.notifications-toasts .notification-list-item').filter({ hasText: /spend ledger/i });
    await toast.waitFor({ timeout: 90_000 });
    const dir = path.dirname(ledgerFile);
    const aside = fs.readdirSync(dir).filter((f) => f.startsWith('spend.jsonl.corrupt-'));
    assert.equal(aside.length, 1, `one moved-aside file in ${dir}: ${fs.readdirSync(dir).join(', ')}`);
    assert.match(aside[0], /^spend\.jsonl\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/, 'named with the time it was moved');
    assert.ok(fs.readFileSync(path.join(dir, aside[0])).equals(garbage), 'the moved-aside file holds the original bytes');
    const message = await toast.locator('.notification-list-item-message').innerText();
    assert.match(message, /^Budget Reasoner: The spend ledger had \d+ unreadable lines \(corrupt\)\. It was kept as (\S+) and a new ledger was started/, message);
    assert.equal(/kept as (\S+) and/.exec(message)?.[1], aside[0], 'the warning names the moved-aside file');
    assert.ok(message.includes(`Folder: ${dir}`), `the warning says where: ${message}`);
    assert.equal(await toast.locator('.codicon-warning, .codicon-notifications-warning').count(), 1, 'shown as a warning');
    // Expanded, as a user would to read all of it.
    await toast.hover();
    await toast.locator('.codicon-notifications-expand').first().click();
    await toast.locator('.codicon-notifications-collapse').first().waitFor({ timeout: 5_000 });
    await screenshot(page, 'ledger-corrupt-warning.png');
    console.log(`      corrupt ledger: moved aside as ${aside[0]} (${garbage.length} bytes, identical); warning: "${message}"`);

    // The new ledger starts empty: the garbage counts for nothing.
    await meterLabelMatching(wb, /Budget Reasoner: 0 tokens and .* spent today/);

    await reasonOnFile(page, 'question.md');
    await panelFrame(page).locator('#answer').filter({ hasText: first.gold }).waitFor({ timeout: 90_000 });
    await finished(wb);
    const records = ledgerLines(ledgerFile);
    const reported = usageTotals(server);
    assert.ok(records.length >= 1 && records.length === reported.calls, `${records.length} records for ${reported.calls} calls`);
    assert.equal(new Set(records.map((r) => r.runId)).size, 1, 'the new ledger holds this run alone');
    assert.equal(tokensOf(records), reported.totalTokens, 'the new ledger records what the server reported');
    await meterLabelMatching(wb, new RegExp(`; last run ${tokensOf(records)} of \\d+ tokens`));
    assert.ok(fs.readFileSync(path.join(dir, aside[0])).equals(garbage), 'the moved-aside file is left alone');
    assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('spend.jsonl.corrupt-')).length, 1, 'the new ledger is not moved aside');
  });

  it('sends a key set through the input box as the Bearer token; a 401 names the cause without the key', async function () {
    const { page } = wb!;
    await runCommand(page, 'View: Close All Editor Groups');
    await runCommand(page, 'Notifications: Clear All Notifications');
    server.reset();

    await runCommand(page, 'Budget Reasoner: Set API Key');
    const box = page.locator('.quick-input-widget').filter({ hasText: 'Budget Reasoner: API key' });
    await box.waitFor({ timeout: 30_000 });
    const input = box.locator('.quick-input-box input');
    assert.equal(await input.getAttribute('type'), 'password', 'the key is typed masked');
    await input.pressSequentially(KEY);
    await page.keyboard.press('Enter');
    await page.locator('.notifications-toasts').filter({ hasText: `API key saved for ${server.url}` }).waitFor({ timeout: 30_000 });

    await reasonOnFile(page, 'second.md');
    await panelFrame(page).locator('#answer').filter({ hasText: second.gold }).waitFor({ timeout: 90_000 });
    await finished(wb!);
    const calls = server.requests.length;
    assert.ok(calls >= 1, 'the run reached the server');
    assert.ok(server.requests.every((r) => r.authorization === `Bearer ${KEY}`), 'every call carried the stored key as its Bearer token');

    // The endpoint rejects the key and, as some providers do, echoes it in its error message.
    server.script({ status: 401, errorMessage: `Incorrect API key provided: ${KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`, times: 10 });
    await runCommand(page, 'Notifications: Clear All Notifications');
    await reasonOnFile(page, 'question.md');
    const errorToast = page.locator('.notifications-toasts .notification-list-item').filter({ hasText: /401/ });
    await errorToast.waitFor({ timeout: 60_000 });
    await finished(wb!);
    const shown = await notifications(page);
    assert.match(shown, /rejected the API key \(401\)\. Run "Budget Reasoner: Set API Key" for http:\/\/127\.0\.0\.1:\d+\/v1/, shown);
    const rejected = server.requests.slice(calls);
    assert.ok(rejected.length >= 1 && rejected.every((r) => r.authorization === `Bearer ${KEY}`), 'the rejected call carried the key');
    assert.ok(server.responses.some((r) => r.status === 401), 'the server answered 401');
    const panelText = await panelFrame(page).locator('body').innerText();
    assert.match(panelText, /401|API key/, 'the panel says why the run stopped');
    for (const text of [shown, panelText]) {
      assert.ok(!text.includes(KEY_TAIL), 'the key is not shown');
    }
    console.log(`      API key: ${calls} calls carried "Bearer <key>"; 401 shown as: "${/[^\n]*401[^\n]*/.exec(shown)?.[0]}"`);
  });

  it('the key is nowhere in settings, the workbench DOM, browser storage (but the sealed secret store) or code-server\'s files', async function () {
    const needles = [KEY, KEY_TAIL];
    const has = (text: string) => needles.some((n) => text.includes(n));
    const { page } = wb!;

    assert.ok(!has(fs.readFileSync(cs.userSettingsPath, 'utf8')), 'not in the user settings.json');

    // Every notification of the session (the notification centre) and the extension's log, on screen.
    await runCommand(page, 'Notifications: Show Notifications');
    await runCommand(page, 'Budget Reasoner: Show Log');
    await page.locator('.notifications-center .notification-list-item').first().waitFor({ timeout: 15_000 });
    const frames = await frameTexts(page);
    assert.ok(frames.length >= 3, `the workbench and the answer panels' frames (${frames.length})`);
    assert.deepEqual(frames.filter((f) => has(f.text)).map((f) => f.url), [], 'no frame shows the key');

    // VS Code in the browser keeps secrets in localStorage "secrets.provider", AES-sealed with a key the
    // server mints; the webview state and the rest of the workbench's storage are in IndexedDB.
    // The workbench writes its state (the panels' webview state with it) to IndexedDB when it flushes,
    // about once a minute: read until that state is there, so the search covers it.
    // Runs share one panel: it saves the run it shows last, the rejected run of the first question.
    const holdsQuestion = (items: Array<{ value: string }>) => items.some((s) => s.value.includes(first.text.slice(0, 40)));
    let stored = await browserStorage(page);
    for (let i = 0; i < 45 && !holdsQuestion(stored); i++) {
      await page.waitForTimeout(2000);
      stored = await browserStorage(page);
    }
    assert.ok(holdsQuestion(stored), 'the search reads the answer panels\' saved webview state (it holds the question)');
    assert.deepEqual(stored.filter((s) => has(s.key) || has(s.value)).map((s) => `${s.where} ${s.key}`), [], 'no browser storage item holds the key in clear');
    const secrets = stored.find((s) => s.where === 'localStorage' && s.key === 'secrets.provider');
    assert.ok(secrets && secrets.value.length > KEY.length, 'the sealed secret store exists (where the key legitimately lives)');
    const profileDir = wb!.profileDir;
    await wb!.close({ keepProfile: true });
    wb = undefined;
    const browserFiles = filesUnder(profileDir);
    const browserHits = filesContaining(browserFiles, needles);
    const browserControl = filesContaining(browserFiles, [first.text.slice(0, 40)]);
    fs.rmSync(profileDir, { recursive: true, force: true });
    assert.deepEqual(browserHits, [], 'no file of the browser profile holds the key');
    assert.ok(browserControl.length >= 1, 'the file search finds the question text the browser stored (IndexedDB)');

    // Stopping code-server flushes every log and storage file before they are read.
    await cs.stop();
    const files = filesUnder(cs.runDir);
    const userDataFiles = files.filter((f) => f.startsWith(cs.userDataDir + path.sep));
    const extensionLog = userDataFiles.find((f) => /Budget Reasoner\.log$/.test(f));
    assert.ok(extensionLog, `the extension's log channel file is among the ${userDataFiles.length} files searched`);
    const log = fs.readFileSync(extensionLog, 'utf8');
    assert.match(log, /\[keys\] key stored for/, 'the log saw the key being stored');
    assert.match(log, /401/, 'the log saw the rejected key');
    assert.ok(userDataFiles.some((f) => f.endsWith(path.join('budget-reasoner.budget-reasoner', 'spend.jsonl'))), 'the ledger is searched');
    assert.ok(filesContaining(files, [server.url]).some((h) => h.file === extensionLog), 'the file search finds the base URL in the log');
    const hits = filesContaining(files, needles);
    assert.deepEqual(hits, [], 'no file under code-server\'s run folder holds the key');
    // code-server keeps no state database of its own (state.vscdb): workbench and webview state are browser-side (IndexedDB).
    const stateDbs = userDataFiles.filter((f) => /\.vscdb$/.test(f)).length;
    console.log(`      key search: ${frames.length} frames, ${stored.length} browser storage items, ${browserFiles.length} browser profile files, `
      + `${files.length} files under the code-server run folder (${userDataFiles.length} in the user-data-dir, ${stateDbs} .vscdb): no hit; `
      + `the key lives only sealed in localStorage "secrets.provider" (${secrets.value.length} chars)`);
  });
});

// VS Code's workspace trust on: a folder whose settings point at another server opens in Restricted Mode.
describe('e2e: security in code-server (untrusted workspace)', function () {
  let server: ModelServer;
  let attacker: ModelServer;
  let cs: CodeServer;
  let wb: Workbench | undefined;
  const question = readTraceQuestion(74);

  before(async function () {
    [server, attacker] = await Promise.all([startModelServer({ tokensPerSecond: 800 }), startModelServer()]);
    cs = await startCodeServer({
      workspaceTrust: true,
      settings: {
        'budgetReasoner.baseUrl': server.url,
        'budgetReasoner.model': 'qwen2.5-math-replay',
      },
    });
    fs.writeFileSync(path.join(cs.workspace, 'question.md'), `${question.text}\n`);
    // A working endpoint and a real model, so that a redirected run would succeed there, not fail.
    fs.mkdirSync(path.join(cs.workspace, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(cs.workspace, '.vscode', 'settings.json'), JSON.stringify({
      'budgetReasoner.baseUrl': attacker.url,
      'budgetReasoner.model': 'o4-mini-replay',
    }));
  });

  closeAfterSpec(() => ({ wb, cs, servers: [server, attacker] }));

  it('in Restricted Mode the extension runs on the user\'s endpoint and model; the workspace\'s server gets nothing', async function () {
    wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace));
    const { page } = wb;
    await answerTrustDialog(page, false);
    await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 30_000 });
    // Activated without any command of its own: the meter is up.
    await meterLabelMatching(wb, /Budget Reasoner: 0 tokens and .* spent today/);

    await reasonOnFile(page, 'question.md');
    await panelFrame(page).locator('#answer').filter({ hasText: question.gold }).waitFor({ timeout: 90_000 });
    await finished(wb);
    const panelText = await panelFrame(page).locator('body').innerText();
    assert.match(panelText, /qwen2\.5-math-replay/, 'the panel names the user\'s model');
    assert.doesNotMatch(panelText, /o4-mini-replay/);
    assert.ok(server.requests.length >= 1, 'the run went to the user\'s server');
    assert.ok(server.requests.every((r) => r.body?.model === 'qwen2.5-math-replay'), 'with the user\'s model');
    assert.deepEqual(attacker.received, [], 'the workspace\'s server received no request at all');
    await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 5_000 });
    console.log(`      untrusted workspace: Restricted Mode; ${server.requests.length} calls to the user's server, ${attacker.received.length} requests to the workspace's server`);
  });
});

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { startCodeServer, workbenchUrl, type CodeServer } from '../../tools/codeServer';
import { readTraceQuestion } from '../../tools/recordedData';
import {
  meterLabelMatching, notifications, openWorkbench, panelFrame, panelFrames, reasonOnFile, runCommand, screenshot, screenshotIfFailed, statusBarMeter, waitUntil,
  type Workbench,
} from '../../tools/workbench';

// The answer panel and the status-bar control in a real VS Code: progressive answers, the curve,
// Stop, Continue, Insert, restore after reload, the budget QuickPick, a cap refusal and hostile output.
describe('e2e: answer panel and budget meter in code-server', function () {
  let server: ModelServer;
  let cs: CodeServer;
  let wb: Workbench;
  const mixed = readTraceQuestion(70); // the recorded chains disagree (19 vs 31): several answers before a stop
  const easy = readTraceQuestion(74);

  /** VS Code rewrites settings.json itself (the QuickPick does): read until it parses. */
  const readSettings = async (): Promise<Record<string, unknown>> => {
    for (let i = 0; ; i++) {
      try {
        return JSON.parse(fs.readFileSync(cs.userSettingsPath, 'utf8'));
      } catch (e) {
        if (i > 50) {
          throw e;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  /** Picks per-request budget items from the status-bar meter's QuickPick, as a user would. */
  async function setBudgetFromMeter(item: string, custom?: string): Promise<void> {
    await wb.page.mouse.move(10, 10);
    await statusBarMeter(wb.page).click();
    await wb.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Set per-request budget' }).click();
    await wb.page.locator('.quick-input-widget .monaco-list-row', { hasText: item }).first().click();
    if (custom !== undefined) {
      const input = wb.page.locator('.quick-input-widget .quick-input-box input');
      await input.fill(custom);
      await wb.page.keyboard.press('Enter');
    }
    const want = custom ?? (item === 'auto' ? 'auto' : item.replace(/\D/g, ''));
    await waitUntil(async () => (await readSettings())['budgetReasoner.requestBudget'] === want, `requestBudget ${want} in settings.json`).catch(() => undefined);
    assert.equal((await readSettings())['budgetReasoner.requestBudget'], want);
  }

  async function ask(file: string, text: string): Promise<void> {
    fs.writeFileSync(path.join(cs.workspace, file), `${text}\n`);
    await reasonOnFile(wb.page, file);
  }

  /** The newest panel (each run opens its own, in the same editor group, so it is the visible one). */
  const panel = () => panelFrame(wb.page);
  const finished = () => panel().locator('#status[data-state="finished"]').waitFor({ timeout: 90_000 });

  before(async function () {
    server = await startModelServer({ tokensPerSecond: 600 });
    cs = await startCodeServer({
      settings: {
        'budgetReasoner.baseUrl': server.url,
        'budgetReasoner.model': 'qwen2.5-math-replay',
        'budgetReasoner.estimator': 'local',
      },
    });
    wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace));
  });

  afterEach(async function () {
    await screenshotIfFailed(this.currentTest, wb);
    // Close editors and panels so each test starts from one clean editor group.
    await runCommand(wb.page, 'View: Close All Editor Groups').catch(() => undefined);
    server.reset();
    server.setTokensPerSecond(600);
    // A failed test must not leave its budget to the next one.
    const budget = (await readSettings())['budgetReasoner.requestBudget'];
    if (budget !== undefined && budget !== 'auto') {
      await setBudgetFromMeter('auto').catch(() => undefined);
    }
  });

  after(async function () {
    await wb?.close();
    await cs?.stop();
    await server?.close();
  });

  it('shows progressive answers in order, the anytime curve, and an early stop', async function () {
    await ask('mixed.md', mixed.text);
    await finished();
    const items = panel().locator('#answers .answer-item');
    assert.ok(await items.count() >= 2, `at least two progressive answers (got ${await items.count()})`);
    // Newest on top: the tokens at which answers appeared decrease down the list.
    const tokens = (await items.evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.tokens))));
    assert.deepEqual(tokens, [...tokens].sort((a, b) => b - a), `answers newest first: ${tokens}`);
    assert.ok(await panel().locator('#curve .curve-point').count() >= 2, 'the curve has points');
    assert.match(await panel().locator('#anytime-index').innerText(), /\d\.\d\d/);
    const status = await panel().locator('#status').innerText();
    assert.match(status, /converged|budget|most chains drawn/i);
    assert.match(await panel().locator('#answer').innerText(), /19|31/);
    await screenshot(wb.page, 'progressive.png');
  });

  it('Stop ends the stream within 500 ms and keeps the partial answer', async function () {
    server.setTokensPerSecond(25);
    await ask('slow.md', easy.text);
    await panel().locator('#reasoning').filter({ hasText: /\w{3,}/ }).waitFor({ timeout: 30_000 });
    const before = await panel().locator('#reasoning').innerText();
    // Clicked from inside the page so the time starts at the click itself, not at Playwright's checks.
    const [stopFrame] = (await panelFrames(wb.page)).slice(-1);
    const t0 = await stopFrame.evaluate(() => {
      (document.getElementById('stop') as HTMLButtonElement).click();
      return Date.now();
    });
    await panel().locator('#status').filter({ hasText: /stopped/i }).waitFor({ timeout: 5_000 });
    const shown = Date.now() - t0;
    // The stream's end as the server saw it (the client closed the connection), free of DOM polling.
    for (let i = 0; i < 50 && server.responses.at(-1)?.endedAt === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const streamEnded = server.responses.at(-1)!.endedAt! - t0;
    console.log(`      Stop: stream closed after ${streamEnded} ms, panel said so after ${shown} ms`);
    assert.ok(streamEnded < 500, `the stream stopped ${streamEnded} ms after the click`);
    const after = await panel().locator('#reasoning').innerText();
    assert.ok(after.length >= before.length && after.startsWith(before.slice(0, 20)), 'the partial reasoning stays visible');
  });

  it('Continue adds budget and produces a further answer', async function () {
    await setBudgetFromMeter('Custom', '400');
    await ask('continue.md', mixed.text);
    await finished();
    const count = await panel().locator('#answers .answer-item').count();
    await panel().locator('#continue').click();
    await panel().locator('#continue-tokens').fill('2000');
    await panel().locator('#continue-confirm').click();
    await panel().locator('#answers .answer-item').nth(count).waitFor({ timeout: 60_000 });
    await finished();
    assert.ok(await panel().locator('#answers .answer-item').count() > count, 'a further answer after Continue');
    await setBudgetFromMeter('auto');
  });

  it('Replace selection puts the answer into the editor the question came from', async function () {
    await ask('insert.md', easy.text);
    await finished();
    const answer = (await panel().locator('#answer').innerText()).trim();
    assert.equal(answer, easy.gold);
    await panel().locator('#replace').click();
    await wb.page.locator('.monaco-editor .view-lines', { hasText: answer }).first().waitFor({ timeout: 10_000 });
    const editorText = await wb.page.locator('.monaco-editor .view-lines').first().innerText();
    assert.ok(!editorText.includes('composite'), 'the question was replaced');
    assert.match(editorText, new RegExp(`^\\s*${answer}`));
  });

  it('restores a finished panel after a window reload', async function () {
    await ask('restore.md', easy.text);
    await finished();
    const answer = await panel().locator('#answer').innerText();
    // Through VS Code's own lifecycle, so the workbench saves its editors and webview state first.
    await runCommand(wb.page, 'Developer: Reload Window');
    await wb.page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    await panel().locator('#answer').filter({ hasText: answer.trim() }).waitFor({ timeout: 60_000 });
    assert.match(await panel().locator('#status').innerText(), /converged|budget/i);
  });

  it('the idle meter shows today against the daily cap with the last run in its tooltip, and its QuickPick changes the budget', async function () {
    await ask('meter.md', easy.text);
    await finished();
    const meter = statusBarMeter(wb.page);
    const label = await meterLabelMatching(wb.page, /; last run \d+ of \d+ tokens/);
    assert.match(label, /^Budget Reasoner: \d+ tokens and \$0 spent today, 0% of the \$2\.00 daily cap; last run \d+ of \d+ tokens, \$0$/);
    assert.match(await meter.innerText(), /\$0\/\$2\.00 today/);
    await meter.hover();
    const hover = wb.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'last run' }).first();
    await hover.waitFor({ timeout: 10_000 });
    const tooltip = await hover.innerText();
    for (const part of ['this session', 'today', 'this month', 'Caps', 'qwen2.5-math-replay']) {
      assert.ok(tooltip.includes(part), `tooltip mentions ${part}: ${tooltip}`);
    }
    await screenshot(wb.page, 'meter-tooltip.png');
    await setBudgetFromMeter('1,000 tokens');
    await setBudgetFromMeter('auto');
  });

  it('refuses a run that cannot fit the request budget, says which cap, and sends nothing', async function () {
    await setBudgetFromMeter('Custom', '10');
    const sent = server.requests.length;
    await ask('cap.md', easy.text);
    // This refusal's own toast: an earlier run may have left another cap's toast up.
    await wb.page.locator('.notifications-toasts').filter({ hasText: /token budget \(10 tokens\)/ }).waitFor({ timeout: 30_000 });
    assert.match(await notifications(wb.page), /Not sent: this request's token budget \(10 tokens\) leaves no room/);
    // The toast and the panel's status come from the same refusal but render apart: wait for the panel too.
    await panel().locator('#status').filter({ hasText: /cap/i }).waitFor({ timeout: 30_000 }).catch(() => undefined);
    assert.match(await panel().locator('#status').innerText(), /cap/i);
    assert.equal(server.requests.length, sent, 'no request reached the server');
    await screenshot(wb.page, 'cap-refusal.png');
    await setBudgetFromMeter('auto');
  });

  it('renders hostile model output inert: nothing executes, the text shows escaped', async function () {
    // The answer's line first: a chain that a grant cuts short (a prose chain's text stands as it is) still holds it.
    const payload = (take: number) => [
      `Attempt ${take}. So the answer is \\boxed{<img src=y onerror="window.__pwned=7">}`,
      `<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2">`,
      '[click me](javascript:window.__pwned=3) <a href="data:text/html,<script>parent.__pwned=4</script>">data</a>',
      '<svg><script>window.__pwned=5</script></svg> <style>@import url(http://127.0.0.1:1/x)</style>',
      '<meta http-equiv="Content-Security-Policy" content="script-src *"><iframe srcdoc="<script>parent.__pwned=6</script>"></iframe>',
    ].join('\n\n');
    // Distinct chains with one answer, as a sampling model writes them: copies of one reply would not be counted.
    server.script(...Array.from({ length: 20 }, (_, i) => ({ content: payload(i + 1) })));
    await ask('xss.md', 'What does this hostile model say?');
    await finished();
    await panel().locator('#answer-chain summary').click().catch(() => undefined);
    await panel().locator('a', { hasText: 'click me' }).first().click().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    for (const frame of await panelFrames(wb.page)) {
      assert.equal(await frame.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'nothing ran in the panel');
      const injected = await frame.evaluate(() => [...document.querySelectorAll('script')].filter((sc) => sc.textContent?.includes('__pwned')).length);
      assert.equal(injected, 0, 'no injected script element');
      // Our own CSP <meta> is in <head>; nothing of the model's may appear in <body>.
      assert.equal(await frame.locator('body [onerror], body iframe, body meta, body base, body style').count(), 0, 'no handler, frame, meta, base or style survived');
    }
    assert.equal(await wb.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'nothing ran in the workbench');
    assert.match(await panel().locator('#answer').innerText(), /<img\s*src=y\s*onerror/, 'the answer shows as literal text');
    await screenshot(wb.page, 'xss.png');
    server.reset();
  });
});

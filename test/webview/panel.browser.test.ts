import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { runAnytimeIndex } from '../../src/core/reasoning/anytimeIndex';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { runListEntry } from '../../src/core/view/panelRuns';
import { REASONING_LIMIT_CHARS, initialRunView, reduceRunView, type RunHeader, type RunView } from '../../src/core/view/runView';
import type { ToWebviewMessage } from '../../src/protocol';
import {
  launchChromium, openPanel, publishedMessages, startHarnessServer, streamed,
  type HarnessServer, type PanelPage,
} from '../../tools/panelHarness';
import { repoRoot } from '../../tools/repoRoot';
import { loadRecordedRun, screenshotPath } from './panelFixtures';

// The answer panel's real page and bundle (dist/webview.js, built by `node esbuild.js`) in Debian's
// chromium under the panel's CSP, fed the messages the host-side publisher makes from a recorded run.
describe('answer panel webview (chromium)', function () {
  // Chromium on a shared 2-core machine: generous, and independent of the unit tests' .mocharc timeout.
  this.timeout(120_000);
  let server: HarnessServer;
  let browser: Browser;
  const run = loadRecordedRun();
  const recorded = publishedMessages(run.header, streamed(run.events));

  before(async function () {
    assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'webview.js')), 'dist/webview.js exists: run `node esbuild.js` first');
    server = await startHarnessServer();
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await server?.close();
  });

  async function finishedPanel(theme: 'dark' | 'light' | 'high-contrast' = 'dark'): Promise<PanelPage> {
    const p = await openPanel(browser, server.origin, { theme });
    await p.deliver(recorded.messages);
    await p.settle();
    return p;
  }

  it('batches a streamed run into far fewer posts than events', function () {
    assert.ok(recorded.events > 2000, `the recorded run streams ${recorded.events} events`);
    // 2.5 ms between events and one post per 33 ms at most: about one post per 13 events.
    assert.ok(recorded.posts <= Math.ceil((recorded.events * 2.5) / 33) + 2, `${recorded.posts} posts for ${recorded.events} events`);
    assert.equal(recorded.messages[0].type, 'snapshot');
    console.log(`      publisher: ${recorded.events} events -> ${recorded.posts} posts (${(recorded.events / recorded.posts).toFixed(1)} events per post)`);
  });

  it('renders the recorded run: best answer, progressive answers, curve, Anytime Index, status and spend', async function () {
    const p = await finishedPanel('dark');
    const { page } = p;
    const final = run.events.reduce(reduceRunView, initialRunView(run.header));
    const answers = run.events.filter((e): e is Extract<RunEvent, { type: 'answer' }> => e.type === 'answer');

    assert.equal(await page.getAttribute('#answer', 'data-answer'), run.gold);
    assert.equal(await page.getAttribute('#answer', 'role'), 'status');
    assert.equal(await page.getAttribute('#answer', 'aria-live'), 'polite');
    assert.ok(await page.locator('#answer .katex').count(), 'the TeX answer is typeset');

    const items = page.locator('#answers .answer-item');
    assert.equal(await items.count(), answers.length);
    // Newest on top.
    assert.equal(Number(await items.first().getAttribute('data-tokens')), answers[answers.length - 1].tokensSoFar);
    assert.equal(Number(await items.last().getAttribute('data-confidence')), answers[0].confidence);

    assert.equal(await page.locator('#curve .curve-point').count(), final.curve.points.length);
    // The run's own index (what the log prints): from the origin to the output tokens spent.
    const expectedIndex = runAnytimeIndex(answers.map((a) => ({ tokens: a.tokensSoFar, quality: a.confidence })), final.budget.completionTokens);
    assert.equal(await page.textContent('#anytime-index'), `Anytime Index ${expectedIndex.toFixed(2)}`);
    assert.equal(await page.locator('#curve .curve-early-stop').count(), 1, 'the converged run marks its early stop');

    const status = (await page.textContent('#status')) ?? '';
    assert.match(status, /^Converged: 6 of 8 chains agree/);
    assert.match(status, new RegExp(`spent ${final.budget.spentTokens.toLocaleString('en-US')} tokens`));
    assert.equal(await page.textContent('#spend'), `${final.budget.spentTokens.toLocaleString('en-US')} / 6,400 tokens · $${final.budget.dollars!.toFixed(4)}`);
    assert.equal(await page.isHidden('#stop'), true, 'Stop shows only while running');
    assert.equal(await page.isEnabled('#continue'), true);

    // The question's inline math is typeset (KaTeX styles applied through CSSOM under the CSP).
    assert.ok(await page.locator('#question .katex').count());
    const strutHeight = await page.$eval('#answer .katex .strut', (el) => (el as HTMLElement).style.height);
    assert.match(strutHeight, /em$/);
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations), [], 'no CSP violations');
    assert.deepEqual(p.pageErrors, []);

    // The chain behind the best answer renders as markdown only when opened.
    await page.click('#answer-chain > summary');
    await page.locator('#answer-chain-body .katex').first().waitFor();
    await page.screenshot({ path: screenshotPath('panel-dark.png'), fullPage: true });
    await page.context().close();
  });

  it('looks right in the light and high-contrast themes, and mid-run', async function () {
    const light = await finishedPanel('light');
    await light.page.screenshot({ path: screenshotPath('panel-light.png'), fullPage: true });
    assert.equal(await light.page.evaluate(() => document.body.className), 'vscode-light');
    await light.page.context().close();

    const hc = await finishedPanel('high-contrast');
    await hc.page.screenshot({ path: screenshotPath('panel-high-contrast.png'), fullPage: true });
    await hc.page.context().close();

    const mid = await openPanel(browser, server.origin, { theme: 'dark' });
    await mid.deliver(recorded.messages.slice(0, Math.floor(recorded.messages.length * 0.45)));
    await mid.settle();
    assert.match((await mid.page.textContent('#status')) ?? '', /^Running · attempt \d+/);
    assert.equal(await mid.page.isVisible('#stop'), true);
    assert.equal(await mid.page.isDisabled('#continue'), true);
    assert.ok(((await mid.page.textContent('#reasoning')) ?? '').length > 100, 'live reasoning is shown');
    await mid.page.screenshot({ path: screenshotPath('panel-running-dark.png'), fullPage: true });
    await mid.page.context().close();
  });

  it('posts one well-formed message per action, and the controls are reachable by keyboard', async function () {
    const p = await finishedPanel('dark');
    const { page } = p;
    const before = (await p.posted()).length;
    assert.equal(await page.inputValue('#rerun-strategy'), run.header.strategy, "Re-run proposes the run's own strategy");
    await page.click('#copy');
    await page.click('#insert');
    await page.click('#replace');
    await page.selectOption('#rerun-strategy', 'value-guided');
    await page.click('#rerun');
    await page.click('#spend-report');
    await page.click('#continue');
    assert.equal(await page.inputValue('#continue-tokens'), '6400', 'Continue proposes doubling the budget');
    await page.keyboard.press('Enter');
    await page.click('#answers .answer-item:last-child .item-copy');
    const posted = (await p.posted()).slice(before);
    assert.deepEqual(posted, [
      { type: 'copy' },
      { type: 'insert', mode: 'cursor' },
      { type: 'insert', mode: 'replace' },
      { type: 'rerun', strategy: 'value-guided', preferenceExamples: false },
      { type: 'openSpendReport' },
      { type: 'continue', extraTokens: 6400 },
      { type: 'copy', answerIndex: 0 },
    ]);

    // Tab order reaches every toolbar control, and focus is visible.
    await page.focus('#continue');
    const order: string[] = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement?.id ?? ''));
    }
    assert.deepEqual(order, ['copy', 'insert', 'replace', 'rerun-strategy', 'rerun', 'rerun-examples', 'spend-report']);
    const outline = await page.$eval('#spend-report', (el) => getComputedStyle(el).outlineStyle);
    assert.equal(outline, 'solid');
    await page.context().close();
  });

  it('draws every best answer, even when the messages of the whole run arrive between two frames', async function () {
    const p = await openPanel(browser, server.origin);
    // Which answer #answer showed, change by change: each record keeps the value it replaced.
    await p.page.evaluate(`(() => {
      window.__replacedIndices = [];
      new MutationObserver((records) => {
        for (const r of records) window.__replacedIndices.push(r.oldValue);
      }).observe(document.getElementById('answer'), { attributes: true, attributeFilter: ['data-index'], attributeOldValue: true });
    })()`);
    await p.deliver(recorded.messages); // one task: no animation frame between the messages
    await p.settle();
    const replaced = await p.page.evaluate('window.__replacedIndices') as Array<string | null>;
    const shown = [...new Set([...replaced, await p.page.getAttribute('#answer', 'data-index')])].filter((i) => i !== null);
    const answers = run.events.filter((e) => e.type === 'answer').length;
    assert.ok(answers >= 3, `the recorded run has ${answers} answers`);
    assert.deepEqual(shown, Array.from({ length: answers }, (_, i) => String(i)), 'each answer drawn in turn');
    await p.page.context().close();
  });

  it('lists the panel\'s runs, shows the one clicked with its own strategy proposed, and ignores a malformed list', async function () {
    const p = await finishedPanel('dark');
    const { page } = p;
    const first = run.events.reduce(reduceRunView, initialRunView(run.header));
    const second = reduceRunView(initialRunView({ ...run.header, runId: 'second-run', strategy: 'single', question: 'What is <b>6</b> times 7?' }), {
      type: 'answer', answer: '42', text: 'So 42.', confidence: 0.6, tokensSoFar: 30, changed: true, ruleState: '',
    });
    const list = (shown: RunView) => ({ type: 'runs' as const, runs: [runListEntry(first), runListEntry(second)], shown: shown.header.runId });
    await p.deliver([{ type: 'runs', runs: [runListEntry(first)], shown: first.header.runId }]);
    await p.settle();
    assert.equal(await page.isHidden('#runs'), true, 'one run: no list');

    // A second run comes into the panel: its view, then the list with it shown.
    await p.deliver([{ type: 'snapshot', seq: 900, view: second }, list(second)]);
    await p.settle();
    const chips = page.locator('#runs .run-chip');
    assert.deepEqual(await chips.allInnerTexts(), [`#1 anytime self-consistency · ${run.gold}`, '#2 single chain · 42 · running']);
    assert.equal(await chips.nth(1).getAttribute('aria-current'), 'true');
    assert.match((await chips.nth(1).getAttribute('title')) ?? '', /^What is <b>6<\/b> times 7\? · single chain · running/);
    assert.equal(await page.locator('#runs b').count(), 0, 'titles are text');
    assert.equal(await page.inputValue('#rerun-strategy'), 'single', 'Re-run proposes the shown run\'s strategy');
    assert.equal(await page.locator('#attempts .attempt').count(), 0, 'no attempt row of the first run stays');

    // One click on the first run asks the host for it; its view comes back as a snapshot.
    const before = (await p.posted()).length;
    await chips.nth(0).click();
    await chips.nth(1).click(); // the shown run: nothing to ask
    assert.deepEqual((await p.posted()).slice(before), [{ type: 'showRun', runId: first.header.runId }]);
    await p.deliver([{ type: 'snapshot', seq: 901, view: first }, list(first)]);
    await p.settle();
    assert.equal(await page.getAttribute('#answer', 'data-answer'), run.gold);
    assert.equal(await page.inputValue('#rerun-strategy'), run.header.strategy);
    assert.equal(await chips.nth(0).getAttribute('aria-current'), 'true');

    // A list that names a run it does not carry, or carries a bad entry, changes nothing.
    await p.deliver([
      { type: 'runs', runs: [runListEntry(first)], shown: 'nobody' },
      { type: 'runs', runs: [{ ...runListEntry(second), strategy: 'debate' as never }, runListEntry(first)], shown: first.header.runId },
    ]);
    await p.settle();
    assert.equal(await chips.count(), 2);
    assert.deepEqual(p.pageErrors, []);
    await page.context().close();
  });

  it('asks for a snapshot when an update is missing, and recovers from it', async function () {
    const p = await openPanel(browser, server.origin);
    const [snapshot, ...updates] = recorded.messages;
    await p.deliver([snapshot, ...updates.slice(0, 20), ...updates.slice(21, 40)]);
    await p.settle();
    const requests = (await p.posted()).filter((m) => m.type === 'requestSnapshot');
    assert.equal(requests.length, 1);
    assert.deepEqual(requests[0], { type: 'requestSnapshot', lastSeq: updates[19].type === 'update' ? updates[19].seq : -1 });
    // The host answers with a complete snapshot of the same run.
    const final = run.events.reduce(reduceRunView, initialRunView(run.header));
    await p.deliver([{ type: 'snapshot', seq: 500, view: final }]);
    await p.settle();
    assert.equal(await p.page.getAttribute('#answer', 'data-answer'), run.gold);
    assert.equal(await p.page.locator('#answers .answer-item').count(), final.answers.length);
    await p.page.context().close();
  });

  it('restores a stored finished run before the host says anything (window reload)', async function () {
    const p = await finishedPanel();
    const stored = await p.page.evaluate(() => (window as unknown as { __storedState: unknown }).__storedState);
    await p.page.context().close();
    const restored = await openPanel(browser, server.origin, { initialState: stored });
    await restored.settle();
    assert.equal(await restored.page.getAttribute('#answer', 'data-answer'), run.gold);
    assert.match((await restored.page.textContent('#status')) ?? '', /^Converged/);
    assert.equal(await restored.page.locator('#curve .curve-point').count(), 8);
    await restored.page.context().close();
  });

  it('streams 20,000 tokens of reasoning without parsing markdown per delta and keeps the text bounded', async function () {
    const header: RunHeader = { ...run.header, runId: 'long', strategy: 'single' };
    const chain = run.events.filter((e): e is Extract<RunEvent, { type: 'delta' }> => e.type === 'delta').map((e) => e.text).join('\n');
    const events: RunEvent[] = [
      { type: 'budget-estimated', tokens: 24000, source: 'fixed' },
      { type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 24000 },
    ];
    let text = '';
    for (let i = 0; i < 20_000; i++) {
      const piece = chain.slice((i * 4) % (chain.length - 4), ((i * 4) % (chain.length - 4)) + 4);
      text += piece;
      events.push({ type: 'delta', attempt: 1, text: piece });
    }
    const { messages, posts } = publishedMessages(header, events);
    const p = await openPanel(browser, server.origin);
    await p.deliver(messages.slice(0, 1));
    await p.settle();
    const markdownBefore = await p.page.evaluate(() => (window as unknown as { __budgetReasonerPanel: { markdownRenders: number } }).__budgetReasonerPanel.markdownRenders);
    // Deliver a few posts per animation frame (the real host posts ~30 a second, the page paints at 60).
    const rest = messages.slice(1);
    await p.page.evaluate(async (all) => {
      const w = window as unknown as { __deliver: (m: unknown[]) => void };
      for (let i = 0; i < all.length; i += 4) {
        w.__deliver(all.slice(i, i + 4));
        await new Promise((r) => requestAnimationFrame(() => r(undefined)));
      }
    }, rest as unknown[]);
    await p.settle();
    const stats = await p.page.evaluate(() => (window as unknown as { __budgetReasonerPanel: { markdownRenders: number; renders: number; renderMs: number[] } }).__budgetReasonerPanel);
    assert.equal(stats.markdownRenders, markdownBefore, 'no markdown parse while reasoning streams');
    assert.ok(stats.renders >= rest.length / 4, `${stats.renders} renders`);
    const shown = (await p.page.textContent('#reasoning')) ?? '';
    assert.ok(shown.length <= REASONING_LIMIT_CHARS, `shown ${shown.length} chars`);
    assert.ok(text.endsWith(shown), 'the panel shows the exact tail of the streamed text');
    assert.ok(shown.length >= (REASONING_LIMIT_CHARS * 3) / 4);
    const ms = [...stats.renderMs].sort((a, b) => a - b);
    console.log(`      20,000 deltas -> ${posts} posts -> ${stats.renders} renders; render work per frame: median ${ms[Math.floor(ms.length / 2)].toFixed(2)} ms, p95 ${ms[Math.floor(ms.length * 0.95)].toFixed(2)} ms`);
    await p.page.context().close();
  });

  describe('untrusted model output stays inert', function () {
    const payloads = [
      '<script>window.__pwned=1</script>',
      '<img src=x onerror="window.__pwned=1">',
      '[x](javascript:window.__pwned=1)',
      '<svg><script>window.__pwned=1</script></svg>',
      '<svg onload="window.__pwned=1"><circle r="5"></circle></svg>',
      '<a href="data:text/html,<script>parent.__pwned=1</script>">data link</a>',
      '<style>@import url(http://127.0.0.1:1/x); body { background: url(http://127.0.0.1:1/bg) }</style>',
      '<meta http-equiv="Content-Security-Policy" content="script-src * \'unsafe-inline\'"><script>window.__pwned=1</script>',
      '<base href="http://127.0.0.1:1/">',
      '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
      '<form action="http://127.0.0.1:1/"><button id="copy">x</button></form>',
      '<a id="answer" href="https://example.com/">clobber</a>',
      '<div style="position:fixed;inset:0;background:url(http://127.0.0.1:1/s)">overlay</div>',
      '$\\href{javascript:window.__pwned=1}{click}$ and $\\htmlStyle{color:red}{x}$ and $\\includegraphics{http://127.0.0.1:1/i.png}$',
      '<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=1>',
      '[web](https://example.com/docs)',
    ];

    function hostileView(): RunView {
      let view = initialRunView({
        runId: 'xss', question: payloads.join('\n\n'), model: '<img src=x onerror=window.__pwned=1>', strategy: 'single',
        caps: ['<script>window.__pwned=1</script>'], providerBillsInDollars: true,
      });
      view = reduceRunView(view, { type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 100 });
      view = reduceRunView(view, { type: 'delta', attempt: 1, text: payloads.join('\n') });
      payloads.forEach((payload, i) => {
        view = reduceRunView(view, {
          type: 'answer', answer: payload, text: `Step ${i}:\n\n${payload}\n\nMore: ${payloads.join('\n\n')}`,
          confidence: 0.5, tokensSoFar: 10 * (i + 1), changed: true, ruleState: '<b>1 of 1</b> agree',
        });
      });
      return reduceRunView(view, { type: 'error', message: '<img src=x onerror=window.__pwned=1>', kind: 'http' });
    }

    it('no script runs, no request leaves, dangerous elements and links are gone, answers show as text', async function () {
      const p = await openPanel(browser, server.origin);
      const { page } = p;
      const requestsBefore = p.pageRequests.length;
      const message: ToWebviewMessage = { type: 'snapshot', seq: 1, view: hostileView() };
      await p.deliver([message]);
      await p.settle();
      // Open every chain so each payload is rendered as markdown too.
      await page.click('#answer-chain > summary');
      for (const summary of await page.locator('#answers details > summary').all()) {
        await summary.click();
      }
      await p.settle();

      // A short answer is shown as plain text, exactly as the model wrote it.
      assert.equal(await page.locator('#answers .answer-item[data-index="1"] .item-answer').textContent(), payloads[1]);
      assert.equal(await page.textContent('#meta .meta-part'), '<img src=x onerror=window.__pwned=1>');

      const found = await page.evaluate(() => {
        const root = document.getElementById('root')!;
        const links = Array.from(root.querySelectorAll('a'));
        return {
          dangerous: Array.from(root.querySelectorAll('script, iframe, frame, object, embed, style, link, meta, base, form, img, svg:not(#curve), math:not(.katex math), [onerror], [onload]'), (e) => e.outerHTML.slice(0, 120)),
          // Only KaTeX's layout (re-applied through CSSOM) may style anything inside model output.
          styled: root.querySelectorAll('.markdown [style]:not(.katex, .katex *, .katex-error), .item-answer [style]:not(.katex, .katex *, .katex-error)').length,
          hrefs: links.map((a) => a.getAttribute('href')).filter((h) => h !== null),
          ids: Array.from(root.querySelectorAll('.markdown [id]')).map((e) => e.id),
          answers: document.querySelectorAll('#answer').length,
          baseURI: document.baseURI,
          bodyBackground: getComputedStyle(document.body).backgroundImage,
        };
      });
      assert.deepEqual(found.dangerous, []);
      assert.equal(found.styled, 0);
      assert.ok(found.hrefs.length > 0 && found.hrefs.every((h) => h === 'https://example.com/docs' || h === 'https://example.com/'), JSON.stringify(found.hrefs));
      assert.ok(found.ids.every((id) => id.startsWith('user-content-')), `ids in model output are prefixed: ${found.ids}`);
      assert.equal(found.answers, 1, 'model output cannot add a second #answer');
      assert.ok(found.baseURI.startsWith(server.origin), found.baseURI);
      assert.equal(found.bodyBackground, 'none');

      // Clicking the javascript: link and the data: link does nothing; the web link goes to the host.
      const postedBefore = (await p.posted()).length;
      await page.locator('#answer-chain-body a', { hasText: /^x$/ }).first().click();
      await page.locator('#answer-chain-body a', { hasText: 'data link' }).first().click();
      await page.locator('#answer-chain-body a', { hasText: 'web' }).first().click();
      await p.settle();
      assert.deepEqual((await p.posted()).slice(postedBefore), [{ type: 'openLink', href: 'https://example.com/docs' }]);
      assert.equal(page.url(), `${server.origin}/panel?theme=dark`, 'the panel never navigates');

      assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
      const unexpected = p.pageRequests.slice(requestsBefore).filter((u) => !/\/dist\/katex\/fonts\/KaTeX_[\w-]+\.woff2$/.test(u));
      assert.deepEqual(unexpected, [], 'no request other than KaTeX fonts');
      assert.ok(server.requests.every((r) => /^GET \/(panel|harness\/|dist\/|media\/|favicon\.ico)/.test(r)), server.requests.join(', '));
      assert.deepEqual(p.pageErrors, []);
      await page.screenshot({ path: screenshotPath('panel-xss-dark.png'), fullPage: true });
      await page.context().close();
    });
  });
});

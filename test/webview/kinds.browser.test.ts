import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { fencedBlocks } from '../../src/core/reasoning/answerKinds';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import { initialRunView, reduceRunView, type RunHeader } from '../../src/core/view/runView';
import type { FromWebviewMessage, ToWebviewMessage } from '../../src/protocol';
import { launchChromium, openPanel, publishedMessages, startHarnessServer, type HarnessServer, type PanelPage } from '../../tools/panelHarness';
import { repoRoot } from '../../tools/repoRoot';
import { codeRun, proseRun, screenshotPath } from './panelFixtures';

type Stats = { markdownRenders: number; highlighterLoads: number; highlighted: number };

const HIGHLIGHTER = /\/dist\/webview-highlight\.js$/;

// Code and prose answers in the panel's real page and bundles (dist/webview.js, and the highlighter
// dist/webview-highlight.js it loads on demand) in Debian's chromium under the panel's CSP.
describe('answer panel webview: code and prose answers (chromium)', function () {
  this.timeout(120_000);
  let server: HarnessServer;
  let browser: Browser;

  before(async function () {
    for (const file of ['webview.js', 'webview-highlight.js']) {
      assert.ok(fs.existsSync(path.join(repoRoot, 'dist', file)), `dist/${file} exists: run \`node esbuild.js\` first`);
    }
    server = await startHarnessServer();
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await server?.close();
  });

  async function panelWith(run: { header: RunHeader; events: RunEvent[] }, theme: 'dark' | 'light' | 'high-contrast' = 'dark'): Promise<PanelPage> {
    const p = await openPanel(browser, server.origin, { theme });
    await p.deliver(publishedMessages(run.header, run.events).messages);
    await p.settle();
    return p;
  }

  const stats = (p: PanelPage) => p.page.evaluate(() => {
    const s = (window as unknown as { __budgetReasonerPanel: Stats }).__budgetReasonerPanel;
    return { markdownRenders: s.markdownRenders, highlighterLoads: s.highlighterLoads, highlighted: s.highlighted };
  });
  const violations = (p: PanelPage) => p.page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
  /** Elements inside code blocks that are not spans with highlight.js classes only, and any attribute but class. */
  const foreignInCode = (p: PanelPage) => p.page.evaluate(() => Array.from(document.querySelectorAll('.code-block pre code *'))
    .filter((el) => el.tagName !== 'SPAN' || Array.from(el.attributes).some((a) => a.name !== 'class')
      || Array.from(el.classList).some((c) => !/^(?:hljs-[a-z][a-z0-9-]*|[a-z][a-z0-9]*_+)$/.test(c)))
    .map((el) => el.outerHTML.slice(0, 120)));

  it('highlights a code answer, loading the highlighter only once a code block appears', async function () {
    const run = codeRun();
    const { messages } = publishedMessages(run.header, run.events);
    const firstAnswer = messages.findIndex((m) => m.type === 'update' && (m.changes.answers?.length ?? 0) > 0);
    assert.ok(firstAnswer > 1, `the first answer arrives in message ${firstAnswer}`);
    const p = await openPanel(browser, server.origin);
    const { page } = p;
    // The run streams its chains (with fences, shown as plain text) and no answer yet.
    await p.deliver(messages.slice(0, firstAnswer));
    await p.settle();
    assert.match((await page.textContent('#reasoning')) ?? '', /```typescript/);
    assert.deepEqual(p.pageRequests.filter((u) => HIGHLIGHTER.test(u)), [], 'no highlighter before a code block');
    assert.equal(await page.evaluate(() => (globalThis as Record<symbol, unknown>)[Symbol.for('budgetReasoner.highlighter')] === undefined), true);
    assert.equal((await stats(p)).highlighterLoads, 0);
    assert.equal(await page.locator('.code-block').count(), 0);

    await p.deliver(messages.slice(firstAnswer));
    await page.locator('#answer code.hljs').waitFor();
    assert.equal(await page.getAttribute('#answer', 'data-kind'), 'code');
    assert.equal(await page.textContent('#answer pre code'), run.answer, 'the code, exactly');
    assert.equal(await page.getAttribute('#answer .code-block', 'data-language'), 'typescript');
    assert.equal(await page.textContent('#answer .code-lang'), 'typescript');
    assert.ok(await page.locator('#answer .hljs-keyword').count() >= 5, 'keywords are marked');
    assert.ok(await page.locator('#answer .hljs-string').count() >= 1, 'strings are marked');
    // Coloured by the theme's variables, not by a stylesheet of fixed colours.
    const keywordColour = await page.$eval('#answer .hljs-keyword', (el) => getComputedStyle(el).color);
    assert.equal(keywordColour, 'rgb(78, 148, 206)', 'keywords take --vscode-debugTokenExpression-boolean');
    assert.deepEqual(await foreignInCode(p), []);
    assert.equal(p.pageRequests.filter((u) => HIGHLIGHTER.test(u)).length, 1, 'loaded once');
    assert.equal((await stats(p)).highlighterLoads, 1);
    // The live reasoning stays plain text.
    assert.equal(await page.locator('#reasoning .hljs, #reasoning .code-block').count(), 0);
    assert.deepEqual(await violations(p), [], 'no CSP violations: the highlighter carries the nonce');
    assert.deepEqual(p.pageErrors, []);
    await page.screenshot({ path: screenshotPath('panel-code-dark.png'), fullPage: true });
    await page.context().close();
  });

  it('labels the main actions for code, and Copy/Insert on a code block post its answer and block', async function () {
    const run = codeRun();
    const p = await panelWith(run);
    const { page } = p;
    assert.equal(await page.textContent('#copy'), 'Copy code');
    assert.equal(await page.textContent('#insert'), 'Insert at cursor');
    assert.equal(await page.textContent('#replace'), 'Replace selection (shows a diff)');
    assert.equal(await page.isVisible('#replace'), true, 'the run came from a selection');
    const before = (await p.posted()).length;
    await page.click('#copy');
    await page.click('#insert');
    await page.click('#replace');
    await page.click('#answer .code-copy');
    await page.click('#answer .code-insert');
    const last = (await page.getAttribute('#answer', 'data-index'))!;
    assert.equal(last, '2');
    assert.deepEqual((await p.posted()).slice(before), [
      { type: 'copy' },
      { type: 'insert', mode: 'cursor' },
      { type: 'insert', mode: 'replace' },
      { type: 'copy', answerIndex: 2, block: 0 },
      { type: 'insert', mode: 'cursor', answerIndex: 2, block: 0 },
    ] satisfies FromWebviewMessage[]);
    await page.context().close();

    // A code run typed as a question (no selection): nothing to replace.
    const typed = codeRun({ runId: 'typed' });
    delete typed.header.context;
    delete typed.header.about;
    const q = await panelWith(typed);
    assert.equal(await q.page.isHidden('#replace'), true);
    assert.equal(await q.page.isHidden('#about'), true);
    await q.page.context().close();
  });

  it('renders a prose answer as markdown, with Copy/Insert per block naming its index in the answer', async function () {
    const run = proseRun();
    const p = await panelWith(run, 'light');
    const { page } = p;
    assert.equal(await page.getAttribute('#answer', 'data-kind'), 'prose');
    assert.equal(await page.textContent('#answer .markdown strong'), 'Default values are evaluated once');
    assert.equal(await page.locator('#answer .markdown ul > li').count(), 2);
    assert.equal(await page.locator('#answer .markdown p code').first().textContent(), 'def');
    const blocks = page.locator('#answer .code-block');
    assert.equal(await blocks.count(), 2);
    await page.locator('#answer .code-block code.hljs').nth(1).waitFor();
    assert.ok(await page.locator('#answer .code-block .hljs-keyword').count() >= 3, 'the python is highlighted');
    assert.equal(await page.locator('#answer .code-block .hljs-comment').first().textContent(), '# a fresh list per call');
    // Each block's buttons name the block the host will find by fencedBlocks() of the answer.
    const expected = fencedBlocks(run.answer);
    assert.deepEqual(await blocks.evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.block, e.querySelector('pre code')?.textContent])),
      expected.map((b, i) => [String(i), b.code]));
    assert.equal(await page.textContent('#copy'), 'Copy answer');
    assert.equal(await page.isHidden('#replace'), true, 'prose is not put in place of code');
    const before = (await p.posted()).length;
    await page.click('#answer .code-block >> nth=1 >> .code-copy');
    await page.click('#answer .code-block >> nth=0 >> .code-insert');
    await page.click('#insert');
    assert.deepEqual((await p.posted()).slice(before), [
      { type: 'copy', answerIndex: 1, block: 1 },
      { type: 'insert', mode: 'cursor', answerIndex: 1, block: 0 },
      { type: 'insert', mode: 'cursor' },
    ] satisfies FromWebviewMessage[]);
    // The list of progressive answers shows one line of each, as text, with its cluster.
    assert.deepEqual(await page.locator('#answers .item-cluster').allTextContents(), ['answer A', 'answer A']);
    assert.match((await page.locator('#answers .item-preview-text').first().textContent()) ?? '', /^Default values are evaluated once, when the def statement/);
    assert.deepEqual(await violations(p), []);
    assert.deepEqual(p.pageErrors, []);
    await page.screenshot({ path: screenshotPath('panel-prose-light.png'), fullPage: true });
    await page.context().close();
  });

  it('does not render an unchanged answer again: an update without new answers parses no markdown', async function () {
    const run = proseRun();
    const { messages } = publishedMessages(run.header, run.events);
    const p = await openPanel(browser, server.origin);
    await p.deliver(messages);
    await p.settle();
    const answers = run.events.filter((e) => e.type === 'answer').length;
    const after = await stats(p);
    // The question once, and the best answer at most once per answer that arrived.
    assert.ok(after.markdownRenders >= 2 && after.markdownRenders <= 1 + answers, `${after.markdownRenders} markdown renders`);
    const last = messages[messages.length - 1];
    const seq = last.type === 'update' || last.type === 'snapshot' ? last.seq : 0;
    const final = run.events.reduce(reduceRunView, initialRunView(run.header));
    const updates: ToWebviewMessage[] = [
      { type: 'update', seq: seq + 1, changes: { status: { ...final.status, message: 'still converged' } } },
      { type: 'update', seq: seq + 2, changes: { header: { ...final.header, caps: ['$0.50 per request'] } } },
      { type: 'update', seq: seq + 3, changes: { budget: { ...final.budget, spentTokens: final.budget.spentTokens + 1 } } },
    ];
    await p.deliver(updates);
    await p.settle();
    assert.equal((await stats(p)).markdownRenders, after.markdownRenders, 'status, header and budget updates re-render no markdown');
    assert.equal(await p.page.textContent('#caps'), 'Caps: $0.50 per request');
    await p.page.context().close();
  });

  describe('untrusted code and prose stay inert', function () {
    const hostile = [
      '</code></pre><img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>',
      '<span class="hljs-keyword" onclick="window.__pwned=1" style="color:red">x</span>',
      '<pre data-br-code="0000000000000000:0"></pre><div data-br-math="0:0"></div>',
    ].join('\n');
    const proseTail = `
${hostile}

\`\`\`html
<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">
\`\`\`

\`\`\`js" onmouseover="window.__pwned=1
const a = '<img src=x onerror=window.__pwned=1>';
\`\`\`

\`\`\`<img/src=x/onerror=window.__pwned=1>
plain
\`\`\`
`;

    it('no script runs, no element or attribute is injected, and the text shows exactly as written', async function () {
      const code = codeRun({ codeTail: `\n${hostile}`, runId: 'xss-code' });
      const prose = proseRun({ proseTail });
      for (const run of [code, prose]) {
        const p = await panelWith(run);
        const { page } = p;
        const requestsBefore = p.pageRequests.length;
        await page.locator('#answer code.hljs').first().waitFor();
        for (const summary of await page.locator('#attempts .attempt-chain > summary').all()) {
          await summary.click();
        }
        await page.click('#answer-chain > summary');
        await p.settle();
        await page.waitForFunction(() => document.querySelectorAll('.code-block code:not([data-highlighted])').length === 0);
        if (run === code) {
          assert.equal(await page.textContent('#answer pre code'), run.answer, 'a code answer is text, exactly');
        } else {
          // The html block is shown as code, escaped, and highlighted as html.
          const html = page.locator('#answer .code-block[data-language="html"] pre code');
          assert.equal(await html.textContent(), '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">');
          assert.equal(await page.locator('#answer .code-block[data-language="html"] .hljs-tag').count() > 0, true);
          // A fence's info string is only ever text: no attribute, no element from it.
          assert.deepEqual(await page.locator('#answer .code-lang').allTextContents(), ['python', 'python', 'html', 'js"', '<img/src=x/onerror=window.__pwned=1>']);
        }
        const found = await page.evaluate(() => {
          const root = document.getElementById('root')!;
          return {
            dangerous: Array.from(root.querySelectorAll('script, img, iframe, object, embed, style, [onerror], [onclick], [onmouseover], [data-br-code], [data-br-math]'), (e) => e.outerHTML.slice(0, 120)),
            styled: root.querySelectorAll('.code-block [style]').length,
            codeClasses: Array.from(root.querySelectorAll('.code-block pre code'), (e) => e.className).filter((c) => !/^(?:language-[\w+#.-]+)?(?: ?hljs)?$/.test(c)),
          };
        });
        assert.deepEqual(found.dangerous, []);
        assert.equal(found.styled, 0);
        assert.deepEqual(found.codeClasses, []);
        assert.deepEqual(await foreignInCode(p), []);
        assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
        assert.deepEqual(p.pageRequests.slice(requestsBefore).filter((u) => !/\/dist\/katex\/fonts\/KaTeX_[\w-]+\.woff2$/.test(u)), [], 'no request leaves');
        // The sanitizer's parse of model HTML meets its handler and style attributes; the CSP blocks and
        // reports them (nothing else: no script, no frame, no connection was even attempted).
        assert.deepEqual((await violations(p)).filter((v) => !/^(?:script|style)-src-attr inline$/.test(v)), []);
        assert.deepEqual(p.pageErrors, []);
        await page.context().close();
      }
    });
  });

  it('re-runs the question as another answer kind, showing the current kind', async function () {
    const p = await panelWith(codeRun());
    const { page } = p;
    assert.equal(await page.textContent('#answer-kind'), 'Answer kind: code (auto)');
    assert.equal(await page.inputValue('#rerun-kind'), 'prose', 'an explanation is proposed');
    assert.deepEqual(await page.locator('#rerun-kind option:not([disabled])').evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value)), ['short', 'prose']);
    const before = (await p.posted()).length;
    await page.click('#rerun-kind-button');
    await page.selectOption('#rerun-kind', 'short');
    await page.click('#rerun-kind-button');
    assert.deepEqual((await p.posted()).slice(before), [
      { type: 'rerun', strategy: 'anytime-sc', answerKind: 'prose', preferenceExamples: false },
      { type: 'rerun', strategy: 'anytime-sc', answerKind: 'short', preferenceExamples: false },
    ] satisfies FromWebviewMessage[]);
    await page.context().close();

    // A cascade is not re-run from the panel: the kind re-run takes the strategy chosen beside Re-run.
    const cascade = codeRun({ runId: 'cascade-kind' });
    cascade.header.strategy = 'cascade';
    const c = await panelWith(cascade);
    await c.page.selectOption('#rerun-strategy', 'value-guided');
    const from = (await c.posted()).length;
    await c.page.click('#rerun-kind-button');
    assert.deepEqual((await c.posted()).slice(from), [{ type: 'rerun', strategy: 'value-guided', answerKind: 'prose', preferenceExamples: false }] satisfies FromWebviewMessage[]);
    await c.page.context().close();
  });

  it('says how many preference examples a run had, and re-runs with or without them as the toggle says', async function () {
    const run = proseRun({ runId: 'with-examples' });
    run.header.preferenceExamples = 2;
    const p = await panelWith(run);
    const { page } = p;
    assert.match((await page.textContent('#meta')) ?? '', / · 2 preference examples/);
    assert.equal(await page.isChecked('#rerun-examples'), true, 'a run that had examples proposes them again');
    const before = (await p.posted()).length;
    await page.click('#rerun');
    await page.uncheck('#rerun-examples');
    await page.click('#rerun');
    assert.deepEqual((await p.posted()).slice(before), [
      { type: 'rerun', strategy: run.header.strategy as 'anytime-sc', preferenceExamples: true },
      { type: 'rerun', strategy: run.header.strategy as 'anytime-sc', preferenceExamples: false },
    ] satisfies FromWebviewMessage[]);
    await page.context().close();

    const off = await panelWith(proseRun({ runId: 'without-examples' }));
    assert.doesNotMatch((await off.page.textContent('#meta')) ?? '', /preference example/);
    assert.equal(await off.page.isChecked('#rerun-examples'), false, 'a run without them proposes none');
    await off.page.context().close();
  });

  it('shows the question, what it is about with the code collapsed, and a long code question collapsed', async function () {
    const run = codeRun();
    const p = await panelWith(run);
    const { page } = p;
    assert.equal((await page.textContent('#question'))?.trim(), run.header.question);
    assert.equal(await page.textContent('#about summary'), 'about src/stats.ts lines 12-18');
    assert.equal(await page.textContent('#about summary code'), 'src/stats.ts');
    assert.equal(await page.locator('#about .code-block').count(), 0, 'the selected code is built when opened');
    await page.click('#about summary');
    await page.locator('#about .code-block code.hljs').waitFor();
    assert.equal(await page.textContent('#about pre code'), run.header.context!.code);
    assert.equal(await page.getAttribute('#about .code-block', 'data-language'), 'typescript');
    await page.context().close();

    const question = ['def mean(values):', '    total = 0', '    for i in range(len(values) + 1):', '        total += values[i]', '    return total / len(values)', '', '# why does this fail?'].join('\n');
    const codeQuestion = codeRun({ runId: 'code-question' });
    codeQuestion.header.question = question;
    delete codeQuestion.header.context;
    delete codeQuestion.header.about;
    const q = await panelWith(codeQuestion);
    assert.equal(await q.page.isVisible('#question .question-details > summary'), true);
    assert.equal(await q.page.textContent('#question .question-details > summary'), 'def mean(values):…');
    await q.page.click('#question .question-details > summary');
    await q.page.locator('#question .code-block code.hljs').waitFor();
    assert.equal(await q.page.textContent('#question pre code'), question);
    assert.equal(await q.page.getAttribute('#question pre code', 'data-highlighted'), 'python', 'the language is guessed');
    await q.page.context().close();
  });

  it('opens every finished attempt\'s text after the run, rendered when opened, and keeps it open as the run goes on', async function () {
    const run = codeRun();
    const { messages } = publishedMessages(run.header, run.events);
    const p = await openPanel(browser, server.origin);
    const { page } = p;
    await p.deliver(messages);
    await p.settle();
    const rows = page.locator('#attempts .attempt');
    assert.equal(await rows.count(), 3);
    assert.deepEqual((await page.locator('#attempts .attempt-text').allTextContents()).map((t) => t.replace(/^.*→ /, '')), ['answer A', 'answer B', 'answer A']);
    assert.equal(await page.locator('#attempts .attempt-body').evaluateAll((els) => els.every((e) => e.childNodes.length === 0)), true, 'nothing rendered before opening');
    const before = (await stats(p)).markdownRenders;
    await page.click('#attempts .attempt[data-attempt="2"] summary');
    await page.locator('#attempts .attempt[data-attempt="2"] .attempt-body code.hljs').waitFor();
    assert.match((await page.textContent('#attempts .attempt[data-attempt="2"] .attempt-body p')) ?? '', /^Off by one/);
    assert.match((await page.textContent('#attempts .attempt[data-attempt="2"] .attempt-body pre code')) ?? '', /values\.reduce/);
    assert.equal((await stats(p)).markdownRenders, before + 1);
    // Closing and opening again parses nothing again.
    await page.click('#attempts .attempt[data-attempt="2"] summary');
    await page.click('#attempts .attempt[data-attempt="2"] summary');
    assert.equal((await stats(p)).markdownRenders, before + 1);

    // The run is continued: a fourth attempt starts; the open row stays as it was.
    const last = messages[messages.length - 1];
    const final = run.events.reduce(reduceRunView, initialRunView(run.header));
    const next = reduceRunView(final, { type: 'attempt-started', attempt: 4, purpose: 'attempt', maxTokens: 1600 });
    await p.deliver([{ type: 'update', seq: (last.type === 'snapshot' || last.type === 'update' ? last.seq : 0) + 1, changes: { attempts: next.attempts, status: next.status } }]);
    await p.settle();
    assert.equal(await rows.count(), 4);
    assert.equal(await page.locator('#attempts .attempt[data-attempt="2"] details').evaluate((d) => (d as HTMLDetailsElement).open), true);
    assert.match((await page.textContent('#attempts .attempt[data-attempt="4"]')) ?? '', /^#4 chain · streaming/);
    assert.equal(await page.locator('#attempts .attempt[data-attempt="4"] details').count(), 0, 'a streaming attempt has nothing to open yet');
    assert.equal((await stats(p)).markdownRenders, before + 1);
    await page.context().close();
  });

  it("shows a reasoning model's thinking folded apart from the reply, live and in a finished chain", async function () {
    const header: RunHeader = { runId: 'think', question: 'What is 6 * 7?', model: 'deepseek-r1', strategy: 'single', caps: [], providerBillsInDollars: false, answerKind: 'short' };
    const live: RunEvent[] = [
      { type: 'attempt-started', attempt: 1, purpose: 'attempt', maxTokens: 1000 },
      { type: 'delta', attempt: 1, text: 'Six sevens: 7, 14, 21', thinking: true },
      { type: 'delta', attempt: 1, text: ', 28, 35, 42.', thinking: true },
      { type: 'delta', attempt: 1, text: 'The answer is \\boxed{42}.' },
    ];
    const p = await panelWith({ header, events: live });
    const thinking = p.page.locator('#reasoning details.thinking');
    assert.equal(await thinking.count(), 1);
    assert.equal((await thinking.locator('.thinking-body').innerText()).trim(), 'Six sevens: 7, 14, 21, 28, 35, 42.');
    const outside = await p.page.evaluate(() => Array.from(document.querySelectorAll('#reasoning > .reasoning-block')).map((b) => b.textContent).join(''));
    assert.match(outside, /The answer is \\boxed\{42\}\./);
    assert.ok(!outside.includes('Six sevens') && !outside.includes('<think>'), 'the reply holds no thinking and no tag');
    await p.page.close();
    const done = await panelWith({ header, events: [...live,
      { type: 'attempt-finished', attempt: 1, finishReason: 'stop', answer: '42', completionTokens: 30, text: '<think>\nSix sevens: 7, 14, 21, 28, 35, 42.\n</think>\n\nThe answer is \\boxed{42}.' },
      { type: 'stopped', reason: 'converged', message: 'The single chain has finished.' },
    ] });
    await done.page.locator('#attempts .attempt details summary').first().click();
    const chain = done.page.locator('#attempts .attempt .attempt-body');
    await chain.locator('details.thinking').waitFor({ timeout: 10_000 });
    assert.match(await chain.locator('details.thinking summary').innerText(), /^Thinking \(\d+ characters\)$/);
    assert.ok(!(await chain.locator('details.thinking').getAttribute('open') !== null), 'a finished chain shows its thinking folded');
    assert.ok((await chain.innerText()).includes('The answer is'), 'the reply is shown as markdown');
    await done.page.close();
  });
});

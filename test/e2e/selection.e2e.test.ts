import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ACTION_QUESTIONS, SYSTEM_PROMPTS } from '../../src/core/reasoning/answerKinds';
import { startCodeServer, waitForLog, workbenchUrl, type CodeServer } from '../../tools/codeServer';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { closeAfterSpec, notifications, openFile, openWorkbench, panelFrame, runCommand, screenshot, waitUntil, type Workbench } from '../../tools/workbench';
import { workOf } from '../support/scripted';

// Asking about selected code in a real VS Code: the action pick, the code and its place sent with the
// question, and Replace selection as a diff that changes the file only once applied.
describe('e2e: ask about the selected code, then apply the fix through a diff', function () {
  let server: ModelServer;
  let cs: CodeServer;
  let wb: Workbench | undefined;

  const FUNCTION = [
    'export function sumTo(n: number): number {',
    '  let total = 0;',
    '  for (let i = 1; i < n; i++) {',
    '    total += i;',
    '  }',
    '  return total;',
    '}',
  ].join('\n');
  const FIXED = FUNCTION.replace('i < n', 'i <= n');
  const ORIGINAL = `// Sums for the report.\n${FUNCTION}\n\nconsole.log(sumTo(10));\n`;
  const REPLY = [
    'The loop stops one short: `i < n` leaves out `n` itself, so `sumTo(10)` returns 45 instead of 55. Make the bound inclusive:',
    '',
    '```ts',
    FIXED,
    '```',
  ].join('\n');

  before(async function () {
    server = await startModelServer({ tokensPerSecond: 800 });
    cs = await startCodeServer({
      settings: {
        'budgetReasoner.baseUrl': server.url,
        'budgetReasoner.model': 'qwen2.5-math-replay',
        'budgetReasoner.estimator': 'local',
        // As in desktop VS Code (the browser's default saves after a second): an applied change is an unsaved edit.
        'files.autoSave': 'off',
      },
    });
    fs.mkdirSync(path.join(cs.workspace, 'src'), { recursive: true });
    fs.writeFileSync(path.join(cs.workspace, 'src', 'sum.ts'), ORIGINAL);
  });

  closeAfterSpec(() => ({ wb, cs, servers: [server] }));

  /** Selects the function, lines 2-8, as whole lines (the selection ends at the start of line 9), and runs the command until its pick shows. */
  async function askAboutFunction(page: Workbench['page']) {
    // No quick input left open (Open File's closes late): the keys below must reach the editor.
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 15_000 });
    await page.locator('.editor-group-container .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('ArrowDown');
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press('Shift+ArrowDown');
    }
    await runCommand(page, 'Reason with budget');
    const pick = page.locator('.quick-input-widget');
    await pick.locator('.quick-input-title', { hasText: 'src/sum.ts lines 2-8' }).waitFor({ timeout: 30_000 });
    return pick;
  }

  it('Find the bug sends the selection with its path, language and lines; Replace opens a diff and changes the file only on Apply', async function () {
    const file = path.join(cs.workspace, 'src', 'sum.ts');
    wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace));
    const { page } = wb;
    // Distinct chains with one fix, as a sampling model writes them: copies of one reply would not be counted.
    server.script(...Array.from({ length: 40 }, (_, i) => ({ content: `${workOf(i + 1)} ${REPLY}` })));
    await openFile(page, 'src/sum.ts');

    const pick = await askAboutFunction(page);
    for (const row of ['Explain', 'Find the bug', 'Improve', 'Write tests', 'Ask a question...', 'Ask the selection itself']) {
      await pick.locator('.monaco-list-row', { hasText: row }).first().waitFor({ timeout: 10_000 });
    }
    await pick.locator('.monaco-list-row', { hasText: 'Find the bug' }).first().click();

    const panel = panelFrame(page);
    await panel.locator('#status[data-state="finished"]').waitFor({ timeout: 120_000 });
    assert.match(await panel.locator('#status').innerText(), /converged|budget|most chains drawn/i);
    // The run's answer is the corrected function (the host's copy; the panel's rendering of code is the webview's).
    await waitForLog(cs, /converged: export function sumTo[^\n]*\n[\s\S]*i <= n/);
    assert.ok((await panel.locator('#question').innerText()).includes(ACTION_QUESTIONS['find-bug']), 'the panel shows the question');

    // What reached the model: the code system prompt, the question, and the code with where it is from.
    const sent = server.requests.map((r) => r.body?.messages as Array<{ role: string; content: string }> | undefined).filter((m) => m !== undefined);
    assert.ok(sent.length >= 1, 'the server received the run');
    for (const messages of sent) {
      assert.equal(messages[0].role, 'system');
      assert.equal(messages[0].content, SYSTEM_PROMPTS.code);
      const user = messages.find((m) => m.role === 'user')!.content;
      assert.ok(user.startsWith(ACTION_QUESTIONS['find-bug']), user.slice(0, 200));
      assert.match(user, /The code is `src\/sum\.ts` lines 2-8 \(typescript\):/);
      assert.ok(user.includes(`\`\`\`typescript\n${FUNCTION}\n\`\`\``), `the selected code, fenced with its language:\n${user}`);
      assert.ok(user.includes('the lines before it (1-1)') && user.includes('// Sums for the report.'), 'the line above the selection');
      assert.ok(user.includes('console.log(sumTo(10));'), 'the lines below the selection');
    }
    // The header the host sends the panel says what the code is about (its log line carries the same).
    await waitForLog(cs, /started: .*code answer.*about src\/sum\.ts lines 2-8 \(find-bug\)/);
    // The panel: the question, "about src/sum.ts lines 2-8", and the answer as highlighted code.
    assert.match(await panel.locator('#about').innerText(), /about\s+src\/sum\.ts\s+lines 2-8/);
    const answerCode = panel.locator('#answer pre code');
    await answerCode.filter({ hasText: 'i <= n' }).first().waitFor({ timeout: 30_000 });
    await panel.locator('#answer pre code .hljs-keyword').first().waitFor({ timeout: 30_000 });
    assert.ok(await panel.locator('#answer .katex').count() === 0, 'code is not typeset as math');
    await screenshot(page, 'selection-panel.png');

    // Replace selection: a diff and a notification offering Apply and Discard; the file untouched until Apply.
    const diff = page.locator('.monaco-diff-editor');
    const openDiff = async () => {
      await panel.locator('#replace').click();
      await diff.locator('.view-lines', { hasText: 'i <= n' }).first().waitFor({ timeout: 30_000 });
      await page.locator('.tabs-container .tab.active', { hasText: 'proposed change' }).waitFor({ timeout: 10_000 });
    };
    // As a user reading the diff: in it, its title bar shows Apply and Discard (VS Code shows them in the active group only).
    const titleAction = async (name: string) => {
      await diff.locator('.view-lines', { hasText: 'i <= n' }).last().click();
      await page.locator(`.editor-group-container .editor-actions [aria-label*="${name} Proposed Change"]`).first().click();
    };
    await openDiff();
    const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'review the proposed change to src/sum.ts lines 2-8' });
    await toast.waitFor({ timeout: 15_000 });
    assert.equal(fs.readFileSync(file, 'utf8'), ORIGINAL, 'the file is unchanged while the diff is open');
    assert.equal(await page.locator('.tabs-container .tab.dirty').count(), 0, 'no editor has unsaved changes');
    await screenshot(page, 'selection-diff.png');
    await toast.locator('.monaco-button', { hasText: 'Discard' }).click();
    await diff.first().waitFor({ state: 'detached', timeout: 15_000 });
    assert.equal(fs.readFileSync(file, 'utf8'), ORIGINAL, 'Discard changes nothing');

    // The file changes underneath the open diff: Apply says so and changes nothing.
    await openDiff();
    fs.writeFileSync(file, `${ORIGINAL}// edited elsewhere\n`);
    await diff.locator('.view-lines', { hasText: 'edited elsewhere' }).first().waitFor({ timeout: 30_000 });
    await titleAction('Apply');
    await page.locator('.notifications-toasts').filter({ hasText: /changed after the diff opened/ }).waitFor({ timeout: 15_000 });
    assert.match(await notifications(page), /was not applied/);
    await diff.first().waitFor({ state: 'detached', timeout: 15_000 });
    assert.equal(fs.readFileSync(file, 'utf8'), `${ORIGINAL}// edited elsewhere\n`);
    assert.equal(await page.locator('.tabs-container .tab.dirty').count(), 0, 'nothing was applied');

    // Back as it was; a fresh Replace, applied.
    fs.writeFileSync(file, ORIGINAL);
    await waitUntil(async () => (await page.locator('.editor-group-container .view-lines', { hasText: 'edited elsewhere' }).count()) === 0, 'the editor to reload the restored file');
    await openDiff();
    assert.equal(fs.readFileSync(file, 'utf8'), ORIGINAL);
    await titleAction('Apply');
    await diff.first().waitFor({ state: 'detached', timeout: 15_000 });
    const editorLines = page.locator('.editor-group-container .monaco-editor .view-lines', { hasText: 'i <= n' }).first();
    await editorLines.waitFor({ timeout: 15_000 });
    // Applied as an edit of the document, unsaved (Undo reverts it); saving writes the corrected function.
    await page.locator('.tabs-container .tab.dirty', { hasText: 'sum.ts' }).waitFor({ timeout: 10_000 });
    assert.equal(fs.readFileSync(file, 'utf8'), ORIGINAL);
    await editorLines.click();
    await page.keyboard.press('Control+S');
    const expected = `// Sums for the report.\n${FIXED}\n\nconsole.log(sumTo(10));\n`;
    await waitUntil(() => fs.readFileSync(file, 'utf8') === expected, 'the saved file to hold the corrected function', 15_000)
      .catch(() => undefined);
    assert.equal(fs.readFileSync(file, 'utf8'), expected);
  });

  it('dismissing the pick sends nothing; Ask a question... sends your question with the code and remembers it', async function () {
    const { page } = wb!;
    server.reset();
    server.script({ content: 'It starts at 1 because 0 adds nothing to the sum; starting at 0 would give the same total.', times: 40 });
    const pick = page.locator('.quick-input-widget');
    const selectFunction = () => askAboutFunction(page);
    await openFile(page, 'src/sum.ts');
    await selectFunction();
    await page.keyboard.press('Escape');
    await pick.waitFor({ state: 'hidden', timeout: 10_000 });

    const question = 'Why does the loop start at 1?';
    await selectFunction();
    await pick.locator('.monaco-list-row', { hasText: 'Ask a question...' }).first().click();
    await pick.locator('.quick-input-title', { hasText: 'Ask about src/sum.ts lines 2-8' }).waitFor({ timeout: 10_000 });
    await pick.locator('.quick-input-box input').fill(question);
    await pick.locator('.monaco-list-row', { hasText: question }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await waitForLog(cs, /started: .*about src\/sum\.ts lines 2-8 \(ask\)/);
    await waitUntil(() => server.responses.length > 0 && server.responses.every((r) => r.endedAt !== undefined), 'the run\'s calls to end', 60_000);
    // Every request since the reset is the typed question's: the dismissed pick sent nothing.
    assert.ok(server.requests.length >= 1);
    for (const r of server.requests) {
      const user = (r.body.messages as Array<{ role: string; content: string }>).find((m) => m.role === 'user')!.content;
      assert.ok(user.startsWith(question), user.slice(0, 120));
      assert.match(user, /The code is `src\/sum\.ts` lines 2-8 \(typescript\):/);
      assert.ok(user.includes(FIXED), 'the selected (now corrected) function');
    }

    // The question box offers it again.
    await selectFunction();
    await pick.locator('.monaco-list-row', { hasText: 'Ask a question...' }).first().click();
    await pick.locator('.monaco-list-row', { hasText: question }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Escape');
    await pick.waitFor({ state: 'hidden', timeout: 10_000 });
  });
});

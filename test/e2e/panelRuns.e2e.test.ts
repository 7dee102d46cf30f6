import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { startCodeServer, workbenchUrl, type CodeServer } from '../../tools/codeServer';
import { readTraceQuestion } from '../../tools/recordedData';
import {
  closeAfterSpec, openWorkbench, panelFrame, reasonOnFile, recordPanelStates, runCommand, waitUntil, type Workbench,
} from '../../tools/workbench';
import { shortTitle } from '../../src/core/view/runViewText';
import { SYSTEM_PROMPTS } from '../../src/core/reasoning/answerKinds';

// The answer panel as a user sees it on a loaded machine, and runs kept in one panel.
describe('e2e: a panel that keeps up, and runs in one place', function () {
  let server: ModelServer;
  let cs: CodeServer;
  let wb: Workbench;
  closeAfterSpec(() => ({ wb, cs, servers: [server] }));
  const mixed = readTraceQuestion(70); // the recorded chains disagree (19 vs 31): eight answers before the stop
  const easy = readTraceQuestion(74);
  const other = readTraceQuestion(67);
  const paired = readTraceQuestion(25); // the second recorded chain runs past any chain budget: its run makes a preference pair
  const next = readTraceQuestion(0);

  before(async function () {
    server = await startModelServer();
    cs = await startCodeServer({
      settings: { 'budgetReasoner.baseUrl': server.url, 'budgetReasoner.model': 'qwen2.5-math-replay', 'budgetReasoner.estimator': 'local', 'budgetReasoner.preferenceExamples': 'auto' },
    });
    wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace));
  });

  afterEach(async function () {
    // Each test starts with no panel open.
    await runCommand(wb.page, 'View: Close All Editor Groups').catch(() => undefined);
  });

  async function ask(file: string, text: string): Promise<void> {
    fs.writeFileSync(path.join(cs.workspace, file), `${text}\n`);
    await reasonOnFile(wb.page, file);
  }

  const panel = () => panelFrame(wb.page);
  const chips = () => panel().locator('#runs .run-chip');
  /** Editor tabs titled by a question: an answer panel's title is its shown run's question, shortened. */
  const tabsTitled = (question: string) => wb.page.locator(`.tabs-container .tab[aria-label^="${shortTitle(question).replace(/"/g, '\\"')}"]`);
  const finished = (n: number) => panel().locator(`#runs .run-chip:nth-of-type(${n})[data-state="finished"]`).waitFor({ timeout: 90_000 });

  describe('on a busy machine', function () {
    const spinners: ChildProcess[] = [];
    before(function () {
      // Both cores spinning for the whole test: the extension host, the workbench and the panel's page all wait for CPU.
      for (let i = 0; i < Math.max(2, os.cpus().length); i++) {
        spinners.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
      }
    });
    after(function () {
      for (const s of spinners) {
        s.kill('SIGKILL');
      }
    });

    it('shows every answer as it comes, in order, then the end', async function () {
      // About 0.8 s a chain and eight chains: a run of a few seconds, shorter than a panel takes to load on this machine.
      server.setTokensPerSecond(600);
      const recorder = await recordPanelStates(wb.page);
      const sent = server.requests.length;
      await ask('busy.md', mixed.text);
      await waitUntil(async () => (await recorder.states()).some((s) => s.state === 'finished'), 'the panel to show the finished run', 180_000, 200);
      const states = await recorder.states();
      const t0 = server.requests[sent].receivedAt;
      const shown = states.filter((s) => s.status !== '');
      console.log(`      panel states (ms after the first request): ${shown.map((s) => `${s.t - t0} ${s.answers}:${s.answer || '-'}`).join(', ')}`);
      const last = shown.at(-1)!;
      assert.match(last.status, /converged|budget|most chains/i);
      assert.ok(last.answers >= 2, `several answers (${last.answers})`);
      // The panel's first state is the run with no answer yet, and every answer count follows in order.
      assert.equal(shown[0].answers, 0, `the panel first shows the run before its first answer: ${JSON.stringify(shown[0])}`);
      assert.equal(shown[0].state, 'running');
      const counts = [...new Set(shown.map((s) => s.answers))];
      assert.deepEqual(counts, Array.from({ length: last.answers + 1 }, (_, i) => i), `answer counts seen in order: ${counts}`);
      // Running until the end; once ended, it stays ended with the same answers (its status may still gain the final spend).
      const firstFinished = shown.findIndex((s) => s.state === 'finished');
      assert.ok(shown.slice(0, firstFinished).every((s) => s.state === 'running'), 'running until it finished');
      const after = shown.slice(firstFinished);
      assert.ok(after.every((s) => s.state === 'finished' && s.answers === last.answers), `ended for good: ${JSON.stringify(after.map((s) => s.status))}`);
    });
  });

  describe('runs in one place', function () {
    it('shows the next run in the same panel, with the earlier one a click away and acting on the run shown', async function () {
      await ask('first.md', easy.text);
      await panel().locator('#status[data-state="finished"]').waitFor({ timeout: 90_000 });
      assert.equal(await panel().locator('#runs').isHidden(), true, 'one run: no list');
      assert.equal(await panel().locator('#rerun-strategy').inputValue(), 'anytime-sc', "Re-run proposes the run's own strategy");

      // A second question: the same panel, now titled by it, lists both runs.
      await ask('second.md', other.text);
      await finished(2);
      assert.equal(await chips().count(), 2);
      assert.equal(await chips().nth(1).getAttribute('aria-current'), 'true');
      assert.equal(await tabsTitled(other.text).count(), 1, 'one panel, showing the second run');
      assert.equal(await tabsTitled(easy.text).count(), 0, 'no other panel for the first run');
      await panel().locator(`#answer[data-answer="${other.gold}"]`).waitFor({ timeout: 15_000 });

      // One click shows the first run as it ended; Replace acts on it (its answer, its question's editor).
      await chips().nth(0).click();
      await panel().locator(`#answer[data-answer="${easy.gold}"]`).waitFor({ timeout: 15_000 });
      assert.equal(await chips().nth(0).getAttribute('aria-current'), 'true');
      assert.match(await panel().locator('#status').innerText(), /converged|budget/i);
      await tabsTitled(easy.text).waitFor({ timeout: 15_000 });
      await panel().locator('#replace').click();
      await wb.page.locator('.monaco-editor .view-lines', { hasText: easy.gold }).first().waitFor({ timeout: 15_000 });
      assert.match(await wb.page.locator('.tabs-container .tab.active').first().getAttribute('aria-label') ?? '', /first\.md/);

      // Re-run of the run shown, as a single chain: a third run in the same panel.
      await panel().locator('#rerun-strategy').selectOption('single');
      await panel().locator('#rerun').click();
      await finished(3);
      assert.match(await chips().nth(2).innerText(), new RegExp(`^#3 single chain · ${easy.gold}$`));
      assert.match(await panel().locator('#meta').innerText(), /single chain/);
      assert.equal(await panel().locator('#rerun-strategy').inputValue(), 'single');
      assert.equal(await wb.page.locator('iframe.webview').count(), 1, 'one answer panel');
    });

    it('a finished run\'s preference pair goes before the next question, the header says so, and Re-run can leave it out', async function () {
      /** The system message of the first chain of each run asking `question` since request `from`. */
      const systems = (from: number, question: string) => server.requests.slice(from)
        .filter((r) => r.path.endsWith('/chat/completions') && r.body.messages?.at(-1)?.content?.startsWith(question) && r.body.messages.length === 2)
        .map((r) => r.body.messages[0].content as string);
      await ask('paired.md', paired.text);
      await panel().locator('#status[data-state="finished"]').waitFor({ timeout: 90_000 });
      assert.match(await panel().locator('#status').innerText(), /converged/i);

      const from = server.requests.length;
      await ask('next.md', next.text);
      await finished(2);
      assert.match(await panel().locator('#meta').innerText(), /\d preference examples?/);
      assert.equal(await panel().locator('#rerun-examples').isChecked(), true);
      const withExamples = systems(from, next.text);
      assert.ok(withExamples.length >= 1 && withExamples.every((c) => c.startsWith(`${SYSTEM_PROMPTS.short}\n\n`) && c.includes(paired.text)), 'every chain is sent the pair, the earlier question in it');

      const rerunFrom = server.requests.length;
      await panel().locator('#rerun-examples').uncheck();
      await panel().locator('#rerun').click();
      await finished(3);
      assert.doesNotMatch(await panel().locator('#meta').innerText(), /preference example/);
      assert.equal(await panel().locator('#rerun-examples').isChecked(), false);
      const without = systems(rerunFrom, next.text);
      assert.ok(without.length >= 1 && without.every((c) => c === SYSTEM_PROMPTS.short), 'the re-run without them sends the kind\'s prompt alone');
    });

    it('with panelPerRun on, each run opens a panel of its own', async function () {
      // Turned on in the Settings editor, as a user would.
      await runCommand(wb.page, 'Preferences: Open User Settings');
      await wb.page.locator('.settings-editor').waitFor({ timeout: 30_000 });
      await wb.page.keyboard.type('budgetReasoner.panelPerRun');
      const item = wb.page.locator('.settings-editor .setting-item-bool', { hasText: 'Panel Per Run' }).first();
      await item.waitFor({ timeout: 30_000 });
      await item.locator('.setting-value-checkbox').click();
      await waitUntil(() => /"budgetReasoner\.panelPerRun": true/.test(fs.readFileSync(cs.userSettingsPath, 'utf8')), 'panelPerRun in settings.json');
      await runCommand(wb.page, 'View: Close All Editor Groups');

      await ask('first.md', easy.text);
      await panel().locator('#status[data-state="finished"]').waitFor({ timeout: 90_000 });
      await panel().locator('#rerun').click();
      await tabsTitled(easy.text).nth(1).waitFor({ timeout: 60_000 });
      assert.equal(await tabsTitled(easy.text).count(), 2, 'two panels');
      await panelFrame(wb.page, 0).locator('#status[data-state="finished"]').waitFor({ timeout: 90_000 });
      assert.equal(await panelFrame(wb.page, 0).locator('#runs').isHidden(), true, 'a panel per run lists no runs');
    });
  });
});

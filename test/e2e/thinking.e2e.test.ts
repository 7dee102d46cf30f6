import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startModelServer, THINKING_FORMATS, type ModelServer } from '../../tools/modelServer';
import { startCodeServer, workbenchUrl, type CodeServer } from '../../tools/codeServer';
import { readTraceQuestion } from '../../tools/recordedData';
import { closeAfterSpec, openWorkbench, panelFrame, reasonOnFile, runCommand, screenshot, type Workbench } from '../../tools/workbench';

// A reasoning model's thinking, in each of the three ways servers stream it, shown live in the
// panel's own Thinking block and kept out of the answer: a real VS Code, the real openai client.
describe('e2e: reasoning models\' thinking in the panel', function () {
  let server: ModelServer;
  let cs: CodeServer;
  let wb: Workbench | undefined;
  const question = readTraceQuestion(67);

  before(async function () {
    // Slow enough that a chain's thinking streams for a few seconds before its reply.
    server = await startModelServer({ tokensPerSecond: 150 });
    cs = await startCodeServer({
      settings: {
        'budgetReasoner.baseUrl': server.url,
        'budgetReasoner.model': 'qwen2.5-math-replay',
        'budgetReasoner.estimator': 'local',
        'budgetReasoner.strategy': 'single',
      },
    });
    fs.writeFileSync(path.join(cs.workspace, 'question.md'), `${question.text}\n`);
  });

  closeAfterSpec(() => ({ wb, cs, servers: [server] }));

  for (const format of THINKING_FORMATS) {
    it(`${format}: the thinking streams live in a Thinking block, and the answer is read from the reply alone`, async function () {
      const { page } = wb ?? (wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace)));
      server.reset();
      server.setThinking(format);
      await runCommand(page, 'View: Close All Editors');
      await reasonOnFile(page, 'question.md');
      const panel = panelFrame(page);
      const thinking = panel.locator('#reasoning details.thinking .thinking-body');
      await thinking.filter({ hasText: /\w+\s+\w+\s+\w+\s+\w+/ }).first().waitFor({ timeout: 60_000 });
      // Live: the run is still going while its thinking shows.
      assert.ok(await panel.locator('#stop').isVisible(), 'Stop is offered while the model thinks');
      const statusWhileThinking = await panel.locator('#status').innerText();
      assert.doesNotMatch(statusWhileThinking, /converged|budget|stopped|cap|error/i, `status while thinking: "${statusWhileThinking}"`);
      await panel.locator('#status[data-state="finished"]').waitFor({ timeout: 90_000 });
      await panel.locator('#answer').filter({ hasText: question.gold }).waitFor({ timeout: 10_000 });

      const sent = server.responses.find((r) => r.kind === 'recorded');
      assert.ok(sent, 'a recorded chain was served');
      const sentThinking = format === 'think-tags' ? /<think>\n([\s\S]*)\n<\/think>/.exec(sent.choices[0].text)?.[1] ?? '' : sent.choices[0].thinking ?? '';
      assert.ok(sentThinking.length > 100, `the chain had thinking to show (${format})`);
      // A line of the thinking, as plain text: in the Thinking block, never in the answer.
      const line = sentThinking.split('\n').map((l) => l.trim()).find((l) => /^[A-Za-z ,.]{25,}$/.test(l)) ?? sentThinking.slice(0, 30);
      const answerText = await panel.locator('#answer').innerText();
      assert.ok(!answerText.includes(line), `the answer holds no thinking: "${answerText.slice(0, 200)}"`);
      assert.doesNotMatch(answerText, /<\/?think>/);
      const shown = (await thinking.allInnerTexts()).join('\n');
      assert.ok(shown.replace(/\s+/g, ' ').includes(line.replace(/\s+/g, ' ')), `the Thinking block shows "${line}"`);
      await screenshot(page, `thinking-${format}.png`);
    });
  }
});

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startModelServer, type ModelServer } from '../../tools/modelServer';
import { startCodeServer, workbenchUrl, type CodeServer } from '../../tools/codeServer';
import { readTraceQuestion } from '../../tools/recordedData';
import { SYSTEM_PROMPTS } from '../../src/core/reasoning/answerKinds';
import { repoRoot } from '../../tools/repoRoot';
import { closeAfterSpec, meterLabelMatching, openWorkbench, panelFrame, reasonOnFile, screenshot, statusBarMeter, type Workbench } from '../../tools/workbench';
import { ledgerRecords, usageTotals, type LedgerLine } from './fixtures';
import { exactTokens } from '../../src/core/view/runViewText';
import { formatTokens } from '../../src/core/tokens/amountText';

// A real VS Code (code-server 1.100) in Debian's Chromium, the extension loaded from this checkout,
// talking to the loopback OpenAI-protocol server that replays recorded MATH traces.
describe('e2e: Reason with budget in code-server', function () {
  let server: ModelServer;
  let cs: CodeServer;
  let wb: Workbench | undefined;
  const question = readTraceQuestion(67);

  before(async function () {
    server = await startModelServer({ tokensPerSecond: 400 });
    cs = await startCodeServer({
      settings: {
        'budgetReasoner.baseUrl': server.url,
        'budgetReasoner.model': 'qwen2.5-math-replay',
      },
    });
    fs.writeFileSync(path.join(cs.workspace, 'question.md'), question.text + '\n');
    // A hostile workspace tries to redirect requests (and the user's key) elsewhere; baseUrl and model
    // are application-scoped, so VS Code ignores these and the runs below still reach the loopback server.
    fs.mkdirSync(path.join(cs.workspace, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(cs.workspace, '.vscode', 'settings.json'), JSON.stringify({
      'budgetReasoner.baseUrl': 'http://127.0.0.1:9/v1',
      'budgetReasoner.model': 'attacker-model',
      // A resource setting that VS Code does honour from the workspace, to show the file was read.
      'budgetReasoner.confidenceThreshold': 0.95,
    }));
  });

  closeAfterSpec(() => ({ wb, cs, servers: [server] }));

  it('answers a selected recorded MATH question in the panel and meters the tokens the server reported', async function () {
    wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace));
    const { page } = wb;
    await reasonOnFile(page, 'question.md');

    const panel = panelFrame(page);
    const answer = panel.locator('#answer');
    await answer.filter({ hasText: question.gold }).waitFor({ timeout: 60_000 });
    await panel.locator('#status[data-state="finished"]').waitFor({ timeout: 60_000 });

    // The meter's accessible label carries exact counts; they must equal what the server reported.
    const reported = usageTotals(server);
    assert.ok(reported.calls >= 1, 'the server answered at least one call');
    const meter = statusBarMeter(page);
    // The panel shows the end as soon as it comes; the meter follows once the run's books are closed.
    const label = await meterLabelMatching(page, new RegExp(`; last run ${reported.totalTokens} of \\d+ tokens`), 20_000);
    const spent = Number(/last run (\d+) of \d+ tokens/.exec(label)?.[1]);
    assert.equal(spent, reported.totalTokens, `meter "${label}" vs server usage ${JSON.stringify(reported)}`);
    // Idle again, the meter shows today's spend (this run alone so far) against the daily cap.
    assert.match(label, new RegExp(`^Budget Reasoner: ${reported.totalTokens} tokens and \\$0 spent today, 0% of the \\$2\\.00 daily cap;`));
    assert.match(await meter.innerText(), /\$0\/\$2\.00 today/);
    await screenshot(page, 'reason-panel.png');
  });

  it("shows the run's figures as the ledger recorded them: billed tokens for spend, output tokens for a chain", async function () {
    const { page } = wb!;
    const panel = panelFrame(page);
    const records = ledgerRecords(cs.userDataDir);
    const runIds = [...new Set(records.map((r) => r.runId))];
    assert.equal(runIds.length, 1, `one run so far: ${runIds.join(', ')}`);
    const billed = (r: LedgerLine) => r.promptTokens + r.completionTokens;
    const spent = records.reduce((s, r) => s + billed(r), 0);
    // Spend and the budget bar: billed tokens (prompts and output) of every call, estimate included.
    const spendText = (await panel.locator('#spend').innerText()).trim();
    assert.ok(spendText.startsWith(`${exactTokens(spent)} / `), `panel "${spendText}" vs ledger ${spent} billed tokens`);
    assert.match(await panel.locator('#status').innerText(), new RegExp(`spent ${exactTokens(spent)} tokens`));
    const legend = await panel.locator('#budget-legend .legend-item').allInnerTexts();
    const chains = records.filter((r) => r.purpose === 'attempt');
    const chainBilled = chains.reduce((s, r) => s + billed(r) - Math.min(r.reasoningTokens, r.completionTokens), 0);
    assert.ok(legend.includes(`chains ${exactTokens(chainBilled)}`), `legend ${JSON.stringify(legend)} vs ledger chains ${chainBilled}`);
    // A chain's row: its output tokens, as the server billed them.
    const rows = await panel.locator('#attempts .attempt').allInnerTexts();
    const chainRows = rows.filter((t) => /^#\d+ chain/.test(t));
    assert.deepEqual(chainRows.map((t) => /· (\S+) output tokens/.exec(t)?.[1]), chains.map((r) => formatTokens(r.completionTokens)), `rows ${JSON.stringify(rows)}`);
    // The last answer was reached within what was spent, counted the same way.
    const metas = await panel.locator('#answers .item-meta').allInnerTexts();
    const lastAt = /at (\S+) tokens/.exec(metas.at(-1) ?? '')?.[1];
    const prefixes = records.map((_, i) => formatTokens(records.slice(0, i + 1).reduce((s, r) => s + billed(r), 0)));
    assert.ok(lastAt !== undefined && prefixes.includes(lastAt), `last answer at ${lastAt}, ledger running totals ${prefixes.join(', ')}`);
  });

  it('answers an open question in prose: paraphrased chains agree, the run stops before its budget with the answer shown', async function () {
    const { page } = wb ?? (wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace)));
    fs.writeFileSync(path.join(cs.workspace, 'prose.md'), 'Explain the difference between let and const in JavaScript\n');
    server.reset();
    await reasonOnFile(page, 'prose.md');

    const panel = panelFrame(page);
    await panel.locator('#answer').filter({ hasText: /cannot be reassigned/ }).waitFor({ timeout: 60_000 });
    await panel.locator('#status').filter({ hasText: /converged|agree/i }).waitFor({ timeout: 60_000 });
    const chains = server.responses.filter((r) => r.kind === 'unmatched');
    assert.ok(chains.length >= 2, `${chains.length} chains`);
    assert.ok(new Set(chains.map((r) => r.choices[0].text)).size >= 2, 'the chains were worded differently');
    const chainRequest = server.requests.find((r) => r.body?.messages?.[0]?.role === 'system');
    assert.equal(chainRequest?.body.messages[0].content, SYSTEM_PROMPTS.prose, 'the prose system prompt was sent');
    // The meter settles on what the server billed for this run; then that is under the budget.
    const billed = usageTotals(server).totalTokens;
    const meter = statusBarMeter(page);
    await page.waitForFunction(({ billed }) => [...document.querySelectorAll('[aria-label^="Budget Reasoner:"]')]
      .some((e) => e.getAttribute('aria-label')?.includes(`last run ${billed} of `)), { billed }, { timeout: 20_000 });
    const label = (await meter.getAttribute('aria-label')) ?? '';
    const [spent, budget] = (/(\d+) of (\d+) tokens/.exec(label) ?? []).slice(1).map(Number);
    assert.ok(spent === billed && spent < budget, `stopped before the budget: "${label}", server billed ${billed}`);
    await screenshot(page, 'reason-prose.png');
  });

  it('an endpoint that is not sampling (the same chain every call): the run says so and stops spending after three chains', async function () {
    const { page } = wb ?? (wb = await openWorkbench(workbenchUrl(cs.port, cs.workspace)));
    fs.writeFileSync(path.join(cs.workspace, 'greedy.md'), 'Explain what a closure is in JavaScript\n');
    server.reset();
    const same = 'A closure is a function bundled with the variables of the scope it was created in, which it keeps using after that scope has returned.';
    server.script({ content: same, times: 8 });
    await reasonOnFile(page, 'greedy.md');
    const panel = panelFrame(page);
    await panel.locator('#status').filter({ hasText: /not sampling/i }).waitFor({ timeout: 60_000 });
    assert.match(await panel.locator('#answer').innerText(), /A closure is a function bundled/);
    const chains = server.requests.filter((r) => r.body?.messages?.[0]?.role === 'system');
    assert.equal(chains.length, 3, 'chains 2 and 3 repeated chain 1, and nothing more was sent');
    const rows = await panel.locator('#attempts .attempt').allInnerTexts();
    assert.equal(rows.filter((t) => /same as #1, not counted/.test(t)).length, 2, `rows ${JSON.stringify(rows)}`);
    assert.doesNotMatch(await panel.locator('#answer-meta').innerText(), /100%/, 'copies of one chain are not agreement');
    await screenshot(page, 'reason-not-sampling.png');
  });

  it('runs the extension-host suite (test/vscode) inside code-server and it passes', async function () {
    await wb?.close();
    wb = undefined;
    const testsPath = path.join(repoRoot, 'out', 'test', 'vscode', 'index.js');
    assert.ok(fs.existsSync(testsPath), `${testsPath} is built by npm run build`);
    const resultsFile = path.join(cs.runDir, 'vscode-suite.json');
    fs.rmSync(resultsFile, { force: true });
    // The suite reads its results path and the server URL from this file (the host inherits no env from the test).
    fs.writeFileSync(path.join(cs.workspace, '.budget-reasoner-test.json'), JSON.stringify({ resultsFile, serverUrl: server.url }));
    const suite = await openWorkbench(workbenchUrl(cs.port, cs.workspace, { testsPath }));
    try {
      const code = await Promise.race([suite.automationExit, new Promise<string>((r) => setTimeout(() => r('timeout'), 180_000))]);
      const results = fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) : undefined;
      if (results) {
        console.log(`      extension-host suite: ${results.passes} passed, ${results.failures} failed`);
        // npm test reads the suite's counts from this file (scripts/test.js).
        if (process.env.HOST_SUITE_SUMMARY) {
          fs.writeFileSync(process.env.HOST_SUITE_SUMMARY, JSON.stringify({ passes: results.passes, failures: results.failures, failed: results.failed ?? [] }));
        }
        for (const f of results.failed ?? []) {
          console.log(`      ✗ ${f.title}: ${f.error}`);
        }
      }
      assert.equal(code, 0, `codeAutomationExit(${code}); logs:\n${suite.automationLogs.slice(-40).join('\n')}`);
      assert.ok(results && results.passes > 0 && results.failures === 0, 'the suite ran tests and none failed');
    } finally {
      await suite.close();
    }
  });
});

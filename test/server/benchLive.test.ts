import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { liveConfigs, parseLiveArgs, preferenceExampleValues, runLiveBench, type LiveReport } from '../../bench/live';
import { STRATEGY_NAMES } from '../../src/core/config';
import { startModelServer, type ModelServer } from '../../tools/modelServer';

// bench:live against the loopback server in its sampling mode: each call draws one of its question's
// recorded chains at random, so answers vary, accuracy is neither 0 nor 1 and strategies differ.
const MODEL = 'qwen2.5-math-replay';
/** $ per 1M tokens: a local endpoint is free unless priced, and the dollar cap needs dollars to hold. */
const PRICE = { input: 0.15, output: 0.6 };

describe('bench:live against the loopback server (real openai client, sampling replies)', function () {
  this.timeout(60_000);
  let out: string;
  const lines: string[] = [];

  before(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-live-test-'));
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));
  beforeEach(() => {
    lines.length = 0;
  });

  async function bench(server: ModelServer, args: string[], label: string): Promise<LiveReport> {
    const options = parseLiveArgs(['--base-url', server.url, '--model', MODEL, '--price', `${PRICE.input},${PRICE.output}`, '--out', out, '--label', label, ...args]);
    return runLiveBench({ ...options, log: (line) => lines.push(line) });
  }

  /** Dollars of the calls as the server billed them (its usage at the bench's price), independent of the ledger. */
  const serverDollars = (server: ModelServer) => server.responses.reduce((sum, r) => {
    const usage = r.usage ?? r.countedUsage;
    return sum + (usage ? (usage.prompt_tokens * PRICE.input + usage.completion_tokens * PRICE.output) / 1e6 : 0);
  }, 0);

  describe('a local server that lists no models, with no key', () => {
    let server: ModelServer;
    before(async () => {
      server = await startModelServer({ sample: true, seed: 5, emptyModelList: true });
    });
    after(() => server.close());
    beforeEach(() => server.reset());

    it('runs every configuration on every question and writes tables whose numbers are the ledger\'s', async () => {
      const report = await bench(server, ['--max-usd', '1', '--questions', '4'], 'complete');
      const configs = liveConfigs({ strategies: STRATEGY_NAMES.filter((s) => s !== 'cascade'), estimators: ['tale', 'local'], preferenceExamples: preferenceExampleValues() });
      assert.equal(report.stoppedBy, undefined);
      assert.equal(report.questionsComplete, 4);
      assert.match(report.modelsListed, /lists no models/);
      assert.deepEqual(report.results.map((r) => r.config), configs.map((c) => c.name));
      assert.equal(report.runs.length, 4 * configs.length);

      // Every call is in the ledger, and the runs add up to it: tokens, dollars, calls.
      assert.equal(report.ledger.calls, server.responses.length);
      assert.equal(report.runs.reduce((s, r) => s + r.calls, 0), report.ledger.calls);
      assert.equal(report.runs.reduce((s, r) => s + r.billedTokens, 0), report.ledger.tokens);
      assert.ok(Math.abs(report.runs.reduce((s, r) => s + r.dollars, 0) - report.ledger.dollars) < 1e-12);
      assert.ok(Math.abs(serverDollars(server) - report.ledger.dollars) < 1e-9, `server ${serverDollars(server)} vs ledger ${report.ledger.dollars}`);
      // One TALE estimate call per TALE run, none for the local estimate.
      const taleRuns = report.runs.filter((r) => r.config.includes('TALE')).length;
      assert.equal(server.responses.filter((r) => r.kind === 'estimate').length, taleRuns);
      assert.ok(report.runs.filter((r) => r.config.includes('local')).every((r) => r.estimate.source === 'local'));

      // The replies vary: some runs right, some wrong, and the strategies do not all cost the same.
      const accuracy = report.runs.filter((r) => r.correct).length / report.runs.length;
      assert.ok(accuracy > 0 && accuracy < 1, `accuracy ${accuracy}`);
      assert.ok(new Set(report.results.map((r) => Math.round(r.billedTokensPerQuestion))).size > 1);
      const single = report.results.filter((r) => r.strategy === 'single');
      const anytime = report.results.filter((r) => r.strategy === 'anytime-sc');
      assert.ok(single.every((r) => r.chainsPerQuestion === 1) && anytime.some((r) => r.chainsPerQuestion > 1));
      for (const r of report.results) {
        const runs = report.runs.filter((x) => x.config === r.config);
        assert.equal(r.accuracy, runs.filter((x) => x.correct).length / runs.length);
        assert.equal(r.billedTokensPerQuestion, runs.reduce((s, x) => s + x.billedTokens, 0) / runs.length);
        assert.ok(r.anytimeIndex >= 0 && r.anytimeIndex <= 1);
      }
      assert.deepEqual(report.estimator.map((e) => e.estimator), ['tale', 'local']);

      // The tables, the JSON and the plot are written, named by label and day.
      assert.equal(path.basename(report.files.md), `live-complete-${report.day}.md`);
      const md = fs.readFileSync(report.files.md, 'utf8');
      for (const r of report.results) {
        assert.ok(md.includes(`| ${r.config} | 4 | ${r.accuracy.toFixed(3)} | ${r.outputTokensPerQuestion.toFixed(0)} | ${r.billedTokensPerQuestion.toFixed(0)} |`), r.config);
      }
      assert.match(md, /## Chain budget estimates/);
      assert.match(md, new RegExp(`\\$${report.ledger.dollars.toFixed(4)} of --max-usd \\$1 `));
      const json = JSON.parse(fs.readFileSync(report.files.json, 'utf8')) as LiveReport;
      assert.deepEqual(json.ledger, report.ledger);
      assert.equal(json.runs.length, report.runs.length);
      const svg = fs.readFileSync(report.files.svg, 'utf8');
      assert.match(svg, /^<svg /);
      assert.equal((svg.match(/<title>/g) ?? []).length, 2 * report.results.length);
    });

    it('stops before --max-usd by the product\'s own caps: the ledger and the server agree it was not passed', async () => {
      const maxUsd = 0.002;
      const report = await bench(server, ['--max-usd', String(maxUsd), '--questions', '6'], 'capped');
      assert.ok(report.stoppedBy, 'the cap ended the bench');
      assert.match(report.stoppedBy!, /cap/);
      assert.ok(report.ledger.dollars <= maxUsd, `ledger $${report.ledger.dollars}`);
      assert.ok(serverDollars(server) <= maxUsd, `server $${serverDollars(server)}`);
      // Most of the money was spent: the cap, not something else, stopped it.
      assert.ok(report.ledger.dollars > maxUsd / 2);
      assert.ok(report.questionsComplete < 6);
      assert.ok(report.results.every((r) => r.questions === report.questionsComplete));
      assert.match(fs.readFileSync(report.files.md, 'utf8'), /Stopped early: .*cap/);
    });
  });

  describe('a server that ignores n and wants a key', () => {
    const key = 'sk-bench-live-secret-0123456789';
    const variable = 'BENCH_LIVE_TEST_KEY';
    let server: ModelServer;
    before(async () => {
      server = await startModelServer({ sample: true, seed: 9, ignoreN: true, apiKey: key });
      process.env[variable] = key;
    });
    after(async () => {
      delete process.env[variable];
      await server.close();
    });

    it('sends the key from --key-env on every call and never prints or writes it', async () => {
      const report = await bench(server, ['--key-env', variable, '--max-usd', '1', '--questions', '2', '--strategies', 'anytime-sc,single'], 'keyed');
      assert.equal(report.stoppedBy, undefined);
      assert.equal(report.questionsComplete, 2);
      assert.ok(report.runs.every((r) => r.reason !== 'error'));
      const hash = createHash('sha256').update(`Bearer ${key}`).digest('hex').slice(0, 16);
      assert.ok(server.requests.length > 0 && server.requests.every((r) => r.authorizationHash === hash));
      assert.ok(server.responses.every((r) => r.choices.length === 1));
      const written = [report.files.md, report.files.json, report.files.svg].map((f) => fs.readFileSync(f, 'utf8')).join('\n');
      for (const text of [written, lines.join('\n'), JSON.stringify(report)]) {
        assert.ok(!text.includes(key));
      }
      assert.match(fs.readFileSync(report.files.md, 'utf8'), new RegExp(`--key-env ${variable}`));
    });

    it('refuses to start without the key, naming the variable only', async () => {
      assert.throws(() => parseLiveArgs(['--base-url', server.url, '--model', MODEL, '--key-env', 'BENCH_LIVE_UNSET', '--max-usd', '1', '--questions', '1']), /BENCH_LIVE_UNSET.*not set/);
      assert.throws(() => parseLiveArgs(['--base-url', server.url, '--model', MODEL, '--max-usd', '1', '--questions', '1', '--strategies', 'cascade']), /two or more --model/);
      assert.throws(() => parseLiveArgs(['--base-url', server.url, '--model', MODEL, '--max-usd', '0', '--questions', '1']), /--max-usd/);
    });
  });
});

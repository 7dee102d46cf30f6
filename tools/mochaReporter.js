// A mocha reporter: mocha's spec output on the console, plus a JSON summary of the run (counts and
// failed titles) written to the file named by the `summary` reporter option, for scripts/test.js:
//   mocha --reporter ./tools/mochaReporter.js --reporter-option summary=/tmp/unit.json
// Without that option it is the spec reporter and writes nothing.
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');

const { EVENT_RUN_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options = {}) {
    super(runner, options);
    const file = (options.reporterOption ?? options.reporterOptions ?? {}).summary;
    const failed = [];
    // Also emitted for failed hooks, which mocha counts as failures.
    runner.on(EVENT_TEST_FAIL, (test, err) => {
      failed.push({ title: test.fullTitle(), file: test.file, error: String((err && err.message) || err).slice(0, 2000) });
    });
    runner.once(EVENT_RUN_END, () => {
      if (!file) {
        return;
      }
      const stats = this.stats;
      const summary = {
        passes: stats.passes, failures: stats.failures, pending: stats.pending, tests: stats.tests,
        durationMs: stats.duration, failed,
      };
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
    });
  }
}

module.exports = SpecWithSummary;

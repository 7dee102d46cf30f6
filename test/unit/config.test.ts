import * as assert from 'node:assert/strict';
import { checkBaseUrl, defaultSettings, isLocalEndpoint, parseSettings, secretKeyFor } from '../../src/core/config';

describe('settings validation', () => {
  it('accepts the defaults with no problems', () => {
    const { settings, problems } = parseSettings({});
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, defaultSettings);
  });

  it('parses a numeric budget given as a string or a number', () => {
    assert.equal(parseSettings({ requestBudget: '4000' }).settings.requestBudget, 4000);
    assert.equal(parseSettings({ requestBudget: 256 }).settings.requestBudget, 256);
    assert.equal(parseSettings({ requestBudget: 'auto' }).settings.requestBudget, 'auto');
  });

  for (const bad of [-5, 0, 3, '1e9', 'lots', 12.5, 10_000_000, null]) {
    it(`rejects the budget ${JSON.stringify(bad)} with a message and falls back to auto`, () => {
      const { settings, problems } = parseSettings({ requestBudget: bad });
      assert.equal(settings.requestBudget, 'auto');
      assert.equal(problems.length, 1);
      assert.match(problems[0], /requestBudget.*auto/);
    });
  }

  it('rejects negative caps and keeps the defaults', () => {
    const { settings, problems } = parseSettings({ dailyCapUsd: -1, requestCapUsd: Number.NaN, dailyTokenCap: 'x' });
    assert.equal(settings.dailyCapUsd, defaultSettings.dailyCapUsd);
    assert.equal(settings.requestCapUsd, defaultSettings.requestCapUsd);
    assert.equal(settings.dailyTokenCap, 0);
    assert.equal(problems.length, 3);
  });

  it('samples at temperature 0.7 by default and takes 0 to 2', () => {
    assert.equal(parseSettings({}).settings.temperature, 0.7);
    assert.equal(parseSettings({ temperature: 0 }).settings.temperature, 0);
    assert.equal(parseSettings({ temperature: 1.3 }).settings.temperature, 1.3);
    for (const bad of [-0.1, 2.5, '0.7', null]) {
      const parsed = parseSettings({ temperature: bad });
      assert.equal(parsed.settings.temperature, 0.7);
      assert.match(parsed.problems.join('\n'), /"budgetReasoner\.temperature" must be a number from 0 to 2/);
    }
  });

  it('rejects unknown enum values', () => {
    const { settings, problems } = parseSettings({ strategy: 'debate', estimator: 'magic' });
    assert.equal(settings.strategy, 'anytime-sc');
    assert.equal(settings.estimator, 'auto');
    assert.equal(problems.length, 2);
  });

  it('reads preferenceExamples, off unless turned on, and names a value it does not know', () => {
    assert.equal(parseSettings({}).settings.preferenceExamples, 'off');
    assert.equal(parseSettings({ preferenceExamples: 'auto' }).settings.preferenceExamples, 'auto');
    const { settings, problems } = parseSettings({ preferenceExamples: true });
    assert.equal(settings.preferenceExamples, 'off');
    assert.deepEqual(problems, ['"budgetReasoner.preferenceExamples" must be one of off, auto (got true).']);
  });

  it('reads the on/off settings, and names one that is not true or false', () => {
    assert.equal(parseSettings({ panelPerRun: true, logRequests: true }).settings.panelPerRun, true);
    const { settings, problems } = parseSettings({ panelPerRun: 'yes', logRequests: 1 });
    assert.equal(settings.panelPerRun, false);
    assert.equal(settings.logRequests, false);
    assert.deepEqual(problems, [
      '"budgetReasoner.logRequests" must be true or false (got 1).',
      '"budgetReasoner.panelPerRun" must be true or false (got "yes").',
    ]);
  });

  it('keeps valid price overrides and names the invalid ones', () => {
    const { settings, problems } = parseSettings({ prices: { good: { input: 0.5, output: 1.5 }, bad: { input: -1, output: 2 }, worse: 'free' } });
    assert.deepEqual(settings.prices, { good: { input: 0.5, output: 1.5 } });
    assert.equal(problems.length, 2);
    assert.match(problems.join(' '), /"bad"/);
    assert.match(problems.join(' '), /"worse"/);
  });

  it('takes the meter\'s warning threshold as a whole percent from 1 to 100', () => {
    assert.equal(parseSettings({ warnAtPercent: 50 }).settings.warnAtPercent, 50);
    assert.equal(parseSettings({ warnAtPercent: 100 }).settings.warnAtPercent, 100);
    for (const bad of [0, 101, 79.5, '80', null]) {
      const { settings, problems } = parseSettings({ warnAtPercent: bad });
      assert.equal(settings.warnAtPercent, 80, JSON.stringify(bad));
      assert.match(problems.join(' '), /warnAtPercent.*1 to 100/);
    }
  });

  it('rejects a model id with spaces or control characters', () => {
    assert.equal(parseSettings({ model: 'gpt 4' }).problems.length, 1);
    assert.equal(parseSettings({ model: 'meta-llama/Llama-3.1-8B-Instruct:free' }).problems.length, 0);
  });
});

describe('base URL checks', () => {
  it('accepts http and https URLs', () => {
    assert.equal(checkBaseUrl('https://api.openai.com/v1'), undefined);
    assert.equal(checkBaseUrl('http://localhost:11434/v1'), undefined);
  });

  for (const bad of ['', '   ', 'not a url', 'ftp://example.com/v1', 'file:///etc/passwd', 'https://user:pw@example.com/v1', 42]) {
    it(`rejects ${JSON.stringify(bad)} with a message`, () => {
      assert.match(checkBaseUrl(bad) ?? '', /baseUrl/);
    });
  }

  it('an invalid base URL in settings is a problem, not a crash', () => {
    const { settings, problems } = parseSettings({ baseUrl: 'htp:/broken' });
    assert.equal(settings.baseUrl, defaultSettings.baseUrl);
    assert.equal(problems.length, 1);
  });

  it('knows local endpoints', () => {
    assert.ok(isLocalEndpoint('http://127.0.0.1:4000/v1'));
    assert.ok(isLocalEndpoint('http://localhost:11434/v1'));
    assert.ok(isLocalEndpoint('http://[::1]:1234/v1'));
    assert.ok(!isLocalEndpoint('https://api.openai.com/v1'));
    assert.ok(!isLocalEndpoint('https://openrouter.ai/api/v1'));
  });

  it('stores keys per normalised base URL', () => {
    assert.equal(secretKeyFor('https://API.openai.com/v1/'), secretKeyFor('https://api.openai.com/v1'));
    assert.notEqual(secretKeyFor('https://api.openai.com/v1'), secretKeyFor('https://openrouter.ai/api/v1'));
    assert.notEqual(secretKeyFor('http://localhost:1234/v1'), secretKeyFor('http://localhost:11434/v1'));
  });
});

describe('cascade and chat settings', () => {
  it('reads cascade tiers cheapest first, with their own base URL and price or the defaults', () => {
    const { settings, problems } = parseSettings({
      baseUrl: 'https://api.openai.com/v1/',
      strategy: 'cascade',
      cascade: [
        { model: 'qwen2.5:7b', baseUrl: 'http://localhost:11434/v1/', input: 0, output: 0 },
        { model: 'gpt-4o-mini' },
        { model: ' gpt-4.1 ', input: 2, output: 8 },
      ],
    });
    assert.deepEqual(problems, []);
    assert.equal(settings.strategy, 'cascade');
    assert.deepEqual(settings.cascade, [
      { model: 'qwen2.5:7b', baseUrl: 'http://localhost:11434/v1', price: { input: 0, output: 0 } },
      { model: 'gpt-4o-mini', baseUrl: 'https://api.openai.com/v1' },
      { model: 'gpt-4.1', baseUrl: 'https://api.openai.com/v1', price: { input: 2, output: 8 } },
    ]);
  });

  it('drops a bad tier with a message naming it, and falls back from a cascade of fewer than two models', () => {
    const { settings, problems } = parseSettings({
      strategy: 'cascade',
      cascade: [
        { model: 'gpt-4o-mini' },
        { model: 'x', baseUrl: 'ftp://example.com' },
        { model: 'y', input: 1 },
        { baseUrl: 'http://localhost:1/v1' },
        'gpt-4.1',
      ],
    });
    assert.deepEqual(settings.cascade.map((t) => t.model), ['gpt-4o-mini']);
    assert.equal(settings.strategy, 'anytime-sc');
    assert.match(problems[0], /entry 2 is ignored: its "baseUrl" must start with http/);
    assert.match(problems[1], /entry 3 is ignored: give both "input" and "output"/);
    assert.match(problems[2], /entry 4 is ignored: it needs "model"/);
    assert.match(problems[3], /entry 5 is ignored/);
    assert.match(problems[4], /needs at least two models/);
    assert.match(parseSettings({ cascade: { model: 'a' } }).problems[0], /must be a list/);
  });

  it('chatModel is auto, configured or picked', () => {
    assert.equal(parseSettings({ chatModel: 'picked' }).settings.chatModel, 'picked');
    const bad = parseSettings({ chatModel: 'copilot' });
    assert.equal(bad.settings.chatModel, 'auto');
    assert.match(bad.problems[0], /chatModel/);
  });
});

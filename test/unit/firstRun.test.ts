import * as assert from 'node:assert/strict';
import { defaultSettings } from '../../src/core/config';
import { firstRunDecision, type FirstRunState } from '../../src/core/firstRun';

describe('first-run walkthrough decision', () => {
  const fresh: FirstRunState = { alreadyDecided: false, hasApiKey: false, baseUrl: defaultSettings.baseUrl, model: defaultSettings.model };

  it('opens the walkthrough for a fresh install: the remote default URL, no key, an endpoint model', () => {
    assert.equal(firstRunDecision(fresh), 'open');
  });

  it('opens it for any remote URL without a key', () => {
    for (const baseUrl of ['https://openrouter.ai/api/v1', 'http://8.8.8.8:8000/v1', 'http://172.32.0.1/v1', 'https://localhost.example.com/v1']) {
      assert.equal(firstRunDecision({ ...fresh, baseUrl }), 'open', baseUrl);
    }
  });

  it('does not open it when a key is stored for the configured URL', () => {
    assert.equal(firstRunDecision({ ...fresh, hasApiKey: true }), 'configured');
  });

  it('does not open it for a local or private-network endpoint, which needs no key', () => {
    for (const baseUrl of ['http://localhost:11434/v1', 'http://127.0.0.1:8080/v1', 'http://[::1]:1234/v1', 'http://192.168.1.20:8000/v1', 'http://10.0.0.5/v1', 'http://172.16.3.4/v1']) {
      assert.equal(firstRunDecision({ ...fresh, baseUrl }), 'configured', baseUrl);
    }
  });

  it('does not open it when the model is a VS Code language model, whatever the URL', () => {
    assert.equal(firstRunDecision({ ...fresh, model: 'vscode-lm/gpt-4o' }), 'configured');
    // Only the prefix counts: a model merely named like one is still an endpoint model.
    assert.equal(firstRunDecision({ ...fresh, model: 'my-vscode-lm/gpt-4o' }), 'open');
  });

  it('never opens it twice: an earlier decision wins over everything', () => {
    assert.equal(firstRunDecision({ ...fresh, alreadyDecided: true }), 'skip');
    assert.equal(firstRunDecision({ ...fresh, alreadyDecided: true, hasApiKey: true }), 'skip');
  });
});

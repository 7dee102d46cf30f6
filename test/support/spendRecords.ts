import type { SpendRecord } from '../../src/core/ledger/spendRecord';

/** A plausible spend record for ledger tests, with the fields a test cares about overridden. */
export function rec(over: Partial<SpendRecord> = {}): SpendRecord {
  return {
    time: new Date(2025, 0, 15, 12, 0, 0).toISOString(),
    runId: 'run-1',
    sessionId: 'session-1',
    purpose: 'attempt',
    providerId: 'openai:https://api.openai.com/v1',
    model: 'gpt-4o-mini',
    promptTokens: 100,
    cachedPromptTokens: 0,
    completionTokens: 50,
    reasoningTokens: 0,
    dollars: 0.001,
    estimated: false,
    outcome: 'stop',
    ...over,
  };
}

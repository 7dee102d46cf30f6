/**
 * A made-up but plausible spend history for the days before today: ledger records for a few models
 * at their list prices (a local model at $0), the same every time (a seeded generator). The spend
 * view's e2e spec and screenshots write it into the ledger before code-server starts, so the charts
 * have several days and models to show; today's spend comes from real runs.
 */
import { randomUUID } from 'node:crypto';
import { serializeRecord } from '../src/core/ledger/spendLedger';
import type { SpendRecord } from '../src/core/ledger/spendRecord';
import { costOf, LIST_PRICES } from '../src/core/tokens/prices';
import { seededRandom } from '../src/core/reasoning/valueTree';

const MODELS = [
  { model: 'gpt-4o-mini', providerId: 'openai:https://api.openai.com/v1', runs: [2, 9], chain: 900 },
  { model: 'gpt-4.1', providerId: 'openai:https://api.openai.com/v1', runs: [0, 5], chain: 1600 },
  { model: 'o4-mini', providerId: 'openai:https://api.openai.com/v1', runs: [0, 3], chain: 2400 },
  { model: 'qwen2.5:7b', providerId: 'openai:http://localhost:11434/v1', runs: [0, 12], chain: 700 },
] as const;

/** Records for the `days` local days before `today` (a few days without spend among them). */
export function spendHistory(today: Date, days: number, seed = 16): SpendRecord[] {
  // The value tree's seeded generator: the same history on every machine.
  const random = seededRandom(seed);
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const records: SpendRecord[] = [];
  for (let back = days; back >= 1; back--) {
    if (random() < 0.15) {
      continue; // a day off
    }
    for (const m of MODELS) {
      const runs = between(m.runs[0], m.runs[1]);
      for (let run = 0; run < runs; run++) {
        const runId = randomUUID();
        const time = new Date(today.getFullYear(), today.getMonth(), today.getDate() - back, between(8, 19), between(0, 59), between(0, 59));
        for (let chain = between(1, 4); chain > 0; chain--) {
          const usage = { promptTokens: between(120, 480), cachedPromptTokens: 0, completionTokens: between(Math.round(m.chain / 3), m.chain) };
          const local = m.providerId.includes('localhost');
          records.push({
            time: new Date(time.getTime() + chain * 4000).toISOString(), runId, sessionId: 'history', purpose: 'attempt',
            providerId: m.providerId, model: m.model, ...usage,
            reasoningTokens: m.model === 'o4-mini' ? Math.round(usage.completionTokens * 0.6) : 0,
            dollars: local ? 0 : costOf(usage, LIST_PRICES[m.model]), estimated: false, outcome: 'stop',
          });
        }
      }
    }
  }
  return records.sort((a, b) => a.time.localeCompare(b.time));
}

/** The records as ledger lines (the file ledger's format). */
export function ledgerLines(records: readonly SpendRecord[]): string {
  return records.map((r) => `${serializeRecord({ ...r, id: randomUUID() })}\n`).join('');
}

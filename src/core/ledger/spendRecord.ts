/**
 * Why a provider call was made; the panel splits spend by this. `attempt` is a reasoning chain,
 * `forced-answer` asks a truncated chain for its answer, `select` asks which of a run's answers is most consistent (USC),
 * `step` asks the value tree for one more reasoning step, `value` scores a step's progress (valueTree.ts).
 */
export const CALL_PURPOSES = ['estimate', 'attempt', 'forced-answer', 'select', 'probe', 'calibration', 'step', 'value'] as const;
export type CallPurpose = typeof CALL_PURPOSES[number];

/**
 * Billed tokens of a call: its prompt and its output (hidden reasoning included), as providers bill
 * them. Spend, budgets and caps are in these; a chain's length is its output tokens alone.
 */
export function billedTokens(r: Pick<SpendRecord, 'promptTokens' | 'completionTokens'>): number {
  return r.promptTokens + r.completionTokens;
}

/** One provider call's spend. Appended to the ledger the moment its usage is known. */
export interface SpendRecord {
  /** ISO time the call finished (or failed). */
  time: string;
  /** Written by the file ledger on each line so a line read twice is counted once; never in records it returns. */
  id?: string;
  runId: string;
  /** The VS Code window session that made the call; absent in records written before sessions were recorded. */
  sessionId?: string;
  purpose: CallPurpose;
  providerId: string;
  model: string;
  promptTokens: number;
  cachedPromptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  /** Dollars at the price table's rates; null when the price is unknown (never a silent 0). */
  dollars: number | null;
  /** True when some counts were made locally (no usage from the provider, or a failed stream). */
  estimated: boolean;
  /** How the call ended: finish reason, or the provider error kind. */
  outcome: string;
}

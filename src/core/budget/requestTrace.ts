/**
 * The request trace a user can turn on (`budgetReasoner.logRequests`): each call's messages, the
 * parameters sent and the usage that came back, as text for the log. Keys never reach it: no header
 * is traced, and the text goes through the logger's key stripping as every log line does.
 */
import type { ChatMessage, FinishReason, Usage } from '../providers/chatProvider';
import type { CallPurpose } from '../ledger/spendRecord';

export interface TracedCall {
  purpose: CallPurpose;
  model: string;
  providerId: string;
  messages: readonly ChatMessage[];
  /** What was sent besides the messages: max_tokens as granted, n, temperature, logprobs, the thinking budget. */
  params: Record<string, number | boolean | string>;
  /** Usage as billed (the provider's) or as counted here, and whether it was counted. */
  usage: Usage;
  outcome: string;
  finishReasons: readonly FinishReason[];
  ms: number;
}

export type RequestTrace = (call: TracedCall) => void;

/** Longest message text kept in a trace line; the rest is summarised by its length. */
export const TRACE_MESSAGE_CHARS = 4000;

export function formatTracedCall(c: TracedCall): string {
  const params = Object.entries(c.params).map(([k, v]) => `${k}=${v}`).join(' ');
  const usage = `prompt ${c.usage.promptTokens} (cached ${c.usage.cachedPromptTokens}), completion ${c.usage.completionTokens} (reasoning ${c.usage.reasoningTokens})${c.usage.estimated ? ', counted locally' : ', billed'}`;
  const lines = [
    `${c.purpose} → ${c.model} at ${c.providerId}: ${params}; ${c.outcome} [${c.finishReasons.join(',')}] in ${c.ms} ms; ${usage}`,
    ...c.messages.map((m) => {
      const text = m.content.length > TRACE_MESSAGE_CHARS ? `${m.content.slice(0, TRACE_MESSAGE_CHARS)}… (${m.content.length} chars)` : m.content;
      return `  ${m.role}: ${JSON.stringify(text)}`;
    }),
  ];
  return lines.join('\n');
}

/**
 * How a run's budget reaches a model, by model family: the parameters a family takes to bound its
 * thinking, and what the client enforces itself where a family takes none. One table, shown in the
 * panel's header and documented in the README ("Budget levers").
 */
import type { ChatRequest } from './chatProvider';
import { LEVER_SETTINGS, type LeverSetting } from '../config';

/**
 * `openai-reasoning`: o-series and gpt-5 on OpenAI: `max_completion_tokens` (hidden reasoning included)
 * and `reasoning_effort`. `openrouter`: `max_tokens` and `reasoning: { max_tokens }`, OpenRouter's
 * unified thinking budget. `client-thinking`: every other endpoint (Ollama, LM Studio, vLLM, llama.cpp):
 * `max_tokens`, and the client cuts the stream when the thinking reaches its share and forces the answer.
 */
export type LeverFamily = Exclude<LeverSetting, 'auto'>;
export const LEVER_FAMILIES = LEVER_SETTINGS.filter((s): s is LeverFamily => s !== 'auto');
export type { LeverSetting };

export type ReasoningEffort = NonNullable<ChatRequest['reasoningEffort']>;

/** o-series and gpt-5 models take max_completion_tokens and reasoning_effort, and bill hidden reasoning. */
export function isReasoningModel(model: string): boolean {
  const id = model.toLowerCase().replace(/^.*\//, '');
  return /^o\d/.test(id) || /^gpt-5/.test(id);
}

function isOpenRouter(baseUrl: string | undefined): boolean {
  if (!baseUrl) {
    return false;
  }
  try {
    return /(^|\.)openrouter\.ai$/i.test(new URL(baseUrl).hostname);
  } catch {
    return false;
  }
}

/** The family whose levers a request to `model` at `baseUrl` takes. */
export function leverFamily(model: string, baseUrl: string | undefined, setting: LeverSetting = 'auto'): LeverFamily {
  if (setting !== 'auto') {
    return setting;
  }
  if (isOpenRouter(baseUrl)) {
    return 'openrouter';
  }
  return isReasoningModel(model) ? 'openai-reasoning' : 'client-thinking';
}

/**
 * The effort a chain budget calls for: OpenAI's reasoning models think far past a small budget at
 * their default (medium) effort, and the hidden reasoning is billed. Up to 1,024 tokens a chain: low;
 * up to 4,096: medium; above: high.
 */
export function reasoningEffortFor(chainTokens: number): ReasoningEffort {
  if (chainTokens <= 1024) {
    return 'low';
  }
  return chainTokens <= 4096 ? 'medium' : 'high';
}

export interface BudgetLevers {
  family: LeverFamily;
  /** Sent to OpenAI reasoning models. */
  reasoningEffort?: ReasoningEffort;
  /** The header's words for them, e.g. "max_completion_tokens + reasoning_effort low". */
  text: string;
}

/** The levers of a run whose chains are budgeted `chainTokens` each; `thinkingShare` of a chain's max_tokens may be thinking. */
export function budgetLevers(family: LeverFamily, chainTokens: number, thinkingShare: number): BudgetLevers {
  const share = `${Math.round(thinkingShare * 100)}%`;
  switch (family) {
    case 'openai-reasoning': {
      const reasoningEffort = reasoningEffortFor(chainTokens);
      return { family, reasoningEffort, text: `max_completion_tokens + reasoning_effort ${reasoningEffort}` };
    }
    case 'openrouter':
      return { family, text: `max_tokens + reasoning.max_tokens (${share} of it)` };
    case 'client-thinking':
      return { family, text: `max_tokens; thinking cut at ${share} of it, answer forced` };
  }
}

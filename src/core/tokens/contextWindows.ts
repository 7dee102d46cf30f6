/** Published context windows (tokens) of OpenAI model families; unknown models are not checked. */
const CONTEXT_WINDOWS: [RegExp, number][] = [
  [/^gpt-4\.1/, 1_047_576],
  [/^gpt-5/, 400_000],
  [/^o[134]/, 200_000],
  [/^(gpt-4o|chatgpt-4o|gpt-4-turbo)/, 128_000],
  [/^gpt-4-32k/, 32_768],
  [/^gpt-4/, 8_192],
  [/^gpt-3\.5-turbo/, 16_385],
];

export function contextWindowOf(model: string, overrides: Record<string, number> = {}): number | undefined {
  if (overrides[model] !== undefined) {
    return overrides[model];
  }
  const id = model.trim().toLowerCase().replace(/^.*\//, '');
  return CONTEXT_WINDOWS.find(([re]) => re.test(id))?.[1];
}

/** A message when the prompt cannot fit with room to answer; checked before sending, so it costs nothing. */
export function contextProblem(promptTokens: number, minAnswerTokens: number, model: string, window: number | undefined): string | undefined {
  if (window === undefined || promptTokens + minAnswerTokens <= window) {
    return undefined;
  }
  return `The question is ${promptTokens.toLocaleString('en-US')} tokens, more than "${model}" can take with room to answer (context window ${window.toLocaleString('en-US')} tokens). Select a smaller part, or pick a model with a larger window. Nothing was sent.`;
}

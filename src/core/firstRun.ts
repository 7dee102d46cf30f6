import { isLocalEndpoint } from './config';

/** What the first activation knows: whether it already decided, and what is configured. */
export interface FirstRunState {
  /** The walkthrough was already opened, or found unnecessary, on an earlier activation. */
  alreadyDecided: boolean;
  /** An API key is stored for `baseUrl`. */
  hasApiKey: boolean;
  baseUrl: string;
  model: string;
}

/**
 * - `skip`: decided on an earlier activation; do nothing.
 * - `configured`: a provider is usable already (a key, a local endpoint, or a VS Code language model);
 *   remember that and do not open the walkthrough.
 * - `open`: nothing is configured yet; open the walkthrough, then remember it was shown.
 */
export type FirstRunDecision = 'skip' | 'configured' | 'open';

/** Whether a run could start without asking for anything: the same conditions "Reason with budget" checks. */
export function providerConfigured(state: Pick<FirstRunState, 'hasApiKey' | 'baseUrl' | 'model'>): boolean {
  return state.model.startsWith('vscode-lm/') || state.hasApiKey || isLocalEndpoint(state.baseUrl);
}

export function firstRunDecision(state: FirstRunState): FirstRunDecision {
  if (state.alreadyDecided) {
    return 'skip';
  }
  return providerConfigured(state) ? 'configured' : 'open';
}

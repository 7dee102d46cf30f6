/**
 * The one place a metered caller stack is put together: a model's provider and prices, the run's
 * caps, the ledger and the windows' shared reservations, and the tokenizer.
 */
import { MeteredCaller, type MeteredCallerOptions } from '../budget/meteredCaller';
import type { SpendCaps } from '../budget/caps';
import type { ChatProvider } from '../providers/chatProvider';
import type { PriceLookup } from '../tokens/prices';

/** A model ready to call: its id at the endpoint, its provider, and how its tokens are priced. */
export interface CallableModel {
  /** The id sent to the endpoint (a VS Code model: without its `vscode-lm/` prefix). */
  id: string;
  provider: ChatProvider;
  prices: PriceLookup;
  /** The provider's own prompt count, where it has one (the VS Code LM API). */
  countPrompt?: MeteredCallerOptions['countPrompt'];
}

/** What every call of one run (or one benchmark, one calibration) shares. */
export type CallerContext = Pick<MeteredCallerOptions, 'runId' | 'sessionId' | 'ledger' | 'sharedReservations' | 'tokens' | 'clock' | 'minUsefulTokens' | 'reasoningEffort' | 'trace' | 'ratios'>;

/** Metered callers for a run: one per model and caps, all writing to the same ledger under the same run id. */
export function meteredCallers(context: CallerContext): (model: CallableModel, caps: SpendCaps) => MeteredCaller {
  return (model, caps) => new MeteredCaller({
    ...context,
    provider: model.provider,
    model: model.id,
    prices: model.prices,
    caps,
    ...(model.countPrompt ? { countPrompt: model.countPrompt } : {}),
  });
}

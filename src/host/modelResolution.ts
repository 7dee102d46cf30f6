/**
 * From settings to models a run can call: the configured endpoint (with its stored key), a VS Code
 * language model, or a cascade's tiers. Gathers the facts the run plan decides on (a missing key, an
 * unavailable model, prices, context windows) without deciding anything or showing any UI; Reason
 * with budget, @budget, Select Model and Calibrate share it.
 */
import type { Settings, StrategyName } from '../core/config';
import { isLocalEndpoint } from '../core/config';
import type { ChatProvider } from '../core/providers/chatProvider';
import { OpenAICompatibleProvider, type OpenAICompatibleOptions } from '../core/providers/openaiProvider';
import type { CallableModel } from '../core/run/callers';
import type { PlanModel } from '../core/run/plan';
import { contextWindowOf } from '../core/tokens/contextWindows';
import { tierPriceLookup, type PriceLookup } from '../core/tokens/prices';
import { LanguageModelProvider } from './lmProvider';
import type { Services } from './services';

export const VSCODE_LM_PREFIX = 'vscode-lm/';

/** A model as the plan sees it and as the run calls it; `callable` is undefined when it cannot be called (the plan refuses). */
export interface ResolvedModel {
  plan: PlanModel;
  callable: CallableModel | undefined;
}

/** The endpoint's provider with the key stored for it; undefined when a remote endpoint has no key. */
export async function endpointProvider(services: Services, baseUrl: string, options: Partial<OpenAICompatibleOptions> = {}): Promise<OpenAICompatibleProvider | undefined> {
  const apiKey = await services.apiKeys.get(baseUrl);
  if (!apiKey && !isLocalEndpoint(baseUrl)) {
    return undefined;
  }
  return new OpenAICompatibleProvider({ baseURL: baseUrl, apiKey, ...options });
}

function resolved(id: string, baseUrl: string | undefined, provider: ChatProvider | undefined, prices: PriceLookup, missing: Pick<PlanModel, 'keyMissing' | 'unavailable'> = {}): ResolvedModel {
  const apiId = id.startsWith(VSCODE_LM_PREFIX) ? id.slice(VSCODE_LM_PREFIX.length) : id;
  const callable: CallableModel | undefined = provider
    ? {
        id: apiId,
        provider,
        prices,
        // VS Code's language models count their own prompts; the local tokenizer covers the rest.
        ...(provider instanceof LanguageModelProvider ? { countPrompt: (messages) => provider.countTokens(messages.map((m) => m.content).join('\n')) } : {}),
      }
    : undefined;
  return {
    plan: {
      id,
      ...(baseUrl !== undefined ? { baseUrl } : {}),
      ...missing,
      price: prices(apiId),
      contextWindow: contextWindowOf(id),
      billsInDollars: provider?.billsInDollars ?? !id.startsWith(VSCODE_LM_PREFIX),
    },
    callable,
  };
}

/** A model chosen by the caller (the chat's picked model) rather than the settings. */
export function chosenModel(services: Services, settings: Settings, chosen: { provider: ChatProvider; id: string }): ResolvedModel {
  return resolved(chosen.id, undefined, chosen.provider, services.prices(settings));
}

/** The configured model: a VS Code language model, or the endpoint's model with its key. */
export async function configuredModel(services: Services, settings: Settings): Promise<ResolvedModel> {
  const prices = services.prices(settings);
  if (settings.model.startsWith(VSCODE_LM_PREFIX)) {
    const lm = await LanguageModelProvider.find(settings.model.slice(VSCODE_LM_PREFIX.length));
    return resolved(settings.model, undefined, lm, prices, lm ? {} : { unavailable: true });
  }
  const provider = await endpointProvider(services, settings.baseUrl, { levers: settings.budgetLevers });
  return resolved(settings.model, settings.baseUrl, provider, prices, provider ? {} : { keyMissing: true });
}

/** The models a run of this strategy calls, cheapest first: a cascade's tiers, else the chosen or configured model. */
export async function runModels(services: Services, settings: Settings, strategy: StrategyName, chosen?: { provider: ChatProvider; id: string }): Promise<ResolvedModel[]> {
  if (strategy !== 'cascade') {
    return [chosen ? chosenModel(services, settings, chosen) : await configuredModel(services, settings)];
  }
  return Promise.all(settings.cascade.map(async (tier) => {
    const provider = await endpointProvider(services, tier.baseUrl, { levers: settings.budgetLevers });
    return resolved(tier.model, tier.baseUrl, provider, tierPriceLookup(tier, settings.prices), provider ? {} : { keyMissing: true });
  }));
}

/**
 * What a cost preview is priced at without resolving providers (no key look-up, no UI): the
 * configured or chosen model, or a cascade's tiers at their own prices. Local, never a call.
 */
export function previewModels(services: Services, settings: Settings, chosenId?: string): PlanModel[] {
  if (chosenId !== undefined) {
    return [resolved(chosenId, undefined, undefined, services.prices(settings)).plan];
  }
  if (settings.strategy === 'cascade' && settings.cascade.length >= 2) {
    return settings.cascade.map((tier) => resolved(tier.model, tier.baseUrl, undefined, tierPriceLookup(tier, settings.prices)).plan);
  }
  return [resolved(settings.model, settings.baseUrl, undefined, services.prices(settings)).plan];
}

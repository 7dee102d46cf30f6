/**
 * A real model cascade for panel tests and screenshots: CascadeRun -> MeteredCaller ->
 * OpenAICompatibleProvider (openai SDK, SSE) -> the loopback model server replaying the recorded
 * GSM8K solutions of three GPT-3 models, cheapest first. Returns the events the panel would get.
 */
import { LocalBudgetEstimator } from '../src/core/budget/localEstimator';
import { formatDollars } from '../src/core/tokens/amountText';
import { meteredCallers } from '../src/core/run/callers';
import { TaleBudgetEstimator } from '../src/core/budget/taleEstimator';
import { MemorySpendLedger } from '../src/core/ledger/spendLedger';
import type { SpendRecord } from '../src/core/ledger/spendRecord';
import { OpenAICompatibleProvider } from '../src/core/providers/openaiProvider';
import { CascadeRun, type CascadeOutcome } from '../src/core/reasoning/cascade';
import type { RunEvent } from '../src/core/reasoning/runEvents';
import { SingleChainStrategy } from '../src/core/reasoning/strategies';
import type { ModelPrice, TokenPrice } from '../src/core/tokens/prices';
import { TokenCounter } from '../src/core/tokens/tokenCounter';
import type { RunHeader } from '../src/core/view/runView';
import { startModelServer } from './modelServer';
import { loadTraceLibrary } from './recordedData';

/** Replay model ids (modelServer.ts replayModels), cheapest first, at prices in the ratio of the model sizes (dollars per 1M tokens). */
export const CASCADE_LADDER = [
  { model: 'gpt3-6b-finetuning', price: 0.06 },
  { model: 'gpt3-6b-verification', price: 0.06 },
  { model: 'gpt3-175b-verification', price: 1.75 },
] as const;

/**
 * GSM8K test line 18 (the omelet question): the 6B fine-tuned model says 144, the 6B verifier 36, and
 * 175B verifier 7 (right), so the cascade climbs all three rungs and the best answer changes twice.
 */
export const CASCADE_QUESTION = 'gsm8k:18';

export interface RecordedCascade {
  header: RunHeader;
  events: RunEvent[];
  outcome: CascadeOutcome;
  gold: string;
  /** Every spend record, as the ledger holds them. */
  records: SpendRecord[];
}

export interface CascadeRunOptions {
  /** Models with no price (as with a model missing from the price table): their calls cost "unpriced". */
  unpriced?: readonly string[];
  /** Dollars the whole cascade may spend (default $0.01). */
  totalDollars?: number;
}

const priceOf = (perMillion: number): TokenPrice => ({ input: perMillion, cachedInput: perMillion, output: perMillion });

export async function recordCascadeRun(options: CascadeRunOptions = {}): Promise<RecordedCascade> {
  const question = loadTraceLibrary().get(CASCADE_QUESTION);
  if (!question) {
    throw new Error(`${CASCADE_QUESTION} is not in the recorded traces`);
  }
  const server = await startModelServer({ tokensPerSecond: 0 });
  try {
    const provider = new OpenAICompatibleProvider({ baseURL: server.url, apiKey: undefined, maxRetries: 0 });
    const ledger = new MemorySpendLedger();
    const tokens = new TokenCounter();
    const runId = 'cascade-panel';
    const totalDollars = options.totalDollars ?? 0.01;
    // The loopback endpoint would price at $0 (local); these prices stand in for a paid API.
    const prices = (model: string): ModelPrice | undefined => {
      const rung = CASCADE_LADDER.find((r) => r.model === model);
      return rung && !options.unpriced?.includes(model) ? { ...priceOf(rung.price), matched: model, source: 'override' } : undefined;
    };
    const callers = meteredCallers({ runId, ledger, tokens });
    const callerOf = (model: string) => callers({ id: model, provider, prices }, { requestDollars: totalDollars });
    const header: RunHeader = {
      runId,
      question: question.question,
      model: CASCADE_LADDER[CASCADE_LADDER.length - 1].model,
      models: CASCADE_LADDER.map((r) => r.model),
      strategy: 'cascade',
      caps: [`${formatDollars(totalDollars)} per request`],
      providerBillsInDollars: true,
      dollarCap: totalDollars,
      stoppingRule: 'escalate below P(majority) 0.8',
    };
    // The TALE estimate is asked of the cheapest model, as the command does.
    const local = new LocalBudgetEstimator({ countTokens: (text) => tokens.countText(text, 'gpt-4o').tokens });
    const estimate = await new TaleBudgetEstimator({ caller: callerOf(CASCADE_LADDER[0].model), fallback: local }).estimate(question.question, new AbortController().signal);
    const events: RunEvent[] = [];
    const cascade = new CascadeRun(
      CASCADE_LADDER.map((r) => ({ caller: callerOf(r.model), name: r.model, price: priceOf(r.price), strategy: () => new SingleChainStrategy() })),
      {
        question: question.question,
        budget: {
          chainTokens: estimate.tokens, totalDollars, source: estimate.source, records: estimate.records ?? [],
          ...(estimate.note ? { note: estimate.note } : {}),
        },
      },
      (e) => events.push(e),
    );
    const outcome = await cascade.start();
    return { header, events, outcome, gold: question.gold, records: [...await ledger.records()] };
  } finally {
    await server.close();
  }
}

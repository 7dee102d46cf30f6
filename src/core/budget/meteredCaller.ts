import type { ChatMessage, ChatProvider, ChatRequest, FinishReason, TokenLogprob, Usage } from '../providers/chatProvider';
import { ProviderError } from '../providers/chatProvider';
import type { SpendLedger } from '../ledger/spendLedger';
import type { SharedReservations } from '../ledger/sharedReservations';
import type { CallPurpose, SpendRecord } from '../ledger/spendRecord';
import type { CallResult, CallSpec, DeltaListener, ModelCaller } from './modelCaller';
import { CallFailure } from './modelCaller';
import type { PriceLookup, TokenPrice } from '../tokens/prices';
import { costOf } from '../tokens/prices';
import type { StreamingTokenCounter, TokenCounter } from '../tokens/tokenCounter';
import type { GrantRequest, SpendCaps } from './caps';
import type { RequestTrace } from './requestTrace';
import { DEFAULT_MIN_USEFUL_TOKENS, worstCaseDollars } from './caps';
import { grantInModelTokens, IDENTITY_RATIO, toBilled, toLocal, type ModelTokenRatio, type TokenRatios } from './tokenRatio';
import { isReasoningModel, reasoningEffortFor } from '../providers/budgetLevers';

export interface MeteredCallerOptions {
  provider: ChatProvider;
  model: string;
  runId: string;
  /** The window session, written into every record so the meter can total "this session". */
  sessionId?: string;
  caps: SpendCaps;
  ledger: SpendLedger;
  prices: PriceLookup;
  tokens: Pick<TokenCounter, 'countChatPrompt' | 'streaming' | 'truncateToTokens'>;
  /**
   * The provider's own prompt count, where it has one (the VS Code LM API's countTokens); undefined
   * when it gives none or an implausible one, and the local tokenizer counts instead.
   */
  countPrompt?: (messages: ChatMessage[]) => Promise<number | undefined>;
  clock?: () => Date;
  /** Below this many grantable tokens a call is refused rather than sent (default 16). */
  minUsefulTokens?: number;
  reasoningEffort?: ChatRequest['reasoningEffort'];
  /** Calls in flight in every window sharing the ledger file; without it only this process's count. */
  sharedReservations?: SharedReservations;
  /** Told of every call made (messages, parameters, usage), for the request trace. */
  trace?: RequestTrace;
  /**
   * Billed tokens per local token, learned from the usage calls report: the caps hold in the
   * server's count and max_tokens is sent in the model's tokens. Without it the local count is taken as billed.
   */
  ratios?: Pick<TokenRatios, 'of' | 'observe'>;
}

/** Error kinds the endpoint answers before it generates anything: no tokens are billed. */
const REJECTED_BEFORE_WORK = new Set<string>(['auth', 'forbidden', 'model-not-found', 'rate-limited', 'bad-request', 'context-length']);

/** Providers that do not bill per token (the VS Code LM API) cost no dollars per call. */
const NO_DOLLARS: TokenPrice = { input: 0, cachedInput: 0, output: 0 };

interface Reservation {
  tokens: number;
  dollars: number;
}

/** A prompt as counted here and as it will be billed (the provider's own count, or the local one at the upper ratio). */
interface PromptCount {
  local: number;
  billed: number;
  /** True when the provider counted it: nothing to learn a ratio from. */
  own: boolean;
}

/** What the caps granted a call: max_tokens in the model's tokens, and the billed tokens per choice past which the stream is cut. */
interface CallGrant {
  maxTokens: number;
  cutAt: number;
}

type StreamEnd =
  | { kind: 'done'; finishReasons: FinishReason[]; usage: Usage | undefined }
  | { kind: 'cut-off' }
  | { kind: 'failed'; cause: ProviderError };

/**
 * Every model call goes through here: the prompt is counted, the caps grant max_tokens, the stream
 * is counted as it arrives (and cut off if the server ignores max_tokens), and exactly one spend
 * record reaches the ledger before the call resolves or rejects.
 */
export class MeteredCaller implements ModelCaller {
  readonly model: string;
  private readonly clock: () => Date;
  /** Worst-case spend of calls in flight, so parallel calls cannot together pass a cap. */
  private readonly inFlight = new Set<Reservation>();

  constructor(private readonly options: MeteredCallerOptions) {
    this.model = options.model;
    this.clock = options.clock ?? (() => new Date());
  }

  /** Largest max_tokens a call sending `messages` would be granted now; Infinity when no cap applies, 0 when refused. */
  async room(messages: ChatMessage[]): Promise<number> {
    const ratio = this.ratio();
    const prompt = await this.promptTokens(messages, ratio);
    const g = grantInModelTokens({ ...(await this.grantBasis(prompt.billed)), wanted: Number.POSITIVE_INFINITY, minUsefulTokens: 1 }, ratio.completion);
    return g.ok ? g.maxTokens : 0;
  }

  async call(spec: CallSpec, purpose: CallPurpose, signal: AbortSignal, onDelta?: DeltaListener): Promise<CallResult> {
    const choices = Math.max(1, spec.n ?? 1);
    const ratio = this.ratio();
    const prompt = await this.promptTokens(spec.messages, ratio);
    const shared = this.options.sharedReservations;
    // Deciding the grant and reserving it is one step under the shared lock: another window
    // sharing the ledger cannot grant the same room under the daily caps in between.
    const decide = async () => {
      const basis = await this.grantBasis(prompt.billed);
      const g = grantInModelTokens({ ...basis, wanted: spec.maxTokens, choices, minUsefulTokens: this.options.minUsefulTokens ?? DEFAULT_MIN_USEFUL_TOKENS }, ratio.completion);
      if (!g.ok) {
        throw g.refusal;
      }
      // The worst a call can bill: its prompt, and every choice up to where its stream would be cut.
      const reservation: Reservation = {
        tokens: prompt.billed + choices * g.cutAt,
        dollars: basis.price ? worstCaseDollars(prompt.billed, g.cutAt, choices, basis.price) : 0,
      };
      const release = shared && !signal.aborted ? await shared.add(reservation) : undefined;
      return { basis, granted: { maxTokens: g.maxTokens, cutAt: g.cutAt }, reservation, release };
    };
    const { basis, granted, reservation, release } = shared ? await shared.withLock(decide) : await decide();
    if (signal.aborted) {
      // Stopped before anything was sent: nothing spent, nothing to record.
      await release?.();
      throw new CallFailure(new ProviderError('aborted', 'Stopped.'), [], this.record(zeroUsage(), purpose, basis.price, 'aborted'));
    }
    this.inFlight.add(reservation);
    try {
      return await this.meter(spec, purpose, signal, onDelta, prompt, granted, ratio, choices, basis.price);
    } finally {
      // Released only once the record is in the ledger, so spend is never under-counted in between.
      this.inFlight.delete(reservation);
      await release?.();
    }
  }

  private async meter(
    spec: CallSpec, purpose: CallPurpose, signal: AbortSignal, onDelta: DeltaListener | undefined,
    prompt: PromptCount, granted: CallGrant, ratio: ModelTokenRatio, choices: number, price: TokenPrice | undefined,
  ): Promise<CallResult> {
    const { provider, tokens } = this.options;
    const { maxTokens, cutAt } = granted;
    // Local tokens a choice may stream before it passes cutAt at the upper ratio (the server overran); the thinking budget at the estimate.
    const cutLocal = toLocal(cutAt, ratio.completion.upper);
    const thinkingLocal = spec.thinkingTokens === undefined ? Number.POSITIVE_INFINITY : toLocal(spec.thinkingTokens, ratio.completion.estimate);
    const counters: StreamingTokenCounter[] = [];
    const texts: string[] = [];
    const logprobs: (TokenLogprob[] | undefined)[] = [];
    const counter = (i: number) => (counters[i] ??= tokens.streaming(this.model));
    const thinkCounters: StreamingTokenCounter[] = [];
    const thinkCounter = (i: number) => (thinkCounters[i] ??= tokens.streaming(this.model));
    const thoughts: string[] = [];
    const thought: boolean[] = [];
    for (let i = 0; i < choices; i++) {
      counter(i);
      texts[i] = '';
    }
    // Sent only to models that take it (budgetLevers.ts): an explicit effort, else the one the chain's budget calls for.
    const effort = this.options.reasoningEffort ?? (spec.budgetTokens !== undefined ? reasoningEffortFor(spec.budgetTokens) : undefined);
    const request: ChatRequest = {
      model: this.model,
      messages: spec.messages,
      maxTokens,
      ...(spec.n !== undefined ? { n: spec.n } : {}),
      ...(spec.temperature !== undefined ? { temperature: spec.temperature } : {}),
      ...(spec.logprobs ? { logprobs: true } : {}),
      ...(effort ? { reasoningEffort: effort } : {}),
      ...(spec.thinkingTokens !== undefined ? { thinkingTokens: spec.thinkingTokens } : {}),
      ...(spec.stop?.length ? { stop: spec.stop } : {}),
    };
    // Our own controller carries the user's Stop and our cut-off when a server streams past max_tokens.
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let received = false;
    let end: StreamEnd | undefined;
    const startedAt = Date.now();
    try {
      for await (const event of provider.stream(request, controller.signal)) {
        if (event.kind === 'done') {
          end = event;
          break;
        }
        received = true;
        const i = event.choice;
        texts[i] ??= '';
        thoughts[i] ??= '';
        const into = event.kind === 'thinking' ? thoughts : texts;
        if (event.kind === 'thinking') {
          // Logprobs no longer line up with the visible text once thinking is interleaved.
          thought[i] = true;
        } else if (event.logprobs?.length) {
          (logprobs[i] ??= []).push(...event.logprobs);
        }
        // Thinking and visible text are one completion: the grant holds while a model thinks.
        const own = event.kind === 'thinking' ? thinkCounter(i) : counter(i);
        const mine = own.append(event.text);
        const other = (event.kind === 'thinking' ? counter(i) : thinkCounter(i)).runningTokens;
        const thinkingOver = event.kind === 'thinking' && mine > thinkingLocal;
        if (mine + other > cutLocal || thinkingOver) {
          // Past the grant (the server ignores max_tokens) or past the thinking budget: keep what fits and stop paying for more.
          const room = Math.min(cutLocal - other, event.kind === 'thinking' ? thinkingLocal : Number.POSITIVE_INFINITY);
          const kept = tokens.truncateToTokens(into[i] + event.text, Math.max(0, room), this.model);
          if (kept.length > into[i].length) {
            onDelta?.(i, kept.slice(into[i].length), event.kind === 'thinking');
          }
          into[i] = kept;
          // Only the granted part is recorded, so the caps hold; what the last chunk sent past it is dropped unread.
          const recount = tokens.streaming(this.model);
          recount.append(kept);
          (event.kind === 'thinking' ? thinkCounters : counters)[i] = recount;
          end = { kind: 'cut-off' };
          controller.abort();
          break;
        }
        into[i] += event.text;
        if (event.text) {
          onDelta?.(i, event.text, event.kind === 'thinking');
        }
      }
      end ??= { kind: 'failed', cause: new ProviderError('protocol', 'The stream ended without a final event.') };
    } catch (error) {
      end = { kind: 'failed', cause: toProviderError(error, signal) };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }

    const traced = (usage: Usage, outcome: string, finishReasons: FinishReason[]) => this.options.trace?.({
      purpose, model: this.model, providerId: provider.id, messages: spec.messages,
      params: {
        max_tokens: maxTokens,
        ...(spec.n !== undefined ? { n: spec.n } : {}),
        ...(spec.temperature !== undefined ? { temperature: spec.temperature } : {}),
        ...(spec.logprobs ? { logprobs: true } : {}),
        ...(spec.thinkingTokens !== undefined ? { thinking_budget: spec.thinkingTokens } : {}),
        ...(spec.stop?.length ? { stop: JSON.stringify(spec.stop) } : {}),
        ...(effort && isReasoningModel(this.model) ? { reasoning_effort: effort } : {}),
      },
      usage, outcome, finishReasons, ms: Date.now() - startedAt,
    });
    const counted = [...counters, ...thinkCounters].reduce((sum, c) => sum + (c ? c.finish().exactTokens : 0), 0);
    // Without the server's usage: what was received, at the upper ratio, never past where the stream would have been cut.
    const ourCount: Usage = {
      promptTokens: prompt.billed, cachedPromptTokens: 0,
      completionTokens: Math.min(toBilled(counted, ratio.completion.upper), cutAt * choices), reasoningTokens: 0, estimated: true,
    };
    if (end.kind === 'failed') {
      const rejected = !received && REJECTED_BEFORE_WORK.has(end.cause.kind);
      const record = this.record(rejected ? { ...ourCount, promptTokens: 0 } : ourCount, purpose, price, end.cause.kind);
      await this.options.ledger.append(record);
      traced(rejected ? { ...ourCount, promptTokens: 0 } : ourCount, end.cause.kind, []);
      throw new CallFailure(end.cause, texts, record);
    }
    let usage = end.kind === 'done' && end.usage ? end.usage : ourCount;
    if (usage.completionTokens > cutAt * choices) {
      // The endpoint ignored max_tokens: as with a stream we cut off, only the reserved part is recorded, so the caps hold.
      const reserved = cutAt * choices;
      usage = { ...usage, completionTokens: reserved, reasoningTokens: Math.min(usage.reasoningTokens, reserved), estimated: true };
    } else if (!usage.estimated) {
      this.learn(prompt, counted, thoughts.some(Boolean), usage);
    }
    const reasons: FinishReason[] = texts.map((_, i) => (end.kind === 'done' ? end.finishReasons[i] ?? 'unknown' : 'length'));
    const record = this.record(usage, purpose, price, [...new Set(reasons)].join(','));
    await this.options.ledger.append(record);
    traced(usage, end.kind === 'cut-off' ? 'cut off (grant or thinking budget)' : 'done', reasons);
    return {
      choices: texts.map((text, i) => ({
        text,
        finishReason: reasons[i],
        ...(logprobs[i] && !thought[i] ? { logprobs: logprobs[i] } : {}),
        ...(thoughts[i] ? { thinking: thoughts[i] } : {}),
      })),
      usage,
      record,
      grantedMaxTokens: maxTokens,
    };
  }

  private record(usage: Usage, purpose: CallPurpose, price: TokenPrice | undefined, outcome: string): SpendRecord {
    return {
      time: this.clock().toISOString(),
      runId: this.options.runId,
      ...(this.options.sessionId !== undefined ? { sessionId: this.options.sessionId } : {}),
      purpose,
      providerId: this.options.provider.id,
      model: this.model,
      promptTokens: usage.promptTokens,
      cachedPromptTokens: usage.cachedPromptTokens,
      completionTokens: usage.completionTokens,
      reasoningTokens: usage.reasoningTokens,
      dollars: costOf(usage, price),
      estimated: usage.estimated,
      outcome,
    };
  }

  private ratio(): ModelTokenRatio {
    return this.options.ratios?.of(this.model) ?? IDENTITY_RATIO;
  }

  private async promptTokens(messages: ChatMessage[], ratio: ModelTokenRatio): Promise<PromptCount> {
    const own = await this.options.countPrompt?.(messages).catch(() => undefined);
    if (own !== undefined) {
      return { local: own, billed: own, own: true };
    }
    const local = this.options.tokens.countChatPrompt(messages, this.model).tokens;
    return { local, billed: toBilled(local, ratio.prompt.upper), own: false };
  }

  /**
   * Teaches the ratio what the server billed for what was counted here. Hidden reasoning (billed, never
   * streamed) is left out of the completion unless thinking was streamed: then reasoning_tokens counts it.
   */
  private learn(prompt: PromptCount, counted: number, streamedThinking: boolean, usage: Usage): void {
    this.options.ratios?.observe(this.model, {
      ...(prompt.own ? {} : { prompt: { local: prompt.local, billed: usage.promptTokens } }),
      completion: { local: counted, billed: usage.completionTokens - (streamedThinking ? 0 : usage.reasoningTokens) },
    });
  }

  /**
   * Spend so far from the ledger (other windows' appends included) plus the calls in flight: this
   * window's for the run, every window's (the shared reservations) for the day when the ledger is shared.
   */
  private async grantBasis(promptTokens: number): Promise<Pick<GrantRequest, 'caps' | 'spent' | 'promptTokens' | 'price'>> {
    const { ledger, provider, prices, runId, caps, sharedReservations } = this.options;
    const price = provider.billsInDollars ? prices(this.model) : NO_DOLLARS;
    const [run, today, everywhere] = await Promise.all([ledger.totalsForRun(runId), ledger.today(), sharedReservations?.total()]);
    let tokens = 0;
    let dollars = 0;
    for (const r of this.inFlight) {
      tokens += r.tokens;
      dollars += r.dollars;
    }
    const dayTokens = everywhere ? everywhere.tokens : tokens;
    const dayDollars = everywhere ? everywhere.dollars : dollars;
    return {
      caps,
      promptTokens,
      price,
      spent: {
        run: { tokens: run.tokens + tokens, dollars: run.dollars + dollars },
        today: { tokens: today.tokens + dayTokens, dollars: today.dollars + dayDollars },
      },
    };
  }
}

function zeroUsage(): Usage {
  return { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0, reasoningTokens: 0, estimated: false };
}

function toProviderError(error: unknown, signal: AbortSignal): ProviderError {
  if (error instanceof ProviderError) {
    return error;
  }
  if (signal.aborted) {
    return new ProviderError('aborted', 'Stopped.');
  }
  return new ProviderError('protocol', `The endpoint's stream failed: ${error instanceof Error ? error.message : String(error)}`);
}

import * as assert from 'node:assert/strict';
import { defaultSettings, type Settings } from '../../src/core/config';
import { DEFAULT_SYSTEM_PROMPT, ReasoningRun } from '../../src/core/reasoning/reasoningRun';
import type { CallResult, ModelCaller } from '../../src/core/budget/modelCaller';
import { AnytimeSelfConsistency } from '../../src/core/reasoning/strategies';
import { createRunEngine, strategyOf } from '../../src/core/run/engine';
import { AUTO_CHAINS, continuedBudget, MIN_CHAIN_TOKENS, planRun, TALE_MAX_CHAIN_TOKENS, type PlanModel, type PlanRequest, type RunPlan } from '../../src/core/run/plan';
import { NOTHING_SENT, refusal } from '../../src/core/run/refusal';
import type { ModelPrice } from '../../src/core/tokens/prices';
import { TokenRatios } from '../../src/core/budget/tokenRatio';

/** One token per word, 3 per message and 3 for the reply: simple enough to check the arithmetic by hand. */
const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
const tokens: PlanRequest['tokens'] = {
  countText: (text) => ({ tokens: words(text) }),
  countChatPrompt: (messages) => ({ tokens: messages.reduce((n, m) => n + 3 + words(m.content), 3) }),
};
const price = (input: number, output: number): ModelPrice => ({ input, cachedInput: input / 2, output, matched: 'm', source: 'override' });
const model = (id: string, extra: Partial<PlanModel> = {}): PlanModel => ({ id, baseUrl: 'https://api.example.com/v1', price: price(1, 4), contextWindow: 128_000, billsInDollars: true, ...extra });
const settings = (patch: Partial<Settings> = {}): Settings => ({ ...defaultSettings, ...patch });
const QUESTION = 'What is 6 times 7?';

function request(patch: Partial<PlanRequest> = {}): PlanRequest {
  return {
    question: QUESTION,
    settings: settings(),
    models: [model('gpt-4o-mini')],
    tokens,
    estimate: () => ({ tokens: 500, source: 'local' }),
    learnedRuns: 0,
    today: { tokens: 0, dollars: 0 },
    ...patch,
  };
}

function plan(patch: Partial<PlanRequest> = {}): RunPlan {
  const r = planRun(request(patch));
  assert.ok(r.ok, r.ok ? '' : r.refusal.message);
  return r.plan;
}

function refused(patch: Partial<PlanRequest>) {
  const r = planRun(request(patch));
  assert.ok(!r.ok, 'refused');
  return r;
}

describe('planRun: the rules of a run, once', () => {
  // The system prompt and the question, each 3 + its words, and 3 for the reply.
  const promptTokens = 3 + words(DEFAULT_SYSTEM_PROMPT) + 3 + words(QUESTION) + 3;

  it("shows in the header how the budget bounds the model's thinking, by its family", () => {
    assert.match(plan({ models: [model('o4-mini')] }).header.levers ?? '', /^max_completion_tokens \+ reasoning_effort (low|medium|high)$/);
    assert.match(plan({ models: [model('qwen3:8b', { baseUrl: 'http://localhost:11434/v1' })] }).header.levers ?? '', /thinking cut at 80% of it/);
    assert.match(plan({ models: [model('deepseek/deepseek-r1', { baseUrl: 'https://openrouter.ai/api/v1' })] }).header.levers ?? '', /reasoning\.max_tokens/);
    assert.equal(plan({ models: [model('vscode-lm/copilot-gpt-4o', { baseUrl: undefined })] }).header.levers, undefined, 'a VS Code model takes none of them');
  });

  it('plans the auto budget: AUTO_CHAINS chains of the estimate plus the prompt, billed tokens, as the run cap', () => {
    const p = plan();
    assert.equal(p.promptTokens, promptTokens);
    assert.equal(p.chainTokens, 500);
    assert.equal(p.budgetTokens, AUTO_CHAINS * (500 + promptTokens));
    assert.deepEqual(p.caps, { requestTokens: p.budgetTokens, requestDollars: 0.25, dailyDollars: 2 });
    assert.deepEqual(p.estimateCaps, { requestDollars: 0.25, dailyDollars: 2 }, 'the estimate call has no run budget yet');
    assert.equal(p.estimateStep, 'tale', 'auto asks TALE until the local estimator has learned enough');
    assert.deepEqual(p.engine, { kind: 'chains', strategy: 'anytime-sc', answerKind: 'short', selector: 'medoid', stoppingRule: 'auto', confidenceThreshold: 0.95 });
  });

  it('uses a fixed budget as the run budget and caps the chain at it; the estimator setting decides whether a call estimates', () => {
    const fixed = plan({ settings: settings({ requestBudget: 300 }) });
    assert.deepEqual([fixed.chainTokens, fixed.budgetTokens, fixed.fixedBudget, fixed.header.budgetTokens], [300, 300, 300, 300]);
    assert.equal(fixed.estimateStep, 'local', 'no estimate call when the budget is fixed');
    assert.equal(plan({ settings: settings({ requestBudget: 300, estimator: 'tale' }) }).estimateStep, 'tale', 'unless TALE is asked for');
    assert.equal(plan().estimateStep, 'tale', 'auto asks TALE for an auto budget');
    const thisRun = plan({ budgetTokens: 2000 });
    assert.deepEqual([thisRun.chainTokens, thisRun.budgetTokens], [500, 2000], 'a per-run budget wins over the settings');
    const noCall = plan({ settings: settings({ requestBudget: 300, estimator: 'fixed' }) });
    assert.equal(noCall.estimateStep, 'fixed');
    assert.deepEqual(noCall.estimate, { tokens: 300, source: 'fixed' });
    assert.equal(plan({ learnedRuns: 20 }).estimateStep, 'local');
    assert.equal(plan({ settings: settings({ estimator: 'local' }) }).estimateStep, 'local');
    assert.equal(plan({ settings: settings({ estimator: 'tale' }), learnedRuns: 99 }).estimateStep, 'tale');
  });

  it('previews the cost with the TALE call and its largest budget in the worst case, and asks above the threshold', () => {
    const p = plan();
    assert.ok(p.preview.worst !== null && p.preview.low !== null);
    // The worst case assumes TALE may set its largest chain budget, within the $0.25 request cap.
    const taleWorst = AUTO_CHAINS * (TALE_MAX_CHAIN_TOKENS + promptTokens) * 4 / 1e6;
    assert.ok(Math.abs(p.preview.worst - Math.min(0.25, taleWorst + (/* estimate call */ (3 + 3 + words(QUESTION) + 60) * 1 + 16 * 4) / 1e6)) < 0.01);
    assert.equal(p.confirm, p.preview.worst > 0.1);
    assert.equal(plan({ settings: settings({ confirmAboveUsd: 0 }) }).confirm, false, '0 never asks');
    const free = plan({ models: [model('llama3', { price: { ...price(0, 0), source: 'local' } })] });
    assert.equal(free.confirm, false, 'a free model never asks');
    assert.equal(free.header.providerBillsInDollars, false);
  });

  it('refuses a bad question first, with "Nothing was sent." once', () => {
    const r = refused({ question: '  \n ' });
    assert.equal(r.refusal.kind, 'bad-question');
    assert.equal(r.refusal.message.split(NOTHING_SENT).length, 2);
    assert.equal(r.preview, undefined);
    assert.equal(refused({ question: undefined }).refusal.kind, 'bad-question');
  });

  it('refuses a remote endpoint without a key, offering the key or a local endpoint, and still previews the cost', () => {
    const r = refused({ models: [model('gpt-4o-mini', { keyMissing: true })] });
    assert.equal(r.refusal.kind, 'no-key');
    assert.equal(r.refusal.message, 'no API key is set for https://api.example.com/v1. Nothing was sent.');
    assert.deepEqual(r.refusal.actions, ['set-api-key', 'use-local-endpoint']);
    assert.equal(r.refusal.baseUrl, 'https://api.example.com/v1');
    assert.ok(r.preview, 'the meter can still preview the cost');
    const lm = refused({ models: [model('vscode-lm/copilot-gpt-4o', { unavailable: true })] });
    assert.equal(lm.refusal.kind, 'model-missing');
    assert.deepEqual(lm.refusal.actions, ['select-model']);
  });

  it("refuses a question over a model's context window, for every model of a cascade", () => {
    const r = refused({ models: [model('small', { contextWindow: 40 })] });
    assert.equal(r.refusal.kind, 'too-long');
    assert.match(r.refusal.message, /more than "small" can take with room to answer \(context window 40 tokens\).*Nothing was sent\.$/);
    const cascade = refused({ strategy: 'cascade', models: [model('a'), model('b', { contextWindow: 60 })] });
    assert.equal(cascade.refusal.kind, 'too-long');
    assert.match(cascade.refusal.message, /"b"/);
  });

  it('refuses a cascade of fewer than two models, a tier without a key or a price, naming the tier', () => {
    assert.equal(refused({ strategy: 'cascade', models: [model('a')] }).refusal.kind, 'cascade-config');
    assert.equal(refused({ strategy: 'cascade', models: [] }).refusal.kind, 'cascade-config');
    const key = refused({ strategy: 'cascade', models: [model('a'), model('b', { keyMissing: true })] }).refusal;
    assert.deepEqual([key.kind, key.tier], ['no-key', 2]);
    assert.match(key.message, /^Cascade model 2 \(b\) needs an API key for https:\/\/api\.example\.com\/v1/);
    const unpriced = refused({ strategy: 'cascade', models: [model('a', { price: undefined }), model('b')] }).refusal;
    assert.deepEqual([unpriced.kind, unpriced.tier, unpriced.actions], ['cascade-config', 1, ['edit-cascade']]);
  });

  it('refuses a run whose first chain cannot fit today, naming the cap and offering to raise it', () => {
    const daily = refused({ today: { tokens: 0, dollars: 2 } }).refusal;
    assert.equal(daily.kind, 'cap');
    assert.equal(daily.cap, 'daily-dollars');
    assert.deepEqual(daily.actions, ['raise-daily-cap']);
    assert.match(daily.message, /^Not sent: /);
    const budget = refused({ settings: settings({ requestBudget: 20 }) }).refusal;
    assert.deepEqual([budget.kind, budget.cap, budget.actions], ['cap', 'request-tokens', ['raise-budget']]);
    // A first chain needs min(chain budget, MIN_CHAIN_TOKENS) after its prompt and budget line.
    const justFits = promptTokens + words('Let\'s think step by step and use less than 64 tokens:') + MIN_CHAIN_TOKENS;
    assert.ok(planRun(request({ settings: settings({ requestBudget: justFits, estimator: 'fixed' }), estimate: () => ({ tokens: 64, source: 'fixed' }) })).ok);
    assert.ok(planRun(request({ today: undefined, settings: settings({ requestBudget: 20 }) })).ok, 'a preview does not check today');
  });

  it("counts the prompt in the model's billed tokens: the expected ratio for budgets and costs, the upper bound for what must fit", () => {
    const ratios = new TokenRatios();
    const llama = model('llama-3.1-8b');
    // Unlearned: the first chain must fit at twice the local prompt, and max_tokens over the spread of 2.
    const line = words('Let\'s think step by step and use less than 64 tokens:');
    const localNeed = promptTokens + line + MIN_CHAIN_TOKENS;
    const unlearned = { models: [llama], ratios, settings: settings({ requestBudget: localNeed, estimator: 'fixed' as const }), estimate: () => ({ tokens: 64, source: 'fixed' as const }) };
    assert.equal(refused(unlearned).refusal.cap, 'request-tokens');
    assert.ok(planRun({ ...request(unlearned), settings: settings({ requestBudget: 2 * (promptTokens + line) + 2 * MIN_CHAIN_TOKENS, estimator: 'fixed' }) }).ok);
    // Learned at 1.5 (and no wider): budgets and previews at 1.5.
    for (let i = 0; i < 1000; i++) {
      ratios.observe(llama.id, { prompt: { local: 100, billed: 150 }, completion: { local: 100, billed: 150 } });
    }
    const p = plan({ models: [llama], ratios });
    assert.equal(p.promptTokens, Math.ceil(promptTokens * 1.5));
    assert.equal(p.budgetTokens, AUTO_CHAINS * (500 + Math.ceil(promptTokens * 1.5)));
    assert.equal(plan({ models: [llama] }).promptTokens, promptTokens, 'without ratios the local count is billed');
  });

  it('plans a cascade: priced and shown at its strongest model, its dollars the budget at that rate within the request cap', () => {
    const models = [model('cheap', { price: price(0.1, 0.4) }), model('strong', { price: price(2, 8) })];
    const p = plan({ strategy: 'cascade', models, settings: settings({ requestCapUsd: 0 }) });
    assert.equal(p.header.model, 'strong');
    assert.equal(p.learns, false, "a cascade's answers do not teach the estimator");
    assert.equal(plan().learns, true);
    assert.deepEqual(p.header.models, ['cheap', 'strong']);
    assert.equal(p.engine.kind, 'cascade');
    if (p.engine.kind === 'cascade') {
      assert.equal(p.engine.dollarsPerToken, 8 / 1e6);
      assert.equal(p.engine.totalDollars, p.budgetTokens * 8 / 1e6);
    }
    const capped = plan({ strategy: 'cascade', models, settings: settings({ requestCapUsd: 0.01 }) });
    assert.equal(capped.engine.kind === 'cascade' && capped.engine.totalDollars, 0.01);
    const single = plan({ models: [models[1]], settings: settings({ requestCapUsd: 0 }) });
    assert.deepEqual(p.preview, single.preview, 'the cascade previews as its strongest model alone');
  });

  it('describes the caps and the stopping rule for the header', () => {
    const p = plan({ settings: settings({ dailyTokenCap: 50_000, stoppingRule: 'beta', confidenceThreshold: 0.9 }) });
    assert.deepEqual(p.header.caps, ['$0.25 per request', '$2.00 a day', '50,000 tokens a day']);
    assert.equal(p.header.stoppingRule, 'Beta posterior ≥ 0.9');
    assert.equal(p.header.dollarCap, 0.25);
  });

  it('raises the run cap in place on Continue', () => {
    const caps = { requestTokens: 1000 };
    assert.equal(continuedBudget(caps, 1000, 500), 1500);
    assert.equal(caps.requestTokens, 1500);
    const uncapped: { requestTokens?: number } = {};
    assert.equal(continuedBudget(uncapped, 800, 200), 1000);
  });

  it('appends "Nothing was sent." to a refusal once', () => {
    assert.equal(refusal('declined', 'Declined.').message, 'Declined. Nothing was sent.');
    assert.equal(refusal('declined', 'Declined. Nothing was sent.').message, 'Declined. Nothing was sent.');
  });
});

describe('createRunEngine: one engine interface for every plan', () => {
  const reply = (text: string): CallResult => ({
    choices: [{ text, finishReason: 'stop', completionTokens: words(text) }],
    record: { promptTokens: 10, completionTokens: words(text) } as CallResult['record'],
  }) as unknown as CallResult;

  it('runs a chains plan as a ReasoningRun with the plan budget, and the tuned strategy for the auto rule', () => {
    const p = plan({ settings: settings({ requestBudget: 3000, estimator: 'fixed' }) });
    const caller: ModelCaller = { model: 'gpt-4o-mini', call: async () => reply('\\boxed{42}'), room: async () => Number.POSITIVE_INFINITY } as unknown as ModelCaller;
    const engine = createRunEngine(p, () => caller, () => undefined);
    assert.ok(engine instanceof ReasoningRun);
    assert.equal(engine.totalBudget, 3000);
    assert.ok(strategyOf({ kind: 'chains', strategy: 'anytime-sc', answerKind: 'short', selector: 'medoid', stoppingRule: 'auto', confidenceThreshold: 0.95 }) instanceof AnytimeSelfConsistency);
    assert.equal(strategyOf({ kind: 'chains', strategy: 'single', answerKind: 'short', selector: 'medoid', stoppingRule: 'auto', confidenceThreshold: 0.95 }).name, 'single');
  });

  it('runs a cascade plan whose budget is counted in billed tokens, Continue included', () => {
    const models = [model('cheap', { price: price(0.1, 0.4) }), model('strong', { price: price(2, 8) })];
    const p = plan({ strategy: 'cascade', models });
    const engine = createRunEngine(p, () => ({ model: 'x', call: async () => reply('\\boxed{1}'), room: async () => Number.POSITIVE_INFINITY }) as unknown as ModelCaller, () => undefined);
    assert.equal(engine.totalBudget, p.budgetTokens);
    assert.deepEqual(engine.agreeingChainTokens('1'), [], 'a cascade teaches the estimator nothing');
  });
});

import * as assert from 'node:assert/strict';
import { defaultSettings, type Settings } from '../../src/core/config';
import { calibrateBudgets } from '../../src/core/reasoning/calibration';
import {
  buildPreferencePair, chainPromptMessages, MAX_PREFERENCE_PAIRS, MAX_SOLUTION_CHARS, PreferencePairs, preferenceExampleBlock,
  selectPreferenceExamples, type PreferenceChain, type PreferencePair,
} from '../../src/core/reasoning/preferenceExamples';
import { ReasoningRun } from '../../src/core/reasoning/reasoningRun';
import { SYSTEM_PROMPTS } from '../../src/core/reasoning/answerKinds';
import { createRunEngine } from '../../src/core/run/engine';
import { AUTO_CHAINS, MIN_CHAINS_WITH_EXAMPLES, planRun, type PlanModel, type PlanRequest, type RunPlan } from '../../src/core/run/plan';
import { headerParts } from '../../src/core/view/runViewText';
import { initialRunView, parseRunView } from '../../src/core/view/runView';
import { ScriptedCaller, workOf } from '../support/scripted';

const ENDPOINT = 'https://api.example.com/v1';
const pair = (question: string, extra: Partial<PreferencePair> = {}): PreferencePair => ({
  question, answerKind: 'short', model: 'gpt-4o-mini', endpoint: ENDPOINT, budget: 40,
  efficient: `Efficient steps for ${question} \\boxed{1}`, inefficient: `Wandering steps for ${question} …`, reason: 'cut', ...extra,
});
const chain = (text: string, outputTokens: number, reached: boolean, cut = false): PreferenceChain => ({ text, outputTokens, reached, cut });

describe('preference examples: pairs of the model\'s own chains at one budget', () => {
  describe('building a pair', () => {
    const source = (chains: PreferenceChain[]) => ({ question: 'What is 6 times 7?', answerKind: 'short' as const, model: 'm', endpoint: ENDPOINT, chains });

    it('pairs the shortest chain that reached the answer with a chain of about its length that did not, at its budget', () => {
      const wrong = `${'step '.repeat(50)}\\boxed{41}`;
      const p = buildPreferencePair(source([
        chain('long way \\boxed{42}', 300, true),
        chain('short way \\boxed{42}', 100, true),
        chain(wrong, 200, false),
        chain('too short \\boxed{40}', 30, false),
      ]));
      assert.ok(p);
      assert.equal(p.budget, 100, 'b is the efficient solution\'s length');
      assert.equal(p.efficient, 'short way \\boxed{42}');
      assert.equal(p.reason, 'other-answer', 'a chain that missed the answer contrasts best');
      // Cut at b: about half of the 200-token chain's text, at a word, marked, and without its wrong answer.
      assert.ok(p.inefficient.endsWith(' …'));
      assert.ok(p.inefficient.length <= Math.ceil(wrong.length / 2) && p.inefficient.length > wrong.length / 3, `${p.inefficient.length} of ${wrong.length}`);
      assert.doesNotMatch(p.inefficient, /boxed/);
    });

    it('takes a cut chain, or else one that reached the answer only well after b; none when nothing contrasts', () => {
      assert.equal(buildPreferencePair(source([chain('a \\boxed{1}', 100, true), chain('b cut off', 100, false, true)]))?.reason, 'cut');
      const late = buildPreferencePair(source([chain('a \\boxed{1}', 100, true), chain(`${'x '.repeat(100)}\\boxed{1}`, 200, true)]));
      assert.equal(late?.reason, 'late');
      assert.doesNotMatch(late?.inefficient ?? '', /boxed/, 'cut at b, before its answer');
      assert.equal(buildPreferencePair(source([chain('a \\boxed{1}', 100, true), chain('b \\boxed{1}', 120, true)])), undefined, 'two chains that both reached it near b: no contrast');
      assert.equal(buildPreferencePair(source([chain('a \\boxed{1}', 100, true), chain('b \\boxed{2}', 20, false)])), undefined, 'a much shorter wrong chain is not the same budget');
      assert.equal(buildPreferencePair(source([chain('a \\boxed{2}', 100, false), chain('b', 100, false, true)])), undefined, 'no chain reached the answer');
      assert.equal(buildPreferencePair({ ...source([chain('a \\boxed{1}', 100, true), chain('b', 100, false, true)]), question: 'q'.repeat(5000) }), undefined, 'a question too long to repeat in every prompt');
      assert.equal(buildPreferencePair(source([chain('a'.repeat(MAX_SOLUTION_CHARS + 1), 100, true), chain('b', 100, false, true)])), undefined, 'an efficient solution too long to show whole');
    });

    it('builds one from a finished run\'s chains: the agreed answer reached whole, not a forced or other answer', async () => {
      // Chains of 300, 200 (another answer), 120 and 140 tokens; the run agrees on 42.
      const plan: Array<{ answer: number; tokens: number }> = [{ answer: 42, tokens: 300 }, { answer: 41, tokens: 200 }, { answer: 42, tokens: 120 }, { answer: 42, tokens: 140 }];
      const caller = new ScriptedCaller({
        model: 'm', roomTokens: 1e6,
        otherwise: (_spec, _purpose, call) => {
          const c = plan[(call - 1) % plan.length];
          return { text: `${workOf(call)} ${'and so on '.repeat(c.tokens / 10)}\\boxed{${c.answer}}`, tokens: c.tokens };
        },
      });
      const run = new ReasoningRun(caller, { question: 'What is 6 times 7?', budget: { chainTokens: 400, totalTokens: 100_000, source: 'local' } });
      const outcome = await run.start();
      assert.equal(outcome.reason, 'converged', outcome.message);
      assert.equal(outcome.answer, '42');
      const chains = run.preferenceChains(outcome.answer!);
      assert.deepEqual(chains.slice(0, 4).map((c) => [c.outputTokens, c.reached]), [[300, true], [200, false], [120, true], [140, true]]);
      const p = buildPreferencePair(source(chains));
      assert.equal(p?.budget, 120);
      assert.equal(p?.reason, 'other-answer');
      assert.match(p?.efficient ?? '', /\\boxed\{42\}$/);
    });

    it('builds one from a calibration: its cheapest correct reply against the first failing one', async () => {
      // Right while the stated budget is at least 60: vanilla 400, then 205, 105, and a wrong 55.
      const model = new ScriptedCaller({
        model: 'm', promptTokens: 20, roomTokens: 1e6,
        otherwise: (spec) => {
          const m = /less than (\d+) tokens/.exec(spec.messages[spec.messages.length - 1].content);
          const budget = m ? Number(m[1]) : Infinity;
          return { text: budget >= 60 ? `work at ${budget} \\boxed{42}` : 'rushed \\boxed{41}', tokens: Math.min(400, budget + 5, spec.maxTokens) };
        },
      });
      const report = await calibrateBudgets({ caller: model, examples: [{ question: 'q1', answer: '42' }], totalTokenCap: 100_000, signal: new AbortController().signal });
      const r = report.results[0];
      assert.deepEqual(r.chains.map((c) => [c.outputTokens, c.reached]), [[400, true], [205, true], [105, true], [55, false]]);
      const p = buildPreferencePair({ question: r.question, answerKind: 'short', model: 'm', endpoint: ENDPOINT, chains: r.chains });
      assert.deepEqual([p?.budget, p?.efficient, p?.inefficient, p?.reason], [105, 'work at 100 \\boxed{42}', 'rushed \\boxed{41}', 'other-answer']);
    });
  });

  describe('choosing examples for a question', () => {
    const pairs = [
      pair('How many ways can 5 books be arranged on a shelf?'),
      pair('What is the sum of the first 10 odd numbers?'),
      pair('How many ways can 4 people sit around a round table?'),
      pair('Explain closures', { answerKind: 'prose' }),
      pair('How many ways can 6 books be arranged on a shelf in pairs?', { model: 'other-model' }),
      pair('How many ways can 7 books be arranged on a shelf?', { endpoint: 'http://localhost:11434/v1' }),
    ];
    const query = { question: 'How many ways can 8 books be arranged on a shelf?', answerKind: 'short' as const, model: 'gpt-4o-mini', endpoint: ENDPOINT };

    it('takes up to k of the same kind, model and endpoint, the most similar questions first', () => {
      assert.deepEqual(selectPreferenceExamples(pairs, query).map((p) => p.question), [
        'How many ways can 5 books be arranged on a shelf?',
        'How many ways can 4 people sit around a round table?',
      ]);
      assert.deepEqual(selectPreferenceExamples(pairs, query, 1).map((p) => p.question), ['How many ways can 5 books be arranged on a shelf?']);
      assert.deepEqual(selectPreferenceExamples(pairs, { ...query, answerKind: 'prose' }).map((p) => p.question), ['Explain closures']);
      assert.deepEqual(selectPreferenceExamples(pairs, { ...query, endpoint: 'https://elsewhere.example/v1' }), [], 'never another endpoint\'s questions');
      assert.deepEqual(selectPreferenceExamples([], query), []);
    });

    it('leaves the question itself out: a re-run is not shown its own answer', () => {
      assert.deepEqual(selectPreferenceExamples(pairs, { ...query, question: '  how many ways can 5 books be arranged on a SHELF? ' }).map((p) => p.question)[0], 'How many ways can 4 people sit around a round table?');
    });

    it('shows each example as the question, then an efficient and an inefficient solution at its budget, in the system message', () => {
      const block = preferenceExampleBlock([pair('Q one', { budget: 87 })]);
      assert.match(block, /### Example 1\n\nQuestion:\nQ one\n\nEfficient solution \(reaches the answer within 87 tokens\):\nEfficient steps for Q one/);
      assert.match(block, /Inefficient solution \(has not reached the right answer after the same 87 tokens\):\nWandering steps for Q one …/);
      const messages = chainPromptMessages(SYSTEM_PROMPTS.short, [pair('Q one')], 'the question');
      assert.equal(messages[0].role, 'system');
      assert.ok(messages[0].content.startsWith(`${SYSTEM_PROMPTS.short}\n\n`));
      assert.deepEqual(messages[1], { role: 'user', content: 'the question' }, 'the question stays the last user message');
      assert.deepEqual(chainPromptMessages(SYSTEM_PROMPTS.short, [], 'q'), [{ role: 'system', content: SYSTEM_PROMPTS.short }, { role: 'user', content: 'q' }], 'no examples: the prompt as before');
    });
  });

  describe('the store', () => {
    it('keeps at most its bound, the oldest out, a newer pair of a question replacing the older', () => {
      const store = new PreferencePairs();
      for (let i = 0; i < MAX_PREFERENCE_PAIRS + 5; i++) {
        store.add(pair(`question ${i}`));
      }
      assert.equal(store.list.length, MAX_PREFERENCE_PAIRS);
      assert.equal(store.list[0].question, 'question 5');
      store.add(pair('question 50', { budget: 99 }));
      assert.equal(store.list.length, MAX_PREFERENCE_PAIRS);
      assert.deepEqual([store.list.at(-1)?.question, store.list.at(-1)?.budget], ['question 50', 99]);
      assert.equal(store.list.filter((p) => p.question === 'question 50').length, 1);
    });

    it('round-trips through JSON, drops malformed entries and counts them, and refuses a file of another shape', () => {
      const store = new PreferencePairs();
      store.add(pair('a'));
      const saved = JSON.parse(JSON.stringify(store.toJSON()));
      saved.pairs.push({ ...pair('b'), budget: -1 }, { ...pair('c'), answerKind: 'poem' }, 'nonsense', null, { ...pair('d'), efficient: 'x'.repeat(MAX_SOLUTION_CHARS + 1) });
      const read = new PreferencePairs(saved);
      assert.deepEqual(read.list, [pair('a')]);
      assert.equal(read.dropped, 5);
      assert.throws(() => new PreferencePairs({ version: 2, pairs: [] }), /not a version 1 list/);
      assert.throws(() => new PreferencePairs([pair('a')]), /not a version 1 list/);
      assert.equal(new PreferencePairs().list.length, 0);
    });
  });

  describe('in the plan: counted in the budget and the preview, said in the header', () => {
    const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
    const tokens: PlanRequest['tokens'] = {
      countText: (text) => ({ tokens: words(text) }),
      countChatPrompt: (messages) => ({ tokens: messages.reduce((n, m) => n + 3 + words(m.content), 3) }),
    };
    const model: PlanModel = { id: 'gpt-4o-mini', baseUrl: ENDPOINT, price: { input: 1, cachedInput: 0.5, output: 4, matched: 'm', source: 'override' }, contextWindow: 128_000, billsInDollars: true };
    const settings = (patch: Partial<Settings> = {}): Settings => ({ ...defaultSettings, preferenceExamples: 'auto', ...patch });
    const QUESTION = 'How many ways can 8 books be arranged on a shelf?';
    const PAIRS = [pair('How many ways can 5 books be arranged on a shelf?'), pair('What is the sum of the first 10 odd numbers?'), pair('How many ways can 4 people sit around a round table?')];
    const plan = (patch: Partial<PlanRequest> = {}): RunPlan => {
      const r = planRun({ question: QUESTION, settings: settings(), models: [model], tokens, estimate: () => ({ tokens: 500, source: 'local' }), learnedRuns: 0, today: { tokens: 0, dollars: 0 }, preferencePairs: PAIRS, ...patch });
      assert.ok(r.ok, r.ok ? '' : r.refusal.message);
      return r.plan;
    };
    const bare = 3 + words(SYSTEM_PROMPTS.short) + 3 + words(QUESTION) + 3;

    it('off adds nothing: the prompt, the budget and the header are as without pairs', () => {
      const off = plan({ settings: settings({ preferenceExamples: 'off' }) });
      assert.deepEqual(off.examples, []);
      assert.equal(off.promptTokens, bare);
      assert.equal(off.budgetTokens, AUTO_CHAINS * (500 + bare));
      assert.equal(off.header.preferenceExamples, undefined);
      const none = plan({ preferencePairs: [] });
      assert.deepEqual([none.examples, none.promptTokens, none.budgetTokens, none.preview], [[], bare, off.budgetTokens, off.preview], 'auto with no pairs yet costs nothing more');
      assert.deepEqual(headerParts(initialRunView({ runId: 'r', ...none.header })).filter((p) => /preference/.test(p)), [], 'and says nothing');
    });

    it('auto sends the two most similar, and their tokens are in the prompt, the run budget and the cost preview', () => {
      const p = plan();
      assert.deepEqual(p.examples.map((e) => e.question), [PAIRS[0].question, PAIRS[2].question]);
      const counted = tokens.countChatPrompt(chainPromptMessages(SYSTEM_PROMPTS.short, p.examples, QUESTION), model.id).tokens;
      assert.ok(counted > bare + 50, `${counted}`);
      assert.equal(p.promptTokens, counted);
      assert.equal(p.budgetTokens, AUTO_CHAINS * (500 + counted));
      const off = plan({ settings: settings({ preferenceExamples: 'off' }) });
      assert.equal(p.preview.budgetTokens - off.preview.budgetTokens, AUTO_CHAINS * (counted - bare), 'the preview plans for them');
      // One chain's prompt is dearer by the examples' tokens at $1 per 1M input tokens.
      assert.ok(Math.abs((p.preview.low! - off.preview.low!) - (counted - bare) / 1e6) < 1e-12, 'and prices them');
      assert.ok(p.preview.expected! > off.preview.expected!);
      assert.equal(p.header.preferenceExamples, 2);
      assert.ok(headerParts(initialRunView({ runId: 'r', ...p.header })).includes('2 preference examples'));
    });

    it('this run\'s choice (Re-run\'s toggle) wins over the setting; a cascade and a value tree have none', () => {
      assert.deepEqual(plan({ preferenceExamples: false }).examples, []);
      assert.equal(plan({ preferenceExamples: true, settings: settings({ preferenceExamples: 'off' }) }).examples.length, 2);
      const cheap: PlanModel = { ...model, id: 'cheap', price: { input: 0.1, cachedInput: 0.05, output: 0.4, matched: 'm', source: 'override' } };
      const cascade = plan({ strategy: 'cascade', models: [cheap, model] });
      assert.deepEqual([cascade.examples, cascade.header.preferenceExamples], [[], undefined]);
      const tree = plan({ strategy: 'value-tree', preferenceExamples: true });
      assert.deepEqual([tree.examples, tree.header.preferenceExamples], [[], undefined], 'a value tree sends none, so counts none');
    });

    it('drops examples, the least similar first, until two chains fit a fixed budget and the prompt fits the window', () => {
      const one = tokens.countChatPrompt(chainPromptMessages(SYSTEM_PROMPTS.short, [PAIRS[0]], QUESTION), model.id).tokens;
      const two = tokens.countChatPrompt(chainPromptMessages(SYSTEM_PROMPTS.short, [PAIRS[0], PAIRS[2]], QUESTION), model.id).tokens;
      const chainTokens = 200;
      const estimate = () => ({ tokens: chainTokens, source: 'local' as const });
      assert.equal(plan({ budgetTokens: MIN_CHAINS_WITH_EXAMPLES * (two + chainTokens), estimate }).examples.length, 2);
      assert.equal(plan({ budgetTokens: MIN_CHAINS_WITH_EXAMPLES * (two + chainTokens) - 1, estimate }).examples.length, 1);
      assert.equal(plan({ budgetTokens: MIN_CHAINS_WITH_EXAMPLES * (one + chainTokens) - 1, estimate }).examples.length, 0);
      const small = plan({ models: [{ ...model, contextWindow: one + 64 }] });
      assert.deepEqual(small.examples.map((e) => e.question), [PAIRS[0].question], 'the window holds one example');
      assert.equal(small.header.preferenceExamples, 1);
    });

    it('the engine sends them before every chain\'s question, and a forced answer without them', async () => {
      const p = plan({ settings: settings({ strategy: 'single' }) });
      const caller = new ScriptedCaller({ model: model.id, roomTokens: 1e6, replies: [{ text: 'cut off mid-way', finishReason: 'length' }, { text: '\\boxed{40320}' }] });
      const outcome = await createRunEngine(p, () => caller, () => undefined).start();
      assert.equal(outcome.answer, '40320');
      const [first, forced] = caller.calls;
      assert.deepEqual([first.purpose, forced.purpose], ['attempt', 'forced-answer']);
      assert.equal(first.spec.messages[0].content, chainPromptMessages(SYSTEM_PROMPTS.short, p.examples, QUESTION)[0].content);
      assert.ok(first.spec.messages[1].content.startsWith(QUESTION));
      assert.equal(forced.spec.messages[0].content, SYSTEM_PROMPTS.short);
    });

    it('a restored panel keeps the count, bounded', () => {
      const view = initialRunView({ runId: 'r', ...plan().header });
      assert.equal(parseRunView(JSON.parse(JSON.stringify(view)))?.header.preferenceExamples, 2);
      assert.equal(parseRunView({ ...view, header: { ...view.header, preferenceExamples: 'many' } })?.header.preferenceExamples, undefined);
    });
  });
});

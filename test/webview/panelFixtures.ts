import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunEvent } from '../../src/core/reasoning/runEvents';
import type { RunHeader } from '../../src/core/view/runView';

export const artifactsDir = path.join(__dirname, 'artifacts');

export interface RecordedRun {
  source: string;
  header: RunHeader;
  gold: string;
  events: RunEvent[];
}

/** A run recorded from the real stack on the replay data (fixtures/recordedRun.json). */
export function loadRecordedRun(): RecordedRun {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'recordedRun.json'), 'utf8')) as RecordedRun;
}

/** Where a browser test keeps a screenshot (test/webview/artifacts, not committed). */
export function screenshotPath(name: string): string {
  fs.mkdirSync(artifactsDir, { recursive: true });
  return path.join(artifactsDir, name);
}

/** A finished attempt of a hand-written run: its chain, the vote it cast, what it cost. */
interface Chain {
  text: string;
  vote: string;
  completionTokens: number;
}

/** Events of a run over `chains` in order, each followed by the answer it leads to, then the stop. */
function kindRunEvents(header: RunHeader, chains: Chain[], answers: Array<{ answer: string; attempt: number; confidence: number; ruleState: string; language?: string }>, budget: number): RunEvent[] {
  const events: RunEvent[] = [{ type: 'budget-estimated', tokens: budget, source: 'local' }];
  let spent = 0;
  chains.forEach((c, i) => {
    const attempt = i + 1;
    events.push({ type: 'attempt-started', attempt, purpose: 'attempt', maxTokens: budget });
    for (let at = 0; at < c.text.length; at += 48) {
      events.push({ type: 'delta', attempt, text: c.text.slice(at, at + 48) });
    }
    events.push({
      type: 'spend',
      record: {
        time: new Date(Date.UTC(2026, 0, 5, 10, 0, attempt)).toISOString(), runId: header.runId, purpose: 'attempt', providerId: 'openai',
        model: header.model, promptTokens: 320, cachedPromptTokens: 0, completionTokens: c.completionTokens, reasoningTokens: 0,
        dollars: (320 * 0.15 + c.completionTokens * 0.6) / 1e6, estimated: false, outcome: 'stop',
      },
    });
    spent += 320 + c.completionTokens;
    events.push({ type: 'attempt-finished', attempt, finishReason: 'stop', answer: c.vote, completionTokens: c.completionTokens, text: c.text });
    const a = answers[i];
    if (a) {
      const previous = answers[i - 1];
      events.push({
        type: 'answer', answer: a.answer, text: chains[a.attempt - 1].text, confidence: a.confidence, tokensSoFar: spent,
        changed: !previous || previous.answer !== a.answer, ruleState: a.ruleState,
        answerKind: header.answerKind, ...(a.language ? { language: a.language } : {}), attempt: a.attempt,
      });
    }
  });
  events.push({ type: 'stopped', reason: 'converged', message: `${answers.length} of ${chains.length} similar` });
  return events;
}

const BUGGY_MEAN = `export function mean(values: number[]): number {
  let total = 0;
  for (let i = 0; i <= values.length; i++) {
    total += values[i];
  }
  return total / values.length;
}`;

const FIXED_MEAN = `export function mean(values: readonly number[]): number {
  if (values.length === 0) {
    throw new RangeError('mean of no values');
  }
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    total += values[i];
  }
  return total / values.length;
}`;

const FIXED_MEAN_REDUCE = `export function mean(values: readonly number[]): number {
  // An empty list has no mean.
  if (!values.length) return NaN;
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}`;

/**
 * A code run ("Find the bug" on a selection): three chains, two similar fixes (cluster A) and one
 * other (B); the best answer is A's code in TypeScript. `codeTail` is appended to the final answer
 * (e.g. hostile text, for the sanitizer's tests).
 */
export function codeRun(options: { codeTail?: string; runId?: string } = {}): { header: RunHeader; events: RunEvent[]; answer: string } {
  const header: RunHeader = {
    runId: options.runId ?? 'code-run',
    question: 'Find the bug in this code. Say what is wrong and why, then give the corrected code.',
    model: 'gpt-4o-mini', strategy: 'anytime-sc', caps: ['$0.25 per request', '$2.00 a day ($1.92 left)'],
    providerBillsInDollars: true, budgetTokens: 4800, stoppingRule: 'Beta posterior ≥ 0.8', answerKind: 'code', answerKindSource: 'auto',
    about: '`src/stats.ts` lines 12-18',
    context: { path: 'src/stats.ts', languageId: 'typescript', startLine: 12, endLine: 18, code: BUGGY_MEAN },
  };
  const answer = FIXED_MEAN + (options.codeTail ?? '');
  const chain = (intro: string, code: string) => `${intro}\n\n\`\`\`typescript\n${code}\n\`\`\``;
  const chains: Chain[] = [
    {
      text: chain('The loop runs while `i <= values.length`, so its last pass reads `values[values.length]`, which is `undefined`: '
        + 'the total becomes `NaN`. An empty list also divides by zero.\n\nFix: stop at `i < values.length` and reject an empty list.', answer),
      vote: 'A', completionTokens: 212,
    },
    {
      text: chain('Off by one: `<=` reads past the end of the array. Using `reduce` avoids the index altogether:', FIXED_MEAN_REDUCE),
      vote: 'B', completionTokens: 168,
    },
    {
      text: chain('The bound `i <= values.length` is wrong: arrays are indexed from 0 to `length - 1`.\n\n1. Loop with `<`.\n2. Guard the empty case.', FIXED_MEAN),
      vote: 'A', completionTokens: 190,
    },
  ];
  const answers = [
    { answer, attempt: 1, confidence: 0.5, ruleState: '1 of 1 similar', language: 'typescript' },
    { answer, attempt: 1, confidence: 0.5, ruleState: '1 of 2 similar', language: 'typescript' },
    { answer, attempt: 1, confidence: 0.67, ruleState: '2 of 3 similar', language: 'typescript' },
  ];
  return { header, events: kindRunEvents(header, chains, answers, 1600), answer };
}

/** A prose run ("why" question): an explanation in markdown with a Python code block and a list. */
export function proseRun(options: { proseTail?: string; runId?: string } = {}): { header: RunHeader; events: RunEvent[]; answer: string } {
  const header: RunHeader = {
    runId: options.runId ?? 'prose-run',
    question: 'Why does Python treat a default argument like `items=[]` as shared between calls?',
    model: 'gpt-4o-mini', strategy: 'anytime-sc', caps: ['$0.25 per request'],
    providerBillsInDollars: true, budgetTokens: 3600, stoppingRule: 'Beta posterior ≥ 0.8', answerKind: 'prose',
  };
  const answer = `**Default values are evaluated once**, when the \`def\` statement runs, not on each call. The list is
stored on the function object, so every call that omits \`items\` appends to the *same* list.

Use \`None\` as the default and make a new list inside:

\`\`\`python
def add(item, items=None):
    if items is None:
        items = []  # a fresh list per call
    items.append(item)
    return items
\`\`\`

- The defaults live in \`add.__defaults__\`.
- Immutable defaults (numbers, strings, tuples) are safe: they cannot be changed in place.

\`\`\`python
print(add.__defaults__)
\`\`\`
${options.proseTail ?? ''}`;
  const chains: Chain[] = [
    { text: `Let me recall how \`def\` works.\n\n${answer}`, vote: 'A', completionTokens: 260 },
    { text: `Function defaults are computed at definition time.\n\n${answer}`, vote: 'A', completionTokens: 240 },
  ];
  const answers = [
    { answer, attempt: 1, confidence: 0.5, ruleState: '1 of 1 similar' },
    { answer, attempt: 1, confidence: 1, ruleState: '2 of 2 similar' },
  ];
  return { header, events: kindRunEvents(header, chains, answers, 1800), answer };
}

// `npx tsx bench/streamingPipeline.ts [stage...]`: the extension host's streaming path without VS Code,
// stage by stage, against the loopback model server running in a child process (so its own CPU is not
// counted). Each stage streams the same ~20,000-token reply at 2,000 tokens/s and reports this process's
// CPU (process.cpuUsage: user + system, all threads, GC included) per token:
//   idle      nothing streams: the process's own idle CPU over the same time
//   sdk       the openai SDK's stream iterated bare (undici fetch, SSE parsing, JSON.parse)
//   provider  + OpenAICompatibleProvider.stream (idle timer, abort race, event mapping)
//   metered   + MeteredCaller (incremental token counting, text kept, ledger append)
//   run       + ReasoningRun and RunViewPublisher (events folded into the view, posts JSON-serialised
//             as VS Code's postMessage does)
//   replay    our layers alone, at full speed: the 'run' stage's MeteredCaller, ReasoningRun and
//             RunViewPublisher fed the same reply in 12-character chunks by an in-process ChatProvider
//             (an event-loop turn per chunk, a virtual clock advancing 1.5 ms per chunk for the posts).
//             Quiet enough to compare a change with its baseline (`replay replay@before`, REPS=30).
// Not a test. Run under `node --cpu-prof --import tsx bench/streamingPipeline.ts run` to profile a stage.
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as openaiProvider from '../src/core/providers/openaiProvider';
import type * as meteredCaller from '../src/core/budget/meteredCaller';
import type * as fileSpendLedger from '../src/core/ledger/fileSpendLedger';
import type * as tokenCounter from '../src/core/tokens/tokenCounter';
import type * as prices from '../src/core/tokens/prices';
import type * as reasoningRun from '../src/core/reasoning/reasoningRun';
import type * as strategies from '../src/core/reasoning/strategies';
import type * as runViewPublisher from '../src/core/view/runViewPublisher';
import type * as runView from '../src/core/view/runView';
import type * as modelServerTokens from '../tools/modelServerTokens';
import type { ChatProvider } from '../src/core/providers/chatProvider';
import { longReply } from './longReply';
import { repoRoot } from '../tools/repoRoot';

const TOKENS = 20_000;
const RATE = 2_000;
const MODEL = 'qwen2.5-math-replay';
const STAGES = ['idle', 'sdk', 'provider', 'metered', 'run', 'replay'] as const;
type Stage = (typeof STAGES)[number];


/** Child process: the model server, scripted over IPC. */
async function serve(): Promise<void> {
  const { startModelServer } = await import('../tools/modelServer');
  const { countTokens } = await import('../tools/modelServerTokens');
  const server = await startModelServer({ tokensPerSecond: RATE });
  const reply = longReply(countTokens, TOKENS);
  process.on('message', (m: { script?: boolean; close?: boolean }) => {
    if (m.script) {
      server.script({ content: reply });
      process.send!({ scripted: true, tokens: countTokens(reply) });
    } else if (m.close) {
      void server.close().then(() => process.exit(0));
    }
  });
  // Ends with its parent, however the parent ends.
  process.on('disconnect', () => process.exit(0));
  process.send!({ url: server.url });
}

interface ServerHandle {
  url: string;
  script(): Promise<number>;
  close(): void;
}

function startServerProcess(): Promise<ServerHandle> {
  const child = fork(__filename, ['--serve'], { execArgv: process.execArgv.filter((a) => !a.startsWith('--cpu-prof')), stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (m: { url: string }) => {
      resolve({
        url: m.url,
        script: () => new Promise((r) => {
          child.once('message', (a: { tokens: number }) => r(a.tokens));
          child.send({ script: true });
        }),
        close: () => child.send({ close: true }),
      });
    });
  });
}

/**
 * The src/ tree a stage runs: this one, or with a stage named `<stage>@before` the one in BEFORE_DIR
 * (e.g. `git archive HEAD src | tar -x -C /tmp/before` plus a node_modules link), so a change and
 * its baseline are measured interleaved in one run, sharing the machine's noise.
 */
async function modules(before: boolean) {
  const root = before ? path.resolve(process.env.BEFORE_DIR ?? '') : repoRoot;
  const load = (rel: string) => import(path.join(root, 'src', rel));
  return {
    ...((await load('core/providers/openaiProvider')) as typeof openaiProvider),
    ...((await load('core/budget/meteredCaller')) as typeof meteredCaller),
    ...((await load('core/ledger/fileSpendLedger')) as typeof fileSpendLedger),
    ...((await load('core/tokens/tokenCounter')) as typeof tokenCounter),
    ...((await load('core/tokens/prices')) as typeof prices),
    ...((await load('core/reasoning/reasoningRun')) as typeof reasoningRun),
    ...((await load('core/reasoning/strategies')) as typeof strategies),
    ...((await load('core/view/runViewPublisher')) as typeof runViewPublisher),
    ...((await load('core/view/runView')) as typeof runView),
  };
}

async function runStage(name: string, url: string): Promise<void> {
  const [stage, variant] = name.split('@') as [Stage, string | undefined];
  const {
    OpenAICompatibleProvider, MeteredCaller, FileSpendLedger, TokenCounter, priceOf, ReasoningRun, createStrategy, RunViewPublisher, initialRunView,
  } = await modules(variant === 'before');
  const messages = [{ role: 'user' as const, content: 'Stream the long recorded reasoning.' }];
  const signal = new AbortController().signal;
  switch (stage) {
    case 'idle':
      await new Promise((r) => setTimeout(r, (TOKENS / RATE) * 1000));
      return;
    case 'sdk': {
      const OpenAI = (await import('openai')).default;
      const client = new OpenAI({ baseURL: url, apiKey: 'no-key', maxRetries: 0 });
      const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true }, max_tokens: 30_000 });
      let chars = 0;
      for await (const chunk of stream) {
        chars += chunk.choices[0]?.delta?.content?.length ?? 0;
      }
      if (chars === 0) {
        throw new Error('nothing streamed');
      }
      return;
    }
    case 'provider': {
      const provider = new OpenAICompatibleProvider({ baseURL: url, apiKey: undefined, maxRetries: 0 });
      for await (const event of provider.stream({ model: MODEL, messages, maxTokens: 30_000 }, signal)) {
        void event;
      }
      return;
    }
    case 'metered':
    case 'run':
    case 'replay': {
      let now = 0;
      let due: { at: number; fn: () => void } | undefined;
      const virtualClock = {
        now: () => now,
        setTimeout: (fn: () => void, ms: number) => (due = { at: now + ms, fn }),
        clearTimeout: () => (due = undefined),
      };
      const replayed: ChatProvider = {
        id: 'replay',
        billsInDollars: false,
        async *stream() {
          const text = replyText();
          for (let i = 0; i < text.length; i += 12) {
            await new Promise((r) => setImmediate(r));
            yield { kind: 'delta', choice: 0, text: text.slice(i, i + 12) };
            now += 1.5;
            if (due && due.at <= now) {
              const fire = due.fn;
              due = undefined;
              fire();
            }
          }
          yield { kind: 'done', finishReasons: ['stop'], usage: undefined };
        },
        listModels: async () => [],
      };
      const provider = stage === 'replay' ? replayed : new OpenAICompatibleProvider({ baseURL: url, apiKey: undefined, maxRetries: 0 });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'br-pipeline-'));
      const ledger = new FileSpendLedger(path.join(dir, 'spend.jsonl'));
      const tokens = new TokenCounter();
      const caller = new MeteredCaller({ provider, model: MODEL, runId: 'bench', caps: { requestTokens: 40_000 }, ledger, prices: (m) => priceOf(m), tokens });
      let postedBytes = 0;
      let posts = 0;
      if (stage === 'metered') {
        await caller.call({ messages, maxTokens: 30_000 }, 'attempt', signal, () => undefined);
      } else {
        const publisher = new RunViewPublisher(
          initialRunView({ runId: 'bench', question: 'q', model: MODEL, strategy: 'single', caps: [], providerBillsInDollars: false }),
          (message) => {
            postedBytes += JSON.stringify(message).length;
            posts++;
          },
          ...(stage === 'replay' ? [virtualClock] : []),
        );
        publisher.webviewReady();
        const run = new ReasoningRun(caller, { question: messages[0].content, strategy: createStrategy('single'), budget: { chainTokens: 24_000, totalTokens: 30_000, source: 'fixed' } }, (event) => {
          if (process.env.DEBUG) {
            console.log(event.type, event.type === "delta" ? "" : JSON.stringify(event).slice(0, 300));
          }
          publisher.push(event);
        });
        const outcome = await run.start(signal);
        if (outcome.reason === "error" || outcome.reason === "cap-reached") {
          throw new Error(`the run failed: ${outcome.message}`);
        }
        publisher.flush();
        if (process.env.DEBUG) {
          console.log(`${posts} posts, ${postedBytes} bytes of JSON`);
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
      return;
    }
  }
}

/** PROFILE=<dir>: a V8 CPU profile of each measured stage alone (not start-up or warm-up). */
async function startProfiler(): Promise<{ stop(file: string): Promise<void> }> {
  const inspector = await import('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

function replyTokens(): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { countTokens } = require('../tools/modelServerTokens') as typeof modelServerTokens;
  return countTokens(replyText());
}

let replyCache: string | undefined;
/** The reply the server streams, for the in-process replay. */
function replyText(): string {
  if (!replyCache) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { countTokens } = require('../tools/modelServerTokens') as typeof modelServerTokens;
    replyCache = longReply(countTokens, TOKENS);
  }
  return replyCache;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const stages = args.length ? args : [...STAGES];
  const reps = Number(process.env.REPS ?? 3);
  const server = await startServerProcess();
  // Warm-up: loads the SDK, the tokenizer and JIT-compiles the path once.
  const { TokenCounter } = await import('../src/core/tokens/tokenCounter');
  new TokenCounter().prewarm(MODEL);
  for (const variant of new Set(stages.map((s) => s.split('@')[1]))) {
    await server.script();
    await runStage(variant ? `run@${variant}` : 'run', server.url);
  }
  const results: Record<string, number[]> = {};
  for (let r = 0; r < reps; r++) {
    for (const stage of stages) {
      const tokens = stage.startsWith('idle') ? TOKENS : stage.startsWith('replay') ? replyTokens() : await server.script();
      const profiler = process.env.PROFILE ? await startProfiler() : undefined;
      const cpu0 = process.cpuUsage();
      const t0 = Date.now();
      await runStage(stage, server.url);
      const cpu = process.cpuUsage(cpu0);
      await profiler?.stop(path.join(process.env.PROFILE!, `${stage}-${r}.cpuprofile`));
      const us = (cpu.user + cpu.system) / tokens;
      (results[stage] ??= []).push(us);
      console.log(`${stage.padEnd(9)} ${(us).toFixed(2).padStart(7)} µs/token  (${tokens} tokens, ${((Date.now() - t0) / 1000).toFixed(1)} s, user ${(cpu.user / 1000).toFixed(0)} ms, system ${(cpu.system / 1000).toFixed(0)} ms)`);
    }
  }
  console.log('\nmedians (µs of this process\'s CPU per streamed token):');
  for (const stage of stages) {
    console.log(`${stage.padEnd(9)} ${median(results[stage]).toFixed(2).padStart(7)}`);
  }
  server.close();
}

if (process.argv.includes('--serve')) {
  void serve();
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

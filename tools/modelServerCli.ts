// `tsx tools/modelServerCli.ts [--port N] [--tps N] [--seed N] [--thinking reasoning_content|reasoning|think-tags] [--tokenizer o200k|foreign] [--greedy] [--sample] [--ignore-n] [--empty-model-list]`:
// the loopback model server on recorded traces for demos and manual testing, until SIGINT/SIGTERM. `--greedy` answers
// a question with the same chain on every call (a server that is not sampling); `--sample` draws each chain at random
// from all the question's recorded chains (a sampling model); `--ignore-n` sends one choice whatever n;
// `--empty-model-list` lists no models; `--tokenizer foreign` bills in a tokenizer ~1.45x o200k's.
import { parseArgs } from 'node:util';
import { startModelServer, THINKING_FORMATS, type ThinkingFormat } from './modelServer';
import { SERVER_TOKENIZERS, type ServerTokenizerName } from './modelServerTokens';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' }, tps: { type: 'string' }, seed: { type: 'string' }, thinking: { type: 'string' }, tokenizer: { type: 'string' },
      greedy: { type: 'boolean' }, sample: { type: 'boolean' }, 'ignore-n': { type: 'boolean' }, 'empty-model-list': { type: 'boolean' },
    },
  });
  const port = Number(values.port ?? process.env.MODEL_SERVER_PORT ?? 0);
  const tokensPerSecond = Number(values.tps ?? process.env.MODEL_SERVER_TPS ?? 0);
  const thinking = values.thinking as ThinkingFormat | undefined;
  const tokenizer = values.tokenizer as ServerTokenizerName | undefined;
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !(tokensPerSecond >= 0) || (thinking !== undefined && !THINKING_FORMATS.includes(thinking))
    || (tokenizer !== undefined && !SERVER_TOKENIZERS.includes(tokenizer))) {
    throw new Error(`usage: modelServerCli [--port N] [--tps TOKENS_PER_SECOND] [--seed N] [--thinking ${THINKING_FORMATS.join('|')}] [--tokenizer ${SERVER_TOKENIZERS.join('|')}] [--greedy] [--sample] [--ignore-n] [--empty-model-list]`);
  }
  const server = await startModelServer({
    port, tokensPerSecond, seed: values.seed === undefined ? undefined : Number(values.seed), ...(thinking ? { thinking } : {}), ...(tokenizer ? { tokenizer } : {}),
    ...(values.greedy ? { greedy: true } : {}), ...(values.sample ? { sample: true } : {}), ...(values['ignore-n'] ? { ignoreN: true } : {}),
    ...(values['empty-model-list'] ? { emptyModelList: true } : {}),
  });
  console.log(`Model server: ${server.url}${tokenizer === 'foreign' ? ' (billing in a foreign tokenizer, ~1.45x o200k)' : ''}`);
  console.log(`Control API:  ${server.controlUrl} (POST script | reset | pace, GET requests | responses)`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

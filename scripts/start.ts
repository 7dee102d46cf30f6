// `npm start`: build and package the extension, start the loopback model server on recorded traces,
// start code-server with the extension installed, and print the URL to open. Ctrl-C stops both.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startModelServer } from '../tools/modelServer';
import { installVsix, startCodeServer } from '../tools/codeServer';
import { freePort } from '../tools/freePort';
import { repoRoot } from '../tools/repoRoot';
import { readTraceQuestion } from '../tools/recordedData';

async function main(): Promise<void> {
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: repoRoot, stdio: 'inherit' });
  console.log('Building and packaging the extension…');
  run('npm', ['run', '--silent', 'package']);
  const vsix = path.join(repoRoot, 'budget-reasoner.vsix');

  const server = await startModelServer({ port: Number(process.env.MODEL_SERVER_PORT) || 0, tokensPerSecond: Number(process.env.MODEL_SERVER_TPS) || 300 });
  // Outside the repository, so VS Code does not offer to open this checkout's git repository.
  const runDir = path.join(os.tmpdir(), 'budget-reasoner-demo');
  fs.rmSync(runDir, { recursive: true, force: true });
  const port = Number(process.env.PORT) || (await freePort());
  installVsix(runDir, vsix, 'inherit');
  const cs = await startCodeServer({
    runDir,
    port,
    settings: {
      'budgetReasoner.baseUrl': server.url,
      'budgetReasoner.model': 'qwen2.5-math-replay',
      'git.openRepositoryInParentFolders': 'never',
    },
  });
  const sample = readTraceQuestion(67);
  fs.writeFileSync(path.join(cs.workspace, 'sample-question.md'), `${sample.text}\n`);
  fs.writeFileSync(path.join(cs.workspace, 'sum.ts'), DEMO_CODE);
  fs.writeFileSync(path.join(cs.workspace, 'README.md'),
    `# Budget Reasoner demo\n\nOpen sample-question.md, select all (Ctrl+A) and run "Reason with budget" (Ctrl+Alt+R or the command palette).\nThe model server replays recorded reasoning traces; the recorded answer is ${sample.gold}.\nAny of the 100 MATH questions in bench/data/qwen25-math-cot works the same way.\n\nSelect the function in sum.ts and run "Reason with budget" to ask about code (Explain, Find the bug, ...). The replay server has no recorded answers for code or open questions: it answers code with the code it was sent and open questions with a note worded several ways, so you can see how the panel, the diff and the agreement of similar answers work. The code reply is the same on every call, as from an endpoint that is not sampling, so a code run stops after three copies with "Repeated chains".\n`);
  console.log(`\nModel server (recorded traces): ${server.url}`);
  console.log(`Budget Reasoner in VS Code:     http://127.0.0.1:${cs.port}/?folder=${encodeURIComponent(cs.workspace)}`);
  console.log('Open sample-question.md, select the question and run "Reason with budget". Ctrl-C to stop.\n');
  const stop = async () => {
    await cs.stop();
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/** A function with an off-by-one bug, to ask about in the demo. */
const DEMO_CODE = `/** The sum of the numbers in xs. */
export function sum(xs: number[]): number {
  let total = 0;
  for (let i = 1; i < xs.length; i++) {
    total += xs[i];
  }
  return total;
}
`;

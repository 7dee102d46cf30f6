import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { SYSTEM_PROMPTS } from '../../src/core/reasoning/answerKinds';
import type { BudgetReasonerApi } from '../../src/extension';
import { readTestConfig } from './index';

// @budget's references in the real extension host (code-server has no chat UI, so the handler is
// called as the chat would call it), against the loopback model server the e2e runner started.
suite('@budget sends the chat\'s code references with the question', () => {
  let api: BudgetReasonerApi;
  let control: string;
  let file: vscode.Uri;
  const FILE = '// Sums for the report.\nexport function sumTo(n: number): number {\n  let total = 0;\n  for (let i = 1; i < n; i++) {\n    total += i;\n  }\n  return total;\n}\n\nconsole.log(sumTo(10));\n';
  const FUNCTION = FILE.split('\n').slice(1, 8).join('\n');

  const post = async (action: string, body: unknown = {}) => {
    const res = await fetch(`${control}/${action}`, { method: 'POST', body: JSON.stringify(body) });
    assert.ok(res.ok, `control ${action}: ${res.status}`);
  };

  suiteSetup(async () => {
    const ext = vscode.extensions.all.find((e) => e.packageJSON.name === 'budget-reasoner');
    assert.ok(ext, 'the extension is installed');
    api = (await ext.activate()) as BudgetReasonerApi;
    const config = readTestConfig();
    assert.ok(config?.serverUrl, 'the e2e runner wrote the test config');
    control = config.serverUrl.replace(/\/v1\/?$/, '/__control');
    file = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'chat-sum.ts');
    await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(FILE));
  });

  suiteTeardown(async () => {
    // Later suites get the recorded replies again.
    await post('reset');
    await vscode.workspace.fs.delete(file).then(undefined, () => undefined);
  });

  test('#selection is sent with its path, language, lines and code; a second reference is named as not sent', async () => {
    await post('reset');
    await post('script', { content: 'It stops one short: `i < n` leaves out `n`, so use `i <= n`.', times: 30 });
    const prompt = 'why is #selection off by one? compare #file:question.md';
    const at = (ref: string): [number, number] => [prompt.indexOf(ref), prompt.indexOf(ref) + ref.length];
    const markdown: string[] = [];
    const stream = { progress: () => undefined, markdown: (t: string) => markdown.push(t), button: () => undefined };
    const question = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'question.md');
    const result = await api.chat.handle({
      prompt: `3000 ${prompt}`,
      command: 'budget',
      // As VS Code lists them: the last in the prompt first; ranges index the prompt as typed (after the command).
      references: [
        { id: 'vscode.file', range: at('#file:question.md').map((i) => i + 5) as [number, number], value: question },
        { id: 'vscode.selection', range: at('#selection').map((i) => i + 5) as [number, number], value: new vscode.Location(file, new vscode.Range(1, 0, 8, 0)) },
      ],
    }, stream, new vscode.CancellationTokenSource().token);
    assert.equal(result.errorDetails, undefined, JSON.stringify(result.errorDetails));
    assert.match(markdown.join(''), /Only `chat-sum\.ts` lines 2-8 was sent: .*not sent: #file:question\.md/);

    const requests = await (await fetch(`${control}/requests`)).json() as Array<{ body: { messages: Array<{ role: string; content: string }> } }>;
    // The chains (the budget estimate's call carries the code too, under its own instructions).
    const chains = requests.filter((r) => (Object.values(SYSTEM_PROMPTS) as string[]).includes(r.body.messages[0]?.content));
    const users = chains.map((r) => r.body.messages.find((m) => m.role === 'user')?.content ?? '');
    assert.ok(users.length >= 1, `a chain carried the code: ${JSON.stringify(requests.map((r) => r.body.messages.at(-1)?.content.slice(0, 80)))}`);
    for (const user of users) {
      assert.ok(user.startsWith('why is `chat-sum.ts` lines 2-8 off by one? compare #file:question.md'), user.slice(0, 200));
      assert.match(user, /The code is `chat-sum\.ts` lines 2-8 \(typescript\):/);
      assert.ok(user.includes(`\`\`\`typescript\n${FUNCTION}\n\`\`\``), user);
      assert.ok(user.includes('// Sums for the report.') && user.includes('console.log(sumTo(10));'), 'the lines around the selection');
    }
  });
});

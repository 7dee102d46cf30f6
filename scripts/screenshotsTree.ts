// `npm run screenshots:tree`: the answer panel after a value-tree run (strategy `value-tree`), its
// attempts read as the tree, in VS Code's dark and light themes (media/screenshots/panel-tree.png and
// panel-tree-light.png). Real code-server, the extension from its VSIX, the loopback server answering
// the tree a step at a time from the recorded MATH chains (tools/treeReplay.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTraceQuestion } from '../tools/recordedData';
import { forEachTheme } from '../tools/screenshotSession';
import { openWorkbench, panelFrame, reasonOnFile } from '../tools/workbench';

async function main(): Promise<void> {
  // Four of its eight recorded chains are right, and the reward model scores them higher.
  const question = readTraceQuestion(17);
  await forEachTheme({
    server: () => ({ tokensPerSecond: 800 }),
    settings: (server) => ({
      'budgetReasoner.baseUrl': server.url,
      'budgetReasoner.model': 'qwen2.5-math-replay',
      'budgetReasoner.strategy': 'value-tree',
      'budgetReasoner.requestBudget': 8000,
    }),
  }, async ({ name, cs, url }, outDir) => {
    fs.writeFileSync(path.join(cs.workspace, 'tree.md'), `${question.text}\n`);
    const wb = await openWorkbench(url);
    await wb.page.setViewportSize({ width: 1500, height: 1000 });
    await reasonOnFile(wb.page, 'tree.md');
    const panel = panelFrame(wb.page);
    await panel.locator('#status[data-state="finished"]').waitFor({ timeout: 180_000 });
    // The attempts, scrolled into view: the tree's rows under the live reasoning.
    await panel.locator('#attempts .attempt-step').first().scrollIntoViewIfNeeded();
    await wb.page.mouse.move(5, 500);
    const file = name === 'dark' ? 'panel-tree.png' : 'panel-tree-light.png';
    await wb.page.screenshot({ path: path.join(outDir, file) });
    console.log(`wrote media/screenshots/${file}`);
    await wb.close();
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The README's set-up must stay pasteable: one block per command, the one that keeps running first, and CI's command. */
describe('README set-up', () => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const setUp = readme.slice(readme.indexOf('## Set-up'), readme.indexOf('\n## ', readme.indexOf('## Set-up') + 1));
  const blocks = [...setUp.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].trim());

  it('gives the main job and the tests as two separate commands, one per block', () => {
    assert.deepEqual(blocks, ['bash scripts/setup.sh && npm start', 'npm test']);
  });

  it('the test command is the one CI runs after set-up', () => {
    const ci = readFileSync(path.join(__dirname, '..', '..', '.ci', 'run'), 'utf8');
    assert.match(ci, /^bash scripts\/setup\.sh$/m);
    assert.match(ci, /^npm test$/m);
  });

  it('says which command keeps running, that the demo resets, and what it can answer', () => {
    assert.match(setUp, /keeps running/);
    assert.match(setUp, /resets the demo/);
    assert.match(setUp, /100 recorded MATH questions/);
  });
});

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

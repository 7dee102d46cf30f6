import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelServer } from '../../tools/modelServer';

/** Token usage the server itself reported, summed over every response it sent. */
export function usageTotals(server: ModelServer): { calls: number; promptTokens: number; completionTokens: number; totalTokens: number } {
  let promptTokens = 0;
  let completionTokens = 0;
  let calls = 0;
  for (const r of server.responses) {
    if (r.usage) {
      calls++;
      promptTokens += r.usage.prompt_tokens;
      completionTokens += r.usage.completion_tokens;
    }
  }
  return { calls, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

/** The extension's global storage under a code-server --user-data-dir (publisher.name from package.json). */
export function extensionStorageDir(userDataDir: string): string {
  return path.join(userDataDir, 'User', 'globalStorage', 'budget-reasoner.budget-reasoner');
}

/** One record of the extension's spend ledger, as the specs read it. */
export interface LedgerLine { runId: string; purpose: string; promptTokens: number; completionTokens: number; reasoningTokens: number }

/** The ledger's whole records, in the order they were appended. */
export function ledgerRecords(userDataDir: string): LedgerLine[] {
  const file = path.join(extensionStorageDir(userDataDir), 'spend.jsonl');
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LedgerLine);
}

/** Every regular file under dir, recursively (symlinks, sockets and the like skipped). */
export function filesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      files.push(...filesUnder(full));
    } else if (entry.isFile()) {
      files.push(full);
    }
  }
  return files;
}

/** Which of files hold one of needles, as UTF-8 or UTF-16LE bytes (how V8 and SQLite may store text). */
export function filesContaining(files: string[], needles: string[]): Array<{ file: string; needle: string }> {
  const patterns = needles.flatMap((needle) => [Buffer.from(needle, 'utf8'), Buffer.from(needle, 'utf16le')].map((bytes) => ({ needle, bytes })));
  const hits: Array<{ file: string; needle: string }> = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      continue; // removed while walking (a rotated log, a lock file)
    }
    for (const p of patterns) {
      if (bytes.includes(p.bytes)) {
        hits.push({ file, needle: p.needle });
        break;
      }
    }
  }
  return hits;
}

import * as path from 'node:path';

/** The checkout's root folder (where package.json is), for everything tests, benchmarks and scripts read or start. */
export const repoRoot = path.resolve(__dirname, '..');

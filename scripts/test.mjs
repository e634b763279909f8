#!/usr/bin/env node
/**
 * `npm test`: every *.test.ts in the repo through node's built-in runner (via tsx), so CI reads
 * the runner's own summary line. Node 20's --test takes no globs and finds no .ts files in a
 * directory, so the files are listed here.
 *   node scripts/test.mjs            all tiers (unit, int against the real servers AND PGlite, e2e)
 *   node scripts/test.mjs --unit     *.unit.test.ts only (no servers needed)
 *   node scripts/test.mjs path ...   only files under those paths
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const roots = args.filter((a) => !a.startsWith('--'));
const searchIn = roots.length > 0 ? roots : ['packages', 'services', 'tests', 'scripts', 'bench', 'deploy'];

const files = [];
for (const dir of searchIn) {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { recursive: true });
  } catch {
    continue;
  }
  for (const entry of entries) {
    const path = join(dir, String(entry));
    if (path.includes('node_modules') || path.includes(`${'/'}dist/`)) continue;
    if (!path.endsWith('.test.ts')) continue;
    if (unitOnly && !path.endsWith('.unit.test.ts')) continue;
    files.push(relative(root, join(root, path)));
  }
}
files.sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  [
    '--conditions=source',
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' } },
);
process.exit(result.status ?? 1);

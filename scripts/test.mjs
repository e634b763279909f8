#!/usr/bin/env node
/**
 * `npm test`: every *.test.ts in the repo through node's built-in runner (via tsx), so CI reads
 * the runner's own summary line. Node 20's --test takes no globs and finds no .ts files in a
 * directory, so the files are listed here.
 *   node scripts/test.mjs            all tiers (unit, int against the real servers AND PGlite, e2e)
 *   node scripts/test.mjs --unit     *.unit.test.ts only (no servers needed)
 *   node scripts/test.mjs path ...   only files under those paths
 * Tracing: every test process loads the tracing bootstrap as the services do, but it is OFF
 * (OTEL_SDK_DISABLED=true) unless the caller sets OTEL_SDK_DISABLED=false; then spans are made
 * but exported only when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set too. Tests that check
 * tracing start their own child processes with their own settings (telemetry/README.md).
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
const tracingEnv = { OTEL_SDK_DISABLED: process.env.OTEL_SDK_DISABLED ?? 'true' };
if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT && !process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  tracingEnv.OTEL_TRACES_EXPORTER = process.env.OTEL_TRACES_EXPORTER ?? 'none';
const result = spawnSync(
  process.execPath,
  [
    '--conditions=source',
    '--import',
    'tsx',
    '--import',
    './packages/platform/telemetry/register.mjs',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, ...tracingEnv, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' } },
);
process.exit(result.status ?? 1);

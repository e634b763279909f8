/**
 * `npm run bench [-- <scenario> ...]`: runs the named scenarios (default: all), each reporting
 * the service as a RATIO against a floor measured in the same run. Bounded in time, cleans up
 * after itself (children, databases) on success, failure, Ctrl-C and timeout. See bench/README.md.
 */
import { fileURLToPath } from 'node:url';
import { readBenchConfig } from './lib/config.js';
import { Cleanup, guardRun } from './lib/lifecycle.js';
import { machineInfo } from './lib/machine.js';
import type { Scenario } from './lib/scenario.js';
import { scenario as catalogGet } from './scenarios/catalog-get.js';

const SCENARIOS: readonly Scenario[] = [catalogGet];

function usage(): string {
  return [
    'usage: npm run bench [-- <scenario> ...]   (default: all)',
    '',
    'scenarios:',
    ...SCENARIOS.map((s) => `  ${s.name.padEnd(14)} ${s.description}`),
    '',
    'env: BENCH_DURATION_S (10) BENCH_WARMUP_S (3) BENCH_ROUNDS (2) BENCH_CONNECTIONS (20) BENCH_POOL_SIZE (10)',
    '     BENCH_PRODUCTS (1000) BENCH_PAUSE_MS (1000) BENCH_SEED (42) BENCH_CPU_PROF (off|service|floor|all)',
    '     BENCH_PROFILE_DIR BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/postgres)',
  ].join('\n');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h') || args.includes('--list')) {
    console.log(usage());
    return 0;
  }
  const names = args.filter((a) => a !== 'all');
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`unknown scenario: ${unknown.join(', ')}\n\n${usage()}`);
    return 2;
  }
  const selected = names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;

  const runId = new Date()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  const config = readBenchConfig(runId);
  const cleanup = new Cleanup();
  const disarm = guardRun(
    cleanup,
    selected.reduce((ms, s) => ms + s.budgetMs(config), 0),
  );
  const log = (m: string) => console.error(`[bench] ${m}`);
  let failed = false;
  try {
    const machine = await machineInfo();
    log(
      `${machine.cores} cores (${machine.cpuModel}), node ${machine.node}, ${machine.postgres.split(' on ')[0]}, load ${machine.loadAvgAtStart.join(' ')}`,
    );
    for (const s of selected) {
      log(`scenario ${s.name}`);
      await s.run({
        config,
        machine,
        cleanup,
        runId,
        resultsDir: fileURLToPath(new URL('./results/', import.meta.url)),
        log,
      });
    }
  } catch (err) {
    failed = true;
    console.error(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    await cleanup.run();
    disarm();
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();

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
import { scenario as consumerPipeline } from './scenarios/consumer-pipeline.js';
import { scenario as csvExport } from './scenarios/csv-export.js';
import { scenario as embeddedStart } from './scenarios/embedded-start.js';
import { scenario as orderCreate } from './scenarios/order-create.js';
import { scenario as outboxRelay } from './scenarios/outbox-relay.js';
import { scenario as outboxWrite } from './scenarios/outbox-write.js';
import { scenario as publishToHandledLatency } from './scenarios/publish-to-handled-latency.js';
import { scenario as releaseCursor } from './scenarios/release-cursor.js';
import { scenario as sagaThroughput } from './scenarios/saga-throughput.js';
import { scenario as stockCacheHit } from './scenarios/stock-cache-hit.js';

// consumer-pipeline before publish-to-handled-latency: the latter runs at half the former's rate.
const SCENARIOS: readonly Scenario[] = [
  catalogGet,
  outboxRelay,
  consumerPipeline,
  publishToHandledLatency,
  outboxWrite,
  orderCreate,
  stockCacheHit,
  releaseCursor,
  csvExport,
  sagaThroughput,
  embeddedStart,
];

function usage(): string {
  return [
    'usage: npm run bench [-- <scenario> ...]   (default: all)',
    '',
    'scenarios:',
    ...SCENARIOS.map((s) => `  ${s.name.padEnd(27)} ${s.description}`),
    '',
    'env: BENCH_DURATION_S (10) BENCH_WARMUP_S (3) BENCH_ROUNDS (2) BENCH_CONNECTIONS (20) BENCH_POOL_SIZE (10)',
    '     BENCH_PRODUCTS (1000) BENCH_PAUSE_MS (1000) BENCH_SEED (42) BENCH_CPU_PROF (off|service|floor|all)',
    '     BENCH_PROFILE_DIR BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/postgres)',
    'messaging: BENCH_AMQP_URL (amqp://guest:guest@127.0.0.1:5672) BENCH_MESSAGES (20000) BENCH_PREFETCH (20)',
    '     BENCH_RELAY_BATCHES (50,200) BENCH_LATENCY_RATE (default: half the consumer-pipeline rate)',
    '     BENCH_LATENCY_WRITER (kernel|after-commit) BENCH_OUTBOX_RELAYS (1; informational)',
    'services: BENCH_REDIS_HOST (127.0.0.1) BENCH_REDIS_PORT (6379) BENCH_RELEASE_EVENTS (200000) BENCH_START_RUNS (3)',
    '     BENCH_SAGA_SECONDS (60) BENCH_SAGA_WINDOW (300) BENCH_SAGA_CLIENTS (32) BENCH_SAGA_LATENCY_S (20) BENCH_SAGA_RATE',
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
  // Always in registry order, whatever order they were named in (latency after consumer-pipeline).
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

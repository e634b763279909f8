/**
 * consumer-pipeline: how fast the kernel's consumer pipeline (no-op handler) drains a queue of
 * valid OrderCreated messages, as a ratio of the rate of the one thing it must do per message —
 * a single-INSERT Postgres transaction — at the same concurrency. See bench/README.md.
 */
import { type ChildServer, startServer } from '../lib/child-server.js';
import type { BenchConfig } from '../lib/config.js';
import { type DrainContender, type DrainRun, drainRatio, measureDrains, summarizeDrains } from '../lib/drain.js';
import type { Cleanup } from '../lib/lifecycle.js';
import {
  BENCH_AMQP_URL,
  type BenchBroker,
  type BenchDatabase,
  messageOf,
  orderCreated,
  setUpBroker,
  setUpDatabase,
} from '../lib/messaging.js';
import {
  DRAIN_HEADER,
  drainMedianRow,
  drainRatioRow,
  drainRows,
  ensureProfileDir,
  profileFileFor,
  writeScenarioReport,
} from '../lib/report.js';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { formatTable } from '../lib/stats.js';

const NAME = 'consumer-pipeline';
const PIPELINE_ENTRY = new URL('../servers/consumer-pipeline.ts', import.meta.url).pathname;
const FLOOR_ENTRY = new URL('../servers/consumer-floor.ts', import.meta.url).pathname;
/** The goal: the pipeline handles at least this share of the floor's transaction rate. */
const GOAL_RATIO = 0.5;
const CONSUMER = 'inventory.order-created';
const PRELOAD_WINDOW = 500;

/** The pipeline's median drain rate of the last consumer-pipeline run in this process (for the latency scenario). */
let lastPipelineRate: number | undefined;
export function measuredPipelineRate(): number | undefined {
  return lastPipelineRate;
}

/** Env of a kernel consumer child (consumer-pipeline.ts). */
export function pipelineEnv(config: BenchConfig, database: BenchDatabase, broker: BenchBroker, handler: string) {
  return {
    BENCH_DB_URL: database.url,
    BENCH_DB_POOL_SIZE: String(config.poolSize),
    BENCH_HANDLER: handler,
    RABBITMQ_URL: BENCH_AMQP_URL,
    MESSAGING_NAMESPACE: broker.namespace,
    MESSAGING_PREFETCH: String(config.prefetch),
    LOG_LEVEL: 'warn',
  };
}

export async function startPipeline(cleanup: Cleanup, name: string, env: Record<string, string>): Promise<ChildServer> {
  const s = await startServer({ name, entry: PIPELINE_ENTRY, env, readiness: { ipc: true } });
  cleanup.defer(`stop ${s.name}`, () => s.stop().then(() => undefined));
  return s;
}

/**
 * Empties consumed_messages and the queue, then puts `count` OrderCreated messages in the queue
 * (the exact messages the relay would publish for them) and waits until RabbitMQ holds them all.
 */
export async function preloadQueue(
  database: BenchDatabase,
  broker: BenchBroker,
  events: readonly ReturnType<typeof orderCreated>[],
): Promise<void> {
  await database.db.exec('TRUNCATE consumed_messages');
  await broker.admin.purge(broker.queue);
  await broker.admin.preload(
    events.map((e) => messageOf(broker.exchange, e)),
    PRELOAD_WINDOW,
  );
  const depth = await broker.admin.depth(broker.queue);
  if (depth !== events.length) throw new Error(`preloaded ${depth} messages, expected ${events.length}`);
}

async function countConsumed(database: BenchDatabase): Promise<number> {
  const [row] = await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM consumed_messages');
  return row?.n ?? 0;
}

async function run(ctx: ScenarioContext): Promise<void> {
  const { config, cleanup, log } = ctx;
  const n = config.messages;
  const startedAt = new Date().toISOString();
  const broker = await setUpBroker(cleanup, log);
  const database = await setUpDatabase(cleanup, log, 2);
  const events = Array.from({ length: n }, (_, i) => orderCreated(i));
  const messageIds = events.map((e) => e.event_id);
  const bytes = events.reduce((s, e) => s + Buffer.byteLength(JSON.stringify(e)), 0);
  log(
    `database ${database.name}, namespace ${broker.namespace}: ${n} OrderCreated messages of ~${Math.round(bytes / n)} bytes`,
  );
  const timeoutMs = Math.max(120_000, n * 10);

  const checkpoint = () => database.db.exec('CHECKPOINT');
  const floor: DrainContender = {
    label: 'floor',
    prepare: async () => {
      await database.db.exec('TRUNCATE consumed_messages');
      await checkpoint();
    },
    start: async (round) => {
      const s = await startServer({
        name: `consumer-floor#${round}`,
        entry: FLOOR_ENTRY,
        env: { BENCH_DB_URL: database.url, BENCH_DB_POOL_SIZE: String(config.poolSize) },
        readiness: { ipc: true },
      });
      cleanup.defer(`stop ${s.name}`, () => s.stop().then(() => undefined));
      return s;
    },
    run: (child) =>
      child.call<DrainRun>({ op: 'drain', messageIds, concurrency: config.prefetch, consumer: CONSUMER }, timeoutMs),
    verify: async () => {
      const c = await countConsumed(database);
      if (c !== n) throw new Error(`floor: ${c} rows in consumed_messages, expected ${n}`);
    },
    profileFile: profileFileFor(config, NAME, 'floor', 'floor'),
  };
  const pipeline: DrainContender = {
    label: 'pipeline',
    prepare: async () => {
      const t = Date.now();
      await preloadQueue(database, broker, events);
      log(`  (pre-loaded ${n} messages in ${Date.now() - t} ms)`);
      await checkpoint();
    },
    start: (round) =>
      startPipeline(cleanup, `consumer-pipeline#${round}`, pipelineEnv(config, database, broker, 'noop')),
    run: (child) => child.call<DrainRun>({ op: 'drain', expected: n, timeoutMs }, timeoutMs + 10_000),
    verify: async (r) => {
      const outcomes = r.extra?.outcomes as Record<string, number> | undefined;
      if (outcomes?.handled !== n)
        throw new Error(`pipeline: outcomes ${JSON.stringify(outcomes)}, expected ${n} handled`);
      const c = await countConsumed(database);
      if (c !== n) throw new Error(`pipeline: ${c} rows in consumed_messages, expected ${n}`);
      const depth = await broker.admin.depth(broker.queue);
      if (depth !== 0) throw new Error(`pipeline: ${depth} messages left in the queue`);
    },
    profileFile: profileFileFor(config, NAME, 'service', 'pipeline'),
  };

  await ensureProfileDir(config);
  log(
    `measuring: ${config.rounds} rounds × (floor, pipeline), ${n} messages each, concurrency = prefetch ${config.prefetch}, DB pool ${config.poolSize} on both`,
  );
  const results = await measureDrains({
    contenders: [floor, pipeline],
    rounds: config.rounds,
    pauseMs: config.pauseMs,
    log,
  });
  const floorSummary = summarizeDrains(results, 'floor');
  const pipelineSummary = summarizeDrains(results, 'pipeline');
  const ratio = drainRatio(results, 'floor', 'pipeline');
  lastPipelineRate = pipelineSummary.rate;
  const met = ratio.rate >= GOAL_RATIO;

  console.log(
    `\n${NAME}: the kernel consumer pipeline (no-op handler) draining ${n} queued OrderCreated messages vs single-INSERT Postgres transactions; concurrency ${config.prefetch}, pool ${config.poolSize}; items/s${config.cpuProf !== 'off' ? ' — PROFILED RUN' : ''}\n`,
  );
  console.log(
    formatTable(DRAIN_HEADER, [
      ...drainRows(results),
      drainMedianRow('floor', floorSummary),
      drainMedianRow('pipeline', pipelineSummary),
      drainRatioRow('pipe/floor', ratio),
    ]),
  );
  console.log(
    `\nthroughput ratio pipeline/floor = ${ratio.rate.toFixed(3)} (goal ≥ ${GOAL_RATIO}: ${met ? 'MET' : 'NOT MET'}); per round ${ratio.perRound.join(', ')}`,
  );
  console.log(
    `CPU per message (node + postgres + RabbitMQ) floor/pipeline = ${ratio.cpuBoundRate.toFixed(3)}: the ratio to expect where the box's CPU limits both`,
  );
  await writeScenarioReport(
    ctx,
    scenario,
    { startedAt, results, profiledField: true },
    {
      config: {
        messages: n,
        messageBytesAvg: Math.round(bytes / n),
        prefetch: config.prefetch,
        poolSize: config.poolSize,
        rounds: config.rounds,
        pauseMs: config.pauseMs,
        cpuProf: config.cpuProf,
      },
      rounds: results,
      medians: { floor: floorSummary, pipeline: pipelineSummary },
      ratio,
      goal: { rateRatioAtLeast: GOAL_RATIO, met },
    },
  );
}

export const scenario: Scenario = {
  name: NAME,
  description:
    'The kernel consumer pipeline (startConsumer, no-op handler, prefetch 20) draining N queued OrderCreated messages vs BEGIN/INSERT consumed_messages/COMMIT at the same concurrency and pool size.',
  budgetMs: (c: BenchConfig) => 120_000 + c.rounds * 2 * (90_000 + Math.max(120_000, c.messages * 10)),
  run,
};

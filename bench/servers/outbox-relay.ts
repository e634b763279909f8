/**
 * The measured side of outbox-relay (and the relay of publish-to-handled-latency): ONE outbox
 * relay exactly as the kernel runs it — `startOutboxRelay` with the kernel's `openPostgres` pool,
 * `createAmqpTransport`, logger and registry, configured through the service env the runtime reads
 * (`readMessagingConfig`: RABBITMQ_URL, MESSAGING_NAMESPACE, APP_OUTBOX_BATCH_SIZE,
 * APP_OUTBOX_POLL_INTERVAL_MS, OUTBOX_RETENTION_HOURS, OUTBOX_RELAYS — 1 unless
 * BENCH_OUTBOX_RELAYS is set for an informational run). The topology is declared by the bench.
 * Env also: BENCH_DB_URL, BENCH_DB_POOL_SIZE (10), LOG_LEVEL (warn).
 *
 * Calls (IPC):
 * - `{ op: 'drain', expected }`: starts the relay, waits until its `outbox_published_total`
 *   reaches `expected` (polled every 2 ms, free next to the relay's own work), stops it, reports.
 * - `{ op: 'start' }`: starts the relay and leaves it running (stopped with the process).
 * - `{ op: 'published' }`: the counter so far.
 */
import {
  createAmqpTransport,
  createRegistry,
  type Database,
  EnvReader,
  eventsExchangeName,
  type OutboxRelay,
  openPostgres,
  parseDatabaseUrl,
  type Queryable,
  readMessagingConfig,
  serviceLogger,
  startOutboxRelay,
  type Transport,
} from '@ecom/platform';
import type { Counter } from 'prom-client';
import { guardChild, requireEnv, serveCalls, signalReady } from '../lib/child-guard.js';
import type { DrainRun } from '../lib/drain.js';

const NAME = 'bench-outbox-relay';
const env = new EnvReader(process.env);
const config = readMessagingConfig(env);
if (!config.amqpUrl) throw new Error('RABBITMQ_URL is required');
const poolSize = Number(process.env.BENCH_DB_POOL_SIZE ?? 10);
const logger = serviceLogger(NAME, { level: process.env.LOG_LEVEL ?? 'warn', format: 'json' });
const registry = createRegistry(NAME);
const db = await openPostgres({
  target: parseDatabaseUrl(requireEnv('BENCH_DB_URL')),
  maxConnections: poolSize,
  applicationName: NAME,
  logger,
});
// Open the connections the relays use now (one transaction each at a time, plus slack), so the
// timed run does not pay for backend start-up; not the whole pool: Postgres connections are shared.
await Promise.all(Array.from({ length: Math.min(poolSize, 2 * config.relays) }, () => db.query('SELECT 1')));
const transport = await createAmqpTransport({ url: config.amqpUrl, logger, connectionName: NAME });

/**
 * Where a relay cycle's wall time goes, measured around the kernel's own calls (the relay gets
 * this Database; every call is passed through unchanged, only timed with performance.now):
 * begin = pool checkout + BEGIN; claim = the SELECT … FOR UPDATE SKIP LOCKED; issue = from the
 * claim's rows to the last transport.publish call (eventMessage + publish per row); confirm = from
 * there until every publish has settled and the UPDATE starts; mark = the UPDATE … SET status =
 * 'SENT'; commit = COMMIT + release. Only cycles that claimed rows count.
 */
const phases = { cycles: 0, rows: 0, beginMs: 0, claimMs: 0, issueMs: 0, confirmMs: 0, markMs: 0, commitMs: 0 };
/** When the relay last called transport.publish (its publishes of a cycle are issued back to back). */
let lastPublishCall = 0;
const timedTransport: Transport = {
  ...transport,
  publish(message) {
    lastPublishCall = performance.now();
    return transport.publish(message);
  },
};
const timedDb: Database = {
  ...db,
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const t0 = performance.now();
    let begun = 0;
    let claimStart = 0;
    let claimEnd = 0;
    let markStart = 0;
    let markEnd = 0;
    let rows = 0;
    const result = await db.transaction((tx) => {
      begun = performance.now();
      const timed: Queryable = {
        async query<R>(text: string, params?: readonly unknown[]) {
          const start = performance.now();
          const r = await tx.query<R>(text, params);
          if (!claimEnd) {
            claimStart = start;
            claimEnd = performance.now();
            rows = r.length;
          }
          return r;
        },
        async execute(text: string, params?: readonly unknown[]) {
          markStart = performance.now();
          const r = await tx.execute(text, params);
          markEnd = performance.now();
          return r;
        },
        exec: (sql: string) => tx.exec(sql),
      };
      return fn(timed);
    });
    if (rows > 0 && markEnd) {
      const end = performance.now();
      phases.cycles++;
      phases.rows += rows;
      phases.beginMs += begun - t0;
      phases.claimMs += claimEnd - claimStart;
      phases.issueMs += lastPublishCall - claimEnd;
      phases.confirmMs += markStart - lastPublishCall;
      phases.markMs += markEnd - markStart;
      phases.commitMs += end - markEnd;
    }
    return result;
  },
};

let relays: OutboxRelay[] | undefined;
/** `config.relays` relays (OUTBOX_RELAYS, default 1), as the runtime starts them. */
const start = async (): Promise<OutboxRelay[]> => {
  const started: OutboxRelay[] = [];
  relays = started;
  for (let i = 0; i < config.relays; i++)
    started.push(
      await startOutboxRelay({
        db: timedDb,
        transport: timedTransport,
        logger,
        registry,
        exchange: eventsExchangeName(config.namespace),
        pollIntervalMs: config.pollIntervalMs,
        batchSize: config.batchSize,
        retentionMs: config.retentionMs,
      }),
    );
  return started;
};
const stopAll = async (list: OutboxRelay[] | undefined) => {
  await Promise.all((list ?? []).map((r) => r.stop()));
};
const published = async () => {
  const counter = registry.getSingleMetric('outbox_published_total') as Counter | undefined;
  return counter ? ((await counter.get()).values[0]?.value ?? 0) : 0;
};

serveCalls(async (request) => {
  const r = request as { op: 'drain'; expected: number; timeoutMs?: number } | { op: 'start' } | { op: 'published' };
  if (r.op === 'published') return published();
  if (r.op === 'start') {
    if (relays) throw new Error('relay already running');
    await start();
    return null;
  }
  if (relays) throw new Error('relay already running');
  const quarters = [0.25, 0.5, 0.75, 1].map((q) => Math.ceil(r.expected * q));
  const quartersMs: number[] = [];
  for (const k of Object.keys(phases) as (keyof typeof phases)[]) phases[k] = 0;
  const t0 = performance.now();
  const running = await start();
  const deadline = t0 + (r.timeoutMs ?? 300_000);
  let n = 0;
  for (;;) {
    n = await published();
    const now = performance.now();
    while (quartersMs.length < quarters.length && n >= quarters[quartersMs.length]!) quartersMs.push(now - t0);
    if (n >= r.expected) break;
    if (now > deadline) throw new Error(`relay published ${n} of ${r.expected} within ${r.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const elapsedMs = performance.now() - t0;
  await stopAll(running);
  relays = undefined;
  const failures = registry.getSingleMetric('outbox_publish_failures_total') as Counter | undefined;
  return {
    items: n,
    elapsedMs,
    quartersMs,
    extra: {
      batchSize: config.batchSize,
      relays: config.relays,
      cycles: phases.cycles,
      rowsPerCycle: Math.round((phases.rows / Math.max(1, phases.cycles)) * 10) / 10,
      msPerCycle: Object.fromEntries(
        (['beginMs', 'claimMs', 'issueMs', 'confirmMs', 'markMs', 'commitMs'] as const).map((k) => [
          k.replace('Ms', ''),
          Math.round((phases[k] / Math.max(1, phases.cycles)) * 100) / 100,
        ]),
      ),
      failures: failures ? ((await failures.get()).values[0]?.value ?? 0) : 0,
    },
  } satisfies DrainRun;
});

guardChild(async () => {
  await stopAll(relays);
  await transport.close();
  await db.close();
});
signalReady();

/**
 * order-create: `POST /api/orders` with a fresh Idempotency-Key per request on real PostgreSQL
 * and RabbitMQ — order-service alone in a child process (kernel, JWT verification against a
 * test JWKS, catalog lookups cached in process, one transaction per order, the outbox relay
 * publishing) — as orders/s ÷ the floor: a Postgres transaction of the same four INSERTs
 * (idempotency_keys, orders, order_items, outbox_events; the service's statements and row shapes,
 * in the service's own database) at the same concurrency and pool size, measured in the same run.
 * A third contender, the same service with OUTBOX_RELAYS=0, separates the relay's share.
 */
import { randomUUID } from 'node:crypto';
import { startTestIssuer } from '@ecom/platform/testing';
import { type ChildServer, startServer } from '../lib/child-server.js';
import type { BenchConfig } from '../lib/config.js';
import { type DrainContender, type DrainRun, drainRatio, measureDrains, summarizeDrains } from '../lib/drain.js';
import { type LoadOptions, runLoad } from '../lib/load.js';
import { BENCH_AMQP_URL } from '../lib/messaging.js';
import { benchDatabaseName, databaseUrl, dropDatabase, queryDatabase } from '../lib/pg-admin.js';
import { formatWaits, sampleWaits, type WaitProfile } from '../lib/pg-waits.js';
import {
  DRAIN_HEADER,
  drainMedianRow,
  drainRows,
  ensureProfileDir,
  profileFileFor,
  writeScenarioReport,
} from '../lib/report.js';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { purgeQueues, serviceNamespace } from '../lib/service-broker.js';
import { formatTable, median, round as roundTo } from '../lib/stats.js';

const NAME = 'order-create';
const SERVICE_ENTRY = new URL('../servers/kernel-service.ts', import.meta.url).pathname;
const FLOOR_ENTRY = new URL('../servers/pg-tx-floor.ts', import.meta.url).pathname;
const CATALOG_ENTRY = new URL('../servers/fake-catalog.ts', import.meta.url).pathname;
const GOAL = 0.7;
const USER = 'bench-buyer';
/** Two items, prices from the (fake) catalog: 11 × 1 + 12 × 2 = 35.00. */
const BODY = JSON.stringify({
  userId: USER,
  items: [
    { skuId: 'BENCH-SKU-1', quantity: 1, price: 11 },
    { skuId: 'BENCH-SKU-2', quantity: 2, price: 12 },
  ],
});
const TABLES = 'orders, order_items, order_status_history, idempotency_keys, outbox_events, consumed_messages';

async function run(ctx: ScenarioContext): Promise<void> {
  const { config, cleanup, log } = ctx;
  const startedAt = new Date().toISOString();
  const database = benchDatabaseName();
  const dbUrl = databaseUrl(database);
  cleanup.defer(`drop database ${database}`, async () => {
    await dropDatabase(database);
    log(`dropped database ${database}`);
  });
  const ns = serviceNamespace(cleanup, log);
  const issuer = await startTestIssuer();
  cleanup.defer('close the test JWKS issuer', () => issuer.close());
  const bearer = await issuer.token(USER, ['buyer'], { expiresInSeconds: 3600 });
  const catalog = await startServer({ name: 'fake-catalog', entry: CATALOG_ENTRY, readiness: { port: true } });
  cleanup.defer('stop fake-catalog', () => catalog.stop().then(() => undefined));

  const serviceEnv = (relays: number) => ({
    BENCH_SERVICE: 'order',
    ORDER_DB_URL: dbUrl,
    ORDER_DB_POOL_SIZE: String(config.poolSize),
    RABBITMQ_URL: BENCH_AMQP_URL,
    MESSAGING_NAMESPACE: ns,
    OUTBOX_RELAYS: String(relays),
    AUTH_JWKS_URI: issuer.jwksUri,
    CATALOG_SERVICE_URL: catalog.url,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  });
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${bearer}`,
  };
  const load: Omit<LoadOptions, 'url' | 'durationS' | 'recordLatencies'> = {
    paths: ['/api/orders'],
    connections: config.connections,
    method: 'POST',
    headers,
    body: BODY,
    // A fresh Idempotency-Key per request: every request creates an order (none is a replay).
    setupRequest: (req) => ({ ...req, headers: { ...headers, 'idempotency-key': randomUUID() } }),
  };
  const post = async (url: string, key: string) => {
    const res = await fetch(`${url}/api/orders`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': key },
      body: BODY,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  // 1. The schema is the service's own: one start migrates the database (and declares the topology).
  log(`database ${database}, namespace ${ns}: starting order-service once to migrate`);
  const setup = await startServer({
    name: 'order-service#setup',
    entry: SERVICE_ENTRY,
    env: serviceEnv(1),
    readiness: { http: '/actuator/health/readiness' },
  });
  await setup.stop();

  /** 2xx answers per contender round (warm-up + measured + check), to match against rows. */
  const answered = new Map<string, number>();
  const prepare = async () => {
    await queryDatabase(database, `TRUNCATE ${TABLES}`);
    await queryDatabase(database, 'CHECKPOINT');
    await purgeQueues([`${ns}q.inventory.order-created`]);
  };

  const floor: DrainContender = {
    label: 'floor',
    prepare,
    start: async (round) => {
      const s = await startServer({
        name: `order-floor#${round}`,
        entry: FLOOR_ENTRY,
        env: { BENCH_DB_URL: dbUrl, BENCH_DB_POOL_SIZE: String(config.poolSize), BENCH_FLOOR: 'order-insert' },
        readiness: { ipc: true },
      });
      cleanup.defer(`stop ${s.name}`, () => s.stop().then(() => undefined));
      if (config.warmupS > 0)
        await s.call({ op: 'run', concurrency: config.connections, durationS: config.warmupS, record: false });
      return s;
    },
    run: async (s) => {
      const waits = sampleWaits(database);
      const r = await s.call<DrainRun>(
        { op: 'run', concurrency: config.connections, durationS: config.durationS },
        120_000,
      );
      return { ...r, extra: { ...r.extra, waits: await waits.stop() } };
    },
    verify: async (r, round) => {
      const [row] = await queryDatabase<{ n: number }>(database, 'SELECT count(*)::int AS n FROM orders');
      const expected = Number(r.extra?.committedTotal);
      if (row?.n !== expected) throw new Error(`floor round ${round}: ${row?.n} orders, expected ${expected}`);
    },
    profileFile: profileFileFor(config, NAME, 'floor', 'floor'),
  };

  const service = (label: string, relays: number): DrainContender => ({
    label,
    prepare,
    start: async (round) => {
      const s = await startServer({
        name: `${label}#${round}`,
        entry: SERVICE_ENTRY,
        env: serviceEnv(relays),
        readiness: { http: '/actuator/health/readiness' },
      });
      cleanup.defer(`stop ${s.name}`, () => s.stop().then(() => undefined));
      await check(s, post);
      let ok = 2; // the checked order and its replay (the replay writes nothing)
      if (config.warmupS > 0) {
        const w = await runLoad({ ...load, url: s.url, durationS: config.warmupS, recordLatencies: false });
        ok += w.ok;
      }
      answered.set(`${label}#${round}`, ok);
      return s;
    },
    run: async (s, round): Promise<DrainRun> => {
      const waits = sampleWaits(database);
      const r = await runLoad({ ...load, url: s.url, durationS: config.durationS });
      const waitProfile = await waits.stop();
      answered.set(`${label}#${round}`, (answered.get(`${label}#${round}`) ?? 0) + r.ok);
      return {
        items: r.ok,
        elapsedMs: r.durationS * 1000,
        extra: {
          p50: r.p50,
          p95: r.p95,
          p99: r.p99,
          mean: roundTo(r.mean, 3),
          errors: r.errors,
          timeouts: r.timeouts,
          non2xx: r.non2xx,
          logLines: s.outputLines,
          waits: waitProfile,
        },
      };
    },
    verify: async (r, round) => {
      if (Number(r.extra?.non2xx) > 0 || Number(r.extra?.errors) > 0)
        throw new Error(`${label} round ${round}: ${r.extra?.non2xx} non-2xx, ${r.extra?.errors} errors`);
      // The relay marks a cycle's rows SENT with its transaction's now(): distinct sent_at = relay cycles.
      const rows = await queryDatabase<{ orders: number; pending: number; sent: number; cycles: number }>(
        database,
        `SELECT (SELECT count(*)::int FROM orders) AS orders,
                (SELECT count(*)::int FROM outbox_events WHERE status = 'PENDING') AS pending,
                (SELECT count(*)::int FROM outbox_events WHERE status = 'SENT') AS sent,
                (SELECT count(DISTINCT sent_at)::int FROM outbox_events WHERE status = 'SENT') AS cycles`,
      );
      const counts = rows[0]!;
      // Requests in flight when autocannon stopped (after the warm-up and after the measurement,
      // up to one per connection each time) may have committed without being counted.
      const ok = (answered.get(`${label}#${round}`) ?? 0) - 1; // minus the replay
      if (counts.orders < ok || counts.orders > ok + 2 * config.connections)
        throw new Error(`${label} round ${round}: ${counts.orders} orders for ${ok} answered creations`);
      if (r.extra)
        Object.assign(r.extra, {
          outboxPending: counts.pending,
          outboxSent: counts.sent,
          relayCycles: counts.cycles,
          rowsPerRelayCycle: counts.cycles ? roundTo(counts.sent / counts.cycles, 2) : null,
        });
    },
    profileFile: profileFileFor(config, NAME, 'service', label),
  });

  await ensureProfileDir(config);
  const contenders = [floor, service('service', 1), service('no-relay', 0)];
  log(
    `measuring: ${config.rounds} rounds × (floor, service, service with OUTBOX_RELAYS=0), ${config.warmupS} s warm-up + ${config.durationS} s, ${config.connections} concurrent, pool ${config.poolSize}`,
  );
  const results = await measureDrains({ contenders, rounds: config.rounds, pauseMs: config.pauseMs, log });
  const lookups = await fetch(`${catalog.url}/lookups`)
    .then((r) => r.json() as Promise<{ lookups: number }>)
    .then((j) => j.lookups);

  const medians = Object.fromEntries(contenders.map((c) => [c.label, summarizeDrains(results, c.label)]));
  const lat = (label: string, key: 'p50' | 'p95' | 'p99') =>
    roundTo(median(results.filter((r) => r.label === label).map((r) => Number(r.extra?.[key]))), 3);
  const ratio = drainRatio(results, 'floor', 'service');
  const ratioNoRelay = drainRatio(results, 'floor', 'no-relay');
  const met = ratio.rate >= GOAL;

  console.log(
    `\n${NAME}: POST /api/orders (2 items, fresh Idempotency-Key each), ${config.connections} concurrent, pool ${config.poolSize}, ${config.durationS} s per round; latency ms (service: HTTP response; floor: one transaction)\n`,
  );
  console.log(
    formatTable(
      [...DRAIN_HEADER, 'p50', 'p95', 'p99'],
      [
        ...drainRows(results).map((row, i) => [
          ...row,
          Number(results[i]!.extra?.p50),
          Number(results[i]!.extra?.p95),
          Number(results[i]!.extra?.p99),
        ]),
        ...contenders.map((c) => [
          ...drainMedianRow(c.label, medians[c.label]!),
          lat(c.label, 'p50'),
          lat(c.label, 'p95'),
          lat(c.label, 'p99'),
        ]),
      ],
    ),
  );
  console.log(
    `\norders/s service ÷ floor = ${ratio.rate.toFixed(3)} (goal ≥ ${GOAL}: ${met ? 'MET' : 'NOT MET'}); per round ${ratio.perRound.join(', ')}`,
  );
  console.log(
    `orders/s service with OUTBOX_RELAYS=0 ÷ floor = ${ratioNoRelay.rate.toFixed(3)}; per round ${ratioNoRelay.perRound.join(', ')}`,
  );
  console.log(`service p95 ${lat('service', 'p95')} ms, p99 ${lat('service', 'p99')} ms; catalog lookups ${lookups}`);
  console.log('\nwhere the database sessions were (pg_stat_activity samples, non-idle, each round):');
  for (const r of results) {
    const w = r.extra?.waits as WaitProfile | undefined;
    if (w) console.log(`  round ${r.round} ${r.label.padEnd(9)} ${formatWaits(w)}`);
    if (r.extra?.relayCycles)
      console.log(
        `  round ${r.round} ${r.label.padEnd(9)} relay: ${r.extra.outboxSent} rows SENT in ${r.extra.relayCycles} cycles (${r.extra.rowsPerRelayCycle} per cycle, one commit each), ${r.extra.outboxPending} PENDING at the stop`,
      );
  }
  await writeScenarioReport(
    ctx,
    scenario,
    { startedAt, results, profiledField: true },
    {
      config: {
        durationS: config.durationS,
        warmupS: config.warmupS,
        rounds: config.rounds,
        concurrency: config.connections,
        poolSize: config.poolSize,
        body: JSON.parse(BODY),
        serviceLogLevel: 'warn',
      },
      rounds: results,
      medians,
      latencyMediansMs: Object.fromEntries(
        contenders.map((c) => [
          c.label,
          { p50: lat(c.label, 'p50'), p95: lat(c.label, 'p95'), p99: lat(c.label, 'p99') },
        ]),
      ),
      ratios: { service: ratio, noRelay: ratioNoRelay },
      catalogLookups: lookups,
      goal: { ratioAtLeast: GOAL, met },
    },
  );
}

/** A created order (201, NEW, the catalog's prices) and its replay (200, reused). */
async function check(
  s: ChildServer,
  post: (url: string, key: string) => Promise<{ status: number; body: Record<string, unknown> }>,
): Promise<void> {
  const key = randomUUID();
  const created = await post(s.url, key);
  if (created.status !== 201 || created.body.status !== 'NEW' || created.body.totalAmount !== 35)
    throw new Error(`${s.name}: POST answered ${created.status} ${JSON.stringify(created.body)}`);
  const replay = await post(s.url, key);
  if (replay.status !== 200 || replay.body.reused !== true || replay.body.orderId !== created.body.orderId)
    throw new Error(`${s.name}: replay answered ${replay.status} ${JSON.stringify(replay.body)}`);
}

export const scenario: Scenario = {
  name: NAME,
  description:
    'POST /api/orders (fresh Idempotency-Key, JWT, cached catalog, one transaction, relay on RabbitMQ) on PostgreSQL vs the same 4 INSERTs in one transaction at the same concurrency.',
  budgetMs: (c: BenchConfig) => 90_000 + c.rounds * 3 * (60_000 + (c.warmupS + c.durationS) * 1000 + 30_000),
  run,
};

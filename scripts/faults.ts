/**
 * `npm run faults`: fault injection against a private lab (scripts/reliability/lab.ts) — its
 * own PostgreSQL cluster (5433), RabbitMQ node (5673) and Redis (6380), created and torn down by
 * this run, so restarting them never touches the shared servers.
 *
 * The six services run as six processes (each can be kill -9'd). After seeding, the run goes
 * through the scenarios one after another; each gets its own batch of mixed orders (its own
 * SKUs and buyers), paced over a window, with a burst of orders started together just before
 * its fault, which hits a quarter into the window while POSTs are on the wire:
 *
 *   kill-<service>      kill -9 the service's process, restart it a moment later
 *   restart-rabbitmq    rabbitmqctl stop, down a moment, start (durable queues, persistent messages)
 *   restart-postgres    pg_ctlcluster stop -m immediate (a crash), down a moment, start
 *   restart-redis       redis-server stopped, down a moment, started empty
 *
 * The load generator retries a failed POST with the SAME Idempotency-Key. Per scenario it
 * records readiness DOWN→UP of the affected services (polled every 100 ms), the client's view
 * (5xx, connection errors, retries, replays) and the verdict of the invariant checker on the
 * batch (nothing lost, nothing applied twice, stock conserved, outboxes drained), plus the DLQs.
 *
 *   FAULTS_ORDERS (1000)  FAULTS_SCENARIOS (all, comma-separated)  FAULTS_WINDOW_MS (8000)
 *   FAULTS_BURST (16)  FAULTS_KILL_DOWN_MS (1000)  FAULTS_INFRA_DOWN_MS (2000)
 *   FAULTS_SAGA_TIMEOUT_SECONDS (120)  FAULTS_MAX_SECONDS (600)  FAULTS_DEBUG (off)
 *   FAULTS_SUMMARY_FILE (test-artifacts/reliability/faults-summary.json); service logs in
 *   test-artifacts/reliability/faults-logs/. See docs/reliability.md for the last run's figures.
 *
 * Exit 0 when every scenario passed; 1 when one did not; 2 when the lab could not be created.
 */
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Dbs,
  dlqContents,
  judgeBatch,
  openDbs,
  staleStockReads,
  startStockReader,
  waitSettled,
} from './reliability/check.js';
import { Fleet, MESSAGING_SERVICES, ROOT, type ServiceName } from './reliability/fleet.js';
import { type FaultLab, LabError, labDir, type OutageTimes, startFaultLab } from './reliability/lab.js';
import { type LoadStats, mixedPlan, type PlanItem, type Product, runLoad, seedProducts } from './reliability/load.js';
import { type WatchResult, watch } from './reliability/probe.js';
import { cleanupNow, emitSummary, envInt, fmtMs, guardRun, onCleanup, sleep } from './reliability/run.js';

const ALL_SERVICES: ServiceName[] = ['auth', 'catalog', 'inventory', 'payment', 'notification', 'order'];
const KILLS = ['order', 'inventory', 'payment', 'notification', 'catalog', 'auth'] as const;
const SCENARIO_NAMES = [...KILLS.map((s) => `kill-${s}`), 'restart-rabbitmq', 'restart-postgres', 'restart-redis'];

const ORDERS = envInt('FAULTS_ORDERS', 1000, 1);
const WINDOW_MS = envInt('FAULTS_WINDOW_MS', 8000, 0);
const MAX_SECONDS = envInt('FAULTS_MAX_SECONDS', 600, 30);
const KILL_DOWN_MS = envInt('FAULTS_KILL_DOWN_MS', 1000);
const INFRA_DOWN_MS = envInt('FAULTS_INFRA_DOWN_MS', 2000);
/** Orders started together just before each fault. */
const BURST = envInt('FAULTS_BURST', 16);
const SAGA_TIMEOUT_SECONDS = envInt('FAULTS_SAGA_TIMEOUT_SECONDS', 120, 1);
const SUMMARY_FILE = process.env.FAULTS_SUMMARY_FILE ?? 'test-artifacts/reliability/faults-summary.json';
/** Service logs survive the lab (which is deleted at the end). */
const LOG_DIR = join(ROOT, 'test-artifacts', 'reliability', 'faults-logs');
const scenarios = (process.env.FAULTS_SCENARIOS?.trim() || SCENARIO_NAMES.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const s of scenarios) {
  if (!SCENARIO_NAMES.includes(s)) {
    console.error(`FAULTS_SCENARIOS: unknown scenario "${s}"; known: ${SCENARIO_NAMES.join(', ')}`);
    process.exit(2);
  }
}

interface Recovery {
  target: string;
  endpoint: 'readiness' | 'health';
  /** ms from the fault's start to the first DOWN poll. */
  downAfterMs: number | null;
  /** DOWN→UP: first DOWN poll to first UP poll after it. */
  downToUpMs: number | null;
  /** ms from the fault's start to UP again. */
  faultToUpMs: number | null;
}

interface ScenarioResult {
  name: string;
  fault: string;
  passed: boolean;
  orders: number;
  kills: number;
  restarts: number;
  /** Longest DOWN→UP among the affected services (the headline recovery time). */
  recoveryMs: number | null;
  recovery: Recovery[];
  /** The restarted server: stopped (port closed) and answering again, ms after the fault's start. */
  dependency?: { downAfterMs: number; backAfterMs: number };
  /** Readiness that stayed UP where it must (Redis is not critical). */
  stayedUp: { target: string; downPolls: number }[];
  /** Fault start → every order of the batch terminal, outboxes drained. */
  settledAfterFaultMs: number | null;
  /** Fault start → the batch's last order status change (CONFIRMED / FAILED). */
  lastStatusChangeAfterFaultMs: number | null;
  /** Fault start → the client's last answer (its retries included). */
  loadEndAfterFaultMs: number;
  lost: number;
  duplicated: number;
  http5xx: number;
  connErrors: number;
  retries: number;
  ordersRetried: number;
  replayed: number;
  tokenRetries: number;
  confirmed: number;
  failed: number;
  expectedConfirmed: number;
  deadlineFailed: number;
  stuck: number;
  violations: string[];
  client: LoadStats;
  /** Outbox rows written during the scenario that needed more than one publish attempt. */
  outbox: { retriedRows: number; maxAttempts: number };
  /** POST /api/orders requests on the wire when the fault was injected. */
  inFlightAtFault: number;
  /** GET /api/stocks reads (through the Redis cache) made during the load. */
  stockReads: { reads: number; failed: number };
}

interface Batch {
  name: string;
  products: Product[];
  plan: PlanItem[];
  ids: string[];
  keys: string[];
}

const log = (msg: string) => process.stderr.write(`[faults] ${msg}\n`);

async function main(): Promise<number> {
  const t0 = Date.now();
  const guard = guardRun('faults', MAX_SECONDS);
  const ns = `fl${randomUUID().replaceAll('-', '').slice(0, 8)}`;

  let lab: FaultLab;
  try {
    lab = await startFaultLab();
  } catch (err) {
    const why = err instanceof LabError ? err.message : String(err);
    console.error(`FAULT LAB UNAVAILABLE: ${why}`);
    emitSummary('FAULTS_SUMMARY', SUMMARY_FILE, { ok: false, labError: why, scenarios: [] });
    guard.done();
    return 2;
  }
  onCleanup(() => lab.teardown());
  rmSync(LOG_DIR, { recursive: true, force: true });

  const fleet = new Fleet({
    infra: lab,
    ns,
    logDir: LOG_DIR,
    dataDir: join(labDir('faultlab'), 'data'),
    env: {
      APP_OUTBOX_POLL_INTERVAL_MS: '500',
      APP_MESSAGING_RETRY_TTL_MS: '1000',
      ORDER_SAGA_TIMEOUT_SECONDS: String(SAGA_TIMEOUT_SECONDS),
      ORDER_SAGA_SWEEP_INTERVAL_MS: '2000',
      ORDER_CATALOG_CACHE_TTL_MS: '1000',
      NOTIFICATION_STORE_SIZE: '1000000',
      AUTH_RATE_LIMIT_MAX: '0',
    },
    per: { payment: { PAYMENT_DECLINE_ABOVE_AMOUNT: '1000' } },
  });
  onCleanup(() => fleet.killAllNow());
  await fleet.plan(Object.fromEntries(ALL_SERVICES.map((s) => [s, 1])));
  const bootStarted = Date.now();
  await Promise.all(ALL_SERVICES.map((s) => fleet.get(s).start(120_000)));
  log(`six service processes ready in ${Date.now() - bootStarted} ms (logs: ${LOG_DIR})`);

  const dbs = await openDbs(lab, ns);
  const perScenario = Math.floor(ORDERS / scenarios.length);
  const batches: Batch[] = scenarios.map((name, i) => {
    const n = perScenario + (i < ORDERS % scenarios.length ? 1 : 0);
    const { products, plan } = mixedPlan(`${name}-${ns}`, n);
    return { name, products, plan, ids: [], keys: [] };
  });
  await seedProducts(
    fleet.urlOf('catalog'),
    fleet.urlOf('inventory'),
    batches.flatMap((b) => b.products),
  );
  log(`seeded ${batches.length * 3} products; ${ORDERS} orders over ${scenarios.length} scenarios`);

  const results: ScenarioResult[] = [];
  for (const batch of batches) {
    results.push(await runScenario(batch, fleet, lab, dbs));
    const r = results.at(-1)!;
    log(
      `${r.passed ? 'PASS' : 'FAIL'} ${r.name}: ${r.orders} orders, recovery ${fmtMs(r.recoveryMs)}, ` +
        `settled ${fmtMs(r.settledAfterFaultMs)} after the fault, lost ${r.lost}, duplicated ${r.duplicated}, ` +
        `5xx ${r.http5xx}, conn errors ${r.connErrors}, retries ${r.retries}` +
        (r.violations.length ? `\n    ${r.violations.slice(0, 5).join('\n    ')}` : ''),
    );
  }

  // The end: every batch judged again (nothing may have moved since), and the DLQs.
  const final = [];
  for (const b of batches) {
    const verdict = await judgeBatch(dbs, b);
    final.push({ name: b.name, ok: verdict.ok, violations: verdict.violations });
    const r = results.find((x) => x.name === b.name)!;
    if (!verdict.ok) {
      r.passed = false;
      r.violations.push(...verdict.violations.map((v) => `at the end: ${v}`));
    }
  }
  const dlq = await dlqContents(lab, ns);
  for (const m of dlq) {
    const owner = batches.find((b) => m.orderId && b.ids.includes(m.orderId));
    const r = owner ? results.find((x) => x.name === owner.name) : undefined;
    const text = `unexplained DLQ message in ${m.queue}: ${m.eventType} ${m.messageId} (${m.reason})`;
    if (r) {
      r.passed = false;
      r.violations.push(text);
    }
  }
  await dbs.close();
  await fleet.stopAll();
  cleanupNow();
  guard.done();

  const summary = {
    ok: results.every((r) => r.passed) && dlq.length === 0,
    kind: 'faults',
    lab: { kind: lab.kind, ports: lab.ports, fallbackProxies: [] as string[] },
    orders: ORDERS,
    windowMs: WINDOW_MS,
    sagaTimeoutSeconds: SAGA_TIMEOUT_SECONDS,
    durationMs: Date.now() - t0,
    scenarios: results,
    dlq,
    final,
  };
  emitSummary('FAULTS_SUMMARY', SUMMARY_FILE, summary);
  printTable(results);
  return summary.ok ? 0 : 1;
}

function targetsOf(name: string): { targets: ServiceName[]; endpoint: 'readiness' | 'health' } {
  if (name.startsWith('kill-')) return { targets: [name.slice(5) as ServiceName], endpoint: 'readiness' };
  if (name === 'restart-rabbitmq') return { targets: [...MESSAGING_SERVICES], endpoint: 'readiness' };
  if (name === 'restart-postgres')
    return { targets: ['catalog', 'order', 'inventory', 'payment', 'notification'], endpoint: 'readiness' };
  return { targets: ['inventory'], endpoint: 'health' }; // Redis: not critical, readiness must stay UP
}

async function runScenario(batch: Batch, fleet: Fleet, lab: FaultLab, dbs: Dbs): Promise<ScenarioResult> {
  const { targets, endpoint } = targetsOf(batch.name);
  const faultDelayMs = Math.max(100, WINDOW_MS / 4);
  log(
    `${batch.name}: ${batch.plan.length} orders over ${WINDOW_MS} ms, ${BURST} at once just before the fault at ${faultDelayMs} ms`,
  );
  const flight = { posts: 0 };
  const loadStartAt = Date.now();
  const load = runLoad({
    plan: batch.plan,
    orderUrl: () => fleet.urlOf('order'),
    authUrl: () => fleet.urlOf('auth'),
    concurrency: 24,
    windowMs: WINDOW_MS,
    // A burst lands just before the fault: requests and messages are in flight when it hits.
    burst: { from: Math.floor(batch.plan.length / 4), count: BURST, atMs: faultDelayMs - 60 },
    perOrderDeadlineMs: 150_000,
    keyPrefix: batch.name,
    flight,
  });
  const reader = startStockReader(
    () => [fleet.urlOf('inventory')],
    batch.products.map((p) => p.skuId),
  );
  await sleep(faultDelayMs);
  // Hit while the burst is on the wire: wait (up to a second) for POSTs in flight.
  for (const until = Date.now() + 1000; flight.posts < Math.min(4, BURST) && Date.now() < until; ) await sleep(2);
  const inFlightAtFault = flight.posts;

  const faultAt = Date.now();
  const watches = targets.map((t) => watch(t, fleet.urlOf(t), { endpoint, since: faultAt }));
  // Redis: readiness is watched too, and must NOT go down (the cache is not a critical dependency).
  const readinessWatch = endpoint === 'health' ? targets.map((t) => watch(t, fleet.urlOf(t), { since: faultAt })) : [];
  let kills = 0;
  let restarts = 0;
  let fault = '';
  let dependency: OutageTimes | undefined;
  if (batch.name.startsWith('kill-')) {
    const proc = fleet.get(batch.name.slice(5) as ServiceName);
    fault = `kill -9 ${proc.id} (pid ${proc.pid}), restart after ${KILL_DOWN_MS} ms`;
    await proc.kill9();
    kills++;
    await sleep(KILL_DOWN_MS);
    proc.spawnOnly();
    restarts++;
  } else if (batch.name === 'restart-rabbitmq') {
    fault = `rabbitmqctl stop, down ${INFRA_DOWN_MS} ms, rabbitmq-server -detached`;
    dependency = await lab.restartRabbit(INFRA_DOWN_MS);
    restarts++;
  } else if (batch.name === 'restart-postgres') {
    fault = `pg_ctlcluster stop -m immediate, down ${INFRA_DOWN_MS} ms, start`;
    dependency = await lab.restartPostgres(INFRA_DOWN_MS);
    restarts++;
  } else {
    fault = `redis-server SIGTERM, down ${INFRA_DOWN_MS} ms, started empty`;
    dependency = await lab.restartRedis(INFRA_DOWN_MS);
    restarts++;
  }

  await Promise.all(watches.map((w) => w.recovered(120_000)));
  const { ids, keys, stats } = await load;
  const loadEndAt = loadStartAt + stats.durationMs;
  batch.ids = ids;
  batch.keys = keys;
  const watched: WatchResult[] = await Promise.all(watches.map((w) => w.stop()));
  const stayedUp = await Promise.all(readinessWatch.map((w) => w.stop()));
  const stockReads = await reader.stop();
  const settledMs = await waitSettled(dbs, ids, (SAGA_TIMEOUT_SECONDS + 30) * 1000);
  const settledAfterFaultMs = settledMs === null ? null : Date.now() - faultAt;
  const verdict = await judgeBatch(dbs, batch);
  const outbox = await outboxAttempts(dbs, loadStartAt);
  if (process.env.FAULTS_DEBUG) await dumpBatch(dbs, batch, faultAt);
  const stale = await staleStockReads(
    [fleet.urlOf('inventory')],
    dbs,
    batch.products.map((p) => p.skuId),
  );

  const recovery: Recovery[] = watched.map((w) => ({
    target: w.target,
    endpoint: w.endpoint,
    downAfterMs: w.downAt === null ? null : w.downAt - faultAt,
    downToUpMs: w.downAt !== null && w.upAt !== null ? w.upAt - w.downAt : null,
    faultToUpMs: w.upAt === null ? null : w.upAt - faultAt,
  }));
  const violations = [...verdict.violations, ...stale];
  for (const r of recovery) {
    if (r.downAfterMs === null) violations.push(`${r.target}: ${r.endpoint} never went DOWN during the fault`);
    else if (r.downToUpMs === null) violations.push(`${r.target}: ${r.endpoint} did not come back UP`);
  }
  for (const s of stayedUp) {
    if (s.downPolls > 0)
      violations.push(`${s.target}: readiness went DOWN (${s.downPolls} polls) for a non-critical cache`);
  }
  if (settledMs === null) violations.push('the batch did not settle in time');
  if (stats.gaveUp > 0) violations.push(`the client gave up on ${stats.gaveUp} orders: ${stats.errors.join('; ')}`);
  const downToUp = recovery.map((r) => r.downToUpMs).filter((x): x is number => x !== null);
  return {
    name: batch.name,
    fault,
    passed: violations.length === 0,
    orders: batch.plan.length,
    kills,
    restarts,
    recoveryMs: downToUp.length ? Math.max(...downToUp) : null,
    recovery,
    dependency: dependency && {
      downAfterMs: dependency.downAt - faultAt,
      backAfterMs: dependency.upAt - faultAt,
    },
    stayedUp: stayedUp.map((s) => ({ target: s.target, downPolls: s.downPolls })),
    settledAfterFaultMs,
    lastStatusChangeAfterFaultMs: verdict.lastStatusChangeAt === null ? null : verdict.lastStatusChangeAt - faultAt,
    loadEndAfterFaultMs: loadEndAt - faultAt,
    lost: verdict.lost,
    duplicated: verdict.duplicated,
    http5xx: stats.http5xx,
    connErrors: stats.connErrors,
    retries: stats.orderRetries,
    ordersRetried: stats.ordersRetried,
    replayed: stats.replayed,
    tokenRetries: stats.tokenRetries,
    confirmed: verdict.confirmed,
    failed: verdict.failed,
    expectedConfirmed: verdict.expectedConfirmed,
    deadlineFailed: verdict.deadlineFailed,
    stuck: verdict.stuck,
    violations,
    client: stats,
    outbox,
    stockReads,
    inFlightAtFault,
  };
}

/**
 * Outbox rows of the scenario (created since `since`) whose publishing failed and was retried,
 * in the three publishing services: a broker outage must not count against the rows.
 */
async function outboxAttempts(dbs: Dbs, since: number): Promise<{ retriedRows: number; maxAttempts: number }> {
  let retriedRows = 0;
  let maxAttempts = 0;
  for (const db of [dbs.order, dbs.inventory, dbs.payment]) {
    const [row] = await db.query<{ n: number; max: number | null }>(
      'SELECT count(*)::int AS n, max(attempts)::int AS max FROM outbox_events WHERE attempts > 0 AND created_at >= $1',
      [new Date(since)],
    );
    retriedRows += row?.n ?? 0;
    maxAttempts = Math.max(maxAttempts, row?.max ?? 0);
  }
  return { retriedRows, maxAttempts };
}

/** FAULTS_DEBUG=1: the batch's order timelines and reservations, for reading a slow recovery. */
async function dumpBatch(dbs: Dbs, batch: Batch, faultAt: number): Promise<void> {
  const timeline = await dbs.order.query(
    `SELECT order_id, from_status, to_status, at, cause, message_id, ignored, note
       FROM order_status_history WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, id`,
    [batch.ids],
  );
  const reservations = await dbs.inventory.query(
    'SELECT * FROM inventory_reservations WHERE order_id = ANY($1::uuid[])',
    [batch.ids],
  );
  const consumed = await dbs.inventory.query('SELECT * FROM consumed_messages ORDER BY processed_at');
  writeFileSync(
    join(LOG_DIR, `${batch.name}.debug.json`),
    JSON.stringify({ faultAt, timeline, reservations, consumed }, null, 1),
  );
}

function printTable(results: ScenarioResult[]): void {
  const rows = results.map((r) =>
    [
      r.name,
      r.passed ? 'pass' : 'FAIL',
      r.orders,
      r.kills,
      r.restarts,
      fmtMs(r.recoveryMs),
      fmtMs(r.settledAfterFaultMs),
      r.lost,
      r.duplicated,
      r.http5xx,
      r.connErrors,
      r.retries,
      r.replayed,
    ].join(' | '),
  );
  process.stderr.write(
    `\n| scenario | verdict | orders | kills | restarts | recovery (DOWN→UP) | settled | lost | duplicated | 5xx | conn errors | retries | replays |\n` +
      `${rows.map((r) => `| ${r} |`).join('\n')}\n`,
  );
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[faults] failed: ${(err as Error).stack ?? err}`);
    cleanupNow();
    emitSummary('FAULTS_SUMMARY', SUMMARY_FILE, { ok: false, error: String((err as Error).message ?? err) });
    process.exit(1);
  },
);

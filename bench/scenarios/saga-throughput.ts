/**
 * saga-throughput: the whole platform on the real servers (tests/e2e/stack.ts `startStack('real')`
 * in a child process, servers/saga-stack.ts), load from the bench process over HTTP.
 *
 * 1. Sustained: CONFIRMED orders/s over BENCH_SAGA_SECONDS (60) after a 10 s warm-up. Orders are
 *    placed by BENCH_SAGA_CLIENTS (32) keep-alive clients as fast as the saga takes them: a client
 *    places an order only while fewer than BENCH_SAGA_WINDOW (300) orders are in flight (NEW or
 *    RESERVED, polled every 100 ms), so the backlog stays bounded and the rate is the saga's
 *    sustainable rate, not the HTTP front door's. Every order is one in-stock SKU under the decline
 *    amount, so each should end CONFIRMED. Counted from the database: orders whose status became
 *    CONFIRMED inside the window (status_changed_at).
 * 2. The floor: single-INSERT Postgres transactions/s (pg-tx-floor `single-insert`, the kernel's
 *    dedupe INSERT, BENCH_CONNECTIONS workers, pool BENCH_POOL_SIZE) measured right before and
 *    right after the sustained window, divided by the commits one confirmed order costs (counted
 *    from the code: COMMITS_PER_ORDER below). Goal: sustained ÷ (floor ÷ commits) ≥ 0.5.
 * 3. Latency: open loop at half the sustained rate (order i is sent at t0 + i / rate whatever
 *    happened to the earlier ones), 5 s warm-up + BENCH_SAGA_LATENCY_S (20) measured; order →
 *    CONFIRMED = the order's status_changed_at − the moment the bench sent its POST. Goal p99 ≤ 150 ms.
 * 4. The invariant checker (tests/invariants.ts) over every order, the six DLQs included.
 */
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { dropDatabase as dropAnyDatabase } from '@ecom/platform/testing';
import pg from 'pg';
import { type ChildServer, startServer } from '../lib/child-server.js';
import type { BenchConfig } from '../lib/config.js';
import type { DrainRun } from '../lib/drain.js';
import { epochMs, setUpDatabase } from '../lib/messaging.js';
import { databaseUrl } from '../lib/pg-admin.js';
import { formatWaits, sampleWaits } from '../lib/pg-waits.js';
import { cpuDelta, cpuSnapshot } from '../lib/proc.js';
import { ensureProfileDir, profileFileFor, profileSummaries, writeReport } from '../lib/report.js';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { formatTable, median, percentile, round, seededRandom } from '../lib/stats.js';

const NAME = 'saga-throughput';
const STACK_ENTRY = new URL('../servers/saga-stack.ts', import.meta.url).pathname;
const FLOOR_ENTRY = new URL('../servers/pg-tx-floor.ts', import.meta.url).pathname;
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SUSTAIN_S = env('BENCH_SAGA_SECONDS', 60);
const SUSTAIN_WARMUP_S = 10;
const WINDOW = env('BENCH_SAGA_WINDOW', 300);
const CLIENTS = env('BENCH_SAGA_CLIENTS', 32);
const LATENCY_S = env('BENCH_SAGA_LATENCY_S', 20);
const LATENCY_WARMUP_S = 5;
const SKUS = 50;
/** `one-process` (the six in one process, as `npm start`) or `processes` (one per service, as deployed). */
const TOPOLOGY = process.env.BENCH_SAGA_TOPOLOGY ?? 'one-process';
const USER = 'bench-buyer';
const GOAL_RATIO = 0.5;
const GOAL_P99_MS = 150;

/**
 * Commits one CONFIRMED order costs, from the code (bench/README.md "saga-throughput"), with every
 * relay cycle carrying one row and every consumer delivery in a transaction of its own (the worst
 * case: a quiet system; the batching measured under load is reported beside it):
 *  1. order-service  POST /api/orders transaction (key, order, items, timeline, outbox OrderCreated)
 *  2. order-service  outbox relay cycle (claim, publish, mark SENT)
 *  3. inventory      consumer `inventory.order-created` (dedupe, reservation, stock, outbox InventoryReserved)
 *  4. inventory      outbox relay cycle
 *  5. payment        consumer `payment.inventory-reserved` (dedupe, payment record, outbox PaymentSucceeded)
 *  6. payment        outbox relay cycle
 *  7. order-service  consumer `order.inventory-result` (InventoryReserved: NEW → RESERVED, timeline)
 *  8. order-service  consumer `order.payment-result` (PaymentSucceeded: → CONFIRMED, timeline)
 *  9. notification   consumer `notification.payment-result` (dedupe, notification row)
 */
const COMMITS_PER_ORDER = 9;
const SERVER_COMMANDS = ['postgres', 'beam.smp', 'redis-server'] as const;

interface Placed {
  orderId: string;
  sentAt: number;
  httpMs: number;
}

function poster(base: string, bearer: string, maxSockets: number) {
  const url = new URL('/api/orders', base);
  const agent = new Agent({ keepAlive: true, maxSockets });
  let key = 0;
  const runId = Math.random().toString(36).slice(2, 10);
  const post = (
    skuId: string,
    price: number,
  ): Promise<{ status: number; body: string; sentAt: number; httpMs: number }> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ userId: USER, items: [{ skuId, quantity: 1, price }] });
      const sentAt = epochMs();
      const t0 = performance.now();
      const req = request(
        url,
        {
          agent,
          method: 'POST',
          timeout: 30_000,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${bearer}`,
            'idempotency-key': `bench-${runId}-${key++}`,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: text, sentAt, httpMs: performance.now() - t0 }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('order POST timed out')));
      req.on('error', reject);
      req.end(body);
    });
  return { post, close: () => agent.destroy() };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const skuOf = (i: number) => `BENCH-SAGA-${String(i).padStart(3, '0')}`;
const priceOf = (i: number) => 10 + i; // 10 … 59, far under the decline amount (1000)

async function run(ctx: ScenarioContext): Promise<void> {
  const { config, cleanup, log } = ctx;
  // BENCH_CPU_PROF=service|all: the stack process is V8-profiled during the sustained window.
  const profileFile = profileFileFor(config, NAME, 'service', 'stack')?.(1);
  if (profileFile && TOPOLOGY === 'processes')
    throw new Error('BENCH_CPU_PROF=service profiles the one-process stack only (BENCH_SAGA_TOPOLOGY=one-process)');
  await ensureProfileDir(config);
  const startedAt = new Date().toISOString();
  const t00 = performance.now();

  // The floor's own database (kernel migrations: consumed_messages).
  const floorDb = await setUpDatabase(cleanup, log, 2);

  log(
    TOPOLOGY === 'processes'
      ? 'starting the whole stack, one process per service (scripts/reliability/fleet.ts, real servers), from a child process'
      : 'starting the whole stack (tests/e2e/stack.ts, real servers) in a child process',
  );
  const stack = await startServer({
    name: 'saga-stack',
    entry: STACK_ENTRY,
    env: { BENCH_SAGA_TOPOLOGY: TOPOLOGY },
    readiness: { ipc: true },
    readyTimeoutMs: 180_000,
    stopTimeoutMs: 45_000,
  });
  const info = await stack.call<{ urls: Record<string, string>; ns: string; databases: Record<string, string> }>({
    op: 'info',
  });
  // The stack's CPU: the child, plus its service processes when there are any.
  const stackCpuMs = async () => stack.cpuTimeMs() + (await stack.call<number>({ op: 'cpu' }));
  cleanup.defer('stop the stack (drops its databases and topology)', async () => {
    await stack.stop();
    // Belt and braces: the stack drops its databases on close; a stack that was killed did not.
    for (const d of Object.values(info.databases)) await dropAnyDatabase(d).catch(() => undefined);
  });
  log(`stack ${info.ns} up after ${((performance.now() - t00) / 1000).toFixed(1)} s: ${JSON.stringify(info.urls)}`);

  // Seed: SKUS products in the catalog and a stock that never runs out.
  const initialStock = new Map<string, number>();
  await Promise.all(
    Array.from({ length: 5 }, async (_, w) => {
      for (let i = w; i < SKUS; i += 5) {
        const put = await fetch(`${info.urls.catalog}/api/catalog/products/${skuOf(i)}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: `Saga bench ${i}`, price: priceOf(i), active: true }),
        });
        await put.arrayBuffer();
        const stock = await fetch(`${info.urls.inventory}/api/stocks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ skuId: skuOf(i), availableQty: 10_000_000 }),
        });
        await stock.arrayBuffer();
        if (put.status !== 200 || stock.status !== 200)
          throw new Error(`seed ${skuOf(i)}: ${put.status} / ${stock.status}`);
        initialStock.set(skuOf(i), 10_000_000);
      }
    }),
  );
  const tokenRes = await fetch(`${info.urls.auth}/api/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: USER, roles: ['buyer'] }),
  });
  const bearer = ((await tokenRes.json()) as { accessToken: string }).accessToken;
  if (!bearer) throw new Error(`no token: ${tokenRes.status}`);

  const orderDb = new pg.Client({ connectionString: databaseUrl(info.databases.order!) });
  orderDb.on('error', () => undefined);
  await orderDb.connect();
  cleanup.defer('close the order-db connection', () => orderDb.end().catch(() => undefined));
  const inFlight = async () =>
    (await orderDb.query<{ n: number }>("SELECT count(*)::int AS n FROM orders WHERE status IN ('NEW', 'RESERVED')"))
      .rows[0]!.n;
  const stackDbs = Object.values(info.databases);
  const commitsNow = async () =>
    Number(
      (
        await orderDb.query<{ n: string }>(
          'SELECT sum(xact_commit)::bigint AS n FROM pg_stat_database WHERE datname = ANY($1)',
          [stackDbs],
        )
      ).rows[0]!.n,
    );

  const { post, close } = poster(info.urls.order!, bearer, CLIENTS + 64);
  cleanup.defer('close the order clients', () => close());
  // Uniform over the SKUS products (the LCG this replaced multiplied past 2^53 and hit 37 of 50).
  const rnd = seededRandom(config.seed);
  const nextSku = () => Math.floor(rnd() * SKUS);
  const failures: string[] = [];
  const placeOne = async (into?: Placed[]) => {
    const i = nextSku();
    const r = await post(skuOf(i), priceOf(i));
    if (r.status !== 201) {
      if (failures.length < 5) failures.push(`${r.status} ${r.body.slice(0, 200)}`);
      return;
    }
    into?.push({ orderId: (JSON.parse(r.body) as { orderId: string }).orderId, sentAt: r.sentAt, httpMs: r.httpMs });
  };

  // --- the floor ---------------------------------------------------------------------------
  const floorRuns: (DrainRun & {
    rate: number;
    pgCpuUsPerCommit: number;
    childCpuUsPerCommit: number;
    machineBusyPct: number;
    loadAvg1: number;
  })[] = [];
  const floorRound = async (n: number) => {
    const f: ChildServer = await startServer({
      name: `commit-floor#${n}`,
      entry: FLOOR_ENTRY,
      env: { BENCH_DB_URL: floorDb.url, BENCH_DB_POOL_SIZE: String(config.poolSize), BENCH_FLOOR: 'single-insert' },
      readiness: { ipc: true },
    });
    try {
      await f.call({ op: 'run', concurrency: config.connections, durationS: 2, record: false });
      const before = cpuSnapshot(SERVER_COMMANDS);
      const childBefore = f.cpuTimeMs();
      const r = await f.call<DrainRun>({ op: 'run', concurrency: config.connections, durationS: config.durationS });
      const d = cpuDelta(before, cpuSnapshot(SERVER_COMMANDS));
      const res = {
        ...r,
        rate: round((r.items * 1000) / r.elapsedMs, 1),
        // Machine-wide postgres CPU per commit (neighbours included), and the floor process's own.
        pgCpuUsPerCommit: round(((d.byCommand.postgres ?? 0) * 1000) / r.items, 0),
        childCpuUsPerCommit: round(((f.cpuTimeMs() - childBefore) * 1000) / r.items, 0),
        machineBusyPct: d.machineBusyPct,
        loadAvg1: round(loadavg()[0] ?? 0, 2),
      };
      floorRuns.push(res);
      log(
        `  floor #${n}: ${res.rate} single-INSERT commits/s (${config.connections} workers, pool ${config.poolSize}) → ${round(res.rate / COMMITS_PER_ORDER, 1)} orders/s at ${COMMITS_PER_ORDER} commits each; postgres ${res.pgCpuUsPerCommit} µs/commit (machine-wide), floor process ${res.childCpuUsPerCommit} µs/commit; machine ${res.machineBusyPct}% busy  load ${res.loadAvg1}`,
      );
    } finally {
      await f.stop();
    }
  };

  // --- 1. sustained ------------------------------------------------------------------------
  const sustained = async () => {
    let inflight = 0;
    let outstanding = 0;
    let stop = false;
    const poll = (async () => {
      while (!stop) {
        inflight = await inFlight();
        await sleep(100);
      }
    })();
    const clients = Array.from({ length: CLIENTS }, async () => {
      while (!stop) {
        if (inflight + outstanding >= WINDOW) {
          await sleep(5);
          continue;
        }
        outstanding++;
        try {
          await placeOne();
        } finally {
          outstanding--;
        }
      }
    });
    await sleep(SUSTAIN_WARMUP_S * 1000);
    const t0 = epochMs();
    const commits0 = await commitsNow();
    const backlog0 = inflight;
    const waits = sampleWaits(info.databases.order!, 50);
    const inventoryWaits = sampleWaits(info.databases.inventory!, 50);
    const stackCpu0 = await stackCpuMs();
    const benchCpu0 = process.cpuUsage();
    const servers0 = cpuSnapshot(SERVER_COMMANDS);
    if (profileFile) await stack.startCpuProfile();
    await sleep(SUSTAIN_S * 1000);
    const t1 = epochMs();
    const stackCpuUsed = (await stackCpuMs()) - stackCpu0;
    if (profileFile) await stack.stopCpuProfile(profileFile);
    const servers = cpuDelta(servers0, cpuSnapshot(SERVER_COMMANDS));
    const benchCpu = process.cpuUsage(benchCpu0);
    const commits1 = await commitsNow();
    const backlog1 = inflight;
    stop = true;
    await Promise.all(clients);
    await poll;
    const orderWaits = await waits.stop();
    const invWaits = await inventoryWaits.stop();
    const [counts] = (
      await orderDb.query<{ confirmed: number; failed: number; created: number }>(
        `SELECT count(*) FILTER (WHERE status = 'CONFIRMED' AND status_changed_at >= to_timestamp($1::float8 / 1000) AND status_changed_at < to_timestamp($2::float8 / 1000))::int AS confirmed,
                count(*) FILTER (WHERE status = 'FAILED' AND status_changed_at >= to_timestamp($1::float8 / 1000) AND status_changed_at < to_timestamp($2::float8 / 1000))::int AS failed,
                count(*) FILTER (WHERE created_at >= to_timestamp($1::float8 / 1000) AND created_at < to_timestamp($2::float8 / 1000))::int AS created
           FROM orders`,
        [t0, t1],
      )
    ).rows;
    const seconds = (t1 - t0) / 1000;
    return {
      seconds: round(seconds, 2),
      confirmedPerS: round(counts!.confirmed / seconds, 1),
      createdPerS: round(counts!.created / seconds, 1),
      confirmed: counts!.confirmed,
      failed: counts!.failed,
      created: counts!.created,
      backlogAtStart: backlog0,
      backlogAtEnd: backlog1,
      transactionsPerConfirmedOrder: round((commits1 - commits0) / Math.max(1, counts!.confirmed), 2),
      stackCpuPctOfOneCore: round((stackCpuUsed / (seconds * 1000)) * 100, 1),
      stackCpuUsPerConfirmedOrder: round((stackCpuUsed * 1000) / Math.max(1, counts!.confirmed), 0),
      // Machine-wide per command (neighbours' use of the shared servers included: an upper bound).
      serverCpuUsPerConfirmedOrder: Object.fromEntries(
        Object.entries(servers.byCommand).map(([k, ms]) => [k, round((ms * 1000) / Math.max(1, counts!.confirmed), 0)]),
      ),
      benchCpuUsPerConfirmedOrder: round((benchCpu.user + benchCpu.system) / Math.max(1, counts!.confirmed), 0),
      machineBusyPct: servers.machineBusyPct,
      loadAvg1: round(loadavg()[0] ?? 0, 2),
      waits: { order: orderWaits, inventory: invWaits },
    };
  };

  const drain = async (what: string, timeoutMs = 90_000) => {
    const t = performance.now();
    for (;;) {
      const n = await inFlight();
      if (n === 0) return round(performance.now() - t, 0);
      if (performance.now() - t > timeoutMs)
        throw new Error(`${what}: ${n} orders still in flight after ${timeoutMs} ms`);
      await sleep(200);
    }
  };

  // --- 3. latency at half the rate, open loop ----------------------------------------------
  const latency = async (rate: number) => {
    const placed: Placed[] = [];
    const inflightPromises = new Set<Promise<void>>();
    const warmupN = Math.round(rate * LATENCY_WARMUP_S);
    const total = warmupN + Math.round(rate * LATENCY_S);
    const t0 = performance.now();
    let i = 0;
    let maxLagMs = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        while (i < total && t0 + (i * 1000) / rate <= now) {
          maxLagMs = Math.max(maxLagMs, now - (t0 + (i * 1000) / rate));
          const measured = i >= warmupN;
          const p = placeOne(measured ? placed : undefined).catch((err: Error) => {
            if (failures.length < 5) failures.push(err.message);
          });
          inflightPromises.add(p);
          void p.finally(() => inflightPromises.delete(p));
          i++;
        }
        if (i >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    await Promise.all(inflightPromises);
    const drainMs = await drain('latency run');
    const rows = (
      await orderDb.query<{ id: string; status: string; created: number; done: number }>(
        `SELECT id::text, status, extract(epoch FROM created_at) * 1000 AS created, extract(epoch FROM status_changed_at) * 1000 AS done
           FROM orders WHERE id = ANY($1::uuid[])`,
        [placed.map((p) => p.orderId)],
      )
    ).rows;
    const reserved = (
      await orderDb.query<{ id: string; at: number }>(
        `SELECT order_id::text AS id, extract(epoch FROM at) * 1000 AS at FROM order_status_history
          WHERE order_id = ANY($1::uuid[]) AND to_status = 'RESERVED' AND NOT ignored`,
        [placed.map((p) => p.orderId)],
      )
    ).rows;
    const byId = new Map(rows.map((r) => [r.id, r]));
    const reservedAt = new Map(reserved.map((r) => [r.id, Number(r.at)]));
    const toConfirmed: number[] = [];
    const toCreated: number[] = [];
    const createdToConfirmed: number[] = [];
    const createdToReserved: number[] = [];
    const http: number[] = [];
    let notConfirmed = 0;
    for (const p of placed) {
      const r = byId.get(p.orderId);
      if (r?.status !== 'CONFIRMED') {
        notConfirmed++;
        continue;
      }
      toConfirmed.push(Number(r.done) - p.sentAt);
      toCreated.push(Number(r.created) - p.sentAt);
      createdToConfirmed.push(Number(r.done) - Number(r.created));
      const res = reservedAt.get(p.orderId);
      if (res !== undefined) createdToReserved.push(res - Number(r.created));
      http.push(p.httpMs);
    }
    const pct = (v: number[]) => {
      const s = [...v].sort((a, b) => a - b);
      return {
        p50: round(percentile(s, 50), 2),
        p95: round(percentile(s, 95), 2),
        p99: round(percentile(s, 99), 2),
        max: round(s.at(-1) ?? Number.NaN, 2),
      };
    };
    return {
      rate: round(rate, 1),
      measuredOrders: placed.length,
      notConfirmed,
      maxSchedulingLagMs: round(maxLagMs, 2),
      drainMs,
      orderToConfirmed: pct(toConfirmed),
      sendToCommitted: pct(toCreated),
      committedToConfirmed: pct(createdToConfirmed),
      committedToReserved: pct(createdToReserved),
      httpResponse: pct(http),
      loadAvg1: round(loadavg()[0] ?? 0, 2),
    };
  };

  // --- the run -------------------------------------------------------------------------------
  log(`floor before the sustained window`);
  await floorRound(1);
  log(
    `sustained: ${CLIENTS} clients, at most ${WINDOW} orders in flight, ${SUSTAIN_WARMUP_S} s warm-up + ${SUSTAIN_S} s measured`,
  );
  const sus = await sustained();
  log(
    `  sustained: ${sus.confirmedPerS} CONFIRMED/s (${sus.confirmed} in ${sus.seconds} s; created ${sus.createdPerS}/s; FAILED ${sus.failed}; in flight ${sus.backlogAtStart} → ${sus.backlogAtEnd}); ${sus.transactionsPerConfirmedOrder} Postgres transactions per confirmed order (pg_stat_database, all five databases, reads included); stack process CPU ${sus.stackCpuPctOfOneCore}% of a core, ${sus.stackCpuUsPerConfirmedOrder} µs/order; per order also ${Object.entries(
      sus.serverCpuUsPerConfirmedOrder,
    )
      .map(([k, v]) => `${k} ${v} µs`)
      .join(
        ', ',
      )} (machine-wide), bench ${sus.benchCpuUsPerConfirmedOrder} µs; machine ${sus.machineBusyPct}% busy  load ${sus.loadAvg1}`,
  );
  log(`  order db: ${formatWaits(sus.waits.order)}`);
  log(`  inventory db: ${formatWaits(sus.waits.inventory)}`);
  const drainAfterSustainMs = await drain('sustained run');
  log(`  drained in ${drainAfterSustainMs} ms; floor after the sustained window`);
  await floorRound(2);
  const rate = process.env.BENCH_SAGA_RATE ? Number(process.env.BENCH_SAGA_RATE) : sus.confirmedPerS / 2;
  log(
    `latency: open loop at ${rate.toFixed(1)} orders/s (half the sustained rate), ${LATENCY_WARMUP_S} s warm-up + ${LATENCY_S} s`,
  );
  const lat = await latency(rate);
  log(
    `  order → CONFIRMED p50 ${lat.orderToConfirmed.p50} p95 ${lat.orderToConfirmed.p95} p99 ${lat.orderToConfirmed.p99} max ${lat.orderToConfirmed.max} ms over ${lat.measuredOrders} orders (${lat.notConfirmed} not CONFIRMED); POST p99 ${lat.httpResponse.p99} ms; committed → RESERVED p50 ${lat.committedToReserved.p50}, committed → CONFIRMED p50 ${lat.committedToConfirmed.p50} ms  load ${lat.loadAvg1}`,
  );

  // Outbox batching and consumer transactions over the whole run.
  const relay: Record<string, { sent: number; cycles: number; rowsPerCycle: number; pending: number }> = {};
  for (const name of ['order', 'inventory', 'payment'] as const) {
    const c = new pg.Client({ connectionString: databaseUrl(info.databases[name]!) });
    await c.connect();
    try {
      const [row] = (
        await c.query<{ sent: number; cycles: number; pending: number }>(
          `SELECT count(*) FILTER (WHERE status = 'SENT')::int AS sent, count(DISTINCT sent_at)::int AS cycles,
                  count(*) FILTER (WHERE status = 'PENDING')::int AS pending FROM outbox_events`,
        )
      ).rows;
      relay[name] = { ...row!, rowsPerCycle: round(row!.sent / Math.max(1, row!.cycles), 2) };
    } finally {
      await c.end();
    }
  }
  log(
    `  relays (whole run): ${Object.entries(relay)
      .map(([k, v]) => `${k} ${v.sent} rows in ${v.cycles} cycles (${v.rowsPerCycle}/cycle)`)
      .join(', ')}`,
  );

  log('invariant checker (tests/invariants.ts) over every order');
  const invariants = await stack.call<{ ok: boolean; violations: string[]; counts: Record<string, number> }>(
    { op: 'invariants', initialStock: [...initialStock] },
    120_000,
  );
  log(
    `  invariants: ${invariants.ok ? 'OK' : 'VIOLATED'} ${JSON.stringify(invariants.counts)}${invariants.violations.length ? ` — ${invariants.violations.slice(0, 5).join('; ')}` : ''}`,
  );

  const floorRate = median(floorRuns.map((f) => f.rate));
  const floorOrders = floorRate / COMMITS_PER_ORDER;
  const ratio = round(sus.confirmedPerS / floorOrders, 3);
  const ratioMet = ratio >= GOAL_RATIO;
  const p99Met = lat.orderToConfirmed.p99 <= GOAL_P99_MS;
  console.log(
    `\n${NAME}: the whole stack on PostgreSQL + RabbitMQ + Redis, ${TOPOLOGY === 'processes' ? 'one process per service' : 'one process'}; orders of one in-stock SKU\n`,
  );
  console.log(
    formatTable(
      ['what', 'value', 'note'],
      [
        [
          'floor commits/s',
          floorRate,
          `median of ${floorRuns.map((f) => f.rate).join(', ')} (single-INSERT tx, ${config.connections} workers)`,
        ],
        [
          'commits per order',
          COMMITS_PER_ORDER,
          `from the code; measured ${sus.transactionsPerConfirmedOrder} tx/order incl. reads`,
        ],
        ['floor orders/s', round(floorOrders, 1), 'floor commits/s ÷ commits per order'],
        [
          'CONFIRMED/s',
          sus.confirmedPerS,
          `${SUSTAIN_S} s, ≤ ${WINDOW} in flight, ${CLIENTS} clients; load ${sus.loadAvg1}`,
        ],
        ['ratio', ratio.toFixed(3), `goal ≥ ${GOAL_RATIO}: ${ratioMet ? 'MET' : 'NOT MET'}`],
        [
          'CPU µs per order',
          sus.stackCpuUsPerConfirmedOrder,
          `stack process; postgres ${sus.serverCpuUsPerConfirmedOrder.postgres ?? '-'} (machine-wide; floor: ${median(floorRuns.map((f) => f.pgCpuUsPerCommit))} per commit), rabbitmq ${sus.serverCpuUsPerConfirmedOrder['beam.smp'] ?? '-'}`,
        ],
        ['latency rate', lat.rate, 'orders/s, open loop'],
        ['order→CONFIRMED p50', lat.orderToConfirmed.p50, 'ms'],
        [
          'order→CONFIRMED p99',
          lat.orderToConfirmed.p99,
          `ms, goal ≤ ${GOAL_P99_MS}: ${p99Met ? 'MET' : 'NOT MET'}; load ${lat.loadAvg1}`,
        ],
        ['invariants', invariants.ok ? 'OK' : 'VIOLATED', JSON.stringify(invariants.counts)],
      ],
    ),
  );
  if (failures.length) console.log(`\nfailed order POSTs (first ${failures.length}): ${failures.join(' | ')}`);
  const totalS = round((performance.now() - t00) / 1000, 1);
  log(`scenario wall time ${totalS} s`);

  await writeReport(
    ctx,
    NAME,
    {
      scenario: NAME,
      description: scenario.description,
      startedAt,
      finishedAt: new Date().toISOString(),
      wallSeconds: totalS,
      machine: ctx.machine,
      config: {
        sustainS: SUSTAIN_S,
        sustainWarmupS: SUSTAIN_WARMUP_S,
        window: WINDOW,
        clients: CLIENTS,
        latencyS: LATENCY_S,
        latencyWarmupS: LATENCY_WARMUP_S,
        skus: SKUS,
        floor: { concurrency: config.connections, poolSize: config.poolSize, durationS: config.durationS },
        commitsPerOrder: COMMITS_PER_ORDER,
        topology: TOPOLOGY,
        stackEnv: process.env.BENCH_SAGA_STACK_ENV ?? '',
      },
      floor: { runs: floorRuns, commitsPerS: floorRate, ordersPerS: round(floorOrders, 1) },
      sustained: sus,
      latency: lat,
      relay,
      invariants,
      failures,
      ratio,
      goals: { ratioAtLeast: GOAL_RATIO, ratioMet, p99AtMostMs: GOAL_P99_MS, p99Met },
      profiles: await profileSummaries(config, [{ profile: profileFile }]),
    },
    profileFile !== undefined,
  );
  if (!invariants.ok) throw new Error(`invariants violated: ${invariants.violations.slice(0, 5).join('; ')}`);
}

export const scenario: Scenario = {
  name: NAME,
  description:
    'CONFIRMED orders/s of the whole stack (real servers) sustained for 60 s vs single-INSERT commits/s ÷ commits per order; order→CONFIRMED latency at half that rate; invariants.',
  budgetMs: (c: BenchConfig) =>
    240_000 +
    (SUSTAIN_WARMUP_S + SUSTAIN_S + LATENCY_WARMUP_S + LATENCY_S + 3 * 90) * 1000 +
    2 * (c.durationS + 30) * 1000,
  run,
};

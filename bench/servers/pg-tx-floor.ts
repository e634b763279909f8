/**
 * Postgres-transaction floors, run for a fixed time by `concurrency` workers over a node-postgres
 * Pool of BENCH_DB_POOL_SIZE — no HTTP, no framework, no kernel: what is left when everything but
 * the commits is taken away. BENCH_FLOOR selects the transaction:
 *
 * - `order-insert` (order-create): BEGIN; the four INSERTs of an order with the service's own
 *   statement texts, parameters and row shapes — idempotency_keys (… ON CONFLICT DO NOTHING
 *   RETURNING order_id), orders, order_items (one multi-row INSERT of the items), outbox_events
 *   (an OrderCreated envelope of the same members and size) — COMMIT. In the order service's own
 *   database and tables.
 * - `single-insert` (saga-throughput): BEGIN; one INSERT INTO consumed_messages (the kernel's
 *   dedupe statement); COMMIT.
 * Every INSERT is a prepared (named) statement, like the kernel's own.
 *
 * Env: BENCH_DB_URL, BENCH_DB_POOL_SIZE (10), BENCH_FLOOR, BENCH_ITEMS_PER_ORDER (2).
 * Call: { op: 'run', concurrency, durationS, record } → DrainRun (items = commits), with latency
 * percentiles of the transactions (checkout + BEGIN … COMMIT) in `extra`.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { guardChild, requireEnv, serveCalls, signalReady } from '../lib/child-guard.js';
import type { DrainRun } from '../lib/drain.js';
import { percentile } from '../lib/stats.js';

const kind = requireEnv('BENCH_FLOOR');
if (kind !== 'order-insert' && kind !== 'single-insert') throw new Error(`BENCH_FLOOR=${kind}?`);
const poolSize = Number(process.env.BENCH_DB_POOL_SIZE ?? 10);
const itemsPerOrder = Number(process.env.BENCH_ITEMS_PER_ORDER ?? 2);
const pool = new pg.Pool({ connectionString: requireEnv('BENCH_DB_URL'), max: poolSize, idleTimeoutMillis: 30_000 });
pool.on('error', () => undefined);
await Promise.all(Array.from({ length: poolSize }, () => pool.query('SELECT 1')));

// order-service's statements, verbatim (idempotency/repository.ts, orders/repository.ts, the kernel outbox).
const KEY_INSERT = `INSERT INTO idempotency_keys (user_id, idempotency_key, order_id, status, request_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING order_id`;
const ORDER_INSERT = `INSERT INTO orders (id, user_id, total_amount, status, created_at, trace_id, identity_roles,
                         status_reason, status_cause, status_changed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, NULL, 'HTTP', $5)`;
const ITEMS_INSERT = `INSERT INTO order_items (id, order_id, sku_id, quantity, price, line_no) VALUES ${Array.from(
  { length: itemsPerOrder },
  (_, i) => `($${i * 6 + 1}, $${i * 6 + 2}, $${i * 6 + 3}, $${i * 6 + 4}, $${i * 6 + 5}, $${i * 6 + 6})`,
).join(', ')}`;
const OUTBOX_INSERT = `INSERT INTO outbox_events (id, event_type, routing_key, payload, status, created_at, traceparent)
         VALUES ($1, $2, $3, $4, 'PENDING', $5, $6)`;
const DEDUPE_INSERT = `INSERT INTO consumed_messages (id, message_id, consumer, processed_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (message_id, consumer) DO NOTHING RETURNING id`;

const USER = 'bench-buyer';
const ROLES = ['buyer'];
const ITEMS = Array.from({ length: itemsPerOrder }, (_, i) => ({ skuId: `BENCH-SKU-${i + 1}`, quantity: 1 + i }));
const priceOf = (skuId: string) => 10 + Number(skuId.slice('BENCH-SKU-'.length));
const TOTAL = ITEMS.reduce((s, i) => s + priceOf(i.skuId) * i.quantity, 0);
const HASH = 'f'.repeat(64); // request_hash is a SHA-256 hex string: same width
const TTL_MS = 86_400_000;

/**
 * Prepared (named) statements, as the kernel's PostgreSQL driver uses for every parameterized
 * statement: each connection parses and plans a text once. The floor gets the same advantage.
 */
const prepared = (name: string, text: string, values: unknown[]): pg.QueryConfig => ({
  name: `floor_${name}`,
  text,
  values,
});

async function orderTx(client: pg.PoolClient): Promise<void> {
  const now = new Date();
  const orderId = randomUUID();
  const traceId = randomUUID();
  await client.query(
    prepared('key', KEY_INSERT, [
      USER,
      randomUUID(),
      orderId,
      'COMPLETED',
      HASH,
      now,
      new Date(now.getTime() + TTL_MS),
    ]),
  );
  await client.query(
    prepared('order', ORDER_INSERT, [orderId, USER, TOTAL.toFixed(2), 'NEW', now, traceId, JSON.stringify(ROLES)]),
  );
  const params: unknown[] = [];
  ITEMS.forEach((item, i) => {
    params.push(randomUUID(), orderId, item.skuId, item.quantity, priceOf(item.skuId).toFixed(2), i);
  });
  await client.query(prepared('items', ITEMS_INSERT, params));
  // The envelope order-service writes (contracts createEvent: members in the spec's order).
  const eventId = randomUUID();
  const payload = JSON.stringify({
    event_id: eventId,
    event_type: 'OrderCreated',
    occurred_at: now.toISOString(),
    trace_id: traceId,
    identity: { user_id: USER, roles: ROLES },
    data: {
      order_id: orderId,
      user_id: USER,
      items: ITEMS.map((i) => ({ sku_id: i.skuId, quantity: i.quantity, price: priceOf(i.skuId) })),
      total_amount: TOTAL,
    },
    version: 1,
  });
  await client.query(
    prepared('outbox', OUTBOX_INSERT, [eventId, 'OrderCreated', 'order.created', payload, new Date(), null]),
  );
}

async function singleTx(client: pg.PoolClient): Promise<void> {
  await client.query(prepared('dedupe', DEDUPE_INSERT, [randomUUID(), randomUUID(), 'bench.commit-floor', new Date()]));
}

const body = kind === 'order-insert' ? orderTx : singleTx;
let committedTotal = 0;

serveCalls(async (request) => {
  const { concurrency, durationS, record } = request as {
    op: 'run';
    concurrency: number;
    durationS: number;
    record?: boolean;
  };
  const latencies: number[] = [];
  let done = 0;
  const t0 = performance.now();
  const end = t0 + durationS * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const started = performance.now();
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await body(client);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
      done++;
      committedTotal++;
      if (record !== false) latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return {
    items: done,
    elapsedMs,
    extra: {
      floor: kind,
      concurrency,
      poolSize,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      committedTotal,
    },
  } satisfies DrainRun;
});

guardChild(() => pool.end());
signalReady();

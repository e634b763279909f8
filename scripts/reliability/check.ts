/**
 * After a batch: wait until the saga has settled, then judge it with the invariant checker
 * (tests/invariants.ts) plus what only a fault run can count — orders created twice for one
 * Idempotency-Key, orders the client never got, deadline failures, lost notifications — and
 * the DLQs, each message with its reason.
 */
import {
  consumerQueues,
  createAmqpTransport,
  type Database,
  listDlq,
  openPostgres,
  parseDatabaseUrl,
  silentLogger,
  type Transport,
} from '@ecom/platform';
import { checkInvariants } from '../../tests/invariants.js';
import type { Infra } from './lab.js';
import { expectedOutcome, type PlanItem, type Product } from './load.js';

export interface Dbs {
  order: Database;
  inventory: Database;
  payment: Database;
  notification: Database;
  close(): Promise<void>;
}

export async function openDbs(infra: Infra, ns: string): Promise<Dbs> {
  const open = (name: string) =>
    openPostgres({
      target: parseDatabaseUrl(infra.pgUrl(`${ns}_${name}`)),
      maxConnections: 1,
      connectTimeoutMs: 5000,
      applicationName: 'reliability-checker',
    });
  const [order, inventory, payment, notification] = await Promise.all(
    ['order', 'inventory', 'payment', 'notification'].map(open),
  );
  return {
    order: order!,
    inventory: inventory!,
    payment: payment!,
    notification: notification!,
    async close() {
      await Promise.allSettled([order!.close(), inventory!.close(), payment!.close(), notification!.close()]);
    },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function count(db: Database, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await db.query<{ n: number }>(sql, params);
  return row?.n ?? 0;
}

/**
 * Resolves with the ms it took until every order of `ids` is terminal, every outbox drained and
 * every live reservation belongs to a CONFIRMED order (the last compensations landed); null when
 * `timeoutMs` passed first. Database errors while a fault is still healing are retried.
 */
export async function waitSettled(dbs: Dbs, ids: readonly string[], timeoutMs: number): Promise<number | null> {
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const open = await count(
        dbs.order,
        "SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[]) AND status NOT IN ('CONFIRMED', 'FAILED')",
        [ids],
      );
      if (open === 0) {
        let pending = 0;
        for (const db of [dbs.order, dbs.inventory, dbs.payment]) {
          pending += await count(db, "SELECT count(*)::int AS n FROM outbox_events WHERE status = 'PENDING'");
        }
        const live = await count(
          dbs.inventory,
          "SELECT count(*)::int AS n FROM inventory_reservations WHERE status = 'RESERVED' AND order_id = ANY($1::uuid[])",
          [ids],
        );
        const confirmed = await count(
          dbs.order,
          "SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[]) AND status = 'CONFIRMED'",
          [ids],
        );
        const payments = await count(
          dbs.payment,
          'SELECT count(*)::int AS n FROM payment_records WHERE order_id = ANY($1::uuid[])',
          [ids],
        );
        const notified = await count(
          dbs.notification,
          'SELECT count(DISTINCT order_id)::int AS n FROM notification_events WHERE order_id = ANY($1::uuid[])',
          [ids],
        );
        if (pending === 0 && live === confirmed && notified >= payments) return Date.now() - t0;
      }
    } catch {
      /* a database still coming back: look again */
    }
    await sleep(250);
  }
  return null;
}

export interface BatchVerdict {
  ok: boolean;
  violations: string[];
  orders: number;
  confirmed: number;
  failed: number;
  /** Not terminal. */
  stuck: number;
  /** FAILED by the saga deadline (status_cause DEADLINE). */
  deadlineFailed: number;
  expectedConfirmed: number;
  /** Planned orders that never got an order (the client gave up, or the row is missing). */
  lost: number;
  /** Orders beyond one per Idempotency-Key, plus reservations/payments beyond one per order. */
  duplicated: number;
  duplicateReservations: number;
  duplicatePayments: number;
  /** Payment results without their notification. */
  missingNotifications: number;
  /** Epoch ms of the batch's last order status change (its saga's end). */
  lastStatusChangeAt: number | null;
}

/**
 * Judges one batch. `users` are the batch's own buyers (no other batch uses them), so every
 * order row of theirs must come from one of the batch's keys.
 */
export async function judgeBatch(
  dbs: Dbs,
  batch: { ids: string[]; keys: string[]; products: Product[]; plan: PlanItem[] },
): Promise<BatchVerdict> {
  const users = [...new Set(batch.plan.map((p) => p.userId))];
  const report = await checkInvariants({
    order: dbs.order,
    inventory: dbs.inventory,
    payment: dbs.payment,
    initialStock: new Map(batch.products.map((p) => [p.skuId, p.stock])),
    orderIds: batch.ids,
  });
  const violations = [...report.violations];
  const rows = await count(dbs.order, 'SELECT count(*)::int AS n FROM orders WHERE user_id = ANY($1::text[])', [users]);
  const keyRows = await count(
    dbs.order,
    'SELECT count(*)::int AS n FROM idempotency_keys WHERE user_id = ANY($1::text[])',
    [users],
  );
  const distinctIds = new Set(batch.ids).size;
  const duplicateOrders = Math.max(0, rows - batch.plan.length) + (batch.ids.length - distinctIds);
  if (rows !== keyRows) violations.push(`${rows} orders but ${keyRows} idempotency keys for the batch's buyers`);
  if (duplicateOrders > 0) violations.push(`${duplicateOrders} orders more than one per Idempotency-Key`);
  const lost = Math.max(0, batch.plan.length - distinctIds) + Math.max(0, distinctIds - rows);
  if (lost > 0) violations.push(`${lost} planned orders have no order`);
  const duplicateReservations = await count(
    dbs.inventory,
    `SELECT count(*)::int AS n FROM (SELECT order_id FROM inventory_reservations WHERE order_id = ANY($1::uuid[])
       GROUP BY order_id HAVING count(*) > 1) d`,
    [batch.ids],
  );
  const duplicatePayments = await count(
    dbs.payment,
    `SELECT count(*)::int AS n FROM (SELECT order_id FROM payment_records WHERE order_id = ANY($1::uuid[])
       GROUP BY order_id HAVING count(*) > 1) d`,
    [batch.ids],
  );
  const deadlineFailed = await count(
    dbs.order,
    "SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[]) AND status = 'FAILED' AND status_cause = 'DEADLINE'",
    [batch.ids],
  );
  if (deadlineFailed > 0) violations.push(`${deadlineFailed} orders FAILED by the saga deadline`);
  const payments = await count(
    dbs.payment,
    'SELECT count(*)::int AS n FROM payment_records WHERE order_id = ANY($1::uuid[])',
    [batch.ids],
  );
  const notified = await count(
    dbs.notification,
    'SELECT count(DISTINCT order_id)::int AS n FROM notification_events WHERE order_id = ANY($1::uuid[])',
    [batch.ids],
  );
  const notifications = await count(
    dbs.notification,
    'SELECT count(*)::int AS n FROM notification_events WHERE order_id = ANY($1::uuid[])',
    [batch.ids],
  );
  const missingNotifications = Math.max(0, payments - notified);
  if (missingNotifications > 0) violations.push(`${missingNotifications} payment results without a notification`);
  if (notifications > notified) violations.push(`${notifications - notified} duplicate notifications`);
  const [last] = await dbs.order.query<{ at: Date | null }>(
    'SELECT max(status_changed_at) AS at FROM orders WHERE id = ANY($1::uuid[])',
    [batch.ids],
  );
  const expected = expectedOutcome(batch.products, batch.plan);
  if (lost === 0 && deadlineFailed === 0 && report.counts.confirmed !== expected.confirmed) {
    violations.push(`${report.counts.confirmed} CONFIRMED, expected exactly ${expected.confirmed}`);
  }
  return {
    ok: violations.length === 0,
    violations,
    orders: report.counts.orders,
    confirmed: report.counts.confirmed,
    failed: report.counts.failed,
    stuck: report.counts.pending,
    deadlineFailed,
    expectedConfirmed: expected.confirmed,
    lost,
    duplicated: duplicateOrders + duplicateReservations + duplicatePayments + Math.max(0, notifications - notified),
    duplicateReservations,
    duplicatePayments,
    missingNotifications,
    lastStatusChangeAt: last?.at ? new Date(last.at).getTime() : null,
  };
}

export interface DlqEntry {
  queue: string;
  messageId: string | null;
  eventType: string | null;
  reason: string | null;
  orderId: string | null;
}

/** Every message in the run's DLQs (none expected: each one is a finding to explain). */
export async function dlqContents(infra: Infra, ns: string): Promise<DlqEntry[]> {
  let transport: Transport | undefined;
  try {
    transport = await createAmqpTransport({ url: infra.amqpUrl, logger: silentLogger, connectionName: 'dlq-check' });
    const out: DlqEntry[] = [];
    for (const q of Object.values(consumerQueues({ namespace: `${ns}.` }))) {
      const name = q.dlq?.queue ?? `${q.queue}.dlq`;
      for (const m of await listDlq(transport, name, 1000)) {
        let orderId: string | null = null;
        try {
          orderId = (JSON.parse(m.body) as { data?: { order_id?: string } }).data?.order_id ?? null;
        } catch {
          /* not JSON */
        }
        out.push({ queue: name, messageId: m.messageId, eventType: m.eventType, reason: m.reason, orderId });
      }
    }
    return out;
  } finally {
    await transport?.close();
  }
}

/** Prometheus text → value of the samples of `metric` whose labels contain every `match`. */
export function metricSum(text: string, metric: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== metric) continue;
    const labels = m[2] ?? '';
    if (Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/**
 * Reads the batch's SKUs through GET /api/stocks/{sku} (cache first) all along the load, so the
 * Redis stock cache holds entries that the reservations and releases must invalidate — under
 * the fault too. Stops with the number of reads and of failed reads.
 */
export function startStockReader(
  urls: () => string[],
  skus: readonly string[],
  intervalMs = 250,
): { stop(): Promise<{ reads: number; failed: number }> } {
  let stopped = false;
  let reads = 0;
  let failed = 0;
  const loop = (async () => {
    while (!stopped) {
      for (const url of urls()) {
        for (const sku of skus) {
          try {
            const res = await fetch(`${url}/api/stocks/${encodeURIComponent(sku)}`, {
              signal: AbortSignal.timeout(2000),
            });
            await res.arrayBuffer();
            reads++;
            if (res.status !== 200) failed++;
          } catch {
            failed++;
          }
        }
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { reads, failed };
    },
  };
}

/**
 * After the batch settled: what GET /api/stocks/{sku} answers (through the cache) must be what
 * the database holds — a stale cache entry that survived the fault is a violation.
 */
export async function staleStockReads(urls: readonly string[], dbs: Dbs, skus: readonly string[]): Promise<string[]> {
  const rows = await dbs.inventory.query<{ sku_id: string; available_qty: number; reserved_qty: number }>(
    'SELECT sku_id, available_qty, reserved_qty FROM sku_stocks WHERE sku_id = ANY($1::text[])',
    [skus],
  );
  const out: string[] = [];
  for (const url of urls) {
    for (const row of rows) {
      const res = await fetch(`${url}/api/stocks/${encodeURIComponent(row.sku_id)}`, {
        signal: AbortSignal.timeout(5000),
      });
      const body = (await res.json()) as { availableQty?: number; reservedQty?: number };
      if (body.availableQty !== row.available_qty || body.reservedQty !== row.reserved_qty) {
        out.push(
          `stale stock read at ${url} for ${row.sku_id}: ${body.availableQty}/${body.reservedQty}, ` +
            `database ${row.available_qty}/${row.reserved_qty}`,
        );
      }
    }
  }
  return out;
}

/**
 * The platform's invariants after any run (issue: "nothing lost, nothing applied twice"):
 *  1. every order is terminal (CONFIRMED or FAILED) — none stuck;
 *  2. a CONFIRMED order has exactly one RESERVED reservation and one SUCCEEDED payment;
 *  3. a FAILED order has no live (RESERVED) reservation;
 *  4. per SKU: initial stock = available + reserved, and reserved = Σ quantities of the
 *     RESERVED reservations, which all belong to CONFIRMED orders;
 *  5. every outbox is drained (no PENDING row);
 *  6. every DLQ is empty, or each message in it is in the `explained` list.
 * Read-only: plain SQL against each service's own tables (the spec's schema) and queue depths.
 * Used by the e2e suite, the fault-injection run and the benchmarks.
 */
import type { Queryable, Transport } from '@ecom/platform';

export interface InvariantInput {
  order: Queryable;
  inventory: Queryable;
  payment: Queryable;
  /** Stock per SKU before the run (available + reserved). */
  initialStock: ReadonlyMap<string, number>;
  /** Only these orders (a test's own); all orders when absent. */
  orderIds?: readonly string[];
  /** DLQ names to inspect, with the broker that holds them. */
  dlqs?: { transport: Transport; queues: readonly string[] };
  /** DLQ message ids a scenario put there on purpose (poison messages). */
  explained?: ReadonlySet<string>;
}

export interface InvariantReport {
  ok: boolean;
  violations: string[];
  counts: { orders: number; confirmed: number; failed: number; pending: number; dlqMessages: number };
}

export async function checkInvariants(input: InvariantInput): Promise<InvariantReport> {
  const v: string[] = [];
  const scope = input.orderIds ? [...input.orderIds] : null;
  const orders = await input.order.query<{ id: string; status: string }>(
    scope ? 'SELECT id, status FROM orders WHERE id = ANY($1::uuid[])' : 'SELECT id, status FROM orders',
    scope ? [scope] : [],
  );
  if (scope && orders.length !== scope.length) v.push(`expected ${scope.length} orders, found ${orders.length}`);
  const ids = orders.map((o) => o.id);
  const reservations = await input.inventory.query<{ order_id: string; status: string }>(
    'SELECT order_id, status FROM inventory_reservations WHERE order_id = ANY($1::uuid[])',
    [ids],
  );
  const payments = await input.payment.query<{ order_id: string; status: string }>(
    'SELECT order_id, status FROM payment_records WHERE order_id = ANY($1::uuid[])',
    [ids],
  );
  const byOrder = <T extends { order_id: string }>(rows: T[]) => {
    const m = new Map<string, T[]>();
    for (const r of rows) m.set(r.order_id, [...(m.get(r.order_id) ?? []), r]);
    return m;
  };
  const resOf = byOrder(reservations);
  const payOf = byOrder(payments);
  let confirmed = 0;
  let failed = 0;
  let pending = 0;
  for (const o of orders) {
    const res = resOf.get(o.id) ?? [];
    const pay = payOf.get(o.id) ?? [];
    if (res.length > 1) v.push(`order ${o.id}: ${res.length} reservations (at most one per order)`);
    if (pay.length > 1) v.push(`order ${o.id}: ${pay.length} payment records (at most one per order)`);
    switch (o.status) {
      case 'CONFIRMED':
        confirmed++;
        if (res[0]?.status !== 'RESERVED')
          v.push(`CONFIRMED order ${o.id}: reservation ${res[0]?.status ?? 'missing'}, expected RESERVED`);
        if (pay[0]?.status !== 'SUCCEEDED')
          v.push(`CONFIRMED order ${o.id}: payment ${pay[0]?.status ?? 'missing'}, expected SUCCEEDED`);
        break;
      case 'FAILED':
        failed++;
        if (res[0]?.status === 'RESERVED') v.push(`FAILED order ${o.id} still holds a RESERVED reservation`);
        break;
      default:
        pending++;
        v.push(`order ${o.id} is not terminal (${o.status})`);
    }
  }

  // Stock conservation, per SKU the run touched.
  const skus = [...input.initialStock.keys()];
  const stock = await input.inventory.query<{ sku_id: string; available_qty: number; reserved_qty: number }>(
    'SELECT sku_id, available_qty, reserved_qty FROM sku_stocks WHERE sku_id = ANY($1::text[])',
    [skus],
  );
  const held = await input.inventory.query<{ sku_id: string; qty: number }>(
    `SELECT i.sku_id, sum(i.quantity)::int AS qty
       FROM inventory_reservations r JOIN inventory_reservation_items i ON i.reservation_id = r.id
      WHERE r.status = 'RESERVED' AND i.sku_id = ANY($1::text[]) GROUP BY i.sku_id`,
    [skus],
  );
  const heldBy = new Map(held.map((h) => [h.sku_id, h.qty]));
  for (const s of stock) {
    const initial = input.initialStock.get(s.sku_id)!;
    if (s.available_qty + s.reserved_qty !== initial) {
      v.push(`SKU ${s.sku_id}: available ${s.available_qty} + reserved ${s.reserved_qty} ≠ initial ${initial}`);
    }
    if ((heldBy.get(s.sku_id) ?? 0) !== s.reserved_qty) {
      v.push(`SKU ${s.sku_id}: reserved_qty ${s.reserved_qty} ≠ Σ RESERVED reservations ${heldBy.get(s.sku_id) ?? 0}`);
    }
  }
  if (stock.length !== skus.length) v.push(`expected ${skus.length} stock rows, found ${stock.length}`);
  const live = await input.inventory.query<{ order_id: string }>(
    "SELECT order_id FROM inventory_reservations WHERE status = 'RESERVED' AND order_id = ANY($1::uuid[])",
    [ids],
  );
  const statusOf = new Map(orders.map((o) => [o.id, o.status]));
  for (const r of live) {
    if (statusOf.get(r.order_id) !== 'CONFIRMED')
      v.push(`RESERVED reservation of a ${statusOf.get(r.order_id)} order ${r.order_id}`);
  }

  for (const [name, db] of [
    ['order', input.order],
    ['inventory', input.inventory],
    ['payment', input.payment],
  ] as const) {
    const [row] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM outbox_events WHERE status = 'PENDING'",
    );
    if ((row?.n ?? 0) > 0) v.push(`${name} outbox not drained: ${row?.n} PENDING`);
  }

  let dlqMessages = 0;
  if (input.dlqs) {
    const { listDlq } = await import('@ecom/platform');
    for (const q of input.dlqs.queues) {
      for (const m of await listDlq(input.dlqs.transport, q, 1000)) {
        dlqMessages++;
        if (!m.messageId || !input.explained?.has(m.messageId))
          v.push(`unexplained DLQ message in ${q}: ${m.messageId} (${m.reason})`);
      }
    }
  }
  return {
    ok: v.length === 0,
    violations: v,
    counts: { orders: orders.length, confirmed, failed, pending, dlqMessages },
  };
}

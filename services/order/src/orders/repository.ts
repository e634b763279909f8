import { randomUUID } from 'node:crypto';
import type { OutboxRowValues, Queryable } from '@ecom/platform';
import type { IdempotencyKeyRow } from '../idempotency/idempotency-key.js';
import { claimKeySql } from '../idempotency/repository.js';
import { moneyFromDb } from '../shared/money.js';
import { sqlParams } from '../shared/sql-params.js';
import { appendTimelineSql } from '../timeline/repository.js';
import type { TimelineEntry } from '../timeline/timeline-entry.js';
import type { Buyer, Order, OrderItem, OrderItemRow, OrderRow } from './order.js';

const ORDER_COLUMNS =
  'id, user_id, total_amount, status, created_at, trace_id, identity_roles::text AS identity_roles, status_reason, status_cause';

/**
 * The new order in ONE statement, one round trip (data-modifying CTEs): claims the idempotency
 * key (`claimKeySql`: inserted, or an expired one taken over) and, only when that claim returned
 * its row, writes the order, its items (`line_no` = request position), its first timeline
 * entry and its OrderCreated outbox row. Run outside a transaction it is one: all or nothing. True when claimed and written; false when a live key of this user exists — then
 * nothing is written and the caller reads the key to replay it or refuse the body.
 *
 * Every sub-statement sees the same snapshot, so none reads another's rows; the foreign keys
 * (items and timeline → orders) are checked at the end of the statement, once all are written.
 * The items go in as arrays (`unnest`), so any number of items is the same statement; prices as
 * their exact decimal text, never a float.
 */
export async function insertOrderClaimingKey(
  tx: Queryable,
  rows: {
    order: Order;
    saga: { traceId: string; buyer: Buyer };
    key: IdempotencyKeyRow;
    firstEntry: TimelineEntry;
    /** The OrderCreated outbox row (the kernel's `outbox.row(event)`), written with the order. */
    outboxRow: OutboxRowValues;
  },
): Promise<boolean> {
  const { order, saga } = rows;
  const p = sqlParams();
  const orderId = p.add(order.id, 'uuid');
  const createdAt = p.add(order.createdAt, 'timestamptz');
  const claimKey = claimKeySql(rows.key, p);
  const orderValues = [
    orderId,
    p.add(order.userId, 'varchar'),
    p.add(order.totalAmount, 'numeric'),
    p.add(order.status, 'varchar'),
    createdAt,
    p.add(saga.traceId, 'uuid'),
    p.add(JSON.stringify(saga.buyer.roles), 'jsonb'),
  ].join(', ');
  // One array per column, element n = item n.
  const column = (type: string, value: (item: OrderItem, lineNo: number) => unknown) =>
    p.add(order.items.map(value), `${type}[]`);
  const itemColumns = [
    column('uuid', () => randomUUID()),
    column('varchar', (i) => i.skuId),
    column('int', (i) => i.quantity),
    column('numeric', (i) => i.price),
    column('int', (_, lineNo) => lineNo),
  ].join(', ');
  const firstEntry = appendTimelineSql(rows.firstEntry, p, 'key');
  const outbox = rows.outboxRow;
  const outboxColumns = outbox.columns.map((c) => c.name).join(', ');
  const outboxValues = outbox.columns.map((c) => p.add(c.value, c.type)).join(', ');
  const claimed = await tx.query<{ order_id: string }>(
    `WITH key AS (${claimKey}),
     new_order AS (
       INSERT INTO orders (id, user_id, total_amount, status, created_at, trace_id, identity_roles,
                           status_reason, status_cause, status_changed_at)
       SELECT ${orderValues}, NULL, 'HTTP', ${createdAt} FROM key),
     new_items AS (
       INSERT INTO order_items (id, order_id, sku_id, quantity, price, line_no)
       SELECT item.id, ${orderId}, item.sku_id, item.quantity, item.price, item.line_no
         FROM key CROSS JOIN unnest(${itemColumns}) AS item (id, sku_id, quantity, price, line_no)),
     first_entry AS (${firstEntry}),
     order_created AS (INSERT INTO ${outbox.table} (${outboxColumns}) SELECT ${outboxValues} FROM key)
     SELECT order_id FROM key`,
    p.values,
  );
  return claimed.length === 1;
}

export async function findOrderRow(db: Queryable, orderId: string): Promise<OrderRow | undefined> {
  const [row] = await db.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`, [orderId]);
  return row;
}

/** Locks the order row for the rest of the transaction: status changes of one order serialize. */
export async function lockOrderRow(tx: Queryable, orderId: string): Promise<OrderRow | undefined> {
  const [row] = await tx.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE`, [orderId]);
  return row;
}

export async function findOrder(db: Queryable, orderId: string): Promise<Order | undefined> {
  const row = await findOrderRow(db, orderId);
  if (!row) return undefined;
  const items = await db.query<OrderItemRow>(
    // id as the tie-breaker keeps the original's rows (line_no 0) in a stable order.
    'SELECT order_id, sku_id, quantity, price, line_no FROM order_items WHERE order_id = $1 ORDER BY line_no, id',
    [row.id],
  );
  return toOrder(row, items);
}

export function toOrder(row: OrderRow, items: readonly OrderItemRow[]): Order {
  return {
    id: row.id,
    userId: row.user_id,
    status: row.status,
    totalAmount: moneyFromDb(row.total_amount),
    createdAt: row.created_at,
    items: items.map((i) => ({ skuId: i.sku_id, quantity: i.quantity, price: moneyFromDb(i.price) })),
  };
}

/** The buyer's identity as stored with the order (for events the service writes on its own). */
export function buyerOf(row: OrderRow): Buyer {
  let roles: string[] = [];
  try {
    const parsed: unknown = row.identity_roles ? JSON.parse(row.identity_roles) : [];
    if (Array.isArray(parsed)) roles = parsed.filter((r): r is string => typeof r === 'string');
  } catch {
    roles = [];
  }
  return { userId: row.user_id, roles };
}

import { randomUUID } from 'node:crypto';
import type { Queryable } from '@ecom/platform';
import { moneyFromDb } from '../shared/money.js';
import type { Buyer, Order, OrderItemRow, OrderRow } from './order.js';

const ORDER_COLUMNS =
  'id, user_id, total_amount, status, created_at, trace_id, identity_roles::text AS identity_roles, status_reason, status_cause';

/** The order and its items (one row per item, `line_no` = request position). */
export async function insertOrder(tx: Queryable, order: Order, saga: { traceId: string; buyer: Buyer }): Promise<void> {
  await tx.execute(
    `INSERT INTO orders (id, user_id, total_amount, status, created_at, trace_id, identity_roles,
                         status_reason, status_cause, status_changed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, NULL, 'HTTP', $5)`,
    [
      order.id,
      order.userId,
      order.totalAmount,
      order.status,
      order.createdAt,
      saga.traceId,
      JSON.stringify(saga.buyer.roles),
    ],
  );
  // One multi-row INSERT: an order of 500 items is one round trip.
  const params: unknown[] = [];
  const values = order.items.map((item, i) => {
    params.push(randomUUID(), order.id, item.skuId, item.quantity, item.price, i);
    const p = i * 6;
    return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6})`;
  });
  await tx.execute(
    `INSERT INTO order_items (id, order_id, sku_id, quantity, price, line_no) VALUES ${values.join(', ')}`,
    params,
  );
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

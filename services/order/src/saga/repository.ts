import { type Queryable, writeAtCommit } from '@ecom/platform';
import type { OrderStatus } from '../orders/order.js';

const REASON_MAX = 255;

/**
 * Only under the row lock taken by `lockOrderRow` (see apply-saga-trigger.ts). Written with the
 * COMMIT (`writeAtCommit`): the decision was made on the locked row, and nothing reads the new
 * status inside the transaction.
 */
export async function updateOrderStatus(
  tx: Queryable,
  orderId: string,
  change: { to: OrderStatus; reason: string | null; cause: string; at: Date },
): Promise<void> {
  await writeAtCommit(
    tx,
    'UPDATE orders SET status = $2, status_reason = $3, status_cause = $4, status_changed_at = $5 WHERE id = $1',
    [orderId, change.to, change.reason?.slice(0, REASON_MAX) ?? null, change.cause, change.at],
  );
}

/**
 * Orders still in flight (NEW or RESERVED) created at or before `cutoff`, oldest first, locked.
 * SKIP LOCKED: several replicas sweep at once without waiting on each other, and an order a
 * consumer is updating right now is left for the next sweep (it may not be overdue any more).
 */
export async function claimOverdueOrderIds(tx: Queryable, cutoff: Date, limit: number): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `SELECT id FROM orders WHERE status IN ('NEW', 'RESERVED') AND created_at <= $1
      ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [cutoff, limit],
  );
  return rows.map((r) => r.id);
}

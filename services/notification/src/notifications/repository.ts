import type { Queryable } from '@ecom/platform';
import type { Notification, NotificationRow } from './notification.js';
import { toNotification } from './notification.js';
import type { NotificationFilter } from './query.js';

const COLUMNS =
  'seq, event_id, event_type, order_id, payment_id, reason, trace_id, user_id, roles, occurred_at, received_at';

/** Inserts unless the event_id is already stored. Returns false for such a duplicate. */
export async function insertNotification(db: Queryable, n: Notification): Promise<boolean> {
  const { rowCount } = await db.execute(
    `INSERT INTO notification_events
       (event_id, event_type, order_id, payment_id, reason, trace_id, user_id, roles, occurred_at, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, $10)
     ON CONFLICT (event_id) DO NOTHING`,
    [
      n.eventId,
      n.eventType,
      n.orderId,
      n.paymentId,
      n.reason,
      n.traceId,
      n.userId,
      n.roles,
      n.occurredAt,
      n.receivedAt,
    ],
  );
  return rowCount === 1;
}

/**
 * Keeps the newest `keep` rows (receivedAt desc, insertion order on ties) and deletes the rest.
 * Serialized per store with a transaction-scoped advisory lock taken just before the DELETE: two
 * concurrent inserts would otherwise each count only their own new row and both keep `keep`,
 * leaving one too many. The lock is held from here to COMMIT only, so the inserts themselves still
 * run in parallel. Cost: one index scan of `keep` entries (the store's size), in the same transaction.
 */
export async function trimNotifications(tx: Queryable, keep: number): Promise<number> {
  // Advisory locks are per database; the schema name keeps embedded (PGlite) services apart.
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('ecom:notification-store:' || current_schema()))`);
  const { rowCount } = await tx.execute(
    `DELETE FROM notification_events WHERE seq IN (
       SELECT seq FROM notification_events ORDER BY received_at DESC, seq DESC OFFSET $1)`,
    [keep],
  );
  return rowCount;
}

export async function listNotifications(db: Queryable, filter: NotificationFilter): Promise<Notification[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.orderId !== undefined) {
    params.push(filter.orderId);
    where.push(`order_id = $${params.length}`);
  }
  if (filter.eventType !== undefined) {
    params.push(filter.eventType);
    where.push(`lower(event_type) = lower($${params.length})`);
  }
  params.push(filter.limit);
  const rows = await db.query<NotificationRow>(
    `SELECT ${COLUMNS} FROM notification_events
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY received_at DESC, seq DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toNotification);
}

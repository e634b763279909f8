import type { Queryable } from '@ecom/platform';
import type { Notification, NotificationRow } from './notification.js';
import { toNotification } from './notification.js';
import type { NotificationFilter } from './query.js';

const COLUMNS =
  'seq, event_id, event_type, order_id, payment_id, reason, trace_id, user_id, roles, occurred_at, received_at';

/**
 * Inserts unless the event_id is already stored. Returns the new row's `seq` (insertion order),
 * or undefined for such a duplicate.
 */
export async function insertNotification(db: Queryable, n: Notification): Promise<number | undefined> {
  const [row] = await db.query<{ seq: number }>(
    `INSERT INTO notification_events
       (event_id, event_type, order_id, payment_id, reason, trace_id, user_id, roles, occurred_at, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, $10)
     ON CONFLICT (event_id) DO NOTHING
     RETURNING seq`,
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
  return row?.seq;
}

/**
 * Deletes every row beyond the newest `keep` (receivedAt desc, insertion order on ties). Trims are
 * serialized per store with a transaction-scoped advisory lock taken just before the DELETE, held
 * to COMMIT: two concurrent trims would otherwise each count only their own new row. Inserts that
 * do not trim never take it (store-notification.ts decides which do). Cost: one index scan of
 * `keep` entries plus the rows deleted.
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

/**
 * Newest first, from the newest `capacity` rows only: between two trims the table may hold a few
 * more (store-notification.ts), and those are already gone as far as any reader can tell. The
 * cutoff is the `capacity`-th newest row (an index walk of `capacity` entries); no cutoff row
 * means fewer rows than that, all visible.
 */
export async function listNotifications(
  db: Queryable,
  filter: NotificationFilter,
  capacity: number,
): Promise<Notification[]> {
  const params: unknown[] = [capacity - 1];
  const where = [
    `NOT EXISTS (SELECT 1 FROM cutoff c
       WHERE (notification_events.received_at, notification_events.seq) < (c.received_at, c.seq))`,
  ];
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
    `WITH cutoff AS (
       SELECT received_at, seq FROM notification_events ORDER BY received_at DESC, seq DESC OFFSET $1 LIMIT 1)
     SELECT ${COLUMNS} FROM notification_events
     WHERE ${where.join(' AND ')}
     ORDER BY received_at DESC, seq DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toNotification);
}

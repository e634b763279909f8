import type { Queryable } from '@ecom/platform';
import type { TimelineEntry, TimelineRow } from './timeline-entry.js';

/** VARCHAR(255): an over-long reason from another service is cut, never a failed transaction. */
const REASON_MAX = 255;

export async function appendTimeline(tx: Queryable, e: TimelineEntry): Promise<void> {
  await tx.execute(
    `INSERT INTO order_status_history (order_id, from_status, to_status, at, cause, message_id, reason, ignored, note, emitted)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      e.orderId,
      e.from,
      e.to,
      e.at,
      e.cause,
      e.messageId,
      e.reason?.slice(0, REASON_MAX) ?? null,
      e.ignored,
      e.note,
      e.emitted,
    ],
  );
}

/** Oldest first (causal order: one order's rows are written under its row lock). */
export async function listTimeline(db: Queryable, orderId: string): Promise<TimelineEntry[]> {
  const rows = await db.query<TimelineRow>(
    `SELECT id, order_id, from_status, to_status, at, cause, message_id, reason, ignored, note, emitted
       FROM order_status_history WHERE order_id = $1 ORDER BY id`,
    [orderId],
  );
  return rows.map((r) => ({
    orderId: r.order_id,
    from: r.from_status,
    to: r.to_status,
    at: r.at,
    cause: r.cause,
    messageId: r.message_id,
    reason: r.reason,
    ignored: r.ignored,
    note: r.note,
    emitted: r.emitted,
  }));
}

import { type Queryable, writeAtCommit } from '@ecom/platform';
import type { SqlParams } from '../shared/sql-params.js';
import type { TimelineEntry, TimelineRow } from './timeline-entry.js';

/** VARCHAR(255): an over-long reason from another service is cut, never a failed transaction. */
const REASON_MAX = 255;

const COLUMNS = 'order_id, from_status, to_status, at, cause, message_id, reason, ignored, note, emitted';

/** The row's values in COLUMNS order, with their SQL types. */
function valuesOf(e: TimelineEntry): [unknown, string][] {
  return [
    [e.orderId, 'uuid'],
    [e.from, 'varchar'],
    [e.to, 'varchar'],
    [e.at, 'timestamptz'],
    [e.cause, 'varchar'],
    [e.messageId, 'varchar'],
    [e.reason?.slice(0, REASON_MAX) ?? null, 'varchar'],
    [e.ignored, 'boolean'],
    [e.note, 'varchar'],
    [e.emitted, 'varchar'],
  ];
}

/** Written with the COMMIT (`writeAtCommit`): nothing reads the timeline inside the writing transaction. */
export async function appendTimeline(tx: Queryable, e: TimelineEntry): Promise<void> {
  const values = valuesOf(e);
  await writeAtCommit(
    tx,
    `INSERT INTO order_status_history (${COLUMNS}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`,
    values.map(([v]) => v),
  );
}

/**
 * `appendTimeline` as a fragment of a composed statement (a data-modifying CTE): the entry is
 * written once per row of `source`, i.e. only when the CTE named `source` returned its row.
 */
export function appendTimelineSql(e: TimelineEntry, p: SqlParams, source: string): string {
  const values = valuesOf(e).map(([v, type]) => p.add(v, type));
  return `INSERT INTO order_status_history (${COLUMNS}) SELECT ${values.join(', ')} FROM ${source}`;
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

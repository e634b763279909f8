import type { Queryable } from '@ecom/platform';
import type { CursorPosition } from './cursor.js';
import type { ReleaseFilters } from './filters.js';
import type { ReleaseEventRow } from './release-event.js';

const COLUMNS = 'id, order_id, reservation_id, reason, created_at';
/** The one order of every listing (http-api.md §3.4–3.6), backed by the (created_at DESC, id DESC) index. */
const ORDER = 'ORDER BY created_at DESC, id DESC';

export async function insertReleaseEvent(tx: Queryable, row: ReleaseEventRow): Promise<void> {
  await tx.execute(`INSERT INTO inventory_release_events (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [
    row.id,
    row.order_id,
    row.reservation_id,
    row.reason,
    row.created_at,
  ]);
}

/** WHERE for the shared filters; bounds are exact microsecond instants (see filters.ts). */
function where(filters: ReleaseFilters, params: unknown[], extra: string[] = []): string {
  const clauses = [...extra];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filters.orderId) clauses.push(`order_id = ${param(filters.orderId)}`);
  if (filters.from) clauses.push(`created_at >= ${epochMicros(param(filters.from.ceilMicros.toString()))}`);
  if (filters.to) clauses.push(`created_at <= ${epochMicros(param(filters.to.floorMicros.toString()))}`);
  return clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
}

function epochMicros(placeholder: string): string {
  return `(TIMESTAMPTZ 'epoch' + ${placeholder}::bigint * INTERVAL '1 microsecond')`;
}

export async function countReleaseEvents(db: Queryable, filters: ReleaseFilters): Promise<number> {
  const params: unknown[] = [];
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::bigint AS n FROM inventory_release_events ${where(filters, params)}`,
    params,
  );
  return row?.n ?? 0;
}

export async function pageReleaseEvents(
  db: Queryable,
  filters: ReleaseFilters,
  limit: number,
  offset: number,
): Promise<ReleaseEventRow[]> {
  const params: unknown[] = [];
  const w = where(filters, params);
  params.push(limit, offset);
  return db.query<ReleaseEventRow>(
    `SELECT ${COLUMNS} FROM inventory_release_events ${w} ${ORDER} LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
}

/** Keyset page: rows strictly after `after` in (created_at DESC, id DESC) order. */
export async function releaseEventsAfter(
  db: Queryable,
  filters: ReleaseFilters,
  after: CursorPosition | undefined,
  limit: number,
): Promise<ReleaseEventRow[]> {
  const params: unknown[] = [];
  const extra: string[] = [];
  if (after) {
    params.push(new Date(after.createdAtMillis), after.id);
    extra.push('(created_at, id) < ($1::timestamptz, $2::uuid)');
  }
  const w = where(filters, params, extra);
  params.push(limit);
  return db.query<ReleaseEventRow>(
    `SELECT ${COLUMNS} FROM inventory_release_events ${w} ${ORDER} LIMIT $${params.length}`,
    params,
  );
}

import { randomUUID } from 'node:crypto';
import { type Queryable, type Statement, writeAtCommit } from '@ecom/platform';
import type { Reservation, ReservationRow, SkuQuantity } from './reservation.js';

const COLUMNS = 'id, order_id, status, reason, created_at';

export async function findReservationByOrder(db: Queryable, orderId: string): Promise<Reservation | undefined> {
  const { text, params } = reservationByOrderStatement(orderId);
  const [row] = await db.query<ReservationRow>(text, params);
  return row ? withItems(db, row) : undefined;
}

/** The order's reservation row (without items), to send with other statements (`queryEach`). */
export function reservationByOrderStatement(orderId: string): Statement {
  return { text: `SELECT ${COLUMNS} FROM inventory_reservations WHERE order_id = $1`, params: [orderId] };
}

/** The reservation rows (without items) of several orders, for `queryEach`. */
export function reservationsByOrdersStatement(orderIds: readonly string[]): Statement {
  return {
    text: `SELECT ${COLUMNS} FROM inventory_reservations WHERE order_id = ANY($1::uuid[])`,
    params: [orderIds],
  };
}

/** Locks the order's reservation row until the transaction ends (two releases of one order serialize here). */
export async function lockReservationByOrder(tx: Queryable, orderId: string): Promise<Reservation | undefined> {
  const [row] = await tx.query<ReservationRow>(
    `SELECT ${COLUMNS} FROM inventory_reservations WHERE order_id = $1 FOR UPDATE`,
    [orderId],
  );
  return row ? withItems(tx, row) : undefined;
}

export async function withItems(db: Queryable, row: ReservationRow): Promise<Reservation> {
  const items = await db.query<{ sku_id: string; quantity: number }>(
    'SELECT sku_id, quantity FROM inventory_reservation_items WHERE reservation_id = $1 ORDER BY sku_id',
    [row.id],
  );
  return {
    id: row.id,
    orderId: row.order_id,
    status: row.status,
    reason: row.reason,
    createdAt: row.created_at,
    items: items.map((i) => ({ skuId: i.sku_id, quantity: i.quantity })),
  };
}

/**
 * Insert-on-conflict, never check-then-insert: false when the order already has a reservation
 * (a concurrent request committed first; the unique order_id made us wait for it).
 */
export async function insertReservation(tx: Queryable, r: Reservation): Promise<boolean> {
  const inserted = await tx.query(
    `INSERT INTO inventory_reservations (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (order_id) DO NOTHING RETURNING id`,
    [r.id, r.orderId, r.status, r.reason, r.createdAt],
  );
  if (inserted.length === 0) return false;
  await insertItems(tx, r.id, r.items);
  return true;
}

/**
 * The reservation and its items, written with the COMMIT (`writeAtCommit`): for a caller that
 * holds the locks deciding it (reserve-stock.ts) and read, under them, that the order had none.
 * A plain INSERT: should another reservation of the order commit anyway, the unique order_id
 * fails our COMMIT and nothing of ours is kept.
 */
export async function insertReservationAtCommit(tx: Queryable, r: Reservation): Promise<void> {
  await writeAtCommit(tx, `INSERT INTO inventory_reservations (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [
    r.id,
    r.orderId,
    r.status,
    r.reason,
    r.createdAt,
  ]);
  await writeAtCommit(tx, INSERT_ITEMS, itemParams(r.id, r.items));
}

async function insertItems(tx: Queryable, reservationId: string, items: readonly SkuQuantity[]): Promise<void> {
  await tx.execute(INSERT_ITEMS, itemParams(reservationId, items));
}

const INSERT_ITEMS = `INSERT INTO inventory_reservation_items (id, reservation_id, sku_id, quantity)
     SELECT i.id, $1, i.sku_id, i.quantity FROM unnest($2::uuid[], $3::varchar[], $4::int[]) AS i(id, sku_id, quantity)`;

function itemParams(reservationId: string, items: readonly SkuQuantity[]): unknown[] {
  // Ids come from the application, never the database (data-model.md §1).
  return [reservationId, items.map(() => randomUUID()), items.map((i) => i.skuId), items.map((i) => i.quantity)];
}

/** RESERVED → RELEASED; the reason is overwritten with the release reason (events.md §6.2). */
export async function markReleased(tx: Queryable, reservationId: string, reason: string): Promise<void> {
  const { rowCount } = await tx.execute(
    `UPDATE inventory_reservations SET status = 'RELEASED', reason = $2 WHERE id = $1 AND status = 'RESERVED'`,
    [reservationId, reason],
  );
  if (rowCount !== 1) throw new Error(`reservation ${reservationId} is no longer RESERVED`);
}

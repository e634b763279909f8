import { randomUUID } from 'node:crypto';
import type { Queryable } from '@ecom/platform';
import { lockStocks, moveStock } from '../stock/repository.js';
import type { StockVersion } from '../stock/stock.js';
import { aggregateItems, decideReservation } from './decide-reservation.js';
import { findReservationByOrder, insertReservation } from './repository.js';
import type { Reservation, SkuQuantity } from './reservation.js';

export interface ReserveOutcome {
  reservation: Reservation;
  /** False when the order already had one (returned unchanged). */
  created: boolean;
  /** SKUs whose rows changed, with their new versions: invalidate their cache entries AFTER commit. */
  changed: StockVersion[];
}

/**
 * Reserve for an order, inside the caller's transaction (http-api.md §3.3, events.md §6.1).
 * Oversell-free under any concurrency: the SKU rows are locked (FOR UPDATE, in sku_id order, so
 * no deadlock) before availability is read, the decision is made on those locked values, and
 * the stock moves are relative updates that CHECK (≥ 0) backs up. One reservation per order:
 * the unique order_id decides between concurrent duplicates, and the loser reuses the winner's.
 */
export async function reserveStock(
  tx: Queryable,
  request: { orderId: string; items: readonly SkuQuantity[] },
  now: Date,
): Promise<ReserveOutcome> {
  const existing = await findReservationByOrder(tx, request.orderId);
  if (existing) return { reservation: existing, created: false, changed: [] };

  const items = aggregateItems(request.items);
  const locked = await lockStocks(
    tx,
    items.map((i) => i.skuId),
  );
  const decision = decideReservation(items, new Map(locked.map((row) => [row.sku_id, row.available_qty])));
  const reservation: Reservation = {
    id: randomUUID(),
    orderId: request.orderId,
    status: decision.status,
    reason: decision.status === 'FAILED' ? decision.reason : null,
    createdAt: now,
    items, // a FAILED reservation stores its requested items too
  };
  if (!(await insertReservation(tx, reservation))) {
    const winner = await findReservationByOrder(tx, request.orderId);
    if (!winner) throw new Error(`reservation for order ${request.orderId} vanished`);
    return { reservation: winner, created: false, changed: [] };
  }
  if (decision.status === 'FAILED') return { reservation, created: true, changed: [] };
  const changed = await moveStock(
    tx,
    items.map((i) => ({ skuId: i.skuId, availableDelta: -i.quantity, reservedDelta: i.quantity })),
    now,
  );
  return { reservation, created: true, changed };
}

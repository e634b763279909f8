import type { Database } from '@ecom/platform';
import { invalidateStocks, type StockCache } from '../stock/stock-cache.js';
import { findReservationByOrder } from './repository.js';
import type { Reservation, SkuQuantity } from './reservation.js';
import { reserveStock } from './reserve-stock.js';

/**
 * `POST /api/stocks/reservations`: the reservation in its own transaction, then — only after
 * the commit — the cache entries of the SKUs it changed are invalidated. No event is published
 * by this path (http-api.md §3.3).
 */
export async function placeReservation(
  deps: { db: Database; cache: StockCache; clock: () => Date },
  request: { orderId: string; items: readonly SkuQuantity[] },
): Promise<Reservation> {
  try {
    const outcome = await deps.db.transaction((tx) => reserveStock(tx, request, deps.clock()));
    await invalidateStocks(deps.cache, outcome.changed);
    return outcome.reservation;
  } catch (err) {
    // The same order reserved at the same moment under other SKUs: its reservation won the unique
    // order_id and ours rolled back (reserve-stock.ts). The answer is the winner's, as for any replay.
    if ((err as { code?: string }).code !== '23505') throw err;
    const winner = await findReservationByOrder(deps.db, request.orderId);
    if (!winner) throw err;
    return winner;
  }
}

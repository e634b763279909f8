import type { Database } from '@ecom/platform';
import { invalidateStocks, type StockCache } from '../stock/stock-cache.js';
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
  const outcome = await deps.db.transaction((tx) => reserveStock(tx, request, deps.clock()));
  await invalidateStocks(deps.cache, outcome.changed);
  return outcome.reservation;
}

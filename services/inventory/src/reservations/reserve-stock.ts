import { randomUUID } from 'node:crypto';
import { type Queryable, queryEach } from '@ecom/platform';
import { lockStocksStatement, moveLockedStock, type StockMove } from '../stock/repository.js';
import type { StockRow, StockVersion } from '../stock/stock.js';
import { aggregateItems, decideReservation, type ReservationDecision } from './decide-reservation.js';
import {
  findReservationByOrder,
  insertReservation,
  insertReservationAtCommit,
  reservationByOrderStatement,
  reservationsByOrdersStatement,
  withItems,
} from './repository.js';
import type { Reservation, ReservationRow, SkuQuantity } from './reservation.js';

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
 * the stock moves are relative updates that CHECK (≥ 0) backs up. One reservation per order.
 *
 * Two round trips in all (with the COMMIT): the locks and then the order's reservation in one
 * message — the lookup runs after the locks are granted, so a concurrent reservation of the same
 * order (same SKUs, same locks) has committed and is seen — and a RESERVED reservation's writes
 * (reservation, items, stock moves) go with the COMMIT. The unique order_id stays the last word:
 * an order reserved at the same moment under other SKUs (only possible over HTTP) fails our
 * COMMIT instead (placeReservation returns the winner; the consumer retries and finds it).
 * A FAILED one (rare; an order of unknown SKUs locks nothing) is inserted at once with
 * insert-on-conflict, and the loser of a race reuses the winner's.
 */
export async function reserveStock(
  tx: Queryable,
  request: { orderId: string; items: readonly SkuQuantity[] },
  now: Date,
): Promise<ReserveOutcome> {
  const items = aggregateItems(request.items);
  const [lockedRows, existingRows] = await queryEach(tx, [
    lockStocksStatement(items.map((i) => i.skuId)),
    reservationByOrderStatement(request.orderId),
  ]);
  const existing = existingRows?.[0] as ReservationRow | undefined;
  if (existing) return { reservation: await withItems(tx, existing), created: false, changed: [] };

  const locked = (lockedRows ?? []) as unknown as StockRow[];
  const decision = decideReservation(items, new Map(locked.map((row) => [row.sku_id, row.available_qty])));
  const reservation = newReservation(request.orderId, items, decision, now);
  if (decision.status === 'FAILED') {
    if (await insertReservation(tx, reservation)) return { reservation, created: true, changed: [] };
    const winner = await findReservationByOrder(tx, request.orderId);
    if (!winner) throw new Error(`reservation for order ${request.orderId} vanished`);
    return { reservation: winner, created: false, changed: [] };
  }
  await insertReservationAtCommit(tx, reservation);
  const changed = await moveLockedStock(tx, items.map(reserveMove), locked, now);
  return { reservation, created: true, changed };
}

/** A new reservation of the decided status; a FAILED one stores its requested items too. */
function newReservation(orderId: string, items: SkuQuantity[], decision: ReservationDecision, now: Date): Reservation {
  return {
    id: randomUUID(),
    orderId,
    status: decision.status,
    reason: decision.status === 'FAILED' ? decision.reason : null,
    createdAt: now,
    items,
  };
}

/** Reserving a quantity: it leaves available and joins reserved. */
function reserveMove({ skuId, quantity }: SkuQuantity): StockMove {
  return { skuId, availableDelta: -quantity, reservedDelta: quantity };
}

/**
 * reserveStock for several orders in ONE transaction (the consumer's batches, in arrival order):
 * every SKU of every order is locked by one statement, in sku_id order like every other locker
 * (no deadlock), with the orders' reservations read in the same message; then each order is
 * decided in turn on the locked quantities less what the orders before it in the batch took,
 * and all the writes go with the COMMIT: each reservation and its items, and ONE relative move
 * per SKU (the sum of the batch's). An order already reserved (or twice in the batch) gets its
 * stored reservation back, unchanged. Every reservation — FAILED ones too — is a plain INSERT:
 * should another of the same order commit first (only possible over HTTP), our COMMIT fails and
 * the consumer replays the deliveries one by one through reserveStock.
 * `changed`: the SKUs whose rows the batch moves, with their new versions.
 */
export async function reserveStocks(
  tx: Queryable,
  requests: readonly { orderId: string; items: readonly SkuQuantity[] }[],
  now: Date,
): Promise<{ outcomes: ReserveOutcome[]; changed: StockVersion[] }> {
  const aggregated = requests.map((r) => aggregateItems(r.items));
  const skuIds = [...new Set(aggregated.flatMap((items) => items.map((i) => i.skuId)))];
  const [lockedRows, existingRows] = await queryEach(tx, [
    lockStocksStatement(skuIds),
    reservationsByOrdersStatement([...new Set(requests.map((r) => r.orderId))]),
  ]);
  const locked = (lockedRows ?? []) as unknown as StockRow[];
  const available = new Map(locked.map((row) => [row.sku_id, row.available_qty]));
  const stored = new Map(((existingRows ?? []) as unknown as ReservationRow[]).map((row) => [row.order_id, row]));
  const decided = new Map<string, Reservation>();
  const moves = new Map<string, StockMove>();
  const outcomes: ReserveOutcome[] = [];
  for (const [i, request] of requests.entries()) {
    const row = stored.get(request.orderId);
    if (row) {
      outcomes.push({ reservation: await withItems(tx, row), created: false, changed: [] });
      continue;
    }
    const earlier = decided.get(request.orderId);
    if (earlier) {
      outcomes.push({ reservation: earlier, created: false, changed: [] });
      continue;
    }
    const items = aggregated[i] ?? [];
    const decision = decideReservation(items, available);
    const reservation = newReservation(request.orderId, items, decision, now);
    decided.set(request.orderId, reservation);
    await insertReservationAtCommit(tx, reservation);
    if (decision.status === 'RESERVED') {
      for (const item of items) {
        const move = reserveMove(item);
        const sum = moves.get(item.skuId);
        available.set(item.skuId, (available.get(item.skuId) ?? 0) + move.availableDelta);
        moves.set(item.skuId, {
          skuId: item.skuId,
          availableDelta: (sum?.availableDelta ?? 0) + move.availableDelta,
          reservedDelta: (sum?.reservedDelta ?? 0) + move.reservedDelta,
        });
      }
    }
    outcomes.push({ reservation, created: true, changed: [] });
  }
  const changed = await moveLockedStock(tx, [...moves.values()], locked, now);
  return { outcomes, changed };
}

import { randomUUID } from 'node:crypto';
import { PermanentError, type Queryable } from '@ecom/platform';
import { lockReservationByOrder, markReleased } from '../reservations/repository.js';
import type { Reservation } from '../reservations/reservation.js';
import { lockStocks, moveStock } from '../stock/repository.js';
import type { StockVersion } from '../stock/stock.js';
import { decideRelease, planRelease } from './decide-release.js';
import type { ReleaseEventRow } from './release-event.js';
import { insertReleaseEvent } from './repository.js';

export type ReleaseOutcome =
  | { kind: 'released'; release: ReleaseEventRow; reservation: Reservation; changed: StockVersion[] }
  | { kind: 'skipped'; why: 'NO_RESERVATION' | 'FAILED' | 'RELEASED' };

/**
 * Compensation RESERVED → RELEASED inside the caller's transaction (events.md §6.2): the
 * reservation row is locked first (two releases of one order serialize), then the stock rows in
 * sku_id order; stock goes back from reserved to available, the reservation's reason becomes the
 * release reason, and one audit row is written with a millisecond-precision created_at.
 */
export async function releaseReservation(
  tx: Queryable,
  request: { orderId: string; reason: string },
  now: Date,
): Promise<ReleaseOutcome> {
  const decision = decideRelease(await lockReservationByOrder(tx, request.orderId));
  if (decision.kind === 'skip') return { kind: 'skipped', why: decision.why };
  const { reservation } = decision;
  const locked = await lockStocks(
    tx,
    reservation.items.map((i) => i.skuId),
  );
  const plan = planRelease(reservation.items, new Map(locked.map((row) => [row.sku_id, row.reserved_qty])));
  // Retrying cannot repair inconsistent data: straight to the DLQ, where an operator can redrive it.
  if (!plan.ok) throw new PermanentError(`cannot release order ${request.orderId}: ${plan.error}`);
  const changed = await moveStock(tx, plan.moves, now);
  await markReleased(tx, reservation.id, request.reason);
  const release: ReleaseEventRow = {
    id: randomUUID(),
    order_id: reservation.orderId,
    reservation_id: reservation.id,
    reason: request.reason,
    created_at: new Date(now.getTime()), // a JS Date is whole milliseconds: the cursor stays exact
  };
  await insertReleaseEvent(tx, release);
  return { kind: 'released', release, reservation, changed };
}

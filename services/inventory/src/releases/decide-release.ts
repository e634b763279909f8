import type { Reservation, SkuQuantity } from '../reservations/reservation.js';
import type { StockMove } from '../stock/repository.js';

export type ReleaseDecision =
  | { kind: 'release'; reservation: Reservation }
  | { kind: 'skip'; why: 'NO_RESERVATION' | 'FAILED' | 'RELEASED' };

/** events.md §6.2: only a RESERVED reservation is released; anything else does nothing (no event). */
export function decideRelease(reservation: Reservation | undefined): ReleaseDecision {
  if (!reservation) return { kind: 'skip', why: 'NO_RESERVATION' };
  switch (reservation.status) {
    case 'RESERVED':
      return { kind: 'release', reservation };
    case 'FAILED':
    case 'RELEASED':
      return { kind: 'skip', why: reservation.status };
  }
}

export type ReleasePlan = { ok: true; moves: StockMove[] } | { ok: false; error: string };

/**
 * Given the locked stock rows: every item goes back from reserved to available. A missing row
 * or a reserved quantity that would go negative means the data is inconsistent — an error, never
 * a silent partial release.
 */
export function planRelease(items: readonly SkuQuantity[], reserved: ReadonlyMap<string, number>): ReleasePlan {
  const moves: StockMove[] = [];
  for (const { skuId, quantity } of items) {
    const held = reserved.get(skuId);
    if (held === undefined) return { ok: false, error: `stock row for ${skuId} is missing` };
    if (held < quantity) {
      return { ok: false, error: `reserved quantity of ${skuId} would go negative (${held} - ${quantity})` };
    }
    moves.push({ skuId, availableDelta: quantity, reservedDelta: -quantity });
  }
  return { ok: true, moves };
}

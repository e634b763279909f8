import { INT_MAX } from '../shared/schemas.js';
import type { SkuQuantity } from './reservation.js';

/**
 * Sums quantities per SKU, keeping the order in which each SKU first appears: the FAILED reason
 * names the first offending SKU in request order (http-api.md §3.3).
 */
export function aggregateItems(items: readonly SkuQuantity[]): SkuQuantity[] {
  const sums = new Map<string, number>();
  for (const { skuId, quantity } of items) sums.set(skuId, (sums.get(skuId) ?? 0) + quantity);
  return [...sums].map(([skuId, quantity]) => ({ skuId, quantity }));
}

/** The first aggregated SKU whose total does not fit the INTEGER column, if any. */
export function oversizedItem(items: readonly SkuQuantity[]): SkuQuantity | undefined {
  return items.find((i) => i.quantity > INT_MAX);
}

export type ReservationDecision = { status: 'RESERVED' } | { status: 'FAILED'; reason: string };

/**
 * All or nothing, given the locked stock rows: every SKU must exist (else the first missing one,
 * in request order, is reported), then every SKU must have enough available.
 */
export function decideReservation(
  requested: readonly SkuQuantity[],
  available: ReadonlyMap<string, number>,
): ReservationDecision {
  for (const { skuId } of requested) {
    if (!available.has(skuId)) return { status: 'FAILED', reason: `SKU_NOT_FOUND:${skuId}` };
  }
  for (const { skuId, quantity } of requested) {
    const have = available.get(skuId) ?? 0;
    if (have < quantity) {
      return { status: 'FAILED', reason: `INSUFFICIENT_STOCK:${skuId} available=${have} requested=${quantity}` };
    }
  }
  return { status: 'RESERVED' };
}

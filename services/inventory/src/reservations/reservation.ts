import { isoMillis } from '@ecom/platform';
import { type Static, Type } from 'typebox';
import { INT_MAX, UUID_PATTERN } from '../shared/schemas.js';

export type ReservationStatus = 'RESERVED' | 'FAILED' | 'RELEASED';

/** Table shape (`inventory_reservations`). */
export interface ReservationRow {
  id: string;
  order_id: string;
  status: ReservationStatus;
  reason: string | null;
  created_at: Date;
}

export interface SkuQuantity {
  skuId: string;
  quantity: number;
}

/** The domain shape: a reservation with its (per-SKU aggregated) items. */
export interface Reservation {
  id: string;
  orderId: string;
  status: ReservationStatus;
  /** null when RESERVED; the failure reason when FAILED; the release reason when RELEASED. */
  reason: string | null;
  createdAt: Date;
  items: SkuQuantity[];
}

/** `POST /api/stocks/reservations` body (http-api.md §3.3). */
export const ReservationRequest = Type.Object({
  orderId: Type.String({ pattern: UUID_PATTERN, description: 'UUID' }),
  items: Type.Array(
    Type.Object({
      skuId: Type.String({ pattern: '\\S', description: 'not blank; trimmed; at most 64 characters' }),
      quantity: Type.Integer({ minimum: 1, maximum: INT_MAX }),
    }),
    // Bounded like an order's items (order-service: at most 1000).
    { minItems: 1, maxItems: 1000 },
  ),
});
export type ReservationRequest = Static<typeof ReservationRequest>;

export const ReservationResponse = Type.Object({
  reservationId: Type.String(),
  orderId: Type.String(),
  status: Type.Union([Type.Literal('RESERVED'), Type.Literal('FAILED'), Type.Literal('RELEASED')]),
  reason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  items: Type.Array(Type.Object({ skuId: Type.String(), quantity: Type.Integer() })),
});
export type ReservationResponse = Static<typeof ReservationResponse>;

export function toReservationResponse(r: Reservation): ReservationResponse {
  return {
    reservationId: r.id,
    orderId: r.orderId,
    status: r.status,
    reason: r.reason,
    createdAt: isoMillis(r.createdAt),
    items: r.items.map((i) => ({ skuId: i.skuId, quantity: i.quantity })),
  };
}

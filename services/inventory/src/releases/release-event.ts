import { isoMillis } from '@ecom/platform';
import { type Static, Type } from 'typebox';

/** Table shape (`inventory_release_events`). created_at has millisecond precision (see V3). */
export interface ReleaseEventRow {
  id: string;
  order_id: string;
  reservation_id: string;
  reason: string;
  created_at: Date;
}

export const ReleaseEvent = Type.Object({
  releaseId: Type.String(),
  orderId: Type.String(),
  reservationId: Type.String(),
  reason: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
export type ReleaseEvent = Static<typeof ReleaseEvent>;

export function toReleaseEvent(row: ReleaseEventRow): ReleaseEvent {
  return {
    releaseId: row.id,
    orderId: row.order_id,
    reservationId: row.reservation_id,
    reason: row.reason,
    createdAt: isoMillis(row.created_at),
  };
}

import type { EventOf } from '@ecom/contracts';
import { type Static, Type } from 'typebox';

export type PaymentResultType = 'PaymentSucceeded' | 'PaymentFailed';
export type PaymentResultEvent = EventOf<'PaymentSucceeded'> | EventOf<'PaymentFailed'>;

/** Table shape (`notification_events`). */
export interface NotificationRow {
  seq: number;
  event_id: string;
  event_type: string;
  order_id: string;
  payment_id: string;
  reason: string | null;
  trace_id: string | null;
  user_id: string | null;
  roles: string[];
  occurred_at: Date;
  received_at: Date;
}

/** The domain shape: one stored payment result (http-api.md §7 `NotificationEvent`). */
export interface Notification {
  eventId: string;
  eventType: PaymentResultType;
  orderId: string;
  paymentId: string;
  reason: string | null;
  traceId: string | null;
  userId: string | null;
  roles: string[];
  occurredAt: Date;
  receivedAt: Date;
}

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableUuid = Type.Union([Type.String({ format: 'uuid' }), Type.Null()]);

/** `NotificationEvent` exactly as http-api.md §7 lists it: every member present, nulls serialized. */
export const NotificationEventResponse = Type.Object(
  {
    eventId: NullableUuid,
    eventType: NullableString,
    orderId: NullableUuid,
    paymentId: NullableUuid,
    reason: NullableString,
    traceId: NullableUuid,
    userId: NullableString,
    roles: Type.Array(Type.String(), { description: '[] when the event had no identity' }),
    occurredAt: Type.String({ format: 'date-time' }),
    receivedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'NotificationEvent' },
);
export type NotificationEventResponse = Static<typeof NotificationEventResponse>;

/**
 * A consumed PaymentSucceeded / PaymentFailed as it is stored (pure). UUIDs are lowercased, as
 * the UUID columns (and the original's java.util.UUID) print them; `occurred_at` falls back to the
 * receive time if it cannot be read (§7: "receive time if absent").
 */
export function notificationFromEvent(event: PaymentResultEvent, receivedAt: Date): Notification {
  const occurredAt = new Date(event.occurred_at);
  const base = {
    eventId: event.event_id.toLowerCase(),
    orderId: event.data.order_id.toLowerCase(),
    paymentId: event.data.payment_id.toLowerCase(),
    traceId: event.trace_id?.toLowerCase() ?? null,
    userId: event.identity?.user_id ?? null,
    roles: event.identity?.roles ?? [],
    occurredAt: Number.isNaN(occurredAt.getTime()) ? receivedAt : occurredAt,
    receivedAt,
  };
  switch (event.event_type) {
    case 'PaymentSucceeded':
      return { ...base, eventType: 'PaymentSucceeded', reason: null };
    case 'PaymentFailed':
      return { ...base, eventType: 'PaymentFailed', reason: event.data.reason };
    default:
      return assertNever(event);
  }
}

/** http-api.md §7.2: the demo helper's fake failure, identity "system", new ids, occurred = received = now. */
export function syntheticFailure(
  input: { orderId: string; paymentId: string; reason: string },
  now: Date,
  newId: () => string,
): Notification {
  return {
    eventId: newId(),
    eventType: 'PaymentFailed',
    orderId: input.orderId.toLowerCase(),
    paymentId: input.paymentId.toLowerCase(),
    reason: input.reason,
    traceId: newId(),
    userId: 'system',
    roles: ['system'],
    occurredAt: now,
    receivedAt: now,
  };
}

export function toNotification(row: NotificationRow): Notification {
  if (row.event_type !== 'PaymentSucceeded' && row.event_type !== 'PaymentFailed') {
    throw new Error(`notification_events ${row.seq}: unexpected event_type ${row.event_type}`);
  }
  return {
    eventId: row.event_id,
    eventType: row.event_type,
    orderId: row.order_id,
    paymentId: row.payment_id,
    reason: row.reason,
    traceId: row.trace_id,
    userId: row.user_id,
    roles: row.roles,
    occurredAt: row.occurred_at,
    receivedAt: row.received_at,
  };
}

export function toResponse(n: Notification): NotificationEventResponse {
  return {
    eventId: n.eventId,
    eventType: n.eventType,
    orderId: n.orderId,
    paymentId: n.paymentId,
    reason: n.reason,
    traceId: n.traceId,
    userId: n.userId,
    roles: n.roles,
    occurredAt: n.occurredAt.toISOString(),
    receivedAt: n.receivedAt.toISOString(),
  };
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}

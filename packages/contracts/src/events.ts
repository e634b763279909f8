// Every event type of spec/events.md §2–4: data schema, routing key and full envelope schema.
import { type Static, type TObject, Type } from 'typebox';
import { envelopeOf, Money, Uuid } from './envelope.js';

const SkuQuantity = Type.Object({ sku_id: Type.String(), quantity: Type.Integer() });

export const OrderCreatedData = Type.Object({
  order_id: Uuid,
  user_id: Type.String(),
  // One entry per order item, in request order; duplicates are not merged.
  items: Type.Array(
    Type.Object({
      sku_id: Type.String(),
      quantity: Type.Integer({ minimum: 1 }),
      price: Money,
    }),
  ),
  total_amount: Money,
});

export const InventoryReservedData = Type.Object({
  order_id: Uuid,
  reservation_id: Uuid,
  // One entry per distinct SKU; order not guaranteed.
  reserved_items: Type.Array(SkuQuantity),
  // Additive (not in the original): lets payment apply amount rules. Old producers omit it.
  total_amount: Type.Optional(Money),
});

export const InventoryFailedData = Type.Object({
  order_id: Uuid,
  // The original always fills it, but its docs say nullable, so readers MUST accept null.
  reservation_id: Type.Union([Uuid, Type.Null()]),
  reason: Type.String(),
});

export const InventoryReleaseRequestedData = Type.Object({
  order_id: Uuid,
  reason: Type.String(),
});

export const InventoryReleasedData = Type.Object({
  release_id: Uuid,
  order_id: Uuid,
  reservation_id: Uuid,
  reason: Type.String(),
  released_items: Type.Array(SkuQuantity),
});

export const PaymentSucceededData = Type.Object({
  order_id: Uuid,
  payment_id: Uuid,
});

export const PaymentFailedData = Type.Object({
  order_id: Uuid,
  payment_id: Uuid,
  reason: Type.String(),
});

function defineEvent<const T extends string, const K extends string, D extends TObject>(
  type: T,
  routingKey: K,
  data: D,
) {
  return { type, routingKey, data, envelope: envelopeOf(type, data) };
}

/** The event catalog: one entry per `event_type`, keyed by it. */
export const events = {
  OrderCreated: defineEvent('OrderCreated', 'order.created', OrderCreatedData),
  InventoryReserved: defineEvent('InventoryReserved', 'inventory.reserved', InventoryReservedData),
  InventoryFailed: defineEvent('InventoryFailed', 'inventory.failed', InventoryFailedData),
  // Three words, so the `inventory.*` binding of q.order.inventory-result does not match it.
  InventoryReleaseRequested: defineEvent(
    'InventoryReleaseRequested',
    'inventory.release.requested',
    InventoryReleaseRequestedData,
  ),
  InventoryReleased: defineEvent('InventoryReleased', 'inventory.released', InventoryReleasedData),
  PaymentSucceeded: defineEvent('PaymentSucceeded', 'payment.succeeded', PaymentSucceededData),
  PaymentFailed: defineEvent('PaymentFailed', 'payment.failed', PaymentFailedData),
};

export type EventType = keyof typeof events;
export type EventData<T extends EventType> = Static<(typeof events)[T]['data']>;
/** The full envelope of one event type, as read from the wire. */
export type EventOf<T extends EventType> = Static<(typeof events)[T]['envelope']>;
/** Discriminated union of every envelope, keyed by `event_type`. */
export type AnyEvent = { [T in EventType]: EventOf<T> }[EventType];
export type RoutingKey = (typeof events)[EventType]['routingKey'];

export const eventTypes = Object.keys(events) as EventType[];

export function isEventType(value: unknown): value is EventType {
  // hasOwn, not `in`: "toString" or "__proto__" must not count as event types.
  return typeof value === 'string' && Object.hasOwn(events, value);
}

export function routingKeyOf(type: EventType): RoutingKey {
  return events[type].routingKey;
}

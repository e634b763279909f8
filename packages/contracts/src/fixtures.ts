// Test fixtures (no tests here). The first is copied verbatim from spec/events.md §1, the
// spec's only JSON example; the spec has none for the other types, so they follow its §4 tables.
import type { EventData, EventType } from './events.js';

export const specExampleOrderCreated = `{
  "event_id": "0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2b",
  "event_type": "OrderCreated",
  "occurred_at": "2026-02-11T10:00:00.123Z",
  "trace_id": "4bf92f35-77b3-4da6-a3ce-929d0e0e4736",
  "identity": {"user_id": "user-1", "roles": ["buyer"]},
  "data": {
    "order_id": "3f0c2f2e-8f5b-4c57-9b7e-2a1d4f6c9e10",
    "user_id": "user-1",
    "items": [
      {"sku_id": "SKU-001", "quantity": 2, "price": 19.90},
      {"sku_id": "SKU-002", "quantity": 1, "price": 8.50}
    ],
    "total_amount": 48.30
  },
  "version": 1
}`;

const ORDER = '3f0c2f2e-8f5b-4c57-9b7e-2a1d4f6c9e10';
const RESERVATION = '7d1c9a52-3b4e-4f60-8a71-92b3c4d5e6f7';
const PAYMENT = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

export const sampleData: { [T in EventType]: EventData<T> } = {
  OrderCreated: {
    order_id: ORDER,
    user_id: 'user-1',
    items: [
      { sku_id: 'SKU-001', quantity: 2, price: 19.9 },
      { sku_id: 'SKU-002', quantity: 1, price: 8.5 },
    ],
    total_amount: 48.3,
  },
  InventoryReserved: {
    order_id: ORDER,
    reservation_id: RESERVATION,
    reserved_items: [
      { sku_id: 'SKU-001', quantity: 2 },
      { sku_id: 'SKU-002', quantity: 1 },
    ],
  },
  InventoryFailed: {
    order_id: ORDER,
    reservation_id: RESERVATION,
    reason: 'INSUFFICIENT_STOCK:SKU-001 available=1 requested=2',
  },
  InventoryReleaseRequested: { order_id: ORDER, reason: 'PAYMENT_FAILED' },
  InventoryReleased: {
    release_id: 'c0ffee00-1234-4abc-9def-0123456789ab',
    order_id: ORDER,
    reservation_id: RESERVATION,
    reason: 'PAYMENT_FAILED',
    released_items: [{ sku_id: 'SKU-001', quantity: 2 }],
  },
  PaymentSucceeded: { order_id: ORDER, payment_id: PAYMENT },
  PaymentFailed: { order_id: ORDER, payment_id: PAYMENT, reason: 'MOCK_DECLINED' },
};

/** A valid envelope of `type` as a plain JSON-able object, for tests to mutate. */
export function sampleEnvelope(type: EventType): Record<string, unknown> {
  return {
    event_id: '0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2b',
    event_type: type,
    occurred_at: '2026-02-11T10:00:00.123Z',
    trace_id: '4bf92f35-77b3-4da6-a3ce-929d0e0e4736',
    identity: { user_id: 'user-1', roles: ['buyer'] },
    data: structuredClone(sampleData[type]),
    version: 1,
  };
}

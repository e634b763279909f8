import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEvent, reactionContext } from './create.js';
import type { AnyEvent } from './events.js';
import { eventTypes } from './events.js';
import { sampleData, sampleEnvelope } from './fixtures.js';
import { assertValidEvent, parseEnvelope } from './validate.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const context = { traceId: '4bf92f35-77b3-4da6-a3ce-929d0e0e4736', identity: { user_id: 'user-1', roles: ['buyer'] } };

describe('createEvent', () => {
  for (const type of eventTypes) {
    test(`${type} round-trips through JSON and parseEnvelope`, () => {
      const event = createEvent(type, sampleData[type] as never, context);
      const result = parseEnvelope(JSON.stringify(event));
      assert.ok(result.ok, result.ok ? '' : result.reason);
      assert.deepEqual(result.event, event);
    });
  }

  test('fills event_id with a fresh v4 UUID and occurred_at with now, in UTC milliseconds', () => {
    const before = Date.now();
    const first = createEvent('PaymentSucceeded', sampleData.PaymentSucceeded, context);
    const second = createEvent('PaymentSucceeded', sampleData.PaymentSucceeded, context);
    assert.match(first.event_id, UUID_V4);
    assert.notEqual(first.event_id, second.event_id);
    assert.match(first.occurred_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const at = Date.parse(first.occurred_at);
    assert.ok(at >= before && at <= Date.now(), first.occurred_at);
  });

  test('uses the given event_id and occurred_at', () => {
    const event = createEvent('InventoryReleaseRequested', sampleData.InventoryReleaseRequested, {
      ...context,
      eventId: 'b3a1f7de-55c2-4e0f-9a3d-6c7b8e9f0a1b',
      occurredAt: new Date('2026-02-11T10:00:00Z'),
    });
    assert.equal(event.event_id, 'b3a1f7de-55c2-4e0f-9a3d-6c7b8e9f0a1b');
    assert.equal(event.occurred_at, '2026-02-11T10:00:00.000Z');
  });

  test('writes every member in the spec order, version 1 and a null identity as null', () => {
    const event = createEvent('PaymentFailed', sampleData.PaymentFailed, { ...context, identity: null });
    const json = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), [
      'event_id',
      'event_type',
      'occurred_at',
      'trace_id',
      'identity',
      'data',
      'version',
    ]);
    assert.equal(json.identity, null);
    assert.equal(json.version, 1);
    assert.equal(json.event_type, 'PaymentFailed');
  });

  test('throws an error naming the invalid data member', () => {
    const data = { ...sampleData.PaymentFailed, order_id: 'order-1' };
    assert.throws(() => createEvent('PaymentFailed', data, context), /data\.order_id must match format "uuid"/);
    const { reason: _, ...withoutReason } = sampleData.PaymentFailed;
    assert.throws(() => createEvent('PaymentFailed', withoutReason as never, context), /data\.reason is required/);
  });

  test('throws an error naming an invalid trace_id or event_id', () => {
    assert.throws(
      () => createEvent('PaymentSucceeded', sampleData.PaymentSucceeded, { ...context, traceId: 'abc' }),
      /trace_id/,
    );
    assert.throws(
      () => createEvent('PaymentSucceeded', sampleData.PaymentSucceeded, { ...context, eventId: 'evt-1' }),
      /event_id must match format "uuid"/,
    );
  });

  test('refuses an event type that is not in the catalog', () => {
    assert.throws(
      () => createEvent('OrderShipped' as never, {} as never, context),
      /event_type "OrderShipped" is unknown/,
    );
  });
});

describe('assertValidEvent (publish side)', () => {
  test('accepts a valid envelope', () => {
    assert.doesNotThrow(() => assertValidEvent(sampleEnvelope('InventoryReleased')));
  });
  test('refuses a null trace_id, which readers tolerate but writers never send', () => {
    assert.throws(
      () => assertValidEvent({ ...sampleEnvelope('InventoryReserved'), trace_id: null }),
      /trace_id must not be null/,
    );
  });
  test('refuses a schema violation, naming the member', () => {
    const envelope = sampleEnvelope('InventoryReserved');
    assert.throws(
      () =>
        assertValidEvent({ ...envelope, data: { ...(envelope.data as object), reserved_items: [{ sku_id: 'A' }] } }),
      /data\.reserved_items\[0\]\.quantity is required/,
    );
  });
});

describe('reactionContext (events.md §5)', () => {
  function incoming(overrides: Record<string, unknown>): AnyEvent {
    const result = parseEnvelope(JSON.stringify({ ...sampleEnvelope('PaymentFailed'), ...overrides }));
    assert.ok(result.ok);
    return result.event;
  }

  test('copies trace_id and identity unchanged', () => {
    assert.deepEqual(reactionContext(incoming({})), {
      traceId: '4bf92f35-77b3-4da6-a3ce-929d0e0e4736',
      identity: { user_id: 'user-1', roles: ['buyer'] },
    });
  });
  test('uses a new UUID when the incoming trace_id is null', () => {
    assert.match(reactionContext(incoming({ trace_id: null })).traceId, UUID_V4);
  });
  test('writes identity as null when the incoming one is missing', () => {
    assert.equal(reactionContext(incoming({ identity: undefined })).identity, null);
  });
  test('builds a valid reaction event from them', () => {
    const reaction = createEvent(
      'InventoryReleaseRequested',
      sampleData.InventoryReleaseRequested,
      reactionContext(incoming({})),
    );
    assert.equal(reaction.trace_id, '4bf92f35-77b3-4da6-a3ce-929d0e0e4736');
    assert.notEqual(reaction.event_id, sampleEnvelope('PaymentFailed').event_id);
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { createEvent } from '@ecom/contracts';
import { ConfigError, EnvReader } from '@ecom/platform';
import { readNotificationConfig } from '../config.js';
import { notificationFromEvent, syntheticFailure, toResponse } from './notification.js';
import { DEFAULT_PAGE_SIZE, dropBlankValues, filterOf } from './query.js';

const RECEIVED = new Date('2026-02-11T10:00:05.000Z');

describe('a consumed payment result becomes a NotificationEvent (http-api.md §7)', () => {
  test('PaymentFailed: every field from the envelope, the identity flattened', () => {
    const event = createEvent(
      'PaymentFailed',
      { order_id: randomUUID(), payment_id: randomUUID(), reason: 'MOCK_DECLINED' },
      {
        traceId: randomUUID(),
        identity: { user_id: 'user-1', roles: ['buyer', 'vip'] },
        occurredAt: new Date('2026-02-11T10:00:00.123Z'),
      },
    );
    assert.deepEqual(toResponse(notificationFromEvent(event, RECEIVED)), {
      eventId: event.event_id,
      eventType: 'PaymentFailed',
      orderId: event.data.order_id,
      paymentId: event.data.payment_id,
      reason: 'MOCK_DECLINED',
      traceId: event.trace_id,
      userId: 'user-1',
      roles: ['buyer', 'vip'],
      occurredAt: '2026-02-11T10:00:00.123Z',
      receivedAt: '2026-02-11T10:00:05.000Z',
    });
  });

  test('PaymentSucceeded: reason null; no identity → userId null and roles []; null trace_id → null', () => {
    const event = {
      ...createEvent(
        'PaymentSucceeded',
        { order_id: randomUUID(), payment_id: randomUUID() },
        {
          traceId: randomUUID(),
          identity: null,
        },
      ),
      trace_id: null,
    };
    const { identity: _omitted, ...withoutIdentity } = event;
    for (const e of [event, withoutIdentity]) {
      const n = toResponse(notificationFromEvent(e, RECEIVED));
      assert.equal(n.reason, null);
      assert.equal(n.userId, null);
      assert.deepEqual(n.roles, []);
      assert.equal(n.traceId, null);
    }
  });

  test('UUIDs are lowercased (as the UUID columns and java.util.UUID print them); any fraction digits in occurred_at', () => {
    const orderId = randomUUID().toUpperCase();
    const event = {
      ...createEvent(
        'PaymentSucceeded',
        { order_id: orderId, payment_id: randomUUID() },
        {
          traceId: randomUUID(),
          identity: null,
        },
      ),
      occurred_at: '2026-02-11T10:00:00.123456789Z',
    };
    const n = notificationFromEvent(event, RECEIVED);
    assert.equal(n.orderId, orderId.toLowerCase());
    assert.equal(n.occurredAt.toISOString(), '2026-02-11T10:00:00.123Z');
  });

  test('an unreadable occurred_at falls back to the receive time', () => {
    const event = {
      ...createEvent(
        'PaymentSucceeded',
        { order_id: randomUUID(), payment_id: randomUUID() },
        {
          traceId: randomUUID(),
          identity: null,
        },
      ),
      occurred_at: 'not a time',
    };
    assert.equal(notificationFromEvent(event, RECEIVED).occurredAt, RECEIVED);
  });
});

describe('synthetic failure (http-api.md §7.2)', () => {
  test('PaymentFailed by "system", new event and trace ids, occurredAt = receivedAt = now', () => {
    const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    const orderId = randomUUID();
    const paymentId = randomUUID();
    const n = syntheticFailure({ orderId, paymentId, reason: ' declined ' }, RECEIVED, () => ids.shift()!);
    assert.deepEqual(toResponse(n), {
      eventId: '11111111-1111-4111-8111-111111111111',
      eventType: 'PaymentFailed',
      orderId,
      paymentId,
      reason: ' declined ',
      traceId: '22222222-2222-4222-8222-222222222222',
      userId: 'system',
      roles: ['system'],
      occurredAt: RECEIVED.toISOString(),
      receivedAt: RECEIVED.toISOString(),
    });
  });
});

describe('query (http-api.md §7.1)', () => {
  test('blank values mean "not given"; others are kept as sent', () => {
    const q: Record<string, unknown> = {
      orderId: '',
      eventType: '   ',
      size: ' ',
      other: 'x',
      keep: ' PaymentFailed ',
    };
    dropBlankValues(q);
    assert.deepEqual(q, { other: 'x', keep: ' PaymentFailed ' });
  });
  test('the filter: orderId lowercased, default size 20', () => {
    const orderId = randomUUID().toUpperCase();
    assert.deepEqual(filterOf({ orderId }), { orderId: orderId.toLowerCase(), eventType: undefined, limit: 20 });
    assert.deepEqual(filterOf({ eventType: 'paymentfailed', size: 3 }), {
      orderId: undefined,
      eventType: 'paymentfailed',
      limit: 3,
    });
    assert.equal(DEFAULT_PAGE_SIZE, 20);
  });
});

describe('configuration', () => {
  test('NOTIFICATION_STORE_SIZE: default 1000, ≥ 1, integer', () => {
    assert.deepEqual(readNotificationConfig(new EnvReader({})), { storeSize: 1000 });
    assert.deepEqual(readNotificationConfig(new EnvReader({ NOTIFICATION_STORE_SIZE: '5' })), { storeSize: 5 });
    for (const bad of ['0', '-1', 'many', '2.5']) {
      assert.throws(
        () => readNotificationConfig(new EnvReader({ NOTIFICATION_STORE_SIZE: bad })),
        (err: Error) => err instanceof ConfigError && err.message.startsWith('NOTIFICATION_STORE_SIZE:'),
        bad,
      );
    }
  });
});

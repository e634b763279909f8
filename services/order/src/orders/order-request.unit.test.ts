import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideIdempotency } from '../idempotency/idempotency-key.js';
import { envelopeTraceId, parseTraceId } from './envelope-trace-id.js';
import { checkIdempotencyKey, fingerprintOf, normalizeOrderRequest, type OrderRequest } from './order-request.js';

const normalize = (body: Parameters<typeof normalizeOrderRequest>[0]): OrderRequest => {
  const n = normalizeOrderRequest(body);
  assert.ok(n.ok);
  return n.request;
};

describe('order request normalization and fingerprint', () => {
  test('trims userId and skuIds, rounds prices half-up, keeps order and duplicates', () => {
    const r = normalize({
      userId: '  user-1 ',
      items: [
        { skuId: ' SKU-1 ', quantity: 2, price: 19.994 },
        { skuId: 'SKU-1', quantity: 1, price: 0.015 },
      ],
    });
    assert.deepEqual(r, {
      userId: 'user-1',
      items: [
        { skuId: 'SKU-1', quantity: 2, price: '19.99' },
        { skuId: 'SKU-1', quantity: 1, price: '0.02' },
      ],
    });
  });

  test('trimmed values must fit their columns (64)', () => {
    const long = 'x'.repeat(65);
    const n = normalizeOrderRequest({ userId: long, items: [{ skuId: long, quantity: 1, price: 1 }] });
    assert.ok(!n.ok);
    assert.deepEqual(
      n.errors.map((e) => e.field),
      ['userId', 'items[0].skuId'],
    );
    assert.ok(
      normalizeOrderRequest({ userId: ` ${'x'.repeat(64)} `, items: [{ skuId: 'a', quantity: 1, price: 1 }] }).ok,
    );
  });

  test('a price JSON.parse read as Infinity (1e400) is a field error, not a throw', () => {
    const n = normalizeOrderRequest({
      userId: 'u',
      items: [
        { skuId: 'a', quantity: 1, price: 1 },
        { skuId: 'b', quantity: 1, price: JSON.parse('1e400') },
      ],
    });
    assert.ok(!n.ok);
    assert.deepEqual(n.errors, [{ field: 'items[1].price', message: 'must be a finite number' }]);
  });

  test('the fingerprint ignores whitespace and 19.9 vs 19.90, and sees every real difference', () => {
    const base = fingerprintOf(normalize({ userId: 'u', items: [{ skuId: 'A', quantity: 1, price: 19.9 }] }));
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.equal(fingerprintOf(normalize({ userId: ' u ', items: [{ skuId: ' A', quantity: 1, price: 19.9 }] })), base);
    assert.equal(fingerprintOf(normalize({ userId: 'u', items: [{ skuId: 'A', quantity: 1, price: 19.904 }] })), base);
    for (const other of [
      { userId: 'v', items: [{ skuId: 'A', quantity: 1, price: 19.9 }] },
      { userId: 'u', items: [{ skuId: 'B', quantity: 1, price: 19.9 }] },
      { userId: 'u', items: [{ skuId: 'A', quantity: 2, price: 19.9 }] },
      { userId: 'u', items: [{ skuId: 'A', quantity: 1, price: 19.91 }] },
      {
        userId: 'u',
        items: [
          { skuId: 'A', quantity: 1, price: 19.9 },
          { skuId: 'A', quantity: 1, price: 19.9 },
        ],
      },
    ]) {
      assert.notEqual(fingerprintOf(normalize(other)), base, JSON.stringify(other));
    }
  });

  test('Idempotency-Key: trimmed, not blank, at most 128', () => {
    assert.deepEqual(checkIdempotencyKey('  k-1 '), { ok: true, key: 'k-1' });
    assert.equal(checkIdempotencyKey('   ').ok, false);
    assert.equal(checkIdempotencyKey('').ok, false);
    assert.equal(checkIdempotencyKey('k'.repeat(128)).ok, true);
    assert.equal(checkIdempotencyKey('k'.repeat(129)).ok, false);
  });
});

describe('idempotency decision', () => {
  const now = new Date('2026-02-11T10:00:00.000Z');
  const live = { order_id: 'o-1', request_hash: 'h1', expires_at: new Date(now.getTime() + 1000) };
  test('absent → new; same body → replay; other body → mismatch', () => {
    assert.deepEqual(decideIdempotency(undefined, 'h1', now), { kind: 'new', expired: false });
    assert.deepEqual(decideIdempotency(live, 'h1', now), { kind: 'replay', orderId: 'o-1' });
    assert.deepEqual(decideIdempotency(live, 'h2', now), { kind: 'mismatch' });
  });
  test('an expired key counts as new, even with the same body', () => {
    const expired = { ...live, expires_at: now };
    assert.deepEqual(decideIdempotency(expired, 'h1', now), { kind: 'new', expired: true });
  });
  test("a key the original wrote (no fingerprint) replays as the original's did", () => {
    assert.deepEqual(decideIdempotency({ ...live, request_hash: null }, 'anything', now), {
      kind: 'replay',
      orderId: 'o-1',
    });
  });
});

describe('OrderCreated trace_id (events.md §5 rules 1–3)', () => {
  const newId = () => 'new-id';
  test('rule 1: an active span wins (32 hex as a UUID)', () => {
    assert.equal(
      envelopeTraceId('4BF92F3577B34DA6A3CE929D0E0E4736', 'ignored', newId),
      '4bf92f35-77b3-4da6-a3ce-929d0e0e4736',
    );
  });
  test('rule 2: the correlation value when it is a UUID, 32 hex or 16 hex', () => {
    assert.equal(
      envelopeTraceId(undefined, 'A32EE3E5-0F81-4A88-A361-F1F2158DFDBF', newId),
      'a32ee3e5-0f81-4a88-a361-f1f2158dfdbf',
    );
    assert.equal(
      envelopeTraceId(undefined, '4bf92f3577b34da6a3ce929d0e0e4736', newId),
      '4bf92f35-77b3-4da6-a3ce-929d0e0e4736',
    );
    assert.equal(envelopeTraceId(undefined, 'a3ce929d0e0e4736', newId), '00000000-0000-0000-a3ce-929d0e0e4736');
  });
  test('rule 3: anything else (or an all-zero id) gets a new UUID', () => {
    for (const v of [
      undefined,
      '',
      'order-42',
      'a3ce929d0e0e473',
      '00000000-0000-0000-0000-000000000000',
      'g'.repeat(32),
    ]) {
      assert.equal(envelopeTraceId(undefined, v, newId), 'new-id', String(v));
    }
    assert.equal(parseTraceId('  a3ce929d0e0e4736  '), '00000000-0000-0000-a3ce-929d0e0e4736');
  });
});

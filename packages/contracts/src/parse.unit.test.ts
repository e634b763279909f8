import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type EventType, eventTypes } from './events.js';
import { sampleEnvelope, specExampleOrderCreated } from './fixtures.js';
import { parseEnvelope } from './validate.js';

// Tests reach into arbitrary JSON to break it on purpose; typing every path would add nothing.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Mutable = Record<string, any>;

function reasonOf(body: string): string {
  const result = parseEnvelope(body);
  assert.equal(result.ok, false, `expected rejection of ${body.slice(0, 200)}`);
  return result.ok ? '' : result.reason;
}

function accepts(value: unknown): void {
  const result = parseEnvelope(JSON.stringify(value));
  assert.ok(result.ok, result.ok ? '' : `rejected: ${result.reason}`);
}

/** sampleEnvelope(type) with `edit` applied, serialized. */
function edited(type: EventType, edit: (e: Mutable) => void): string {
  const envelope = sampleEnvelope(type);
  edit(envelope);
  return JSON.stringify(envelope);
}

describe('the example of spec/events.md', () => {
  test('parses, with its values intact', () => {
    const result = parseEnvelope(specExampleOrderCreated);
    assert.ok(result.ok, result.ok ? '' : result.reason);
    assert.equal(result.event.event_type, 'OrderCreated');
    if (result.event.event_type !== 'OrderCreated') return;
    assert.equal(result.event.data.total_amount, 48.3);
    assert.deepEqual(result.event.data.items[0], { sku_id: 'SKU-001', quantity: 2, price: 19.9 });
    assert.deepEqual(result.event.identity, { user_id: 'user-1', roles: ['buyer'] });
  });

  test('parses from a Buffer, and with a leading BOM', () => {
    assert.ok(parseEnvelope(Buffer.from(specExampleOrderCreated, 'utf8')).ok);
    assert.ok(parseEnvelope(`\uFEFF${specExampleOrderCreated}`).ok);
  });
});

describe('every event type', () => {
  for (const type of eventTypes) {
    test(`${type}: a valid envelope parses and keeps its event_type`, () => {
      const result = parseEnvelope(JSON.stringify(sampleEnvelope(type)));
      assert.ok(result.ok, result.ok ? '' : result.reason);
      assert.equal(result.event.event_type, type);
    });
  }
});

describe('missing required members are rejected, naming the member', () => {
  // From the spec tables (§1 and §4), not from the schemas, so a schema mistake shows up here.
  const requiredData: Record<EventType, string[]> = {
    OrderCreated: ['order_id', 'user_id', 'items', 'total_amount'],
    InventoryReserved: ['order_id', 'reservation_id', 'reserved_items'],
    InventoryFailed: ['order_id', 'reservation_id', 'reason'],
    InventoryReleaseRequested: ['order_id', 'reason'],
    InventoryReleased: ['release_id', 'order_id', 'reservation_id', 'reason', 'released_items'],
    PaymentSucceeded: ['order_id', 'payment_id'],
    PaymentFailed: ['order_id', 'payment_id', 'reason'],
  };
  for (const type of eventTypes) {
    for (const field of requiredData[type]) {
      test(`${type}: data.${field}`, () => {
        assert.equal(reasonOf(edited(type, (e) => delete e.data[field])), `data.${field} is required`);
      });
    }
  }
  for (const field of ['event_id', 'occurred_at', 'trace_id', 'data']) {
    test(`envelope: ${field}`, () => {
      assert.equal(reasonOf(edited('PaymentSucceeded', (e) => delete e[field])), `${field} is required`);
    });
  }
  test('envelope: event_type', () => {
    assert.equal(reasonOf(edited('PaymentSucceeded', (e) => delete e.event_type)), 'event_type is required');
  });
  test('nested: items[].sku_id', () => {
    const body = edited('OrderCreated', (e) => delete e.data.items[1].sku_id);
    assert.equal(reasonOf(body), 'data.items[1].sku_id is required');
  });
  test('nested: identity.roles', () => {
    assert.equal(reasonOf(edited('OrderCreated', (e) => delete e.identity.roles)), 'identity.roles is required');
  });
});

describe('wrong types are rejected, naming the member', () => {
  const cases: [string, EventType, (e: Mutable) => void, string][] = [
    ['non-UUID event_id', 'OrderCreated', (e) => (e.event_id = 'evt-1'), 'event_id must match format "uuid"'],
    ['numeric occurred_at', 'OrderCreated', (e) => (e.occurred_at = 1770804000123), 'occurred_at must be string'],
    [
      'occurred_at without a zone',
      'OrderCreated',
      (e) => (e.occurred_at = '2026-02-11T10:00:00.123'),
      'occurred_at must match format "date-time"',
    ],
    [
      'occurred_at as a date only',
      'OrderCreated',
      (e) => (e.occurred_at = '2026-02-11'),
      'occurred_at must match format "date-time"',
    ],
    ['numeric trace_id', 'OrderCreated', (e) => (e.trace_id = 42), 'trace_id must be string'],
    ['identity as a string', 'OrderCreated', (e) => (e.identity = 'user-1'), 'identity must be object'],
    ['identity.roles as a string', 'OrderCreated', (e) => (e.identity.roles = 'buyer'), 'identity.roles must be array'],
    ['data as null', 'OrderCreated', (e) => (e.data = null), 'data must be object'],
    ['version as a string', 'OrderCreated', (e) => (e.version = '1'), 'version must be integer'],
    [
      'fractional quantity',
      'OrderCreated',
      (e) => (e.data.items[0].quantity = 1.5),
      'data.items[0].quantity must be integer',
    ],
    ['zero quantity', 'OrderCreated', (e) => (e.data.items[0].quantity = 0), 'data.items[0].quantity must be >= 1'],
    ['money as a string', 'OrderCreated', (e) => (e.data.total_amount = '48.30'), 'data.total_amount must be number'],
    [
      'price as a string',
      'OrderCreated',
      (e) => (e.data.items[1].price = '8.50'),
      'data.items[1].price must be number',
    ],
    [
      'non-UUID order_id',
      'PaymentSucceeded',
      (e) => (e.data.order_id = 'order-1'),
      'data.order_id must match format "uuid"',
    ],
    [
      'additive total_amount as a string',
      'InventoryReserved',
      (e) => (e.data.total_amount = '48.30'),
      'data.total_amount must be number',
    ],
    [
      'numeric reservation_id',
      'InventoryFailed',
      (e) => (e.data.reservation_id = 7),
      'data.reservation_id must be string',
    ],
    [
      'reserved_items as an object',
      'InventoryReserved',
      (e) => (e.data.reserved_items = {}),
      'data.reserved_items must be array',
    ],
    [
      'released quantity as a string',
      'InventoryReleased',
      (e) => (e.data.released_items[0].quantity = '2'),
      'data.released_items[0].quantity must be integer',
    ],
  ];
  for (const [name, type, edit, reason] of cases) {
    test(name, () => assert.equal(reasonOf(edited(type, edit)), reason));
  }
});

describe('event_type', () => {
  test('an unknown type is rejected, naming it', () => {
    assert.equal(
      reasonOf(edited('OrderCreated', (e) => (e.event_type = 'OrderShipped'))),
      'event_type "OrderShipped" is unknown',
    );
  });
  test('names are case-sensitive', () => {
    assert.equal(
      reasonOf(edited('OrderCreated', (e) => (e.event_type = 'orderCreated'))),
      'event_type "orderCreated" is unknown',
    );
  });
  test('Object.prototype names are not event types', () => {
    for (const name of ['__proto__', 'toString', 'constructor', 'hasOwnProperty']) {
      assert.match(reasonOf(`{"event_type": "${name}"}`), /^event_type ".*" is unknown$/);
    }
  });
  test('a non-string type is rejected', () => {
    assert.equal(reasonOf(edited('OrderCreated', (e) => (e.event_type = 1))), 'event_type must be string');
  });
  test('the data must match the declared type', () => {
    // A PaymentSucceeded body labelled PaymentFailed lacks the reason.
    const body = edited('PaymentSucceeded', (e) => (e.event_type = 'PaymentFailed'));
    assert.equal(reasonOf(body), 'data.reason is required');
  });
  test('`accept` refuses types a queue does not expect, and narrows to those it does', () => {
    const body = JSON.stringify(sampleEnvelope('InventoryReserved'));
    const refused = parseEnvelope(body, ['PaymentSucceeded', 'PaymentFailed']);
    assert.deepEqual(refused, {
      ok: false,
      reason: 'event_type InventoryReserved is not expected here (expected PaymentSucceeded, PaymentFailed)',
    });
    const accepted = parseEnvelope(body, ['InventoryReserved', 'InventoryFailed', 'InventoryReleased']);
    assert.ok(accepted.ok);
  });
});

describe('unparseable bodies', () => {
  for (const body of ['', '{', 'not json', '{"event_type":"OrderCreated",}', specExampleOrderCreated.slice(0, -2)]) {
    test(`invalid JSON ${JSON.stringify(body.slice(0, 30))}`, () => assert.match(reasonOf(body), /^invalid JSON: /));
  }
  for (const body of ['null', '[]', '"OrderCreated"', '42', 'true']) {
    test(`not an object: ${body}`, () => assert.equal(reasonOf(body), 'envelope must be a JSON object'));
  }
  test('hostile input gives a reason and never throws', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const bodies = [
      deep,
      `{"event_type":"OrderCreated","data":{"items":${deep}}}`,
      `{"event_type":"${'X'.repeat(10_000)}"}`,
    ];
    for (const body of bodies) {
      const reason = reasonOf(body);
      assert.ok(reason.length > 0 && reason.length < 300, reason);
    }
  });
});

describe('reader tolerance (events.md §1)', () => {
  test('unknown members are accepted in the envelope, in data and in items', () => {
    accepts({
      ...sampleEnvelope('OrderCreated'),
      schema: 'v2',
      tenant: { id: 1 },
      data: {
        ...(sampleEnvelope('OrderCreated').data as object),
        coupon: 'SPRING',
        items: [{ sku_id: 'SKU-001', quantity: 1, price: 1, gift: true }],
      },
    });
  });
  test('identity may be null or missing', () => {
    accepts({ ...sampleEnvelope('PaymentFailed'), identity: null });
    const { identity: _, ...withoutIdentity } = sampleEnvelope('PaymentFailed');
    accepts(withoutIdentity);
  });
  test('version may be missing or another integer', () => {
    const { version: _, ...withoutVersion } = sampleEnvelope('PaymentFailed');
    accepts(withoutVersion);
    accepts({ ...sampleEnvelope('PaymentFailed'), version: 2 });
  });
  test('trace_id may be null (§5: the reaction then uses a new one)', () => {
    accepts({ ...sampleEnvelope('InventoryReserved'), trace_id: null });
  });
  test('InventoryFailed.reservation_id may be null', () => {
    const envelope = sampleEnvelope('InventoryFailed');
    accepts({ ...envelope, data: { ...(envelope.data as object), reservation_id: null } });
  });
  test('InventoryReserved may carry the additive total_amount, or not', () => {
    const envelope = sampleEnvelope('InventoryReserved');
    accepts({ ...envelope, data: { ...(envelope.data as object), total_amount: 48.3 } });
    accepts(envelope);
  });
  test('UUIDs in upper case are accepted', () => {
    accepts({ ...sampleEnvelope('PaymentSucceeded'), event_id: '0B7E6B7C-1D2E-4F3A-9C8B-7A6D5E4F3A2B' });
  });
  for (const occurredAt of [
    '2026-02-11T10:00:00Z',
    '2026-02-11T10:00:00.1Z',
    '2026-02-11T10:00:00.123Z',
    '2026-02-11T10:00:00.123456Z',
    '2026-02-11T10:00:00.123456789Z',
  ]) {
    test(`occurred_at ${occurredAt}`, () => accepts({ ...sampleEnvelope('OrderCreated'), occurred_at: occurredAt }));
  }
  for (const amount of ['48.30', '48.3', '48', '4.83e1', '48.300000']) {
    test(`money written as ${amount}`, () => {
      const result = parseEnvelope(
        specExampleOrderCreated.replace('"total_amount": 48.30', `"total_amount": ${amount}`),
      );
      assert.ok(result.ok, result.ok ? '' : result.reason);
      assert.ok(result.event.event_type === 'OrderCreated' && result.event.data.total_amount === Number(amount));
    });
  }
});

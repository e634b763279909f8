import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { events, eventTypes, isEventType, routingKeyOf } from './events.js';
import { sampleEnvelope } from './fixtures.js';
import { eventJsonSchemas, type JsonSchema } from './json-schema.js';
import { parseEnvelope } from './validate.js';

describe('event catalog (events.md §2–3)', () => {
  test('has exactly the spec event types and routing keys', () => {
    // Copied from the catalog table of events.md §2.
    const spec = {
      OrderCreated: 'order.created',
      InventoryReserved: 'inventory.reserved',
      InventoryFailed: 'inventory.failed',
      InventoryReleaseRequested: 'inventory.release.requested',
      InventoryReleased: 'inventory.released',
      PaymentSucceeded: 'payment.succeeded',
      PaymentFailed: 'payment.failed',
    };
    assert.deepEqual(Object.fromEntries(eventTypes.map((type) => [type, routingKeyOf(type)])), spec);
    for (const type of eventTypes) assert.equal(events[type].type, type);
  });

  test('isEventType is exact and case-sensitive', () => {
    assert.equal(isEventType('PaymentFailed'), true);
    assert.equal(isEventType('paymentFailed'), false);
    assert.equal(isEventType('toString'), false);
    assert.equal(isEventType(undefined), false);
  });
});

describe('eventJsonSchemas', () => {
  test('gives one envelope schema per event type, fixed to its event_type', () => {
    const schemas = eventJsonSchemas();
    assert.deepEqual(Object.keys(schemas).sort(), [...eventTypes].sort());
    for (const type of eventTypes) {
      const properties = schemas[type].properties as Record<string, JsonSchema>;
      assert.equal(properties.event_type?.const, type);
    }
  });

  test('requires what the spec requires, leaves identity and version optional', () => {
    const schema = eventJsonSchemas().InventoryReserved;
    assert.deepEqual([...(schema.required as string[])].sort(), [
      'data',
      'event_id',
      'event_type',
      'occurred_at',
      'trace_id',
    ]);
    const data = (schema.properties as Record<string, JsonSchema>).data as JsonSchema;
    assert.ok(!(data.required as string[]).includes('total_amount'));
    assert.ok('total_amount' in (data.properties as JsonSchema));
  });

  test('never forbids unknown members (readers MUST ignore them)', () => {
    const offenders: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== 'object' || node === null) return;
      if ((node as JsonSchema).additionalProperties === false) offenders.push(path);
      for (const [key, child] of Object.entries(node)) walk(child, `${path}/${key}`);
    };
    for (const [type, schema] of Object.entries(eventJsonSchemas())) walk(schema, type);
    assert.deepEqual(offenders, []);
  });

  test('is plain JSON, and a fresh copy each call', () => {
    const first = eventJsonSchemas();
    assert.deepEqual(JSON.parse(JSON.stringify(first)), first);
    delete first.OrderCreated.properties;
    (first.PaymentFailed.required as string[]).push('nonsense');
    assert.ok('properties' in eventJsonSchemas().OrderCreated);
    // Mutating a copy must not loosen or tighten validation either.
    assert.ok(parseEnvelope(JSON.stringify(sampleEnvelope('PaymentFailed'))).ok);
    const { trace_id: _, ...withoutTrace } = sampleEnvelope('OrderCreated');
    assert.equal(parseEnvelope(JSON.stringify(withoutTrace)).ok, false);
  });
});

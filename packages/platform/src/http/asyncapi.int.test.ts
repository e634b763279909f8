import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AsyncApiDocument, events, eventTypes } from '@ecom/contracts';
import { fixtureService } from '../fixtures/test-service.js';
import { platformTopology } from '../messaging/topology.js';
import { createService, type Service } from '../service.js';
import { uniqueName } from '../testing/index.js';

describe('GET /asyncapi.json (every service, from the kernel)', () => {
  let service: Service;
  let doc: AsyncApiDocument;

  before(async () => {
    service = await createService(fixtureService, {
      env: { SERVER_PORT: '0', SERVER_HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      schema: uniqueName('asyncapi'),
    });
    const res = await service.app.inject({ method: 'GET', url: '/asyncapi.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    doc = res.json();
  });
  after(() => service?.stop());

  test('is an AsyncAPI 3 document titled with the service', () => {
    assert.match(doc.asyncapi, /^3\./);
    assert.equal(doc.info.title, fixtureService.name);
    assert.equal(doc.info.version, fixtureService.version);
  });

  test('has a channel per routing key of ecom.events and one per queue of the platform topology', () => {
    const routingKeys = eventTypes.map((type) => events[type].routingKey);
    const topology = platformTopology();
    const addresses = (is: string) =>
      Object.values(doc.channels)
        .filter((c) => c.bindings.amqp.is === is)
        .map((c) => c.address);
    // Routing-key channels: the 7 events on ecom.events, plus the 3 DLQ routes (direct exchanges).
    const eventChannels = Object.values(doc.channels).filter(
      (c) => (c.bindings.amqp.exchange as { name?: string } | undefined)?.name === 'ecom.events',
    );
    assert.deepEqual(eventChannels.map((c) => c.address).sort(), [...routingKeys].sort());
    assert.equal(addresses('routingKey').length, routingKeys.length + 3);
    // Queue channels: the SAME queues, arguments and bindings the kernel declares (no drift
    // between the document in @ecom/contracts and messaging/topology.ts).
    assert.deepEqual(addresses('queue').sort(), topology.queues.map((q) => q.name).sort());
    for (const q of topology.queues) {
      const amqp = Object.values(doc.channels).find((c) => c.bindings.amqp.is === 'queue' && c.address === q.name)
        ?.bindings.amqp;
      assert.deepEqual(amqp?.['x-arguments'], q.arguments, `${q.name} arguments`);
      const bound = topology.bindings
        .filter((b) => b.queue === q.name)
        .map(({ exchange, bindingKey }) => ({ exchange, bindingKey }));
      assert.deepEqual(amqp?.['x-bindings'], bound, `${q.name} bindings`);
    }
  });

  test('is hidden from the OpenAPI document and the same object on every call', async () => {
    const openapi = (await service.app.inject({ method: 'GET', url: '/v3/api-docs' })).json();
    assert.ok(!('/asyncapi.json' in openapi.paths));
    const again = (await service.app.inject({ method: 'GET', url: '/asyncapi.json' })).json();
    assert.deepEqual(again, doc);
  });
});

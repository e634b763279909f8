import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, EnvReader } from '../config/env.js';
import { backoffDelayMs } from './backoff.js';
import { deathCount, normalizeHeaders, readXDeath, withDeath } from './headers.js';
import { readMessagingConfig } from './runtime.js';
import { topicMatches } from './topic-match.js';
import { consumerQueues, consumerQueuesOf, ownedTopology, platformTopology } from './topology.js';

describe('topicMatches (RabbitMQ topic semantics)', () => {
  const cases: [string, string, boolean][] = [
    ['inventory.*', 'inventory.reserved', true],
    ['inventory.*', 'inventory.failed', true],
    ['inventory.*', 'inventory.release.requested', false],
    ['inventory.*', 'inventory', false],
    ['payment.*', 'payment.succeeded', true],
    ['order.created', 'order.created', true],
    ['order.created', 'order.created.v2', false],
    ['#', 'anything.at.all', true],
    ['#', '', true],
    ['*', '', false],
    ['inventory.#', 'inventory', true],
    ['inventory.#', 'inventory.release.requested', true],
    ['#.requested', 'inventory.release.requested', true],
    ['*.release.*', 'inventory.release.requested', true],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.b.c', false],
  ];
  for (const [pattern, key, expected] of cases) {
    test(`'${pattern}' ${expected ? 'matches' : 'does not match'} '${key}'`, () => {
      assert.equal(topicMatches(pattern, key), expected);
    });
  }
});

describe('topology', () => {
  test('the whole topology has 5 exchanges, 12 queues and 12 bindings; the TTL defaults to 10000', () => {
    const t = platformTopology();
    assert.deepEqual([t.exchanges.length, t.queues.length, t.bindings.length], [5, 12, 12]);
    const ttls = t.queues.map((q) => q.arguments['x-message-ttl']).filter((x) => x !== undefined);
    assert.deepEqual(ttls, [10000, 10000, 10000]);
  });

  test('retryTtlMs sets every retry queue TTL and must be an integer', () => {
    const t = platformTopology({ retryTtlMs: 200 });
    assert.deepEqual(
      t.queues.filter((q) => q.name.endsWith('.retry')).map((q) => q.arguments['x-message-ttl']),
      [200, 200, 200],
    );
    assert.throws(() => platformTopology({ retryTtlMs: 1.5 }), RangeError);
    assert.throws(() => platformTopology({ retryTtlMs: -1 }), RangeError);
  });

  test('a namespace prefixes names and the DLX arguments that name things, not event routing keys', () => {
    const ns = 'ns1-';
    const t = platformTopology({ namespace: ns });
    for (const e of t.exchanges) assert.ok(e.name.startsWith(ns), e.name);
    for (const q of t.queues) assert.ok(q.name.startsWith(ns), q.name);
    const main = t.queues.find((q) => q.name === 'ns1-q.inventory.order-created');
    assert.deepEqual(main?.arguments, {
      'x-dead-letter-exchange': 'ns1-inventory.retry.exchange',
      'x-dead-letter-routing-key': 'ns1-q.inventory.order-created.retry',
    });
    const retry = t.queues.find((q) => q.name === 'ns1-q.payment.inventory-reserved.retry');
    assert.deepEqual(retry?.arguments, {
      'x-message-ttl': 10000,
      'x-dead-letter-exchange': 'ns1-ecom.events',
      'x-dead-letter-routing-key': 'inventory.reserved',
    });
    const keys = t.bindings.map((b) => b.bindingKey);
    assert.ok(keys.includes('inventory.*'));
    assert.ok(keys.includes('ns1-q.inventory.order-created.dlq'));
  });

  test('ownedTopology follows spec §6', () => {
    const count = (s: Parameters<typeof ownedTopology>[0]) => {
      const t = ownedTopology(s);
      return [t.exchanges.length, t.queues.length, t.bindings.length];
    };
    assert.deepEqual(count('order'), [1, 2, 2]);
    assert.deepEqual(count('inventory'), [3, 6, 6]);
    assert.deepEqual(count('payment'), [3, 3, 3]);
    assert.deepEqual(count('notification'), [1, 1, 1]);
  });

  test('consumer descriptors: retry/DLQ names for inventory and payment, null for order and notification', () => {
    const all = consumerQueues({ namespace: 'x-' });
    assert.deepEqual(Object.keys(all).sort(), [
      'q.inventory.order-created',
      'q.inventory.release-requested',
      'q.notification.payment-result',
      'q.order.inventory-result',
      'q.order.payment-result',
      'q.payment.inventory-reserved',
    ]);
    assert.deepEqual(all['q.payment.inventory-reserved'], {
      service: 'payment',
      specQueue: 'q.payment.inventory-reserved',
      queue: 'x-q.payment.inventory-reserved',
      retry: { exchange: 'x-payment.retry.exchange', queue: 'x-q.payment.inventory-reserved.retry' },
      dlq: { exchange: 'x-payment.dlq.exchange', queue: 'x-q.payment.inventory-reserved.dlq' },
    });
    assert.equal(all['q.order.inventory-result']?.retry, null);
    assert.equal(all['q.notification.payment-result']?.dlq, null);
    assert.deepEqual(
      consumerQueuesOf('inventory').map((c) => c.queue),
      ['q.inventory.order-created', 'q.inventory.release-requested'],
    );
    // Every descriptor names queues that exist in the topology.
    const names = new Set(platformTopology({ namespace: 'x-' }).queues.map((q) => q.name));
    for (const c of Object.values(all)) {
      for (const n of [c.queue, c.retry?.queue, c.dlq?.queue]) if (n) assert.ok(names.has(n), n);
    }
  });
});

describe('headers', () => {
  test('amqplib decoding quirks: bytes become text, timestamps become unix seconds', () => {
    const raw = {
      'x-death': [
        {
          count: 2,
          reason: 'rejected',
          queue: Buffer.from('q.inventory.order-created'),
          time: { '!': 'timestamp', value: 1795766502 },
          exchange: 'ecom.events',
          'routing-keys': ['order.created'],
        },
      ],
      'x-trace-id': Buffer.from('abc'),
    };
    const h = normalizeHeaders(raw);
    assert.equal(h['x-trace-id'], 'abc');
    assert.deepEqual(readXDeath(h), [
      {
        queue: 'q.inventory.order-created',
        reason: 'rejected',
        count: 2,
        exchange: 'ecom.events',
        routingKeys: ['order.created'],
        time: 1795766502,
      },
    ]);
    assert.equal(deathCount(h, 'q.inventory.order-created'), 2);
    assert.equal(deathCount(h, 'q.other'), 0);
    assert.equal(deathCount({}, 'q.inventory.order-created'), 0);
  });

  test('withDeath increments the (queue, reason) entry and moves it first, like RabbitMQ', () => {
    const d = (reason: 'rejected' | 'expired', queue: string, exchange: string, routingKey: string) => ({
      reason,
      queue,
      exchange,
      routingKey,
      timeSeconds: 100,
    });
    let h = withDeath({ a: 1 }, d('rejected', 'main', 'ev', 'order.created'));
    h = withDeath(h, d('expired', 'main.retry', 'retry.ex', 'main.retry'));
    h = withDeath(h, d('rejected', 'main', 'ev', 'order.created'));
    assert.deepEqual(
      readXDeath(h).map((e) => [e.queue, e.reason, e.count]),
      [
        ['main', 'rejected', 2],
        ['main.retry', 'expired', 1],
      ],
    );
    assert.equal(h['x-first-death-reason'], 'rejected');
    assert.equal(h['x-first-death-queue'], 'main');
    assert.equal(h.a, 1);
  });
});

test('reconnect back-off: 100 ms doubling to a 5 s cap, jittered within [step/2, step]', () => {
  const low = () => 0;
  const high = () => 1;
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 10].map((a) => backoffDelayMs(a, undefined, high)),
    [100, 200, 400, 800, 1600, 3200, 5000, 5000],
  );
  assert.equal(backoffDelayMs(1, undefined, low), 50);
  assert.equal(backoffDelayMs(20, undefined, low), 2500);
});

describe('messaging configuration (prefetch and consumer batches)', () => {
  const read = (env: Record<string, string>) => readMessagingConfig(new EnvReader(env));
  test('defaults: prefetch 40 (the spec recommends 10–50); each consumer keeps its own batch size', () => {
    const config = read({});
    assert.equal(config.prefetch, 40);
    assert.equal(config.consumerBatchMax, undefined);
  });
  test('MESSAGING_CONSUMER_BATCH_MAX overrides every consumer; 0 turns batching off; anything else is refused', () => {
    assert.equal(read({ MESSAGING_CONSUMER_BATCH_MAX: '5' }).consumerBatchMax, 5);
    assert.equal(read({ MESSAGING_CONSUMER_BATCH_MAX: '0' }).consumerBatchMax, 0);
    assert.throws(() => read({ MESSAGING_CONSUMER_BATCH_MAX: 'many' }), ConfigError);
    assert.throws(() => read({ MESSAGING_CONSUMER_BATCH_MAX: '-1' }), ConfigError);
  });
});

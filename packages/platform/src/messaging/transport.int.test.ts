/**
 * One suite, run against both transports: real RabbitMQ (AMQP_URL, default guest@127.0.0.1) and
 * the in-process twin. Every test declares its own namespaced copy of the platform topology
 * (`t-<run>-<n>-`), so runs never see each other; the AMQP run deletes all of it at the end.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { type AmqpTransport, createAmqpTransport } from './amqp-transport.js';
import { deathCount, readXDeath } from './headers.js';
import { createInProcessTransport } from './in-process-transport.js';
import type { MessagingLogger } from './logger.js';
import { platformTopology } from './topology.js';
import { type Delivery, PublishError, type Settlement, type Topology, type Transport } from './transport.js';

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const RUN = `t-${randomUUID().slice(0, 8)}-`;
const RETRY_TTL_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** spec/messaging-topology.md §1–3, copied by hand so topology.ts is checked, not trusted. */
const SPEC: Topology = {
  exchanges: [
    { name: 'ecom.events', type: 'topic' },
    { name: 'inventory.retry.exchange', type: 'direct' },
    { name: 'inventory.dlq.exchange', type: 'direct' },
    { name: 'payment.retry.exchange', type: 'direct' },
    { name: 'payment.dlq.exchange', type: 'direct' },
  ],
  queues: [
    {
      name: 'q.inventory.order-created',
      arguments: {
        'x-dead-letter-exchange': 'inventory.retry.exchange',
        'x-dead-letter-routing-key': 'q.inventory.order-created.retry',
      },
    },
    {
      name: 'q.inventory.order-created.retry',
      arguments: {
        'x-message-ttl': 10000,
        'x-dead-letter-exchange': 'ecom.events',
        'x-dead-letter-routing-key': 'order.created',
      },
    },
    { name: 'q.inventory.order-created.dlq', arguments: {} },
    {
      name: 'q.inventory.release-requested',
      arguments: {
        'x-dead-letter-exchange': 'inventory.retry.exchange',
        'x-dead-letter-routing-key': 'q.inventory.release-requested.retry',
      },
    },
    {
      name: 'q.inventory.release-requested.retry',
      arguments: {
        'x-message-ttl': 10000,
        'x-dead-letter-exchange': 'ecom.events',
        'x-dead-letter-routing-key': 'inventory.release.requested',
      },
    },
    { name: 'q.inventory.release-requested.dlq', arguments: {} },
    {
      name: 'q.payment.inventory-reserved',
      arguments: {
        'x-dead-letter-exchange': 'payment.retry.exchange',
        'x-dead-letter-routing-key': 'q.payment.inventory-reserved.retry',
      },
    },
    {
      name: 'q.payment.inventory-reserved.retry',
      arguments: {
        'x-message-ttl': 10000,
        'x-dead-letter-exchange': 'ecom.events',
        'x-dead-letter-routing-key': 'inventory.reserved',
      },
    },
    { name: 'q.payment.inventory-reserved.dlq', arguments: {} },
    { name: 'q.order.inventory-result', arguments: {} },
    { name: 'q.order.payment-result', arguments: {} },
    { name: 'q.notification.payment-result', arguments: {} },
  ],
  bindings: [
    { exchange: 'ecom.events', queue: 'q.inventory.order-created', bindingKey: 'order.created' },
    { exchange: 'ecom.events', queue: 'q.inventory.release-requested', bindingKey: 'inventory.release.requested' },
    { exchange: 'ecom.events', queue: 'q.payment.inventory-reserved', bindingKey: 'inventory.reserved' },
    { exchange: 'ecom.events', queue: 'q.order.inventory-result', bindingKey: 'inventory.*' },
    { exchange: 'ecom.events', queue: 'q.order.payment-result', bindingKey: 'payment.*' },
    { exchange: 'ecom.events', queue: 'q.notification.payment-result', bindingKey: 'payment.*' },
    {
      exchange: 'inventory.retry.exchange',
      queue: 'q.inventory.order-created.retry',
      bindingKey: 'q.inventory.order-created.retry',
    },
    {
      exchange: 'inventory.retry.exchange',
      queue: 'q.inventory.release-requested.retry',
      bindingKey: 'q.inventory.release-requested.retry',
    },
    {
      exchange: 'inventory.dlq.exchange',
      queue: 'q.inventory.order-created.dlq',
      bindingKey: 'q.inventory.order-created.dlq',
    },
    {
      exchange: 'inventory.dlq.exchange',
      queue: 'q.inventory.release-requested.dlq',
      bindingKey: 'q.inventory.release-requested.dlq',
    },
    {
      exchange: 'payment.retry.exchange',
      queue: 'q.payment.inventory-reserved.retry',
      bindingKey: 'q.payment.inventory-reserved.retry',
    },
    {
      exchange: 'payment.dlq.exchange',
      queue: 'q.payment.inventory-reserved.dlq',
      bindingKey: 'q.payment.inventory-reserved.dlq',
    },
  ],
};

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Settlements are fire-and-forget in AMQP: a depth read on another channel may trail them briefly. */
async function eventually(check: () => Promise<void>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(10);
    }
  }
}

/** Runs fn on a fresh raw channel: a 404/406 closes only that channel. */
async function onRawChannel<T>(conn: ChannelModel, fn: (ch: Channel) => Promise<T>): Promise<T> {
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  try {
    return await fn(ch);
  } finally {
    await ch.close().catch(() => {});
  }
}

const exists = (conn: ChannelModel, check: (ch: Channel) => Promise<unknown>) =>
  onRawChannel(conn, check).then(
    () => true,
    () => false,
  );

/** Closes the transport's connection from the broker side (CONNECTION_FORCED), found by its name. */
async function brokerCloseConnection(connectionName: string): Promise<void> {
  const run = promisify(execFile);
  const { stdout } = await run('rabbitmqctl', [
    '-q',
    'list_connections',
    '--no-table-headers',
    'pid',
    'client_properties',
  ]);
  const pids = stdout
    .split('\n')
    .filter((l) => l.includes(`{"connection_name","${connectionName}"}`))
    .map((l) => l.split('\t')[0] ?? '');
  assert.equal(pids.length, 1, `expected one broker connection named ${connectionName}`);
  await run('rabbitmqctl', ['-q', 'close_connection', pids[0] ?? '', 'transport test: forced close']);
}

function collectingLogger(): MessagingLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (_: object, msg?: string) => lines.push(msg ?? '');
  return { lines, debug: () => {}, info: push, warn: push, error: push };
}

interface Kind {
  name: 'amqp' | 'in-process';
  create(logger: MessagingLogger): Promise<Transport>;
}

const KINDS: Kind[] = [
  {
    name: 'amqp',
    create: (logger) => createAmqpTransport({ url: AMQP_URL, logger, connectionName: `${RUN}amqp-test` }),
  },
  { name: 'in-process', create: async (logger) => createInProcessTransport({ logger }) },
];

for (const kind of KINDS) {
  describe(`Transport contract: ${kind.name}`, () => {
    let t: Transport;
    let admin: ChannelModel | undefined;
    const log = collectingLogger();
    const declaredHere: Topology[] = [];
    /** Spec (un-namespaced) objects that did not exist before this run: removed in after(). */
    const specCreatedHere = { queues: [] as string[], exchanges: [] as string[] };
    let seq = 0;

    /** A fresh namespaced copy of the whole platform topology, declared. */
    async function fresh(): Promise<{ ns: string; ev: string }> {
      const ns = `${RUN}${kind.name}-${++seq}-`;
      const topo = platformTopology({ namespace: ns, retryTtlMs: RETRY_TTL_MS });
      declaredHere.push(topo);
      await t.declare(topo);
      return { ns, ev: `${ns}ecom.events` };
    }

    before(async () => {
      t = await kind.create(log);
      if (kind.name === 'amqp') {
        admin = await amqp.connect(AMQP_URL);
        admin.on('error', () => {});
      }
    });

    after(async () => {
      // Closed first: a transport re-declares everything it declared when it reconnects.
      await t.close();
      if (admin) {
        const conn = admin;
        // ifEmpty/ifUnused: never destroy something another process started using meanwhile.
        for (const q of specCreatedHere.queues)
          await onRawChannel(conn, (ch) => ch.deleteQueue(q, { ifEmpty: true, ifUnused: true })).catch(() => {});
        for (const e of specCreatedHere.exchanges)
          await onRawChannel(conn, (ch) => ch.deleteExchange(e, { ifUnused: true })).catch(() => {});
        for (const topo of declaredHere) {
          for (const q of topo.queues) await onRawChannel(conn, (ch) => ch.deleteQueue(q.name)).catch(() => {});
          for (const e of topo.exchanges) await onRawChannel(conn, (ch) => ch.deleteExchange(e.name)).catch(() => {});
        }
        await conn.close();
      }
    });

    test('the spec topology, declared without a namespace, matches the spec exactly', async () => {
      const topo = platformTopology();
      const sorted = (x: Topology) => ({
        exchanges: [...x.exchanges].sort((a, b) => a.name.localeCompare(b.name)),
        queues: [...x.queues].sort((a, b) => a.name.localeCompare(b.name)),
        bindings: x.bindings.map((b) => `${b.exchange} -> ${b.queue} [${b.bindingKey}]`).sort(),
      });
      assert.deepEqual(sorted(topo), sorted(SPEC));
      for (const q of topo.queues) {
        const ttl = q.arguments['x-message-ttl'];
        if (ttl !== undefined) assert.ok(Number.isInteger(ttl), 'x-message-ttl must be an integer');
      }

      // Only what this run creates on the shared broker is removed afterwards (in after()).
      if (admin) {
        for (const q of SPEC.queues)
          if (!(await exists(admin, (ch) => ch.checkQueue(q.name)))) specCreatedHere.queues.push(q.name);
        for (const e of SPEC.exchanges)
          if (!(await exists(admin, (ch) => ch.checkExchange(e.name)))) specCreatedHere.exchanges.push(e.name);
      }
      await t.declare(topo);
      await t.declare(topo); // idempotent
      if (admin) {
        const conn = admin;
        for (const e of SPEC.exchanges) {
          await onRawChannel(conn, (ch) => ch.checkExchange(e.name));
          // Re-asserting with the spec's type/flags would raise 406 PRECONDITION_FAILED on any difference.
          await onRawChannel(conn, (ch) =>
            ch.assertExchange(e.name, e.type, { durable: true, autoDelete: false, internal: false }),
          );
        }
        for (const q of SPEC.queues) {
          await onRawChannel(conn, (ch) => ch.checkQueue(q.name));
          await onRawChannel(conn, (ch) =>
            ch.assertQueue(q.name, { durable: true, exclusive: false, autoDelete: false, arguments: q.arguments }),
          );
        }
        // The check itself can fail: a different TTL is refused.
        await assert.rejects(
          onRawChannel(conn, (ch) =>
            ch.assertQueue('q.inventory.order-created.retry', {
              durable: true,
              arguments: {
                'x-message-ttl': 9999,
                'x-dead-letter-exchange': 'ecom.events',
                'x-dead-letter-routing-key': 'order.created',
              },
            }),
          ),
          /PRECONDITION_FAILED/,
        );
      }
    });

    test('a conflicting re-declare rejects declare() and leaves the transport usable', async () => {
      const { ns, ev } = await fresh();
      await t.declare(platformTopology({ namespace: ns, retryTtlMs: RETRY_TTL_MS })); // same again: no-op
      await assert.rejects(
        t.declare({
          exchanges: [],
          queues: [{ name: `${ns}q.inventory.order-created.retry`, arguments: { 'x-message-ttl': RETRY_TTL_MS + 1 } }],
          bindings: [],
        }),
        /PRECONDITION_FAILED/,
      );
      await assert.rejects(
        t.declare({ exchanges: [{ name: ev, type: 'direct' }], queues: [], bindings: [] }),
        /PRECONDITION_FAILED/,
      );
      await assert.rejects(
        t.declare({
          exchanges: [],
          queues: [{ name: `${ns}q.order.payment-result`, arguments: { 'x-message-ttl': 5 } }],
          bindings: [],
        }),
        /PRECONDITION_FAILED/,
      );
      assert.equal(t.isHealthy(), true);
      await t.publish({ exchange: ev, routingKey: 'payment.succeeded', body: Buffer.from('{}') });
      assert.equal(await t.queueDepth(`${ns}q.order.payment-result`), 1);
    });

    test("routing: 'inventory.*' matches inventory.reserved but not inventory.release.requested", async () => {
      const { ns, ev } = await fresh();
      await t.publish({
        exchange: ev,
        routingKey: 'inventory.reserved',
        body: Buffer.from('a'),
        messageId: 'reserved',
      });
      await t.publish({
        exchange: ev,
        routingKey: 'inventory.release.requested',
        body: Buffer.from('b'),
        messageId: 'release',
      });
      assert.equal(await t.queueDepth(`${ns}q.order.inventory-result`), 1);
      assert.equal(await t.queueDepth(`${ns}q.payment.inventory-reserved`), 1);
      assert.equal(await t.queueDepth(`${ns}q.inventory.release-requested`), 1);
      assert.equal(await t.queueDepth(`${ns}q.inventory.order-created`), 0);
      const got = await t.get(`${ns}q.order.inventory-result`);
      assert.equal(got?.delivery.messageId, 'reserved');
      assert.equal(got?.delivery.routingKey, 'inventory.reserved');
      await got?.settle({ kind: 'ack' });
    });

    test('publish → consume preserves body, messageId, headers and content type; buffers are not shared', async () => {
      const { ns, ev } = await fresh();
      const received: Delivery[] = [];
      const sub = await t.consume(
        `${ns}q.notification.payment-result`,
        async (d) => {
          received.push(d);
          d.body.fill(0); // must not reach the other queue's copy
          return { kind: 'ack' };
        },
        { prefetch: 5 },
      );
      const body = Buffer.from('{"total":"12.50","ünï":"çødé"}');
      const headers = {
        'x-trace-id': 'trace-1',
        'x-event-type': 'payment.succeeded',
        attempt: 3,
        ok: true,
        list: ['a', 1],
        nested: { k: 'v' },
      };
      await t.publish({
        exchange: ev,
        routingKey: 'payment.succeeded',
        body,
        messageId: 'msg-1',
        headers,
        contentType: 'application/json',
        contentEncoding: 'UTF-8',
      });
      body.fill(0x21); // the publisher reusing its buffer must not change what was sent
      await waitFor(() => received.length === 1, 5000, 'the delivery');
      await sub.cancel();
      const d = received[0];
      assert.ok(d);
      assert.equal(d.messageId, 'msg-1');
      assert.equal(d.routingKey, 'payment.succeeded');
      assert.equal(d.exchange, ev);
      assert.equal(d.contentType, 'application/json');
      assert.equal(d.redelivered, false);
      assert.deepEqual(d.headers, headers);
      const other = await t.get(`${ns}q.order.payment-result`);
      assert.equal(other?.delivery.body.toString(), '{"total":"12.50","ünï":"çødé"}');
      await other?.settle({ kind: 'ack' });
    });

    test('an unroutable publish rejects with PublishError(unroutable), never resolves', async () => {
      const { ev } = await fresh();
      const noBinding = t.publish({
        exchange: ev,
        routingKey: 'nobody.listens',
        body: Buffer.from('x'),
        messageId: 'lost?',
      });
      await assert.rejects(noBinding, (e: unknown) => e instanceof PublishError && e.reason === 'unroutable');
      const noExchange = t.publish({ exchange: `${ev}.missing`, routingKey: 'order.created', body: Buffer.from('x') });
      await assert.rejects(noExchange, (e: unknown) => e instanceof PublishError && e.reason === 'unroutable');
      // Interleaved routable and unroutable publishes are each told apart correctly.
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          t.publish({
            exchange: ev,
            routingKey: i % 2 === 0 ? 'order.created' : 'nobody.listens',
            body: Buffer.from('same'),
            messageId: 'same',
          }),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'fulfilled' : 'rejected')),
      );
      assert.equal(t.isHealthy(), true);
    });

    test('reject → retry queue → back to the main queue after the TTL, x-death count 1 then 2', async () => {
      const { ns, ev } = await fresh();
      const main = `${ns}q.inventory.order-created`;
      const retry = `${ns}q.inventory.order-created.retry`;
      const seen: { d: Delivery; at: number }[] = [];
      const sub = await t.consume(
        main,
        async (d): Promise<Settlement> => {
          seen.push({ d, at: Date.now() });
          return seen.length < 3 ? { kind: 'reject' } : { kind: 'ack' };
        },
        { prefetch: 1 },
      );
      await t.publish({
        exchange: ev,
        routingKey: 'order.created',
        body: Buffer.from('{"order":1}'),
        messageId: 'order-1',
        headers: { 'x-trace-id': 'tr' },
      });
      await waitFor(() => seen.length === 3, 5000, 'three deliveries');
      await sub.cancel();
      assert.deepEqual(
        seen.map((s) => deathCount(s.d.headers, main, 'rejected')),
        [0, 1, 2],
      );
      assert.deepEqual(
        seen.map((s) => deathCount(s.d.headers, retry, 'expired')),
        [0, 1, 2],
      );
      for (const s of seen) {
        assert.equal(s.d.messageId, 'order-1');
        assert.equal(s.d.routingKey, 'order.created'); // the retry queue dead-letters with the original key
        assert.equal(s.d.exchange, ev);
        assert.equal(s.d.headers['x-trace-id'], 'tr');
        assert.equal(s.d.body.toString(), '{"order":1}');
      }
      const [first, second, third] = seen.map((s) => s.at);
      assert.ok(first !== undefined && second !== undefined && third !== undefined);
      assert.ok(second - first >= RETRY_TTL_MS - 20, `parked for the TTL (${second - first} ms)`);
      assert.ok(third - second >= RETRY_TTL_MS - 20, `parked for the TTL (${third - second} ms)`);
      const deaths = readXDeath(seen[2]?.d.headers ?? {});
      const rejected = deaths.find((e) => e.reason === 'rejected');
      const expired = deaths.find((e) => e.reason === 'expired');
      assert.deepEqual(
        { queue: rejected?.queue, exchange: rejected?.exchange, keys: rejected?.routingKeys },
        { queue: main, exchange: ev, keys: ['order.created'] },
      );
      assert.deepEqual(
        { queue: expired?.queue, exchange: expired?.exchange, keys: expired?.routingKeys },
        { queue: retry, exchange: `${ns}inventory.retry.exchange`, keys: [retry] },
      );
      assert.ok(
        typeof expired?.time === 'number' && Math.abs(expired.time - Date.now() / 1000) < 60,
        'time is unix seconds',
      );
      assert.equal(seen[2]?.d.headers['x-first-death-reason'], 'rejected');
      assert.equal(await t.queueDepth(retry), 0);
      assert.equal(await t.queueDepth(main), 0);
    });

    test('prefetch: never more than N unsettled deliveries per consumer', async () => {
      const { ns, ev } = await fresh();
      let inFlight = 0;
      let maxInFlight = 0;
      let done = 0;
      const gates: (() => void)[] = [];
      let open = false;
      const sub = await t.consume(
        `${ns}q.order.payment-result`,
        async () => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          if (!open) await new Promise<void>((r) => gates.push(r));
          inFlight--;
          done++;
          return { kind: 'ack' };
        },
        { prefetch: 3 },
      );
      for (let i = 0; i < 10; i++)
        await t.publish({
          exchange: ev,
          routingKey: 'payment.failed',
          body: Buffer.from(String(i)),
          messageId: `p${i}`,
        });
      await waitFor(() => inFlight === 3, 5000, '3 deliveries in flight');
      await sleep(150); // room for a 4th delivery to (wrongly) arrive
      assert.equal(inFlight, 3);
      assert.equal(await t.queueDepth(`${ns}q.order.payment-result`), 7);
      open = true;
      for (const g of gates.splice(0)) g();
      await waitFor(() => done === 10, 5000, 'all 10 handled');
      await sub.cancel();
      assert.equal(maxInFlight, 3);
    });

    test('requeue redelivers the same message with redelivered=true', async () => {
      const { ns, ev } = await fresh();
      const seen: Delivery[] = [];
      const sub = await t.consume(
        `${ns}q.notification.payment-result`,
        async (d): Promise<Settlement> => {
          seen.push(d);
          return seen.length === 1 ? { kind: 'requeue' } : { kind: 'ack' };
        },
        { prefetch: 1 },
      );
      await t.publish({ exchange: ev, routingKey: 'payment.succeeded', body: Buffer.from('r'), messageId: 'rq-1' });
      await waitFor(() => seen.length === 2, 5000, 'the redelivery');
      await sub.cancel();
      assert.deepEqual(
        seen.map((d) => [d.messageId, d.redelivered]),
        [
          ['rq-1', false],
          ['rq-1', true],
        ],
      );
      assert.equal(await t.queueDepth(`${ns}q.notification.payment-result`), 0);
    });

    test('get() takes one message in FIFO order; queueDepth() counts ready messages', async () => {
      const { ns, ev } = await fresh();
      const q = `${ns}q.order.inventory-result`;
      assert.equal(await t.queueDepth(q), 0);
      assert.equal(await t.get(q), null);
      for (const id of ['g1', 'g2', 'g3'])
        await t.publish({ exchange: ev, routingKey: 'inventory.failed', body: Buffer.from(id), messageId: id });
      assert.equal(await t.queueDepth(q), 3);
      const a = await t.get(q);
      assert.equal(a?.delivery.messageId, 'g1');
      assert.equal(a?.delivery.redelivered, false);
      assert.equal(await t.queueDepth(q), 2); // unsettled: not ready
      await a?.settle({ kind: 'requeue' });
      await eventually(async () => assert.equal(await t.queueDepth(q), 3));
      const again = await t.get(q);
      assert.deepEqual([again?.delivery.messageId, again?.delivery.redelivered], ['g1', true]);
      await again?.settle({ kind: 'ack' });
      await assert.rejects(async () => again?.settle({ kind: 'ack' }), /already settled/);
      const b = await t.get(q);
      assert.equal(b?.delivery.messageId, 'g2');
      await b?.settle({ kind: 'reject' }); // no DLX on q.order.*: the broker drops it
      await eventually(async () => assert.equal(await t.queueDepth(q), 1));
      const c = await t.get(q);
      assert.equal(c?.delivery.body.toString(), 'g3');
      await c?.settle({ kind: 'ack' });
      assert.equal(await t.queueDepth(q), 0);
      await assert.rejects(t.queueDepth(`${ns}q.no-such-queue`), /NOT_FOUND/);
      await assert.rejects(t.get(`${ns}q.no-such-queue`), /NOT_FOUND/);
      await assert.rejects(
        t.consume(`${ns}q.no-such-queue`, async () => ({ kind: 'ack' }), { prefetch: 1 }),
        /NOT_FOUND/,
      );
    });

    // AMQP-only: the in-process twin has no connection to lose, so these are not registered there.
    const amqpTest = kind.name === 'amqp' ? test : () => undefined;

    amqpTest(
      'AMQP: the broker closing the connection mid-stream loses no message (1,000 published, 1,000 distinct consumed)',
      async (ctx) => {
        const at = t as AmqpTransport;
        const { ns, ev } = await fresh();
        const counts = new Map<string, number>();
        let deliveries = 0;
        const sub = await t.consume(
          `${ns}q.order.payment-result`,
          async (d) => {
            deliveries++;
            counts.set(d.messageId ?? '', (counts.get(d.messageId ?? '') ?? 0) + 1);
            if (deliveries % 7 === 0) await sleep(1); // keep some deliveries unacked in flight
            return { kind: 'ack' };
          },
          { prefetch: 20 },
        );
        const TOTAL = 1000;
        let closedRejections = 0;
        let slowestClosedRejectionMs = 0;
        /** What the outbox relay does: keep the row and publish again when told 'closed'. */
        async function publishUntilConfirmed(i: number): Promise<void> {
          for (;;) {
            const started = Date.now();
            try {
              await t.publish({
                exchange: ev,
                routingKey: 'payment.succeeded',
                body: Buffer.from(`{"n":${i}}`),
                messageId: `s-${i}`,
              });
              return;
            } catch (e) {
              assert.ok(e instanceof PublishError && e.reason === 'closed', `unexpected publish failure: ${String(e)}`);
              closedRejections++;
              slowestClosedRejectionMs = Math.max(slowestClosedRejectionMs, Date.now() - started);
              await sleep(20);
            }
          }
        }
        let next = 0;
        let healthyAgainMs = -1;
        let rabbitmqctlMs = 0;
        const killer = (async () => {
          await waitFor(() => next >= 300, 10_000, '300 publishes');
          const t0 = Date.now();
          await brokerCloseConnection(at.connectionName);
          rabbitmqctlMs = Date.now() - t0;
          const t1 = Date.now();
          await waitFor(() => !t.isHealthy(), 2000, 'the loss to be noticed').catch(() => {});
          await waitFor(() => t.isHealthy(), 5000, 'healthy again');
          healthyAgainMs = Date.now() - t1;
        })();
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (next < TOTAL) await publishUntilConfirmed(next++);
          }),
        );
        await killer;
        await waitFor(() => counts.size === TOTAL, 20_000, `${TOTAL} distinct messages (have ${counts.size})`);
        await waitFor(() => t.isHealthy(), 5000, 'healthy again');
        await sub.cancel();
        const duplicates = deliveries - counts.size;
        ctx.diagnostic(
          `reconnect took ${at.lastReconnectMs} ms from loss to resumed subscriptions (${declaredHere.length} topologies re-declared; ` +
            `unhealthy window seen by the test ${healthyAgainMs} ms; the rabbitmqctl calls took ${rabbitmqctlMs} ms); ` +
            `deliveries ${deliveries}, distinct ${counts.size}, duplicates ${duplicates}; publishes rejected 'closed' ${closedRejections} (slowest rejection ${slowestClosedRejectionMs} ms)`,
        );
        assert.equal(counts.size, TOTAL);
        assert.ok(at.lastReconnectMs !== null && at.lastReconnectMs < 5000, `reconnected (${at.lastReconnectMs} ms)`);
        assert.ok(log.lines.includes('AMQP connection lost; reconnecting'), 'the loss was logged');
        assert.equal(await t.queueDepth(`${ns}q.order.payment-result`), 0);
      },
    );

    amqpTest(
      'AMQP: after a network drop, publish() fails fast while down, then topology and subscriptions come back by themselves',
      async () => {
        const at = t as AmqpTransport;
        const { ns, ev } = await fresh();
        const q = `${ns}q.notification.payment-result`;
        const seen: string[] = [];
        const sub = await t.consume(
          q,
          async (d) => {
            seen.push(d.messageId ?? '');
            return { kind: 'ack' };
          },
          { prefetch: 5 },
        );
        // Lose a declared queue behind the transport's back; the reconnect must re-declare it.
        const lost = `${ns}q.order.payment-result`;
        await onRawChannel(admin as ChannelModel, (ch) => ch.deleteQueue(lost));
        at.dropConnectionForTest();
        // Like a real drop, the loss is noticed asynchronously (socket 'error'/'close').
        await waitFor(() => !t.isHealthy(), 1000, 'the loss to be noticed');
        const started = Date.now();
        await assert.rejects(
          t.publish({ exchange: ev, routingKey: 'payment.succeeded', body: Buffer.from('x') }),
          (e: unknown) => e instanceof PublishError && e.reason === 'closed',
        );
        assert.ok(Date.now() - started < 100, 'rejected without waiting for the broker');
        await waitFor(() => t.isHealthy(), 5000, 'reconnect');
        assert.ok(await exists(admin as ChannelModel, (ch) => ch.checkQueue(lost)), 're-declared after reconnect');
        await t.publish({
          exchange: ev,
          routingKey: 'payment.succeeded',
          body: Buffer.from('y'),
          messageId: 'after-drop',
        });
        await waitFor(() => seen.includes('after-drop'), 5000, 'delivery on the resumed subscription');
        await sub.cancel();
      },
    );
  });
}

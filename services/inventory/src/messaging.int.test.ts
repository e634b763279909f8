/**
 * inventory-service's consumers through the kernel pipeline (events.md §6.1–6.2), on RabbitMQ +
 * PostgreSQL + Redis and on the in-process transport + PGlite + in-process cache. Events are
 * published to the service's own namespaced `ecom.events`; its reactions are read from a probe
 * queue bound like order-service's.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createEvent, type EventData, type EventType } from '@ecom/contracts';
import {
  attachProbe,
  DB_MODES,
  deleteAmqpTopology,
  startTestIssuer,
  TEST_AMQP_URL,
  type TestIssuer,
  waitFor,
} from '@ecom/platform/testing';
import { type Inventory, startInventory } from './test-support/harness.js';

/** waitFor, typed for a function that returns undefined until the value is there. */
const eventually = async <T>(fn: () => T | undefined | Promise<T | undefined>): Promise<T> => (await waitFor(fn)) as T;

interface Envelope {
  event_id: string;
  event_type: string;
  trace_id: string;
  identity: unknown;
  data: Record<string, unknown>;
}

for (const mode of DB_MODES) {
  const stack = mode === 'postgres' ? 'RabbitMQ + PostgreSQL + Redis' : 'in-process + PGlite';
  describe(`inventory-service consumers on ${stack}`, () => {
    let issuer: TestIssuer;
    let inv: Inventory;
    const emitted: Envelope[] = [];
    const identity = { user_id: 'user-7', roles: ['buyer'] };

    before(async () => {
      issuer = await startTestIssuer();
      inv = await startInventory(mode, issuer);
      await attachProbe(inv.service.deps.transport, inv.namespace, {
        bindingKeys: ['inventory.reserved', 'inventory.failed', 'inventory.released'],
        onDelivery: (d) => emitted.push(JSON.parse(d.body.toString()) as Envelope),
      });
    });
    after(async () => {
      await inv?.close();
      if (inv && mode === 'postgres') {
        await deleteAmqpTopology(TEST_AMQP_URL, {
          exchanges: [],
          queues: [{ name: `${inv.namespace}probe`, arguments: {} }],
          bindings: [],
        });
      }
      await issuer?.close();
    });

    const traceId = randomUUID();
    const publish = async <T extends EventType>(
      type: T,
      routingKey: string,
      data: EventData<T>,
      messageId?: string,
    ) => {
      const event = createEvent(type, data, { traceId, identity });
      await inv.service.deps.transport.publish({
        exchange: `${inv.namespace}ecom.events`,
        routingKey,
        body: Buffer.from(JSON.stringify(event)),
        messageId: messageId ?? event.event_id,
        contentType: 'application/json',
        headers: { 'x-event-type': type },
      });
      return event;
    };
    const orderCreated = (orderId: string, items: [string, number][], messageId?: string) =>
      publish(
        'OrderCreated',
        'order.created',
        {
          order_id: orderId,
          user_id: 'user-7',
          items: items.map(([sku_id, quantity]) => ({ sku_id, quantity, price: 9.95 })),
          total_amount: 48.3,
        },
        messageId,
      );
    const releaseRequested = (orderId: string, messageId?: string) =>
      publish(
        'InventoryReleaseRequested',
        'inventory.release.requested',
        { order_id: orderId, reason: 'PAYMENT_FAILED' },
        messageId,
      );
    const eventsFor = (orderId: string) => emitted.filter((e) => e.data.order_id === orderId);
    const consumed = async (messageId: string, consumer: string) =>
      (
        await inv.service.deps.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM consumed_messages WHERE message_id = $1 AND consumer = $2',
          [messageId, consumer],
        )
      )[0]?.n === 1;
    const outboxFor = async (orderId: string) =>
      (
        await inv.service.deps.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM outbox_events WHERE payload LIKE $1',
          [`%${orderId}%`],
        )
      )[0]?.n ?? -1;
    const reservation = async (orderId: string) =>
      (
        await inv.service.deps.db.query<{ id: string; status: string; reason: string | null }>(
          'SELECT id, status, reason FROM inventory_reservations WHERE order_id = $1',
          [orderId],
        )
      )[0];
    const stockOf = async (sku: string) =>
      (await inv.service.app.inject({ method: 'GET', url: `/api/stocks/${sku}` })).json() as {
        availableQty: number;
        reservedQty: number;
      };
    const setStock = (sku: string, availableQty: number) =>
      inv.service.app.inject({ method: 'POST', url: '/api/stocks', payload: { skuId: sku, availableQty } });
    const sku = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
    /** Deliveries of q.inventory.order-created handled inside a batch so far (messaging_batch_size). */
    const batchedDeliveries = async () => {
      const text = await inv.service.deps.registry.metrics();
      const line = text
        .split('\n')
        .find((l) => l.startsWith('messaging_batch_size_sum') && l.includes('q.inventory.order-created'));
      return line ? Number(line.split(' ').pop()) : 0;
    };

    test('OrderCreated with stock → RESERVED + InventoryReserved (items summed, total_amount, trace/identity copied), cache evicted', async () => {
      const [a, b] = [sku('A'), sku('B')];
      await setStock(a, 10);
      await setStock(b, 10);
      assert.equal((await stockOf(a)).availableQty, 10); // cached now
      const orderId = randomUUID();
      await orderCreated(orderId, [
        [a, 2],
        [b, 1],
        [a, 3],
      ]);
      const [event] = await eventually(() => (eventsFor(orderId).length === 1 ? eventsFor(orderId) : undefined));
      assert.equal(event!.event_type, 'InventoryReserved');
      assert.equal(event!.trace_id, traceId);
      assert.deepEqual(event!.identity, identity);
      const r = await reservation(orderId);
      assert.equal(r?.status, 'RESERVED');
      assert.equal(event!.data.reservation_id, r?.id);
      assert.equal(event!.data.total_amount, 48.3);
      const items = (event!.data.reserved_items as { sku_id: string; quantity: number }[]).sort((x, y) =>
        x.sku_id < y.sku_id ? -1 : 1,
      );
      assert.deepEqual(items, [
        { sku_id: a, quantity: 5 },
        { sku_id: b, quantity: 1 },
      ]);
      // Evicted after the commit (the TTL is 300 s: without the eviction this would time out).
      await waitFor(async () => {
        const now = await stockOf(a);
        return now.availableQty === 5 && now.reservedQty === 5;
      });
    });

    test('OrderCreated that cannot be served → FAILED + InventoryFailed with the exact reasons', async () => {
      const s = sku('SHORT');
      await setStock(s, 1);
      const short = randomUUID();
      await orderCreated(short, [[s, 2]]);
      const missing = randomUUID();
      await orderCreated(missing, [
        [s, 1],
        ['NO-SUCH-SKU', 1],
      ]);
      const [f1] = await eventually(() => (eventsFor(short).length === 1 ? eventsFor(short) : undefined));
      const [f2] = await eventually(() => (eventsFor(missing).length === 1 ? eventsFor(missing) : undefined));
      assert.equal(f1!.event_type, 'InventoryFailed');
      assert.equal(f1!.data.reason, `INSUFFICIENT_STOCK:${s} available=1 requested=2`);
      assert.equal(f1!.data.reservation_id, (await reservation(short))?.id);
      assert.equal(f2!.data.reason, 'SKU_NOT_FOUND:NO-SUCH-SKU');
      const left = await stockOf(s);
      assert.deepEqual([left.availableQty, left.reservedQty], [1, 0]);
    });

    test('a duplicate delivery takes effect once; a replay with a new message id reuses the reservation', async () => {
      const s = sku('DUP');
      await setStock(s, 10);
      const orderId = randomUUID();
      const messageId = randomUUID();
      await orderCreated(orderId, [[s, 4]], messageId);
      await orderCreated(orderId, [[s, 4]], messageId);
      await waitFor(() => eventsFor(orderId).length === 1);
      const duplicates = async () => {
        const text = await inv.service.deps.registry.metrics();
        return text
          .split('\n')
          .filter(
            (l) =>
              l.startsWith('messaging_consumed_total') &&
              l.includes('outcome="duplicate"') &&
              l.includes('order-created'),
          )
          .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
      };
      await waitFor(async () => (await duplicates()) >= 1);
      assert.equal(eventsFor(orderId).length, 1);
      await waitFor(async () => (await stockOf(s)).availableQty === 6);

      await orderCreated(orderId, [[s, 9]]); // another message for the same order
      await waitFor(() => eventsFor(orderId).length === 2);
      const [first, second] = eventsFor(orderId);
      assert.equal(second!.event_type, 'InventoryReserved');
      assert.equal(second!.data.reservation_id, first!.data.reservation_id);
      assert.equal((await stockOf(s)).availableQty, 6, 'stock moved once');
    });

    test('a burst on a scarce SKU is reserved in batches: exactly the stock’s worth RESERVED, the rest FAILED, every move counted once', async () => {
      const batched0 = await batchedDeliveries();
      const [scarce, plenty] = [sku('SCARCE'), sku('PLENTY')];
      await setStock(scarce, 25);
      await setStock(plenty, 1000);
      const orders = Array.from({ length: 40 }, () => randomUUID());
      await Promise.all(
        orders.map((orderId) =>
          orderCreated(orderId, [
            [plenty, 2],
            [scarce, 1],
          ]),
        ),
      );
      const again = orders[7]!;
      // The same order again, another message (same items: whichever copy is reserved first wins,
      // and the other gets its reservation back, unchanged).
      await orderCreated(again, [
        [plenty, 2],
        [scarce, 1],
      ]);
      await waitFor(() => orders.every((o) => eventsFor(o).length === (o === again ? 2 : 1)), { timeoutMs: 20_000 });
      const outcomes = orders.map((o) => eventsFor(o)[0]!);
      const reserved = outcomes.filter((e) => e.event_type === 'InventoryReserved');
      const failed = outcomes.filter((e) => e.event_type === 'InventoryFailed');
      assert.equal(reserved.length, 25);
      assert.equal(failed.length, 15);
      for (const f of failed) assert.equal(f.data.reason, `INSUFFICIENT_STOCK:${scarce} available=0 requested=1`);
      const [first, second] = eventsFor(again);
      assert.equal(second!.event_type, first!.event_type);
      assert.equal(second!.data.reservation_id, first!.data.reservation_id);
      await waitFor(async () => {
        const [s1, s2] = [await stockOf(scarce), await stockOf(plenty)];
        return s1.availableQty === 0 && s1.reservedQty === 25 && s2.availableQty === 950 && s2.reservedQty === 50;
      });
      const rows = await inv.service.deps.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM inventory_reservations WHERE order_id = ANY($1::uuid[])',
        [orders],
      );
      assert.equal(rows[0]?.n, 40, 'one reservation per order');
      assert.ok((await batchedDeliveries()) > batched0, 'some orders shared a transaction');
    });

    test('release: RESERVED → RELEASED, stock back, one audit row, InventoryReleased; then nothing more', async () => {
      const s = sku('REL');
      await setStock(s, 10);
      const orderId = randomUUID();
      await orderCreated(orderId, [[s, 3]]);
      await waitFor(() => eventsFor(orderId).length === 1);
      await waitFor(async () => (await stockOf(s)).availableQty === 7);

      const request = await releaseRequested(orderId);
      const released = await eventually(() => eventsFor(orderId).find((e) => e.event_type === 'InventoryReleased'));
      const r = await reservation(orderId);
      assert.deepEqual([r?.status, r?.reason], ['RELEASED', 'PAYMENT_FAILED']);
      const [audit] = await inv.service.deps.db.query<{
        id: string;
        reservation_id: string;
        reason: string;
        created_at: Date;
        micros: number;
      }>(
        `SELECT id, reservation_id, reason, created_at,
                (extract(microseconds FROM created_at)::int % 1000) AS micros
           FROM inventory_release_events WHERE order_id = $1`,
        [orderId],
      );
      assert.ok(audit);
      assert.deepEqual([audit.reservation_id, audit.reason, audit.micros], [r?.id, 'PAYMENT_FAILED', 0]);
      assert.ok(Math.abs(audit.created_at.getTime() - Date.now()) < 60_000);
      assert.equal(released.data.release_id, audit.id);
      assert.equal(released.data.reservation_id, r?.id);
      assert.equal(released.data.reason, 'PAYMENT_FAILED');
      assert.deepEqual(released.data.released_items, [{ sku_id: s, quantity: 3 }]);
      assert.equal(released.trace_id, request.trace_id);
      await waitFor(async () => {
        const now = await stockOf(s);
        return now.availableQty === 10 && now.reservedQty === 0;
      });
      const listed = (
        await inv.service.app.inject({ method: 'GET', url: `/api/stocks/release-events?orderId=${orderId}` })
      ).json();
      assert.equal(listed.items[0].releaseId, audit.id);

      // A second release (new message id) and an OrderCreated replay: both emit nothing.
      const again = await releaseRequested(orderId);
      const replay = await orderCreated(orderId, [[s, 3]]);
      await waitFor(() => consumed(again.event_id, 'inventory.release-requested'));
      await waitFor(() => consumed(replay.event_id, 'inventory.order-created'));
      assert.equal(await outboxFor(orderId), 2, 'only InventoryReserved and InventoryReleased were ever written');
      assert.equal(eventsFor(orderId).length, 2);
      assert.equal((await stockOf(s)).availableQty, 10);
    });

    test('release of a FAILED reservation or an unknown order emits nothing and changes nothing', async () => {
      const s = sku('NOREL');
      await setStock(s, 1);
      const failedOrder = randomUUID();
      await orderCreated(failedOrder, [[s, 5]]);
      await waitFor(() => eventsFor(failedOrder).length === 1);
      const r1 = await releaseRequested(failedOrder);
      const unknown = randomUUID();
      const r2 = await releaseRequested(unknown);
      await waitFor(() => consumed(r1.event_id, 'inventory.release-requested'));
      await waitFor(() => consumed(r2.event_id, 'inventory.release-requested'));
      assert.equal(await outboxFor(failedOrder), 1, 'only the InventoryFailed');
      assert.equal(await outboxFor(unknown), 0);
      assert.equal((await reservation(failedOrder))?.status, 'FAILED');
      const audit = await inv.service.deps.db.query(
        'SELECT 1 FROM inventory_release_events WHERE order_id = ANY($1::uuid[])',
        [[failedOrder, unknown]],
      );
      assert.equal(audit.length, 0);
    });

    test('an OrderCreated with an impossible SKU is dead-lettered at once, not retried', async () => {
      const orderId = randomUUID();
      await orderCreated(orderId, [['S'.repeat(65), 1]]);
      const dlq = `${inv.namespace}q.inventory.order-created.dlq`;
      await waitFor(async () => (await inv.service.deps.transport.queueDepth(dlq)) >= 1);
      assert.equal(await reservation(orderId), undefined);
    });
  });
}

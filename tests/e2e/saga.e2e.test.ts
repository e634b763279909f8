/**
 * The saga end to end, black box (HTTP + AMQP only), on the real servers AND embedded:
 * happy path, insufficient stock, payment failure with compensation, one trace_id and identity
 * across every event of an order, duplicate and poison messages injected into the real queues,
 * and — in a second stack — services started in reverse order. The invariant checker closes
 * every stack.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createEvent } from '@ecom/contracts';
import type { Delivery } from '@ecom/platform';
import { attachProbe, waitFor } from '@ecom/platform/testing';
import { checkInvariants } from '../invariants.js';
import { json, placeOrder, seed, stockOf, token, waitForStatus } from './client.js';
import { type Stack, type StackMode, startStack } from './stack.js';

const DECLINE_ABOVE = 1000;
const MODES: readonly StackMode[] = ['real', 'embedded'];

for (const mode of MODES) {
  describe(`saga on ${mode === 'real' ? 'PostgreSQL + RabbitMQ + Redis' : 'PGlite + in-process broker + in-process cache'}`, () => {
    let stack: Stack;
    let buyer: string;
    const sku = (s: string) => `${s}-${mode}`;
    const initial = new Map<string, number>();
    const orderIds: string[] = [];
    const explained = new Set<string>();
    /** Every event on ecom.events, as a probe queue bound with '#' sees it. */
    const seen: Delivery[] = [];

    before(async () => {
      stack = await startStack(mode, { per: { payment: { PAYMENT_DECLINE_ABOVE_AMOUNT: String(DECLINE_ABOVE) } } });
      await attachProbe(stack.transport, stack.name(''), { onDelivery: (d) => seen.push(d) });
      const products = [
        { skuId: sku('MUG'), price: 19.9, stock: 50 },
        { skuId: sku('BEANS'), price: 8.5, stock: 50 },
        { skuId: sku('GRINDER'), price: 1499, stock: 5 },
        { skuId: sku('RARE'), price: 5, stock: 1 },
      ];
      await seed(stack, products);
      for (const p of products) initial.set(p.skuId, p.stock);
      buyer = await token(stack, 'buyer-1', ['buyer']);
    });

    after(async () => {
      try {
        const report = await checkInvariants({
          order: stack.db('order'),
          inventory: stack.db('inventory'),
          payment: stack.db('payment'),
          initialStock: initial,
          orderIds,
          dlqs: {
            transport: stack.transport,
            queues: [
              'q.inventory.order-created.dlq',
              'q.inventory.release-requested.dlq',
              'q.payment.inventory-reserved.dlq',
              'q.order.inventory-result.dlq',
              'q.order.payment-result.dlq',
              'q.notification.payment-result.dlq',
            ].map(stack.name),
          },
          explained,
        });
        assert.deepEqual(report.violations, [], `invariants after the ${mode} run`);
        assert.equal(report.counts.pending, 0);
      } finally {
        await stack.close();
      }
    });

    const order = async (
      items: { skuId: string; quantity: number; price: number }[],
      opts: { traceId?: string } = {},
    ) => {
      const res = await placeOrder(stack, buyer, { userId: 'buyer-1', items }, opts);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      orderIds.push(res.body.orderId);
      return res.body as { orderId: string; totalAmount: number; status: string };
    };

    test('happy path: NEW → CONFIRMED, stock reserved, payment and notification recorded', async () => {
      const placed = await order([
        { skuId: sku('MUG'), quantity: 2, price: 19.9 },
        { skuId: sku('BEANS'), quantity: 1, price: 8.5 },
      ]);
      assert.equal(placed.status, 'NEW');
      assert.equal(placed.totalAmount, 48.3);
      const done = await waitForStatus(stack, buyer, placed.orderId);
      assert.equal(done.status, 'CONFIRMED');
      const mug = await stockOf(stack, sku('MUG'));
      assert.deepEqual([mug.availableQty, mug.reservedQty], [48, 2]);
      const notes = await json(
        await fetch(`${stack.urls.notification}/api/notifications/events?orderId=${placed.orderId}`),
      );
      assert.equal(notes.length, 1);
      assert.equal(notes[0].eventType, 'PaymentSucceeded');
      assert.equal(notes[0].userId, 'buyer-1');
    });

    test('insufficient stock: FAILED, no payment attempted, stock untouched', async () => {
      const placed = await order([{ skuId: sku('RARE'), quantity: 2, price: 5 }]);
      const done = await waitForStatus(stack, buyer, placed.orderId);
      assert.equal(done.status, 'FAILED');
      const rare = await stockOf(stack, sku('RARE'));
      assert.deepEqual([rare.availableQty, rare.reservedQty], [1, 0]);
      const failed = await waitFor(() =>
        seen.find((d) => d.routingKey === 'inventory.failed' && d.body.toString().includes(placed.orderId)),
      );
      assert.match(
        JSON.parse(failed.body.toString()).data.reason,
        new RegExp(`^INSUFFICIENT_STOCK:${sku('RARE')} available=1 requested=2$`),
      );
      assert.ok(!seen.some((d) => d.routingKey.startsWith('payment.') && d.body.toString().includes(placed.orderId)));
    });

    test('payment failure: FAILED, the reservation released, stock restored, audit row, CSV line and notification', async () => {
      const placed = await order([{ skuId: sku('GRINDER'), quantity: 1, price: 1499 }]);
      const done = await waitForStatus(stack, buyer, placed.orderId);
      assert.equal(done.status, 'FAILED');
      await waitFor(async () => (await stockOf(stack, sku('GRINDER'))).reservedQty === 0, { timeoutMs: 20_000 });
      const grinder = await stockOf(stack, sku('GRINDER'));
      assert.deepEqual([grinder.availableQty, grinder.reservedQty], [5, 0]);
      const audit = await json(
        await fetch(`${stack.urls.inventory}/api/stocks/release-events?orderId=${placed.orderId}`),
      );
      const rows = audit.content ?? audit.items ?? audit;
      assert.equal(rows.length, 1, JSON.stringify(audit));
      assert.equal(rows[0].reason, 'PAYMENT_FAILED');
      const csv = await (
        await fetch(`${stack.urls.inventory}/api/stocks/release-events/export`, { headers: { accept: 'text/csv' } })
      ).text();
      assert.ok(csv.split('\n').some((line) => line.includes(placed.orderId) && line.includes('PAYMENT_FAILED')));
      const notes = await json(
        await fetch(`${stack.urls.notification}/api/notifications/events?orderId=${placed.orderId}`),
      );
      assert.equal(notes[0]?.eventType, 'PaymentFailed');
      assert.match(notes[0]?.reason, /AMOUNT_ABOVE_LIMIT/);
    });

    test('every event of one order carries the same trace_id and the buyer identity', async () => {
      const placed = await order([{ skuId: sku('GRINDER'), quantity: 1, price: 1499 }]);
      await waitForStatus(stack, buyer, placed.orderId);
      const chain = await waitFor(
        () => {
          const mine = seen
            .filter((d) => d.body.toString().includes(placed.orderId))
            .map((d) => JSON.parse(d.body.toString()));
          const types = new Set(mine.map((e) => e.event_type));
          return [
            'OrderCreated',
            'InventoryReserved',
            'PaymentFailed',
            'InventoryReleaseRequested',
            'InventoryReleased',
          ].every((t) => types.has(t))
            ? mine
            : undefined;
        },
        { timeoutMs: 20_000 },
      );
      const traceIds = new Set(chain.map((e) => e.trace_id));
      assert.equal(traceIds.size, 1, `one trace_id across ${chain.map((e) => e.event_type).join(', ')}`);
      for (const e of chain) assert.deepEqual(e.identity, { user_id: 'buyer-1', roles: ['buyer'] }, e.event_type);
      const deliveries = seen.filter((d) => d.body.toString().includes(placed.orderId));
      for (const d of deliveries) assert.equal(d.headers['x-trace-id'], [...traceIds][0]);
    });

    test('a duplicate OrderCreated injected into the queue is applied once; a poison message lands in the DLQ with its reason', async () => {
      const placed = await order([{ skuId: sku('MUG'), quantity: 1, price: 19.9 }]);
      await waitForStatus(stack, buyer, placed.orderId);
      const original = await waitFor(() =>
        seen.find((d) => d.routingKey === 'order.created' && d.body.toString().includes(placed.orderId)),
      );
      const before = await stockOf(stack, sku('MUG'));
      // The same message again, straight into ecom.events (what a relay re-publish would do).
      await stack.transport.publish({
        exchange: stack.name('ecom.events'),
        routingKey: 'order.created',
        body: original.body,
        messageId: original.messageId,
        contentType: 'application/json',
        headers: { 'x-event-type': 'OrderCreated' },
      });
      const poisonId = randomUUID();
      explained.add(poisonId);
      await stack.transport.publish({
        exchange: stack.name('ecom.events'),
        routingKey: 'order.created',
        body: Buffer.from('{"event_type":"OrderCreated","data":'),
        messageId: poisonId,
        contentType: 'application/json',
      });
      const { listDlq } = await import('@ecom/platform');
      const dead = await waitFor(async () =>
        (await listDlq(stack.transport, stack.name('q.inventory.order-created.dlq'), 100)).find(
          (m) => m.messageId === poisonId,
        ),
      );
      assert.match(dead.reason ?? '', /^POISON:/);
      await new Promise((r) => setTimeout(r, 500));
      const afterDup = await stockOf(stack, sku('MUG'));
      assert.deepEqual(
        [afterDup.availableQty, afterDup.reservedQty],
        [before.availableQty, before.reservedQty],
        'the duplicate reserved nothing',
      );
    });

    test('a well-formed event for an unknown order is consumed without effect', async () => {
      const ghost = createEvent(
        'PaymentSucceeded',
        { order_id: randomUUID(), payment_id: randomUUID() },
        { traceId: randomUUID(), identity: null },
      );
      await stack.transport.publish({
        exchange: stack.name('ecom.events'),
        routingKey: 'payment.succeeded',
        body: Buffer.from(JSON.stringify(ghost)),
        messageId: ghost.event_id,
        contentType: 'application/json',
      });
      await waitFor(async () => {
        const [row] = await stack
          .db('order')
          .query<{ n: number }>('SELECT count(*)::int AS n FROM consumed_messages WHERE message_id = $1', [
            ghost.event_id,
          ]);
        return row?.n === 1;
      });
    });
  });
}

describe('services started in reverse order, payment and notification only after the orders were placed', () => {
  test('events published before their consumers existed are not lost: every order completes', async () => {
    // Reverse of the chain: order first; payment and notification, the last consumers, only
    // after inventory has already published InventoryReserved for every order.
    const stack = await startStack('real', {
      startOrder: ['order', 'inventory', 'catalog', 'auth', 'notification', 'payment'],
      deferred: ['notification', 'payment'],
    });
    try {
      const skuId = `REV-${stack.ns}`;
      const put = await fetch(`${stack.urls.catalog}/api/catalog/products/${skuId}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Late consumers', price: 10 }),
      });
      assert.equal(put.status, 200);
      await seedStock(stack, skuId, 10);
      const bearer = await token(stack, 'buyer-r', ['buyer']);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await placeOrder(stack, bearer, { userId: 'buyer-r', items: [{ skuId, quantity: 1, price: 10 }] });
        assert.equal(res.status, 201);
        ids.push(res.body.orderId);
      }
      // The OrderCreated events are published now, into queues the order-service declared.
      await waitFor(async () => {
        const [row] = await stack
          .db('order')
          .query<{ n: number }>("SELECT count(*)::int AS n FROM outbox_events WHERE status = 'PENDING'");
        return row?.n === 0;
      });
      await stack.startDeferred();
      for (const id of ids)
        assert.equal((await waitForStatus(stack, bearer, id, ['CONFIRMED', 'FAILED'], 60_000)).status, 'CONFIRMED');
      const report = await checkInvariants({
        order: stack.db('order'),
        inventory: stack.db('inventory'),
        payment: stack.db('payment'),
        initialStock: new Map([[skuId, 10]]),
        orderIds: ids,
      });
      assert.deepEqual(report.violations, []);
    } finally {
      await stack.close();
    }
  });
});

async function seedStock(stack: Stack, skuId: string, qty: number) {
  const res = await fetch(`${stack.urls.inventory}/api/stocks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ skuId, availableQty: qty }),
  });
  assert.equal(res.status, 200);
}

/**
 * The saga's order side on real RabbitMQ + PostgreSQL and on the in-process transport + PGlite:
 * every row of the lifecycle table, duplicates, unknown orders, the inventory/payment race,
 * the saga deadline and what happens to results that arrive after it, and the timeline.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Delivery } from '@ecom/platform';
import {
  attachProbe,
  DB_MODES,
  deleteAmqpTopology,
  startTestIssuer,
  TEST_AMQP_URL,
  type TestIssuer,
  waitFor,
} from '@ecom/platform/testing';
import { type Harness, startOrder } from '../test-support/harness.js';
import { applySagaTrigger } from './apply-saga-trigger.js';
import { expireOverdueOrders } from './expire-overdue-orders.js';
import type { SagaTrigger } from './saga-trigger.js';

interface TimelineJson {
  from: string | null;
  to: string;
  cause: string;
  messageId: string | null;
  reason: string | null;
  ignored: boolean;
  note: string | null;
  emitted: string | null;
  at: string;
}

/** Runs the saga tests against one service; `probe` sees what it publishes. */
function sagaFixture(mode: (typeof DB_MODES)[number], env: Record<string, string>) {
  const f = {
    issuer: undefined as unknown as TestIssuer,
    h: undefined as unknown as Harness,
    published: [] as Delivery[],
    async start() {
      f.issuer = await startTestIssuer();
      f.h = await startOrder(mode, f.issuer, { env: { ORDER_CATALOG_VALIDATION: 'off', ...env } });
      f.published = await attachProbe(f.h.service.deps.transport, f.h.namespace, {
        bindingKeys: ['order.created', 'inventory.release.requested'],
      });
    },
    async stop() {
      const probe = `${f.h?.namespace}probe`;
      await f.h?.close();
      await f.issuer?.close();
      if (mode === 'postgres')
        await deleteAmqpTopology(TEST_AMQP_URL, {
          exchanges: [],
          queues: [{ name: probe, arguments: {} }],
          bindings: [],
        });
    },
    /** A NEW order through the real HTTP route (catalog off). */
    async createOrder() {
      const userId = `user-${randomUUID().slice(0, 8)}`;
      const token = await f.issuer.token(userId, ['buyer']);
      const traceId = randomUUID();
      const res = await f.h.post(
        { userId, items: [{ skuId: 'SKU-1', quantity: 2, price: 9.95 }] },
        { token, headers: { 'x-trace-id': traceId } },
      );
      assert.equal(res.statusCode, 201, res.body);
      return { orderId: res.json().orderId as string, userId, token, traceId };
    },
    async status(orderId: string) {
      const [row] = await f.h.db.query<{ status: string; status_reason: string | null }>(
        'SELECT status, status_reason FROM orders WHERE id = $1',
        [orderId],
      );
      return row;
    },
    async timeline(orderId: string, token: string): Promise<TimelineJson[]> {
      const res = await f.h.get(`/api/orders/${orderId}/timeline`, token);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().entries;
    },
    /** Waits until the order's timeline holds n entries (every published result was handled). */
    async settled(orderId: string, n: number) {
      return waitFor(async () => {
        const [row] = await f.h.db.query<{ n: number }>(
          'SELECT count(*) AS n FROM order_status_history WHERE order_id = $1',
          [orderId],
        );
        return (row?.n ?? 0) >= n;
      });
    },
    async releaseRows(orderId: string) {
      const rows = await f.h.db.query<{ payload: string }>(
        "SELECT payload FROM outbox_events WHERE event_type = 'InventoryReleaseRequested' AND payload LIKE $1 ORDER BY created_at",
        [`%${orderId}%`],
      );
      return rows.map((r) => JSON.parse(r.payload));
    },
  };
  return f;
}

const rsv = (orderId: string) => ({
  order_id: orderId,
  reservation_id: randomUUID(),
  reserved_items: [{ sku_id: 'SKU-1', quantity: 2 }],
});
const paid = (orderId: string) => ({ order_id: orderId, payment_id: randomUUID() });

for (const mode of DB_MODES) {
  const broker = mode === 'postgres' ? 'RabbitMQ + PostgreSQL' : 'in-process + PGlite';

  describe(`order saga (result consumers) on ${broker}`, () => {
    const f = sagaFixture(mode, {});
    before(() => f.start());
    after(() => f.stop());

    test('InventoryReserved: NEW → RESERVED; then PaymentSucceeded: RESERVED → CONFIRMED (saga completed)', async () => {
      const { orderId, token } = await f.createOrder();
      const confirmed = await f.h.metric('order_saga_completed_total', { outcome: 'confirmed' });
      const r = await f.h.publish('InventoryReserved', rsv(orderId));
      await waitFor(async () => (await f.status(orderId))?.status === 'RESERVED');
      await f.h.publish('PaymentSucceeded', paid(orderId));
      await waitFor(async () => (await f.status(orderId))?.status === 'CONFIRMED');
      const t = await f.timeline(orderId, token);
      assert.deepEqual(
        t.map((e) => [e.from, e.to, e.cause, e.ignored]),
        [
          [null, 'NEW', 'HTTP', false],
          ['NEW', 'RESERVED', 'InventoryReserved', false],
          ['RESERVED', 'CONFIRMED', 'PaymentSucceeded', false],
        ],
      );
      assert.equal(t[1]?.messageId, r.event_id);
      assert.ok(
        t.every((e, i) => i === 0 || e.at >= t[i - 1]!.at),
        'oldest first',
      );
      await waitFor(
        async () => (await f.h.metric('order_saga_completed_total', { outcome: 'confirmed' })) === confirmed + 1,
      );
      assert.ok((await f.h.metric('order_saga_duration_seconds_count', { outcome: 'confirmed' })) >= 1);
      // OrderCreated really went out through the outbox relay, with the request's trace id.
      const created = await waitFor(() => f.published.find((d) => d.body.toString().includes(orderId)));
      assert.equal(
        JSON.parse(created.body.toString()).trace_id,
        (await f.h.db.query<{ trace_id: string }>('SELECT trace_id FROM orders WHERE id = $1', [orderId]))[0]?.trace_id,
      );
    });

    test('PaymentSucceeded before InventoryReserved: NEW → CONFIRMED, and the late reservation changes nothing', async () => {
      const { orderId, token } = await f.createOrder();
      await f.h.publish('PaymentSucceeded', paid(orderId));
      await waitFor(async () => (await f.status(orderId))?.status === 'CONFIRMED');
      await f.h.publish('InventoryReserved', rsv(orderId));
      await f.settled(orderId, 3);
      assert.equal((await f.status(orderId))?.status, 'CONFIRMED');
      const last = (await f.timeline(orderId, token)).at(-1);
      assert.deepEqual(
        [last?.cause, last?.from, last?.to, last?.ignored, last?.note],
        ['InventoryReserved', 'CONFIRMED', 'CONFIRMED', true, 'NOT_APPLICABLE'],
      );
    });

    test('InventoryFailed: NEW → FAILED with its reason, no release; on a CONFIRMED order it changes nothing', async () => {
      const { orderId } = await f.createOrder();
      const reason = 'INSUFFICIENT_STOCK:SKU-1 available=1 requested=2';
      await f.h.publish('InventoryFailed', { order_id: orderId, reservation_id: null, reason });
      await waitFor(async () => (await f.status(orderId))?.status === 'FAILED');
      assert.equal((await f.status(orderId))?.status_reason, reason);
      assert.deepEqual(await f.releaseRows(orderId), []);

      const other = await f.createOrder();
      await f.h.publish('PaymentSucceeded', paid(other.orderId));
      await waitFor(async () => (await f.status(other.orderId))?.status === 'CONFIRMED');
      await f.h.publish('InventoryFailed', { order_id: other.orderId, reservation_id: randomUUID(), reason });
      await f.settled(other.orderId, 3);
      assert.equal((await f.status(other.orderId))?.status, 'CONFIRMED');
    });

    test('PaymentFailed: RESERVED → FAILED + InventoryReleaseRequested (PAYMENT_FAILED) with trace_id and identity copied', async () => {
      const { orderId, token } = await f.createOrder();
      await f.h.publish('InventoryReserved', rsv(orderId));
      await waitFor(async () => (await f.status(orderId))?.status === 'RESERVED');
      const sagaTrace = randomUUID();
      const identity = { user_id: 'buyer-from-the-saga', roles: ['buyer', 'vip'] };
      await f.h.publish(
        'PaymentFailed',
        { order_id: orderId, payment_id: randomUUID(), reason: 'MOCK_DECLINED' },
        { traceId: sagaTrace, identity },
      );
      await waitFor(async () => (await f.status(orderId))?.status === 'FAILED');
      const [release, ...more] = await f.releaseRows(orderId);
      assert.equal(more.length, 0);
      assert.equal(release.event_type, 'InventoryReleaseRequested');
      assert.deepEqual(release.data, { order_id: orderId, reason: 'PAYMENT_FAILED' });
      assert.equal(release.trace_id, sagaTrace);
      assert.deepEqual(release.identity, identity);
      // …and the relay published it on inventory.release.requested.
      const out = await waitFor(() =>
        f.published.find((d) => d.routingKey === 'inventory.release.requested' && d.body.toString().includes(orderId)),
      );
      assert.equal(out.messageId, release.event_id);
      assert.equal(out.headers['x-trace-id'], sagaTrace);

      // InventoryReleased: recorded only; a second PaymentFailed changes nothing and releases nothing.
      await f.h.publish('InventoryReleased', {
        release_id: randomUUID(),
        order_id: orderId,
        reservation_id: randomUUID(),
        reason: 'PAYMENT_FAILED',
        released_items: [{ sku_id: 'SKU-1', quantity: 2 }],
      });
      // The two results travel on different queues (inventory-result, payment-result), so their
      // relative order is not guaranteed: let the first be recorded before sending the second.
      await f.settled(orderId, 4);
      await f.h.publish('PaymentFailed', { order_id: orderId, payment_id: randomUUID(), reason: 'MOCK_DECLINED' });
      await f.settled(orderId, 5);
      assert.equal((await f.status(orderId))?.status, 'FAILED');
      assert.equal((await f.releaseRows(orderId)).length, 1);
      assert.deepEqual(
        (await f.timeline(orderId, token)).map((e) => [e.from, e.to, e.cause, e.reason, e.ignored, e.note, e.emitted]),
        [
          [null, 'NEW', 'HTTP', null, false, null, 'OrderCreated'],
          ['NEW', 'RESERVED', 'InventoryReserved', null, false, null, null],
          ['RESERVED', 'FAILED', 'PaymentFailed', 'MOCK_DECLINED', false, null, 'InventoryReleaseRequested'],
          ['FAILED', 'FAILED', 'InventoryReleased', 'PAYMENT_FAILED', true, 'AUDIT_ONLY', null],
          ['FAILED', 'FAILED', 'PaymentFailed', 'MOCK_DECLINED', true, 'NOT_APPLICABLE', null],
        ],
      );
    });

    test('PaymentFailed on NEW → FAILED + release; on CONFIRMED → unchanged, nothing released', async () => {
      const a = await f.createOrder();
      await f.h.publish('PaymentFailed', { order_id: a.orderId, payment_id: randomUUID(), reason: 'MOCK_DECLINED' });
      await waitFor(async () => (await f.status(a.orderId))?.status === 'FAILED');
      assert.equal((await f.releaseRows(a.orderId)).length, 1);

      const b = await f.createOrder();
      await f.h.publish('PaymentSucceeded', paid(b.orderId));
      await waitFor(async () => (await f.status(b.orderId))?.status === 'CONFIRMED');
      await f.h.publish('PaymentFailed', { order_id: b.orderId, payment_id: randomUUID(), reason: 'MOCK_DECLINED' });
      await f.settled(b.orderId, 3);
      assert.equal((await f.status(b.orderId))?.status, 'CONFIRMED');
      assert.deepEqual(await f.releaseRows(b.orderId), []);
    });

    test('a message delivered twice takes effect once; an unknown order_id is consumed without error', async () => {
      const { orderId, token } = await f.createOrder();
      const messageId = randomUUID();
      const dupes = await f.h.metric('messaging_consumed_total', { outcome: 'duplicate' });
      await f.h.publish('InventoryReserved', rsv(orderId), { messageId });
      await f.h.publish('InventoryReserved', rsv(orderId), { messageId });
      await waitFor(async () => (await f.h.metric('messaging_consumed_total', { outcome: 'duplicate' })) >= dupes + 1);
      assert.equal((await f.timeline(orderId, token)).filter((e) => e.messageId === messageId).length, 1);

      const ghost = randomUUID();
      const unknown = await f.h.publish('PaymentSucceeded', paid(ghost));
      await waitFor(async () => {
        const rows = await f.h.db.query('SELECT 1 FROM consumed_messages WHERE message_id = $1 AND consumer = $2', [
          unknown.event_id,
          'order.payment-result',
        ]);
        return rows.length === 1;
      });
      assert.equal((await f.h.db.query('SELECT 1 FROM orders WHERE id = $1', [ghost])).length, 0);
      assert.ok(
        (await f.h.metric('order_saga_results_total', { event_type: 'PaymentSucceeded', outcome: 'unknown_order' })) >=
          1,
      );
      assert.equal(await f.h.metric('messaging_dlq_published_total'), 0);
    });

    test('the race: InventoryReserved and PaymentSucceeded delivered concurrently, many times over → always CONFIRMED', async () => {
      const orders = await Promise.all(Array.from({ length: 12 }, () => f.createOrder()));
      const sends = orders.flatMap(({ orderId }) =>
        Array.from({ length: 3 }, () => [
          () => f.h.publish('InventoryReserved', rsv(orderId)),
          () => f.h.publish('PaymentSucceeded', paid(orderId)),
        ]).flat(),
      );
      // Interleave: both queues get work for every order at once.
      sends.sort(() => Math.random() - 0.5);
      await Promise.all(sends.map((send) => send()));
      for (const { orderId, token } of orders) {
        await f.settled(orderId, 7);
        assert.equal((await f.status(orderId))?.status, 'CONFIRMED', orderId);
        const applied = (await f.timeline(orderId, token)).filter((e) => !e.ignored).map((e) => e.to);
        assert.ok(
          JSON.stringify(applied) === '["NEW","CONFIRMED"]' ||
            JSON.stringify(applied) === '["NEW","RESERVED","CONFIRMED"]',
          `${orderId}: ${applied}`,
        );
      }
    });

    test('the race at the use-case level: concurrent transactions on one order serialize on its row lock', async () => {
      const orders = await Promise.all(Array.from({ length: 8 }, () => f.createOrder()));
      const apply = (orderId: string, trigger: SagaTrigger) =>
        f.h.db.transaction((tx) =>
          applySagaTrigger(
            tx,
            orderId,
            trigger,
            { cause: trigger.kind as 'PaymentSucceeded', messageId: null, at: new Date() },
            async () => {},
          ),
        );
      await Promise.all(
        orders.flatMap(({ orderId }) =>
          Array.from({ length: 4 }, () => [
            apply(orderId, { kind: 'InventoryReserved' }),
            apply(orderId, { kind: 'PaymentSucceeded' }),
          ]).flat(),
        ),
      );
      for (const { orderId } of orders) {
        assert.equal((await f.status(orderId))?.status, 'CONFIRMED');
        const rows = await f.h.db.query<{ to_status: string }>(
          'SELECT to_status FROM order_status_history WHERE order_id = $1 AND NOT ignored ORDER BY id',
          [orderId],
        );
        assert.equal(
          rows.at(-1)?.to_status,
          'CONFIRMED',
          'the last applied change is CONFIRMED, never RESERVED after it',
        );
        assert.equal(rows.filter((r) => r.to_status === 'CONFIRMED').length, 1);
      }
    });
  });

  describe(`saga deadline on ${broker} (ORDER_SAGA_TIMEOUT_SECONDS=1)`, () => {
    const f = sagaFixture(mode, { ORDER_SAGA_TIMEOUT_SECONDS: '1', ORDER_SAGA_SWEEP_INTERVAL_MS: '100' });
    before(() => f.start());
    after(() => f.stop());

    test('a stuck order becomes FAILED (SAGA_TIMEOUT) and its release is requested with the order’s trace and buyer', async () => {
      const { orderId, userId, token, traceId } = await f.createOrder();
      const timeouts = await f.h.metric('order_saga_completed_total', { outcome: 'timeout' });
      await waitFor(async () => (await f.status(orderId))?.status === 'FAILED', { timeoutMs: 5000 });
      assert.equal((await f.status(orderId))?.status_reason, 'SAGA_TIMEOUT');
      const [release, ...more] = await f.releaseRows(orderId);
      assert.equal(more.length, 0);
      assert.deepEqual(release.data, { order_id: orderId, reason: 'SAGA_TIMEOUT' });
      assert.equal(release.trace_id, traceId, 'the saga keeps one trace id');
      assert.deepEqual(release.identity, { user_id: userId, roles: ['buyer'] });
      await waitFor(() =>
        f.published.find((d) => d.routingKey === 'inventory.release.requested' && d.body.toString().includes(orderId)),
      );
      const last = (await f.timeline(orderId, token)).at(-1);
      assert.deepEqual(
        [last?.from, last?.to, last?.cause, last?.reason, last?.emitted],
        ['NEW', 'FAILED', 'DEADLINE', 'SAGA_TIMEOUT', 'InventoryReleaseRequested'],
      );
      assert.ok((await f.h.metric('order_saga_completed_total', { outcome: 'timeout' })) >= timeouts + 1);
    });

    test('RESERVED orders time out too; a CONFIRMED order is never touched by the deadline', async () => {
      const reserved = await f.createOrder();
      const confirmed = await f.createOrder();
      await f.h.publish('InventoryReserved', rsv(reserved.orderId));
      await f.h.publish('PaymentSucceeded', paid(confirmed.orderId));
      await waitFor(async () => (await f.status(reserved.orderId))?.status === 'FAILED', { timeoutMs: 5000 });
      const path = (await f.timeline(reserved.orderId, reserved.token)).map((e) => e.to);
      assert.deepEqual(path, ['NEW', 'RESERVED', 'FAILED']);
      await new Promise((r) => setTimeout(r, 1300));
      assert.equal((await f.status(confirmed.orderId))?.status, 'CONFIRMED');
      assert.deepEqual(await f.releaseRows(confirmed.orderId), []);
    });

    test('late results: status stays FAILED, the timeline says LATE, a metric counts them; a late reservation is released again', async () => {
      const { orderId, token } = await f.createOrder();
      await waitFor(async () => (await f.status(orderId))?.status === 'FAILED', { timeoutMs: 5000 });
      const latePaid = await f.h.metric('order_late_results_total', { event_type: 'PaymentSucceeded' });

      await f.h.publish('PaymentSucceeded', paid(orderId));
      const lateTrace = randomUUID();
      await f.h.publish('InventoryReserved', rsv(orderId), { traceId: lateTrace });
      await f.settled(orderId, 4);
      assert.equal((await f.status(orderId))?.status, 'FAILED');
      const late = (await f.timeline(orderId, token)).slice(2);
      assert.deepEqual(late.map((e) => [e.cause, e.from, e.to, e.ignored, e.note, e.emitted]).sort(), [
        ['InventoryReserved', 'FAILED', 'FAILED', true, 'LATE', 'InventoryReleaseRequested'],
        ['PaymentSucceeded', 'FAILED', 'FAILED', true, 'LATE', null],
      ]);
      await waitFor(
        async () => (await f.h.metric('order_late_results_total', { event_type: 'PaymentSucceeded' })) === latePaid + 1,
      );
      // The reservation that arrived after the deadline's release request is released again.
      const releases = await f.releaseRows(orderId);
      assert.equal(releases.length, 2);
      assert.deepEqual(releases[1].data, { order_id: orderId, reason: 'SAGA_TIMEOUT' });
      assert.equal(releases[1].trace_id, lateTrace, 'a reaction copies the trace of the event it reacts to');
      // The release's confirmation is expected, not late.
      await f.h.publish('InventoryReleased', {
        release_id: randomUUID(),
        order_id: orderId,
        reservation_id: randomUUID(),
        reason: 'SAGA_TIMEOUT',
        released_items: [{ sku_id: 'SKU-1', quantity: 2 }],
      });
      await f.settled(orderId, 5);
      assert.equal((await f.timeline(orderId, token)).at(-1)?.note, 'AUDIT_ONLY');
    });

    test('several sweepers at once (replicas) fail each overdue order exactly once', async () => {
      const orders = await Promise.all(Array.from({ length: 10 }, () => f.createOrder()));
      const ids = orders.map((o) => o.orderId);
      // Overdue all at once, then three sweepers race (plus the service's own periodic one).
      await f.h.db.execute(
        "UPDATE orders SET created_at = created_at - interval '10 seconds' WHERE id = ANY($1::uuid[])",
        [ids],
      );
      const sweep = async () => {
        let total = 0;
        for (;;) {
          const n = await expireOverdueOrders({
            db: f.h.db,
            outbox: f.h.service.deps.outbox,
            clock: () => new Date(),
            timeoutSeconds: 1,
            batchSize: 2,
          });
          total += n;
          if (n === 0) return total;
        }
      };
      await Promise.all([sweep(), sweep(), sweep()]);
      // The service's own periodic sweeper may hold a batch it claimed while ours skipped it:
      // wait until every order is failed, then check none was failed twice.
      const deadlineRows = async (id: string) =>
        (
          await f.h.db.query<{ n: number }>(
            "SELECT count(*) AS n FROM order_status_history WHERE order_id = $1 AND cause = 'DEADLINE'",
            [id],
          )
        )[0]?.n ?? 0;
      await waitFor(async () => (await Promise.all(ids.map(deadlineRows))).every((n) => n >= 1), { timeoutMs: 10_000 });
      for (const id of ids) {
        assert.equal(await deadlineRows(id), 1, id);
        assert.equal((await f.releaseRows(id)).length, 1, id);
        assert.equal((await f.status(id))?.status, 'FAILED');
      }
    });
  });
}

/**
 * payment-service end to end through the kernel pipeline (events.md §6.3), on RabbitMQ +
 * PostgreSQL and on the in-process transport + PGlite: InventoryReserved envelopes are published
 * to the service's own namespaced `ecom.events`, its PaymentSucceeded / PaymentFailed are read
 * from a probe queue bound to `payment.*`. One service per policy (SUCCESS, FAIL, HASHED), each
 * with PAYMENT_DECLINE_ABOVE_AMOUNT=100.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DB_MODES, waitFor } from '@ecom/platform/testing';
import { type Payment, type PublishedOutcome, startPayment } from './test-support/harness.js';
import { javaHashSaysSuccess, SPEC_HASHED_EXAMPLES } from './test-support/java-hash.js';

/** waitFor, typed for a function that returns undefined until the value is there. */
const eventually = async <T>(fn: () => T | undefined | Promise<T | undefined>): Promise<T> => (await waitFor(fn)) as T;
const single = (p: Payment, orderId: string) =>
  eventually(() => {
    const out = p.outputsFor(orderId);
    return out.length === 1 ? out[0] : undefined;
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const mode of DB_MODES) {
  const stack = mode === 'postgres' ? 'RabbitMQ + PostgreSQL' : 'in-process + PGlite';
  describe(`payment-service on ${stack}`, () => {
    let success: Payment;
    let fail: Payment;
    let hashed: Payment;

    before(async () => {
      [success, fail, hashed] = await Promise.all([
        startPayment(mode, { PAYMENT_DECLINE_ABOVE_AMOUNT: '100' }),
        // PAYMENT_* wins over APP_* for the mode; the APP_ spelling of the reason is read.
        startPayment(mode, {
          PAYMENT_MOCK_MODE: 'FAIL',
          APP_PAYMENT_MOCK_MODE: 'HASHED',
          APP_PAYMENT_FAILURE_REASON: 'INSUFFICIENT_FUNDS',
          PAYMENT_DECLINE_ABOVE_AMOUNT: '100',
        }),
        startPayment(mode, { APP_PAYMENT_MOCK_MODE: ' hashed ', PAYMENT_DECLINE_ABOVE_AMOUNT: '100' }),
      ]);
    });
    after(async () => {
      await Promise.all([success?.close(), fail?.close(), hashed?.close()]);
    });

    test('SUCCESS: one record, PaymentSucceeded through the outbox with trace_id, identity and the spec headers', async () => {
      const traceId = randomUUID();
      const identity = { user_id: 'user-42', roles: ['buyer', 'vip'] };
      const input = await success.publishReserved({ totalAmount: 40, traceId, identity });
      const out = await single(success, input.data.order_id);
      const records = await success.records(input.data.order_id);
      assert.equal(records.length, 1);
      assert.deepEqual({ ...records[0], id: undefined }, { id: undefined, status: 'SUCCEEDED', reason: null });

      const { envelope, delivery } = out;
      assert.equal(envelope.event_type, 'PaymentSucceeded');
      assert.deepEqual(envelope.data, { order_id: input.data.order_id, payment_id: records[0]!.id });
      assert.equal(envelope.trace_id, traceId, 'trace_id copied');
      assert.deepEqual(envelope.identity, identity, 'identity copied');
      assert.notEqual(envelope.event_id, input.event_id, 'a new envelope');
      // events.md §7.2
      assert.equal(delivery.routingKey, 'payment.succeeded');
      assert.equal(delivery.messageId, envelope.event_id, 'message_id = event_id');
      assert.equal(delivery.contentType, 'application/json');
      assert.equal(delivery.headers['x-event-id'], envelope.event_id);
      assert.equal(delivery.headers['x-event-type'], 'PaymentSucceeded');
      assert.equal(delivery.headers['x-trace-id'], traceId);
      assert.match(
        String(delivery.headers.traceparent),
        new RegExp(`^00-${traceId.replaceAll('-', '')}-[0-9a-f]{16}-01$`),
      );
      assert.ok(
        (await success.metric(/^payments_decided_total\{.*status="SUCCEEDED".*reason="none"/)) >= 1,
        'payments_decided_total counts it',
      );
    });

    test('a null identity stays null, and a PaymentFailed carries the reason and its own routing key', async () => {
      const input = await success.publishReserved({ totalAmount: 100.01, identity: null });
      const { envelope, delivery } = await single(success, input.data.order_id);
      assert.equal(envelope.identity, null);
      assert.equal(envelope.event_type, 'PaymentFailed');
      assert.equal(delivery.routingKey, 'payment.failed');
      assert.equal(delivery.headers['x-event-type'], 'PaymentFailed');
    });

    test('SUCCESS + amount rule: above the limit → AMOUNT_ABOVE_LIMIT:100; at the limit → success; no total_amount → the mode decides', async () => {
      const skippedBefore = await success.metric(/^payments_amount_rule_skipped_total/);
      const above = await success.publishReserved({ totalAmount: 250 });
      const atLimit = await success.publishReserved({ totalAmount: 100 });
      const noAmount = await success.publishReserved();
      const [a, b, c] = await Promise.all([above, atLimit, noAmount].map((e) => single(success, e.data.order_id)));
      assert.equal(a!.envelope.event_type, 'PaymentFailed');
      assert.equal(a!.envelope.data.reason, 'AMOUNT_ABOVE_LIMIT:100');
      assert.deepEqual(await success.records(above.data.order_id), [
        { id: a!.envelope.data.payment_id, status: 'FAILED', reason: 'AMOUNT_ABOVE_LIMIT:100' },
      ]);
      assert.equal(b!.envelope.event_type, 'PaymentSucceeded');
      assert.equal(c!.envelope.event_type, 'PaymentSucceeded', 'fail-open: an event without total_amount');
      assert.equal(await success.metric(/^payments_amount_rule_skipped_total/), skippedBefore + 1);
    });

    test('decided once: a later, different InventoryReserved for the order re-publishes the STORED outcome (same payment_id)', async () => {
      // Succeeded first; the second message would be declined if it were decided again.
      const orderA = randomUUID();
      await success.publishReserved({ orderId: orderA, totalAmount: 10 });
      const first = await single(success, orderA);
      const republishedBefore = await success.metric(/^payments_stored_outcome_republished_total\{.*SUCCEEDED/);
      const second = await success.publishReserved({ orderId: orderA, totalAmount: 5000 });
      assert.notEqual(second.event_id, first.envelope.event_id);
      const both = await eventually(() => {
        const out = success.outputsFor(orderA);
        return out.length === 2 ? out : undefined;
      });
      assert.deepEqual(
        both.map((o) => [o.envelope.event_type, o.envelope.data.payment_id]),
        [
          ['PaymentSucceeded', first.envelope.data.payment_id],
          ['PaymentSucceeded', first.envelope.data.payment_id],
        ],
      );
      assert.equal(both[1]!.envelope.trace_id, second.trace_id, 'the re-publish reacts to the second message');
      assert.equal((await success.records(orderA)).length, 1);
      assert.equal(
        await success.metric(/^payments_stored_outcome_republished_total\{.*SUCCEEDED/),
        republishedBefore + 1,
      );

      // And the other way round: declined first, a later within-limit message is still declined.
      const orderB = randomUUID();
      await success.publishReserved({ orderId: orderB, totalAmount: 999 });
      const declined = await single(success, orderB);
      await success.publishReserved({ orderId: orderB, totalAmount: 1 });
      const again = await eventually(() => success.outputsFor(orderB)[1]);
      assert.equal(again.envelope.event_type, 'PaymentFailed');
      assert.equal(again.envelope.data.reason, 'AMOUNT_ABOVE_LIMIT:100');
      assert.equal(again.envelope.data.payment_id, declined.envelope.data.payment_id);
    });

    test('two different messages for one order racing each other: one record, the same outcome twice', async () => {
      const orderId = randomUUID();
      await Promise.all([
        success.publishReserved({ orderId, totalAmount: 50 }),
        success.publishReserved({ orderId, totalAmount: 500 }),
      ]);
      const both = await eventually(() => {
        const out = success.outputsFor(orderId);
        return out.length === 2 ? out : undefined;
      });
      const [x, y] = both as [PublishedOutcome, PublishedOutcome];
      assert.equal(x.envelope.data.payment_id, y.envelope.data.payment_id);
      assert.equal(x.envelope.event_type, y.envelope.event_type);
      assert.equal((await success.records(orderId)).length, 1);
    });

    test('the same message delivered twice takes effect once (deduplicated on message_id)', async () => {
      const dupes = () => success.metric(/^messaging_consumed_total\{.*outcome="duplicate"/);
      const before = await dupes();
      const orderId = randomUUID();
      const messageId = randomUUID();
      await success.publishReserved({ orderId, totalAmount: 1, messageId });
      await single(success, orderId);
      await success.publishReserved({ orderId, totalAmount: 1, messageId });
      await waitFor(async () => (await dupes()) === before + 1);
      await sleep(200);
      assert.equal(success.outputsFor(orderId).length, 1, 'nothing published for the duplicate');
      const [row] = await success.service.deps.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox_events WHERE payload LIKE $1',
        [`%${orderId}%`],
      );
      assert.equal(row?.n, 1);
      assert.equal((await success.records(orderId)).length, 1);
    });

    test('FAIL (PAYMENT_MOCK_MODE wins over APP_PAYMENT_MOCK_MODE): every order declined with the configured reason, the amount rule never applies', async () => {
      const events = await Promise.all([
        fail.publishReserved({ orderId: '00000000-0000-0000-0000-000000000000', totalAmount: 10 }), // HASHED would succeed
        fail.publishReserved({ totalAmount: 5000 }),
        fail.publishReserved(),
      ]);
      for (const e of events) {
        const { envelope } = await single(fail, e.data.order_id);
        assert.equal(envelope.event_type, 'PaymentFailed');
        assert.equal(envelope.data.reason, 'INSUFFICIENT_FUNDS');
        const [record] = await fail.records(e.data.order_id);
        assert.deepEqual(record, { id: envelope.data.payment_id, status: 'FAILED', reason: 'INSUFFICIENT_FUNDS' });
      }
      assert.equal(await fail.metric(/^payments_decided_total\{.*status="FAILED".*reason="INSUFFICIENT_FUNDS"/), 3);
    });

    test('HASHED: the spec examples and 24 random order ids get the Java-hash outcome; MOCK_DECLINED on failure', async () => {
      const cases = [
        ...SPEC_HASHED_EXAMPLES.map(([id, outcome]) => [id, outcome === 'success'] as const),
        ...Array.from({ length: 24 }, () => {
          const id = randomUUID();
          return [id, javaHashSaysSuccess(id)] as const;
        }),
        // Upper case on the wire: the same order, answered in the canonical lowercase form.
        ['A32EE3E5-0F81-4A88-A361-F1F2158DFDB0', javaHashSaysSuccess('a32ee3e5-0f81-4a88-a361-f1f2158dfdb0')] as const,
      ];
      await Promise.all(cases.map(([orderId]) => hashed.publishReserved({ orderId, totalAmount: 99.99 })));
      for (const [orderId, succeeds] of cases) {
        const { envelope } = await single(hashed, orderId);
        assert.equal(envelope.data.order_id, orderId.toLowerCase());
        assert.deepEqual(
          [envelope.event_type, envelope.data.reason],
          succeeds ? ['PaymentSucceeded', undefined] : ['PaymentFailed', 'MOCK_DECLINED'],
          orderId,
        );
      }
    });

    test('HASHED + amount rule: an order the hash would accept is declined above the limit', async () => {
      let orderId = randomUUID();
      while (!javaHashSaysSuccess(orderId)) orderId = randomUUID();
      await hashed.publishReserved({ orderId, totalAmount: 100.5 });
      const { envelope } = await single(hashed, orderId);
      assert.equal(envelope.event_type, 'PaymentFailed');
      assert.equal(envelope.data.reason, 'AMOUNT_ABOVE_LIMIT:100');
    });

    test('payment_records enforces one row per order and a consistent status/reason (UNIQUE index + CHECKs)', async () => {
      const db = success.service.deps.db;
      const orderId = randomUUID();
      const insert = (status: string, reason: string | null, order = orderId) =>
        db.execute(
          'INSERT INTO payment_records (id, order_id, status, reason, created_at) VALUES ($1, $2, $3, $4, now())',
          [randomUUID(), order, status, reason],
        );
      await insert('SUCCEEDED', null);
      await assert.rejects(insert('FAILED', 'X'), /uk_payment_records_order_id|duplicate key/);
      // An unknown status breaks both CHECKs; PostgreSQL names whichever it evaluates first.
      await assert.rejects(insert('PENDING', 'x', randomUUID()), /ck_payment_records_(status|reason)/);
      await assert.rejects(insert('SUCCEEDED', 'why', randomUUID()), /ck_payment_records_reason/);
      await assert.rejects(insert('FAILED', null, randomUUID()), /ck_payment_records_reason/);
    });

    test('no business HTTP API: actuator and OpenAPI only', async () => {
      const app = success.service.app;
      const health = await app.inject({ method: 'GET', url: '/actuator/health' });
      assert.equal(health.statusCode, 200);
      const docs = (await app.inject({ method: 'GET', url: '/v3/api-docs' })).json();
      assert.ok(
        Object.keys(docs.paths ?? {}).every((p: string) => !p.startsWith('/api/')),
        `no /api paths: ${Object.keys(docs.paths ?? {})}`,
      );
      assert.equal((await app.inject({ method: 'GET', url: `/api/payments/${randomUUID()}` })).statusCode, 404);
    });
  });
}

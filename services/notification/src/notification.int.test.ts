/**
 * notification-service end to end (http-api.md §7, events.md §6.5), on RabbitMQ + PostgreSQL and
 * on the in-process transport + PGlite: payment results are published to the service's own
 * namespaced `ecom.events` and read back through the HTTP API.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { listDlq } from '@ecom/platform';
import { DB_MODES, waitFor } from '@ecom/platform/testing';
import { trimInterval } from './notifications/store-notification.js';
import { type Notifications, startNotifications } from './test-support/harness.js';

const ISO_MILLIS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface NotificationEvent {
  eventId: string | null;
  eventType: string | null;
  orderId: string | null;
  paymentId: string | null;
  reason: string | null;
  traceId: string | null;
  userId: string | null;
  roles: string[];
  occurredAt: string;
  receivedAt: string;
}

function assertErrorBody(body: Record<string, unknown>, status: number, path: string): void {
  assert.equal(body.status, status);
  assert.equal(typeof body.error, 'string');
  assert.equal(body.path, path);
  assert.match(String(body.timestamp), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/);
  assert.equal(typeof body.message, 'string');
}

for (const mode of DB_MODES) {
  const stack = mode === 'postgres' ? 'RabbitMQ + PostgreSQL' : 'in-process + PGlite';
  describe(`notification-service on ${stack}`, () => {
    let n: Notifications;
    before(async () => {
      n = await startNotifications(mode);
    });
    after(() => n?.close());

    const get = async (query = '') => {
      const res = await n.service.app.inject({ method: 'GET', url: `/api/notifications/events${query}` });
      return { status: res.statusCode, body: res.json(), text: res.body };
    };
    const list = async (query = ''): Promise<NotificationEvent[]> => {
      const res = await get(query);
      assert.equal(res.status, 200, res.text);
      return res.body as NotificationEvent[];
    };
    const forOrder = (orderId: string) => list(`?orderId=${orderId}&size=200`);
    /** Publishes and waits until the store has it (sequential publishes get increasing receivedAt). */
    const deliver = async (event: { event_id: string; data: { order_id: string } }, messageId?: string) => {
      await n.publish(event, { messageId });
      await waitFor(async () => (await forOrder(event.data.order_id)).some((x) => x.eventId === event.event_id));
    };
    const synthetic = (payload: unknown) =>
      n.service.app.inject({
        method: 'POST',
        url: '/api/notifications/events/synthetic-failure',
        payload: payload as object,
      });

    test('a PaymentFailed and a PaymentSucceeded are stored with the exact NotificationEvent shape, newest first', async () => {
      const orderId = randomUUID();
      const traceId = randomUUID();
      const identity = { user_id: 'user-9', roles: ['buyer', 'vip'] };
      const failed = n.envelope(
        'PaymentFailed',
        { order_id: orderId, reason: 'INSUFFICIENT_FUNDS' },
        { traceId, identity },
      );
      const succeeded = n.envelope('PaymentSucceeded', { order_id: orderId }, { traceId, identity });
      await deliver(failed);
      await deliver(succeeded);
      const [first, second, ...rest] = await forOrder(orderId);
      assert.equal(rest.length, 0);
      assert.deepEqual(
        { ...first, receivedAt: undefined },
        {
          eventId: succeeded.event_id,
          eventType: 'PaymentSucceeded',
          orderId,
          paymentId: succeeded.data.payment_id,
          reason: null,
          traceId,
          userId: 'user-9',
          roles: ['buyer', 'vip'],
          occurredAt: succeeded.occurred_at,
          receivedAt: undefined,
        },
      );
      assert.deepEqual(
        { ...second, receivedAt: undefined },
        {
          eventId: failed.event_id,
          eventType: 'PaymentFailed',
          orderId,
          paymentId: failed.data.payment_id,
          reason: 'INSUFFICIENT_FUNDS',
          traceId,
          userId: 'user-9',
          roles: ['buyer', 'vip'],
          occurredAt: failed.occurred_at,
          receivedAt: undefined,
        },
      );
      assert.match(first!.receivedAt, ISO_MILLIS_Z);
      assert.ok(first!.receivedAt >= second!.receivedAt, 'sorted by receivedAt descending');
      assert.deepEqual(Object.keys(first!), [
        'eventId',
        'eventType',
        'orderId',
        'paymentId',
        'reason',
        'traceId',
        'userId',
        'roles',
        'occurredAt',
        'receivedAt',
      ]);
    });

    test('nulls are serialized, and roles is [] without an identity (null or missing)', async () => {
      const orderId = randomUUID();
      const nullIdentity = {
        ...n.envelope('PaymentSucceeded', { order_id: orderId }, { identity: null }),
        trace_id: null,
      };
      const { identity: _dropped, ...noIdentity } = n.envelope('PaymentSucceeded', { order_id: orderId });
      await deliver(nullIdentity);
      await deliver(noIdentity);
      const res = await get(`?orderId=${orderId}`);
      assert.equal(res.body.length, 2);
      for (const e of res.body as NotificationEvent[]) {
        assert.equal(e.userId, null);
        assert.deepEqual(e.roles, []);
        assert.equal(e.reason, null);
      }
      assert.equal((res.body as NotificationEvent[]).find((e) => e.eventId === nullIdentity.event_id)?.traceId, null);
      assert.match(res.text, /"reason":null/);
      assert.match(res.text, /"userId":null/);
      assert.match(res.text, /"traceId":null/);
      assert.match(res.text, /"roles":\[\]/);
    });

    test('filters: orderId exact (any case), eventType case-insensitive, blank = no filter; size bounds are 400, not 500', async () => {
      const orderA = randomUUID();
      const orderB = randomUUID();
      await deliver(n.envelope('PaymentFailed', { order_id: orderA }));
      await deliver(n.envelope('PaymentSucceeded', { order_id: orderA }));
      await deliver(n.envelope('PaymentSucceeded', { order_id: orderB }));

      assert.deepEqual(
        (await forOrder(orderA)).map((e) => e.eventType),
        ['PaymentSucceeded', 'PaymentFailed'],
      );
      assert.equal((await forOrder(orderA.toUpperCase())).length, 2, 'a UUID in upper case is the same order');
      assert.deepEqual(
        (await list(`?orderId=${orderA}&eventType=paymentFAILED`)).map((e) => e.eventType),
        ['PaymentFailed'],
      );
      assert.deepEqual(
        (await list(`?orderId=${orderA}&eventType=PAYMENTSUCCEEDED`)).map((e) => e.eventType),
        ['PaymentSucceeded'],
      );
      assert.equal((await list(`?orderId=${orderA}&eventType=`)).length, 2, 'blank eventType = no filter');
      assert.equal((await list(`?orderId=${orderA}&eventType=%20%20`)).length, 2, 'whitespace eventType = no filter');
      assert.equal((await list(`?orderId=${orderA}&eventType=OrderCreated`)).length, 0);
      assert.equal((await list(`?orderId=${orderA}&size=1`)).length, 1);
      assert.equal((await list(`?orderId=${orderA}&size=200`)).length, 2);
      assert.equal((await list(`?orderId=${randomUUID()}`)).length, 0);
      assert.equal((await list('?orderId=&size=')).length > 0, true, 'blank orderId and size = not given');

      for (const bad of [
        'size=0',
        'size=201',
        'size=-1',
        'size=abc',
        'size=1.5',
        'orderId=not-a-uuid',
        'orderId=123',
      ]) {
        const res = await get(`?${bad}`);
        assert.equal(res.status, 400, bad);
        assertErrorBody(res.body, 400, '/api/notifications/events');
      }
    });

    test('size defaults to 20 (also when blank) and caps the newest-first list', async () => {
      for (let i = 0; i < 21; i++) {
        const res = await synthetic({ orderId: randomUUID(), paymentId: randomUUID(), reason: `r${i}` });
        assert.equal(res.statusCode, 200);
      }
      const all = await list();
      assert.equal(all.length, 20);
      assert.equal((await list('?size=')).length, 20);
      assert.deepEqual(
        all.slice(0, 3).map((e) => e.reason),
        ['r20', 'r19', 'r18'],
      );
      const sorted = [...all].sort((a, b) => (a.receivedAt < b.receivedAt ? 1 : a.receivedAt > b.receivedAt ? -1 : 0));
      assert.deepEqual(
        all.map((e) => e.eventId),
        sorted.map((e) => e.eventId),
      );
    });

    test('synthetic-failure: 200 (not 201), the exact shape, stored, nothing published', async () => {
      const orderId = randomUUID();
      const paymentId = randomUUID();
      const seenBefore = n.seen.length;
      const res = await synthetic({ orderId, paymentId, reason: ' card expired ', ignored: true });
      assert.equal(res.statusCode, 200);
      const body = res.json() as NotificationEvent;
      assert.deepEqual(
        { ...body, eventId: undefined, traceId: undefined, occurredAt: undefined, receivedAt: undefined },
        {
          eventId: undefined,
          eventType: 'PaymentFailed',
          orderId,
          paymentId,
          reason: ' card expired ',
          traceId: undefined,
          userId: 'system',
          roles: ['system'],
          occurredAt: undefined,
          receivedAt: undefined,
        },
      );
      assert.match(body.eventId!, UUID);
      assert.match(body.traceId!, UUID);
      assert.notEqual(body.eventId, body.traceId);
      assert.match(body.receivedAt, ISO_MILLIS_Z);
      assert.equal(body.occurredAt, body.receivedAt);
      assert.deepEqual(await forOrder(orderId), [body], 'stored as answered');
      const again = (await synthetic({ orderId, paymentId, reason: 'x' })).json() as NotificationEvent;
      assert.notEqual(again.eventId, body.eventId, 'a new eventId each time');
      assert.notEqual(again.traceId, body.traceId, 'a new traceId each time');
      await sleep(200);
      assert.equal(n.seen.length, seenBefore, 'nothing reached ecom.events');
      const [outbox] = await n.service.deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_events');
      assert.equal(outbox?.n, 0);
    });

    test('synthetic-failure validates its body: 400 for a missing or bad UUID or a blank reason, 415 for non-JSON', async () => {
      const url = '/api/notifications/events/synthetic-failure';
      const ok = { orderId: randomUUID(), paymentId: randomUUID(), reason: 'r' };
      for (const [what, payload] of [
        ['missing orderId', { ...ok, orderId: undefined }],
        ['null paymentId', { ...ok, paymentId: null }],
        ['bad orderId', { ...ok, orderId: 'nope' }],
        ['blank reason', { ...ok, reason: '   ' }],
        ['missing reason', { ...ok, reason: undefined }],
        ['array body', [ok]],
      ] as const) {
        const res = await synthetic(payload);
        assert.equal(res.statusCode, 400, what);
        assertErrorBody(res.json(), 400, url);
      }
      const text = await n.service.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'text/plain' },
        payload: 'hello',
      });
      assert.equal(text.statusCode, 415);
      assert.equal((await forOrder(ok.orderId)).length, 0, 'nothing stored');
    });

    test('dedupe: the same message twice is stored once; the same event_id under another message_id too', async () => {
      const dupes = () => n.metric(/^messaging_consumed_total\{.*outcome="duplicate"/);
      const before = await dupes();
      const event = n.envelope('PaymentFailed');
      await deliver(event);
      await n.publish(event);
      await waitFor(async () => (await dupes()) === before + 1);
      const sameEventBefore = await n.metric(/^notifications_duplicate_events_total/);
      await n.publish(event, { messageId: randomUUID() });
      await waitFor(async () => (await n.metric(/^notifications_duplicate_events_total/)) === sameEventBefore + 1);
      assert.equal((await forOrder(event.data.order_id)).length, 1);
    });

    test('malformed JSON and invalid envelopes go to the DLQ (the original dropped them), nothing is stored', async () => {
      const dlq = `${n.namespace}q.notification.payment-result.dlq`;
      const before = await n.count();
      const junkId = randomUUID();
      await n.publish('{"event_type":"PaymentFailed", not json', { messageId: junkId });
      const missing = n.envelope('PaymentSucceeded');
      const { payment_id: _dropped, ...data } = missing.data;
      await n.publish({ ...missing, data });
      const dead = await waitFor(async () => {
        const mine = (await listDlq(n.service.deps.transport, dlq, 50)).filter(
          (m) => m.messageId === junkId || m.messageId === missing.event_id,
        );
        return mine.length === 2 ? mine : undefined;
      });
      assert.match(dead.find((m) => m.messageId === junkId)!.reason!, /^POISON:invalid JSON/);
      assert.match(dead.find((m) => m.messageId === missing.event_id)!.reason!, /^POISON:.*payment_id/);
      assert.equal(await n.count(), before);
    });

    test('the store keeps the newest NOTIFICATION_STORE_SIZE (5): 8 in order → the last 5; a burst of 8 → still 5', async () => {
      const small = await startNotifications(mode, { NOTIFICATION_STORE_SIZE: '5' });
      try {
        const events = Array.from({ length: 8 }, (_, i) => small.envelope('PaymentFailed', { reason: `event-${i}` }));
        for (const e of events) {
          await small.publish(e);
          await waitFor(
            async () =>
              (await small.service.deps.db.query('SELECT 1 FROM notification_events WHERE event_id = $1', [e.event_id]))
                .length === 1,
          );
        }
        const kept = (
          await small.service.app.inject({ method: 'GET', url: '/api/notifications/events?size=200' })
        ).json() as NotificationEvent[];
        assert.deepEqual(
          kept.map((e) => e.reason),
          ['event-7', 'event-6', 'event-5', 'event-4', 'event-3'],
        );
        assert.equal(await small.count(), 5);

        // Concurrent deliveries (PostgreSQL runs them in parallel): the bound holds after each commit.
        const burst = Array.from({ length: 8 }, () => small.envelope('PaymentSucceeded'));
        await Promise.all(burst.map((e) => small.publish(e)));
        await waitFor(async () => (await small.metric(/^notifications_stored_total\{.*PaymentSucceeded/)) === 8);
        assert.equal(await small.count(), 5);
        assert.equal(await small.metric(/^notifications_trimmed_total/), 11);
        // The synthetic path trims too.
        await small.service.app.inject({
          method: 'POST',
          url: '/api/notifications/events/synthetic-failure',
          payload: { orderId: randomUUID(), paymentId: randomUUID(), reason: 'newest' },
        });
        assert.equal(await small.count(), 5);
        const [newest] = (
          await small.service.app.inject({ method: 'GET', url: '/api/notifications/events?size=1' })
        ).json() as NotificationEvent[];
        assert.equal(newest?.reason, 'newest');
      } finally {
        await small.close();
      }
    });

    test('a store of 30 trims every 3rd insertion; readers see exactly the newest 30 in between', async () => {
      assert.equal(trimInterval(30), 3);
      assert.equal(trimInterval(1000), 100);
      assert.equal(trimInterval(5), 1);
      const store = await startNotifications(mode, { NOTIFICATION_STORE_SIZE: '30' });
      try {
        const inserted: ReturnType<typeof store.envelope<'PaymentFailed'>>[] = [];
        const deliverOne = async (i: number) => {
          const e = store.envelope('PaymentFailed', { reason: `event-${i}` });
          await store.publish(e);
          await waitFor(
            async () =>
              (await store.service.deps.db.query('SELECT 1 FROM notification_events WHERE event_id = $1', [e.event_id]))
                .length === 1,
          );
          inserted.push(e);
        };
        for (let i = 0; i < 40; i++) await deliverOne(i);
        // Right after a trim the table holds exactly 30; the next insertion makes it 31.
        while ((await store.count()) === 30) await deliverOne(inserted.length);
        const physical = await store.count();
        assert.ok(physical > 30 && physical < 33, `between trims: ${physical} rows`);
        assert.equal(await store.metric(/^notifications_trimmed_total/), inserted.length - physical);

        const listed = (
          await store.service.app.inject({ method: 'GET', url: '/api/notifications/events?size=200' })
        ).json() as NotificationEvent[];
        assert.deepEqual(
          listed.map((e) => e.reason),
          inserted
            .slice(-30)
            .reverse()
            .map((e) => e.data.reason),
        );
        // The oldest row still in the table is beyond the newest 30: gone for every reader.
        const [oldest] = await store.service.deps.db.query<{ order_id: string }>(
          'SELECT order_id FROM notification_events ORDER BY received_at, seq LIMIT 1',
        );
        assert.equal(oldest?.order_id, inserted.at(-physical)?.data.order_id);
        const byOrder = await store.service.app.inject({
          method: 'GET',
          url: `/api/notifications/events?orderId=${oldest?.order_id}`,
        });
        assert.deepEqual(byOrder.json(), []);
        const byNewest = await store.service.app.inject({
          method: 'GET',
          url: `/api/notifications/events?orderId=${inserted.at(-30)?.data.order_id}`,
        });
        assert.equal(byNewest.json().length, 1);
      } finally {
        await store.close();
      }
    });

    if (mode === 'postgres') {
      test('the store is persisted: another instance on the same database serves the same notifications', async () => {
        const event = n.envelope('PaymentFailed');
        await deliver(event);
        const url = n.service.deps.env.env.NOTIFICATION_DB_URL!;
        const other = await startNotifications(mode, { NOTIFICATION_DB_URL: url });
        try {
          const res = await other.service.app.inject({
            method: 'GET',
            url: `/api/notifications/events?orderId=${event.data.order_id}`,
          });
          assert.deepEqual(res.json(), await forOrder(event.data.order_id));
          assert.equal(res.json().length, 1);
        } finally {
          await other.close();
        }
      });
    }
  });
}

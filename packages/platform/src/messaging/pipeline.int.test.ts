/**
 * The messaging backbone's promises, each proven on real RabbitMQ + PostgreSQL AND on the
 * in-process transport + PGlite (one suite, parameterized). Every run uses its own namespace,
 * so it never meets another test's messages on the shared broker.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createEvent } from '@ecom/contracts';
import type { Database } from '../db/database.js';
import { behaviours, invocations, messagingFixture } from '../fixtures/messaging-service.js';
import type { Service } from '../service.js';
import {
  attachProbe,
  DB_MODES,
  type DbMode,
  deleteNamespacedTopology,
  startTcpProxy,
  startTestIssuer,
  startTestService,
  TEST_AMQP_URL,
  TEST_PG_ADMIN_URL,
  type TestIssuer,
  type TestService,
  uniqueName,
  waitFor,
} from '../testing/index.js';
import type { AmqpTransport } from './amqp-transport.js';
import { discardDlq, dlqAudit, listDlq, replayDlq } from './dlq.js';
import { OUTBOX_CLAIM_SQL, startOutboxRelay } from './outbox.js';
import type { Delivery, Transport } from './transport.js';

const RETRY_TTL_MS = 150;

for (const mode of DB_MODES) {
  const broker = mode === 'postgres' ? 'RabbitMQ + PostgreSQL' : 'in-process + PGlite';
  describe(`messaging pipeline on ${broker}`, () => {
    const ns = `${uniqueName('p')}.`;
    let svc: TestService<unknown>;
    let service: Service<unknown>;
    let db: Database;
    let transport: Transport;
    const q = (name: string) => ns + name;
    const MAIN = 'q.inventory.order-created';
    const DLQ = q(`${MAIN}.dlq`);
    /** Everything the consumer emitted, seen on a probe queue bound like payment's. */
    const emitted: Delivery[] = [];

    let issuer: TestIssuer;
    before(async () => {
      issuer = await startTestIssuer();
      svc = await startService(mode, ns, { AUTH_JWKS_URI: issuer.jwksUri });
      service = svc.service;
      db = service.deps.db;
      transport = service.deps.transport;
      await attachProbe(transport, ns, { bindingKeys: ['inventory.reserved'], onDelivery: (d) => emitted.push(d) });
    });

    after(async () => {
      await svc.close();
      await issuer.close();
      if (mode === 'postgres') await deleteNamespacedTopology(TEST_AMQP_URL, ns, { extraQueues: ['probe'] });
    });

    const orderCreated = (orderId = randomUUID()) =>
      createEvent(
        'OrderCreated',
        {
          order_id: orderId,
          user_id: 'user-1',
          items: [{ sku_id: 'SKU-1', quantity: 2, price: 9.95 }],
          total_amount: 19.9,
        },
        { traceId: randomUUID(), identity: { user_id: 'user-1', roles: ['buyer'] } },
      );
    const publish = (body: string | object, messageId?: string) =>
      transport.publish({
        exchange: q('ecom.events'),
        routingKey: 'order.created',
        body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
        messageId,
        contentType: 'application/json',
        headers: { 'x-event-type': 'OrderCreated' },
      });
    const effects = async (orderId: string) =>
      (await db.query<{ n: number }>('SELECT count(*) AS n FROM effects WHERE order_id = $1', [orderId]))[0]?.n ?? 0;
    const outboxRows = async (orderId: string) =>
      (
        await db.query<{ n: number }>(`SELECT count(*) AS n FROM outbox_events WHERE payload LIKE $1`, [`%${orderId}%`])
      )[0]?.n ?? 0;
    const emittedFor = (orderId: string) => emitted.filter((d) => d.body.toString().includes(orderId));
    const metric = async (pattern: RegExp) => {
      const text = await service.deps.registry.metrics();
      const line = text.split('\n').find((l) => pattern.test(l));
      return line ? Number(line.split(' ').pop()) : 0;
    };

    test('an event is handled once, its reaction goes out through the outbox with trace_id and identity copied', async () => {
      const event = orderCreated();
      await publish(event, event.event_id);
      await waitFor(async () => emittedFor(event.data.order_id).length === 1);
      assert.equal(await effects(event.data.order_id), 1);
      const [out] = emittedFor(event.data.order_id);
      const reaction = JSON.parse(out!.body.toString());
      assert.equal(reaction.event_type, 'InventoryReserved');
      assert.equal(reaction.trace_id, event.trace_id);
      assert.deepEqual(reaction.identity, event.identity);
      assert.equal(out!.messageId, reaction.event_id, 'message_id = event_id = outbox row id');
      assert.equal(out!.headers['x-event-id'], reaction.event_id);
      assert.equal(out!.headers['x-event-type'], 'InventoryReserved');
      assert.equal(out!.headers['x-trace-id'], event.trace_id);
      assert.match(
        String(out!.headers.traceparent),
        new RegExp(`^00-${event.trace_id!.replaceAll('-', '')}-[0-9a-f]{16}-01$`),
      );
      const [row] = await db.query<{ status: string; sent_at: Date | null }>(
        'SELECT status, sent_at FROM outbox_events WHERE id = $1',
        [reaction.event_id],
      );
      assert.equal(row?.status, 'SENT');
      assert.ok(row?.sent_at instanceof Date);
    });

    test('the relay claims through the pending index in its order (an index scan, never a bitmap scan)', async () => {
      const plan = await db.transaction(async (tx) => {
        await tx.exec('SET LOCAL enable_bitmapscan = off'); // as the relay does
        return tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${OUTBOX_CLAIM_SQL}`, [50]);
      });
      const text = plan.map((r) => r['QUERY PLAN']).join('\n');
      assert.match(text, /Index Scan using idx_outbox_pending_created_at_id on outbox_events/, text);
      assert.doesNotMatch(text, /Bitmap|Sort/, text);
    });

    test('a message delivered twice takes effect once (the second is an acknowledged duplicate)', async () => {
      const event = orderCreated();
      const before = await metric(/messaging_consumed_total\{.*outcome="duplicate"/);
      await publish(event, event.event_id);
      await publish(event, event.event_id);
      await waitFor(async () => (await metric(/messaging_consumed_total\{.*outcome="duplicate"/)) === before + 1);
      assert.equal(await effects(event.data.order_id), 1);
      assert.equal(await outboxRows(event.data.order_id), 1);
      // The dedupe row is written with the COMMIT: the duplicate's handler may run (at most once
      // more), and nothing it did survives — one effect row, one outbox row.
      assert.ok((invocations.get(event.data.order_id) ?? 0) <= 2, 'the handler ran at most once per delivery');
    });

    test('without a message_id, the envelope event_id is the dedupe key', async () => {
      const event = orderCreated();
      await publish(event);
      await publish(event);
      await waitFor(async () => (await effects(event.data.order_id)) === 1);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await effects(event.data.order_id), 1);
    });

    test('a poison message reaches the DLQ after exactly one attempt, with its reason', async () => {
      const messageId = randomUUID();
      await publish('{"event_type":"OrderCreated", not json', messageId);
      const missingField = orderCreated();
      const { order_id: _dropped, ...data } = missingField.data;
      await publish({ ...missingField, data }, missingField.event_id);
      const dead = await waitFor(async () => {
        const list = await listDlq(transport, DLQ, 50);
        const mine = list.filter((m) => m.messageId === messageId || m.messageId === missingField.event_id);
        return mine.length === 2 ? mine : undefined;
      });
      const bad = dead.find((m) => m.messageId === messageId)!;
      assert.match(bad.reason!, /^POISON:invalid JSON/);
      assert.equal(bad.retryCount, 0);
      assert.equal(bad.sourceQueue, q(MAIN));
      assert.equal(bad.originalRoutingKey, 'order.created');
      assert.equal(bad.eventType, 'OrderCreated');
      const missing = dead.find((m) => m.messageId === missingField.event_id)!;
      assert.match(missing.reason!, /^POISON:.*order_id/);
      assert.equal(invocations.get(missingField.data.order_id), undefined, 'the handler never saw it');
    });

    test('a handler failing twice then succeeding takes effect once, after two TTL retries', async () => {
      const event = orderCreated();
      behaviours.set(event.data.order_id, { failTimes: 2 });
      const started = Date.now();
      await publish(event, event.event_id);
      await waitFor(async () => (await effects(event.data.order_id)) === 1, { timeoutMs: 15_000 });
      assert.equal(invocations.get(event.data.order_id), 3);
      assert.ok(Date.now() - started >= 2 * RETRY_TTL_MS, 'each retry waited for the TTL');
      await waitFor(async () => emittedFor(event.data.order_id).length === 1);
      assert.equal(await outboxRows(event.data.order_id), 1, 'the failed attempts wrote nothing');
    });

    test('a handler that always fails is dead-lettered after the maximum (1 + 3 attempts) with reason and count', async () => {
      const event = orderCreated();
      behaviours.set(event.data.order_id, { failTimes: Number.POSITIVE_INFINITY });
      await publish(event, event.event_id);
      const dead = await waitFor(
        async () => (await listDlq(transport, DLQ, 50)).find((m) => m.messageId === event.event_id),
        { timeoutMs: 15_000 },
      );
      assert.equal(dead.reason, 'RETRY_EXHAUSTED:induced failure 4');
      assert.equal(dead.retryCount, 3);
      assert.equal(dead.traceId, null, 'x-trace-id is copied only when the original had one');
      assert.equal(invocations.get(event.data.order_id), 4);
      assert.equal(await effects(event.data.order_id), 0, 'nothing committed');
      assert.equal(await outboxRows(event.data.order_id), 0, 'nothing published');
      assert.equal(emittedFor(event.data.order_id).length, 0);
    });

    test('a handler that throws after writing commits nothing and publishes nothing (PermanentError → DLQ at once)', async () => {
      const event = orderCreated();
      behaviours.set(event.data.order_id, { permanent: true });
      await publish(event, event.event_id);
      const dead = await waitFor(async () =>
        (await listDlq(transport, DLQ, 50)).find((m) => m.messageId === event.event_id),
      );
      assert.match(dead.reason!, /^PERMANENT:this order can never be processed/);
      assert.equal(invocations.get(event.data.order_id), 1);
      assert.equal(await effects(event.data.order_id), 0);
      assert.equal(await outboxRows(event.data.order_id), 0);
    });

    test('a burst is handled in batches (several deliveries per transaction); a batch that fails is replayed one by one: each exactly once', async () => {
      const batches0 = await metric(/^messaging_batch_size_count\{/);
      const replays0 = await metric(/^messaging_batch_replays_total\{/);
      const events = Array.from({ length: 80 }, () => orderCreated());
      const [permanent, flaky, twice] = [events[17]!, events[41]!, events[63]!];
      behaviours.set(permanent.data.order_id, { permanent: true });
      behaviours.set(flaky.data.order_id, { failTimes: 1 }); // fails in its batch, succeeds alone
      await Promise.all(events.map((e) => publish(e, e.event_id)));
      await publish(twice, twice.event_id); // a duplicate delivery inside the burst
      const ordinary = events.filter((e) => e !== permanent);
      await waitFor(
        async () => {
          const n = await db.query<{ n: number }>(
            'SELECT count(DISTINCT order_id)::int AS n FROM effects WHERE order_id = ANY($1::uuid[])',
            [ordinary.map((e) => e.data.order_id)],
          );
          return n[0]?.n === ordinary.length;
        },
        { timeoutMs: 20_000 },
      );
      await waitFor(async () => (await listDlq(transport, DLQ, 200)).some((m) => m.messageId === permanent.event_id));
      await waitFor(async () => ordinary.every((e) => emittedFor(e.data.order_id).length >= 1), { timeoutMs: 20_000 });
      for (const e of ordinary) {
        assert.equal(await effects(e.data.order_id), 1, `effects of ${e.data.order_id}`);
        assert.equal(await outboxRows(e.data.order_id), 1, `outbox rows of ${e.data.order_id}`);
      }
      assert.equal(await effects(permanent.data.order_id), 0);
      assert.equal(await outboxRows(permanent.data.order_id), 0);
      assert.ok((await metric(/^messaging_batch_size_count\{/)) > batches0, 'some deliveries shared a transaction');
      // The permanent one ran twice when it came in a batch (in it, then alone): then its batch was
      // replayed one by one. (A delivery that found a slot free ran alone, once.)
      if ((invocations.get(permanent.data.order_id) ?? 0) > 1)
        assert.ok((await metric(/^messaging_batch_replays_total\{/)) > replays0, 'the failing batch was replayed');
      else assert.equal(invocations.get(permanent.data.order_id), 1);
      assert.equal(await transport.queueDepth(q(MAIN)), 0);
    });

    test('DLQ replay returns a message to its source queue where it takes effect; discard removes one; both audited', async () => {
      const event = orderCreated();
      behaviours.set(event.data.order_id, { permanent: true });
      await publish(event, event.event_id);
      await waitFor(async () => (await listDlq(transport, DLQ, 50)).some((m) => m.messageId === event.event_id));
      behaviours.delete(event.data.order_id); // the "bug" is fixed
      const replayed = await replayDlq(transport, db, DLQ, {
        messageId: event.event_id,
        actor: 'ops-1',
        reason: 'fixed',
      });
      assert.equal(replayed, 1);
      await waitFor(async () => (await effects(event.data.order_id)) === 1);
      assert.ok(!(await listDlq(transport, DLQ, 50)).some((m) => m.messageId === event.event_id), 'gone from the DLQ');

      const junk = randomUUID();
      await publish('not json at all', junk);
      await waitFor(async () => (await listDlq(transport, DLQ, 50)).some((m) => m.messageId === junk));
      assert.equal(
        await discardDlq(transport, db, DLQ, { messageId: junk, actor: 'ops-2', reason: 'garbage from a test' }),
        1,
      );
      assert.ok(!(await listDlq(transport, DLQ, 50)).some((m) => m.messageId === junk));

      const audit = await dlqAudit(db, 10);
      const replayRow = audit.find((a) => a.messageId === event.event_id)!;
      assert.deepEqual(
        [replayRow.action, replayRow.actor, replayRow.reason, replayRow.target],
        ['REPLAYED', 'ops-1', 'fixed', q(MAIN)],
      );
      assert.match(replayRow.dlqReason!, /^PERMANENT:/);
      const discardRow = audit.find((a) => a.messageId === junk)!;
      assert.deepEqual(
        [discardRow.action, discardRow.actor, discardRow.reason],
        ['DISCARDED', 'ops-2', 'garbage from a test'],
      );
    });

    test('the DLQ admin endpoints: 401 without a token, 403 without the admin role, then list, replay and audit', async () => {
      const app = service.app;
      const event = orderCreated();
      behaviours.set(event.data.order_id, { permanent: true });
      await publish(event, event.event_id);
      await waitFor(async () => (await listDlq(transport, DLQ, 50)).some((m) => m.messageId === event.event_id));
      const url = `/admin/dlq/${MAIN}.dlq/messages`;
      const none = await app.inject({ method: 'GET', url });
      assert.equal(none.statusCode, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer');
      const buyer = { authorization: `Bearer ${await issuer.token('u1', ['buyer'])}` };
      assert.equal((await app.inject({ method: 'GET', url, headers: buyer })).statusCode, 403);
      const admin = { authorization: `Bearer ${await issuer.token('ops-admin', ['admin'])}` };
      const overview = await app.inject({ method: 'GET', url: '/admin/dlq', headers: admin });
      assert.equal(overview.statusCode, 200);
      assert.ok(
        overview.json().queues.some((x: { queue: string; depth: number }) => x.queue === `${MAIN}.dlq` && x.depth >= 1),
      );
      const listed = await app.inject({ method: 'GET', url, headers: admin });
      assert.equal(listed.statusCode, 200);
      const mine = listed.json().find((m: { messageId: string }) => m.messageId === event.event_id);
      assert.match(mine.reason, /^PERMANENT:/);
      assert.equal(
        (await app.inject({ method: 'GET', url: '/admin/dlq/q.unknown.dlq/messages', headers: admin })).statusCode,
        404,
      );
      behaviours.delete(event.data.order_id);
      const replay = await app.inject({
        method: 'POST',
        url: `/admin/dlq/${MAIN}.dlq/replay`,
        headers: admin,
        payload: { messageId: event.event_id, reason: 'handler fixed' },
      });
      assert.equal(replay.statusCode, 200);
      assert.deepEqual(replay.json(), { replayed: 1 });
      await waitFor(async () => (await effects(event.data.order_id)) === 1);
      const missing = await app.inject({
        method: 'POST',
        url: `/admin/dlq/${MAIN}.dlq/discard`,
        headers: admin,
        payload: { messageId: randomUUID(), reason: 'nothing' },
      });
      assert.equal(missing.statusCode, 404);
      const blankReason = await app.inject({
        method: 'POST',
        url: `/admin/dlq/${MAIN}.dlq/discard`,
        headers: admin,
        payload: { messageId: event.event_id, reason: '  ' },
      });
      assert.equal(blankReason.statusCode, 400);
      const audit = await app.inject({ method: 'GET', url: '/admin/dlq/audit?limit=5', headers: admin });
      const row = audit.json().find((a: { messageId: string }) => a.messageId === event.event_id);
      assert.deepEqual([row.action, row.actor, row.reason], ['REPLAYED', 'ops-admin', 'handler fixed']);
    });

    test('the relay crashing between publish and mark re-publishes with the same message_id; the consumer applies it once', async () => {
      // A second instance with no relay of its own (and its own namespace), so only the
      // crashing relay below publishes this row.
      const ns2 = `${uniqueName('c')}.`;
      const quiet = await startService(mode, ns2, { OUTBOX_RELAYS: '0' });
      const qdb = quiet.service.deps.db;
      const event = orderCreated();
      // Simulate the crash: the UPDATE … SET status = 'SENT' fails once, so the transaction rolls back.
      let crashed = false;
      const crashingDb: Database = {
        ...qdb,
        transaction: (fn) =>
          qdb.transaction((tx) =>
            fn({
              ...tx,
              execute: async (text, params) => {
                if (!crashed && text.includes("status = 'SENT'")) {
                  crashed = true;
                  throw new Error('relay killed before marking SENT');
                }
                return tx.execute(text, params);
              },
              // The mark normally travels with the COMMIT (tx.defer): the same crash there.
              defer: (text, params) => {
                if (!crashed && text.includes("status = 'SENT'")) {
                  crashed = true;
                  throw new Error('relay killed before marking SENT');
                }
                tx.defer?.(text, params);
              },
            }),
          ),
      };
      const quietEffects = async () =>
        (
          await qdb.query<{ n: number }>('SELECT count(*) AS n FROM effects WHERE order_id = $1', [event.data.order_id])
        )[0]?.n ?? 0;
      try {
        await qdb.transaction((tx) => quiet.service.deps.outbox.add(tx, event));
        const relay = await startOutboxRelay({
          db: crashingDb,
          transport: quiet.service.deps.transport,
          logger: quiet.service.deps.logger,
          registry: quiet.service.deps.registry,
          exchange: `${ns2}ecom.events`,
          pollIntervalMs: 60_000,
          batchSize: 500,
          retentionMs: 3_600_000,
        });
        try {
          // The relay's own loop runs at once: its first cycle publishes, then "dies" before
          // marking; the next cycle (woken by the failure back-off) publishes the row again.
          await waitFor(() => crashed);
          await waitFor(
            async () =>
              (
                await qdb.query<{ status: string }>('SELECT status FROM outbox_events WHERE id = $1', [event.event_id])
              )[0]?.status === 'SENT',
            { timeoutMs: 15_000 },
          );
        } finally {
          await relay.stop();
        }
        const dupes = () =>
          quiet.service.deps.registry.metrics().then((t) =>
            Number(
              t
                .split('\n')
                .find((l) => /messaging_consumed_total\{.*outcome="duplicate"/.test(l))
                ?.split(' ')
                .pop() ?? 0,
            ),
          );
        await waitFor(async () => (await dupes()) === 1);
        assert.equal(await quietEffects(), 1, 'published twice, applied once');
        const [row] = await qdb.query<{ status: string }>('SELECT status FROM outbox_events WHERE id = $1', [
          event.event_id,
        ]);
        assert.equal(row?.status, 'SENT');
      } finally {
        await quiet.close();
        if (mode === 'postgres') await deleteNamespacedTopology(TEST_AMQP_URL, ns2, { extraQueues: ['probe'] });
      }
    });

    test('two more relays on the same table publish each of 300 rows exactly once', async () => {
      const events = Array.from({ length: 300 }, () => orderCreated());
      await db.transaction(async (tx) => {
        for (const e of events) await service.deps.outbox.add(tx, e);
      });
      const start = () =>
        startOutboxRelay({
          db,
          transport,
          logger: service.deps.logger,
          registry: service.deps.registry,
          exchange: q('ecom.events'),
          pollIntervalMs: 50,
          batchSize: 20,
          retentionMs: 3_600_000,
        });
      const relays = await Promise.all([start(), start()]);
      try {
        const ids = events.map((e) => e.data.order_id);
        await waitFor(
          async () =>
            (
              await db.query<{ n: number }>('SELECT count(*) AS n FROM effects WHERE order_id = ANY($1::uuid[])', [ids])
            )[0]?.n === 300,
          { timeoutMs: 30_000, intervalMs: 100 },
        );
      } finally {
        await Promise.all(relays.map((r) => r.stop()));
      }
      const published = await metric(/^outbox_published_total/);
      assert.ok(published >= 300);
      const dupes = await metric(/messaging_consumed_total\{.*outcome="duplicate"/);
      const handled = events.map((e) => invocations.get(e.data.order_id));
      assert.ok(
        handled.every((n) => n === 1),
        'every row was handled exactly once',
      );
      assert.ok(dupes < 10, `no row was published twice by the relays (duplicates seen: ${dupes}, from earlier tests)`);
    });

    test('1,000 events through the relay and the consumer take effect exactly once (AMQP: with the connection dropped mid-stream)', async () => {
      const events = Array.from({ length: 1000 }, () => orderCreated());
      for (let i = 0; i < 10; i++) {
        await db.transaction(async (tx) => {
          for (const e of events.slice(i * 100, i * 100 + 100)) await service.deps.outbox.add(tx, e);
        });
        if (i === 4 && transport.kind === 'amqp') (transport as AmqpTransport).dropConnectionForTest();
      }
      await waitFor(
        async () => {
          const [row] = await db.query<{ n: number }>(
            'SELECT count(DISTINCT order_id) AS n FROM effects WHERE order_id = ANY($1::uuid[])',
            [events.map((e) => e.data.order_id)],
          );
          return row?.n === 1000;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      const [total] = await db.query<{ n: number }>(
        'SELECT count(*) AS n FROM effects WHERE order_id = ANY($1::uuid[])',
        [events.map((e) => e.data.order_id)],
      );
      assert.equal(total?.n, 1000, 'no effect applied twice');
      if (transport.kind === 'amqp')
        assert.ok((transport as AmqpTransport).lastReconnectMs !== null, 'the connection really dropped');
    });
  });
}

describe('messaging pipeline during a database outage (RabbitMQ + PostgreSQL behind a proxy)', () => {
  test('messages are held and requeued with back-off, no attempt is burnt, nothing reaches the DLQ; all apply once after recovery', async () => {
    const admin = new URL(TEST_PG_ADMIN_URL);
    const proxy = await startTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
    const ns = `${uniqueName('o')}.`;
    const dbName = uniqueName('outage');
    const svc = await startService('postgres', ns, {
      FIXTURE_DB_URL: `postgres://${admin.username || 'postgres'}@127.0.0.1:${proxy.port}/${dbName}`,
    });
    const { transport } = svc.service.deps;
    try {
      proxy.cut();
      const events = Array.from({ length: 5 }, () =>
        createEvent(
          'OrderCreated',
          { order_id: randomUUID(), user_id: 'u', items: [{ sku_id: 'S', quantity: 1, price: 1 }], total_amount: 1 },
          { traceId: randomUUID(), identity: null },
        ),
      );
      for (const e of events) {
        await transport.publish({
          exchange: `${ns}ecom.events`,
          routingKey: 'order.created',
          body: Buffer.from(JSON.stringify(e)),
          messageId: e.event_id,
        });
      }
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(
        await transport.queueDepth(`${ns}q.inventory.order-created.dlq`),
        0,
        'the outage flooded nothing into the DLQ',
      );
      assert.equal(
        await transport.queueDepth(`${ns}q.inventory.order-created.retry`),
        0,
        'no retry attempt was consumed',
      );
      const requeued = Number(
        (await svc.service.deps.registry.metrics())
          .split('\n')
          .find((l) => l.includes('outcome="requeued"'))
          ?.split(' ')
          .pop() ?? 0,
      );
      assert.ok(requeued >= 1 && requeued < 40, `backed off instead of spinning (requeues in 2.5 s: ${requeued})`);
      proxy.restore();
      await waitFor(
        async () => {
          const [row] = await svc.service.deps.db.query<{ n: number }>('SELECT count(*) AS n FROM effects');
          return row?.n === 5;
        },
        { timeoutMs: 45_000, intervalMs: 200 },
      );
    } finally {
      proxy.restore();
      await svc.close();
      await proxy.close();
      await deleteNamespacedTopology(TEST_AMQP_URL, ns, { extraQueues: ['probe'] });
      const { dropDatabase } = await import('../testing/index.js');
      await dropDatabase(dbName);
    }
  });
});

async function startService(mode: DbMode, ns: string, extra: Record<string, string> = {}) {
  return startTestService(messagingFixture, mode, {
    env: {
      MESSAGING_NAMESPACE: ns,
      APP_MESSAGING_RETRY_TTL_MS: String(RETRY_TTL_MS),
      APP_OUTBOX_POLL_INTERVAL_MS: '100',
      MESSAGING_PREFETCH: '20',
      ...(mode === 'postgres' ? { RABBITMQ_URL: TEST_AMQP_URL } : {}),
      ...extra,
    },
  });
}

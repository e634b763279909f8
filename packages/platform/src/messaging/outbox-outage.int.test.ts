/**
 * The outbox relay during a broker outage (found by scripts/faults.ts, scenario restart-rabbitmq):
 * rows that fail because the broker connection is gone keep their attempts and stay due, and
 * the relay waits for the reconnect instead of claiming them again and again; they are published
 * as soon as the broker is back. A failure that IS the row's (the broker is up) still backs off.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { acquirePgliteHost, type PgliteHost } from '../db/pglite.js';
import { type OutboxRelay, startOutboxRelay } from './outbox.js';
import { type OutgoingMessage, PublishError, type Transport } from './transport.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

/** A broker whose connection the test switches off and on; `poison` ids are unroutable. */
function fakeBroker() {
  const state = { up: true, published: [] as string[], poison: new Set<string>(), dropDuringPublish: false };
  const transport: Transport = {
    kind: 'amqp',
    declare: async () => undefined,
    async publish(m: OutgoingMessage) {
      if (state.dropDuringPublish) {
        state.dropDuringPublish = false;
        state.up = false; // the connection is lost while this batch waits for its confirms
      }
      if (!state.up) throw new PublishError('not connected to the broker', 'closed');
      if (state.poison.has(m.messageId ?? '')) throw new PublishError('unroutable: 312 NO_ROUTE', 'unroutable');
      state.published.push(m.messageId ?? '');
    },
    consume: async () => ({ cancel: async () => undefined }),
    get: async () => null,
    queueDepth: async () => 0,
    isHealthy: () => state.up,
    close: async () => undefined,
  };
  return { state, transport };
}

let host: PgliteHost;
let db: Database;
let relay: OutboxRelay | undefined;
const broker = fakeBroker();

before(async () => {
  host = await acquirePgliteHost();
  db = await host.database(`outbox_outage_${randomUUID().replaceAll('-', '').slice(0, 8)}`);
  await migrate(db, [{ dir: MIGRATIONS, prefix: 'platform/' }]);
});

after(async () => {
  await relay?.stop();
  await host.release();
});

async function addRows(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  for (const id of ids) {
    await db.execute(
      `INSERT INTO outbox_events (id, event_type, routing_key, payload, status, created_at)
       VALUES ($1, 'OrderCreated', 'order.created', '{}', 'PENDING', now())`,
      [id],
    );
  }
  return ids;
}

async function rows(ids: string[]) {
  return db.query<{
    id: string;
    status: string;
    attempts: number;
    next_attempt_at: Date | null;
    last_error: string | null;
  }>('SELECT id, status, attempts, next_attempt_at, last_error FROM outbox_events WHERE id = ANY($1::uuid[])', [ids]);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('a broker outage burns no attempt; the rows go out as soon as the broker is back', async () => {
  relay = await startOutboxRelay({
    db,
    transport: broker.transport,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    exchange: 'ecom.events',
    pollIntervalMs: 50,
    batchSize: 50,
    retentionMs: 3_600_000,
    retryBaseMs: 1000,
  });

  // 1. The connection drops while a batch waits for its confirms.
  broker.state.dropDuringPublish = true;
  const first = await addRows(5);
  relay.wake();
  await until('the failed batch', async () => (await rows(first)).every((r) => r.last_error !== null));
  // 2. More rows arrive while the broker is still away, and the outage lasts a while.
  const second = await addRows(5);
  relay.wake();
  await new Promise((r) => setTimeout(r, 600));
  for (const r of await rows([...first, ...second])) {
    assert.equal(r.status, 'PENDING');
    assert.equal(r.attempts, 0, 'an outage is not the row’s failure');
    assert.equal(r.next_attempt_at, null, 'no back-off grew during the outage');
  }
  assert.deepEqual(broker.state.published, []);

  // 3. Back: everything is published at once (not after a back-off), each row once.
  const backAt = Date.now();
  broker.state.up = true;
  await until('all rows SENT', async () => (await rows([...first, ...second])).every((r) => r.status === 'SENT'));
  assert.ok(Date.now() - backAt < 1500, `published ${Date.now() - backAt} ms after the reconnect`);
  assert.deepEqual([...broker.state.published].sort(), [...first, ...second].sort());
});

test('a failure that is the row’s own (the broker is up) still counts an attempt and backs off', async () => {
  const [poison] = await addRows(1);
  broker.state.poison.add(poison!);
  relay!.wake();
  await until('the attempt', async () => (await rows([poison!]))[0]!.attempts === 1);
  const [row] = await rows([poison!]);
  assert.equal(row!.status, 'PENDING');
  assert.ok(row!.next_attempt_at, 'a back-off was set');
  assert.match(row!.last_error ?? '', /unroutable/);
});

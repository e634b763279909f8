/**
 * Shared by the messaging scenarios (outbox-relay, consumer-pipeline, publish-to-handled-latency):
 * a namespaced copy of the platform topology on the real broker, a fresh migrated database, the
 * events, and a small amqplib admin connection (depth, purge, pre-loading a queue).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createEvent, type EventOf } from '@ecom/contracts';
import {
  type Database,
  eventMessage,
  eventsExchangeName,
  migrate,
  type OutgoingMessage,
  openPostgres,
  parseDatabaseUrl,
  platformTopology,
  type Topology,
} from '@ecom/platform';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Cleanup } from './lifecycle.js';
import { benchDatabaseName, databaseUrl, dropDatabase } from './pg-admin.js';

/** The broker; override with BENCH_AMQP_URL. */
export const BENCH_AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** The kernel's own migrations (outbox_events, consumed_messages, dlq_audit). */
export const PLATFORM_MIGRATIONS = fileURLToPath(new URL('../../packages/platform/migrations', import.meta.url));

/** The consumed queue every messaging scenario uses (spec name); order.created routes only here. */
export const SPEC_QUEUE = 'q.inventory.order-created';
export const ROUTING_KEY = 'order.created';

/** `bench_<12 hex>.`: prefixes every exchange and queue of the run (platformTopology `namespace`). */
export function benchNamespace(): string {
  return `bench_${randomBytes(6).toString('hex')}.`;
}

export interface BenchBroker {
  namespace: string;
  topology: Topology;
  /** `<ns>ecom.events` */
  exchange: string;
  /** `<ns>q.inventory.order-created`, bound to `order.created`. */
  queue: string;
  admin: AmqpAdmin;
}

/**
 * Declares the namespaced platform topology (5 exchanges, 12 queues, 12 bindings, as every service
 * declares it at boot) and registers its deletion with the run's cleanup.
 */
export async function setUpBroker(cleanup: Cleanup, log: (m: string) => void): Promise<BenchBroker> {
  const namespace = benchNamespace();
  const topology = platformTopology({ namespace });
  const admin = await AmqpAdmin.connect(BENCH_AMQP_URL);
  cleanup.defer(`close the AMQP admin connection`, () => admin.close());
  cleanup.defer(`delete the ${namespace}* exchanges and queues`, async () => {
    await deleteTopology(BENCH_AMQP_URL, topology);
    log(`deleted ${topology.queues.length} queues and ${topology.exchanges.length} exchanges ${namespace}*`);
  });
  await admin.declare(topology);
  return {
    namespace,
    topology,
    exchange: eventsExchangeName(namespace),
    queue: namespace + SPEC_QUEUE,
    admin,
  };
}

/** Deletes every queue and exchange of `topology` (missing ones are fine), on its own connection. */
export async function deleteTopology(url: string, topology: Topology): Promise<void> {
  const conn = await amqp.connect(url, { timeout: 5000 });
  try {
    for (const q of topology.queues) {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteQueue(q.name).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
    for (const e of topology.exchanges) {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteExchange(e.name).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** One amqplib connection for the bench's own broker chores (never in a measured path). */
export class AmqpAdmin {
  private constructor(
    private readonly conn: ChannelModel,
    private readonly ch: ConfirmChannel,
  ) {}

  static async connect(url: string): Promise<AmqpAdmin> {
    const conn = await amqp.connect(url, { timeout: 5000, clientProperties: { connection_name: 'bench-admin' } });
    conn.on('error', () => undefined);
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    return new AmqpAdmin(conn, ch);
  }

  async declare(t: Topology): Promise<void> {
    for (const e of t.exchanges) await this.ch.assertExchange(e.name, e.type, { durable: true, autoDelete: false });
    for (const q of t.queues)
      await this.ch.assertQueue(q.name, { durable: true, autoDelete: false, arguments: { ...q.arguments } });
    for (const b of t.bindings) await this.ch.bindQueue(b.queue, b.exchange, b.bindingKey);
  }

  /** Ready messages (not the unacked ones). */
  async depth(queue: string): Promise<number> {
    return (await this.ch.checkQueue(queue)).messageCount;
  }

  async purge(queue: string): Promise<void> {
    await this.ch.purgeQueue(queue);
  }

  /**
   * Publishes `messages` persistent + mandatory with confirms, `window` at a time; throws when
   * any came back unroutable.
   */
  async preload(messages: readonly OutgoingMessage[], window: number): Promise<void> {
    let returned = 0;
    const onReturn = () => returned++;
    this.ch.on('return', onReturn);
    try {
      for (let i = 0; i < messages.length; i += window) {
        const batch = messages.slice(i, i + window);
        await Promise.all(
          batch.map(
            (m) =>
              new Promise<void>((resolve, reject) => {
                this.ch.publish(
                  m.exchange,
                  m.routingKey,
                  m.body,
                  {
                    mandatory: true,
                    persistent: true,
                    messageId: m.messageId,
                    headers: m.headers ?? {},
                    contentType: m.contentType,
                    contentEncoding: m.contentEncoding,
                  },
                  (err: unknown) => (err ? reject(err) : resolve()),
                );
              }),
          ),
        );
      }
    } finally {
      this.ch.off('return', onReturn);
    }
    if (returned > 0) throw new Error(`preload: ${returned} messages were unroutable`);
  }

  async close(): Promise<void> {
    await this.ch.close().catch(() => undefined);
    await this.conn.close().catch(() => undefined);
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  /** The kernel's Database (openPostgres), for setup chores in the bench process. */
  db: Database;
}

/**
 * A fresh `bench_<hex>` database with the kernel's messaging migrations, applied by the kernel's
 * own `openPostgres` (which creates the database, as a service does at boot) and `migrate()`.
 * Its drop is registered with the run's cleanup.
 */
export async function setUpDatabase(cleanup: Cleanup, log: (m: string) => void, poolSize = 10): Promise<BenchDatabase> {
  const name = benchDatabaseName();
  const url = databaseUrl(name);
  cleanup.defer(`drop database ${name}`, async () => {
    await dropDatabase(name);
    log(`dropped database ${name}`);
  });
  const db = await openPostgres({
    target: parseDatabaseUrl(url),
    maxConnections: poolSize,
    applicationName: 'bench-setup',
  });
  cleanup.defer(`close the setup pool of ${name}`, () => db.close());
  await migrate(db, [{ dir: PLATFORM_MIGRATIONS, prefix: 'platform/' }]);
  return { name, url, db };
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one box. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

const USER_PREFIX = 'bench-i:';

/**
 * A valid OrderCreated envelope like order-service writes (two items, identity, trace id).
 * With `stampMs` (the latency scenario), `user_id` (a free string in the schema) carries the
 * event's index and its scheduled time, `bench-i:<index>@<epoch ms>`, and `occurred_at` is that time.
 */
export function orderCreated(i: number, stampMs?: number): EventOf<'OrderCreated'> {
  const userId = stampMs === undefined ? `user-${i % 1000}` : `${USER_PREFIX}${i}@${stampMs.toFixed(3)}`;
  return createEvent(
    'OrderCreated',
    {
      order_id: randomUUID(),
      user_id: userId,
      items: [
        { sku_id: `SKU-${String(i % 1000).padStart(6, '0')}`, quantity: 2, price: 9.95 },
        { sku_id: `SKU-${String((i * 7) % 1000).padStart(6, '0')}`, quantity: 1, price: 24.5 },
      ],
      total_amount: 44.4,
    },
    {
      traceId: randomUUID(),
      identity: { user_id: userId, roles: ['buyer'] },
      ...(stampMs === undefined ? {} : { occurredAt: new Date(stampMs) }),
    },
  );
}

/** The index `orderCreated(i, stampMs)` put in the event, or -1. */
export function benchIndexOf(event: { data: { user_id: string } }): number {
  const u = event.data.user_id;
  if (!u.startsWith(USER_PREFIX)) return -1;
  const i = Number.parseInt(u.slice(USER_PREFIX.length), 10);
  return Number.isInteger(i) ? i : -1;
}

/** The AMQP message the relay would publish for this event (same body, id, headers, properties). */
export function messageOf(exchange: string, event: EventOf<'OrderCreated'>): OutgoingMessage {
  return eventMessage(exchange, {
    id: event.event_id,
    event_type: event.event_type,
    routing_key: ROUTING_KEY,
    payload: JSON.stringify(event),
  });
}

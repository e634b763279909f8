/**
 * Starts inventory-service for a test on one of the two stacks (design §5):
 *  - `postgres`: a fresh PostgreSQL database, RabbitMQ and Redis (real servers on 127.0.0.1);
 *  - `pglite`:   a fresh PGlite schema, the in-process transport and the in-process cache.
 * Each start has its own AMQP namespace and its own Redis key prefix, so tests never meet
 * each other's messages or keys on the shared servers, and everything is deleted on close.
 */
import { randomUUID } from 'node:crypto';
import type { Service } from '@ecom/platform';
import {
  type DbMode,
  deleteNamespacedTopology,
  startTestService,
  TEST_AMQP_URL,
  type TestIssuer,
  uniqueName,
} from '@ecom/platform/testing';
import { Redis } from 'ioredis';
import { createInventoryService, type InventoryModule } from '../app.js';
import type { InventoryConfig } from '../config.js';

export const REDIS_HOST = process.env.TEST_REDIS_HOST ?? '127.0.0.1';
export const REDIS_PORT = Number(process.env.TEST_REDIS_PORT ?? 6379);
const RETRY_TTL_MS = 200;

export interface Inventory {
  service: Service<InventoryConfig>;
  module: InventoryModule;
  url: string;
  namespace: string;
  keyPrefix: string;
  /** Value of one unlabelled-but-application series in /actuator/prometheus (0 when absent). */
  metric(name: string): Promise<number>;
  close(): Promise<void>;
}

export async function startInventory(
  mode: DbMode,
  issuer: TestIssuer,
  opts: { env?: Record<string, string>; listen?: boolean; redis?: { host: string; port: number } } = {},
): Promise<Inventory> {
  const namespace = `${uniqueName('inv')}.`;
  const keyPrefix = `test:${randomUUID()}:inventory:stock:`;
  const redis = opts.redis ?? (mode === 'postgres' ? { host: REDIS_HOST, port: REDIS_PORT } : undefined);
  const module = createInventoryService();
  const svc = await startTestService(module, mode, {
    listen: opts.listen,
    env: {
      MESSAGING_NAMESPACE: namespace,
      APP_MESSAGING_RETRY_TTL_MS: String(RETRY_TTL_MS),
      APP_OUTBOX_POLL_INTERVAL_MS: '100',
      AUTH_JWKS_URI: issuer.jwksUri,
      APP_CACHE_STOCK_KEY_PREFIX: keyPrefix,
      ...(mode === 'postgres' ? { RABBITMQ_URL: TEST_AMQP_URL } : {}),
      ...(redis ? { REDIS_HOST: redis.host, REDIS_PORT: String(redis.port) } : {}),
      ...opts.env,
    },
  });
  const service = svc.service as Service<InventoryConfig>;
  return {
    service,
    module,
    url: svc.url,
    namespace,
    keyPrefix,
    async metric(name) {
      const text = await service.deps.registry.metrics();
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
      return line ? Number(line.split(' ').pop()) : Number.NaN;
    },
    async close() {
      await svc.close();
      if (mode === 'postgres') {
        await deleteNamespacedTopology(TEST_AMQP_URL, namespace);
        await deleteRedisKeys(`${keyPrefix}*`);
      }
    },
  };
}

export async function deleteRedisKeys(pattern: string): Promise<void> {
  const redis = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Bearer header values for the protected reservation endpoint. */
export async function tokens(issuer: TestIssuer) {
  return {
    admin: `Bearer ${await issuer.token('ops-1', ['admin'])}`,
    buyer: `Bearer ${await issuer.token('user-1', ['buyer'])}`,
  };
}

/** Inserts audit rows directly (tests control created_at to the millisecond, ties included). */
export async function seedReleaseEvents(
  service: Service<InventoryConfig>,
  rows: { id?: string; orderId?: string; reservationId?: string; reason?: string; createdAt: Date }[],
): Promise<{ id: string; orderId: string; reservationId: string; reason: string; createdAt: Date }[]> {
  const full = rows.map((r) => ({
    id: r.id ?? randomUUID(),
    orderId: r.orderId ?? randomUUID(),
    reservationId: r.reservationId ?? randomUUID(),
    reason: r.reason ?? 'PAYMENT_FAILED',
    createdAt: r.createdAt,
  }));
  await service.deps.db.execute(
    `INSERT INTO inventory_release_events (id, order_id, reservation_id, reason, created_at)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::varchar[], $5::timestamptz[])`,
    [
      full.map((r) => r.id),
      full.map((r) => r.orderId),
      full.map((r) => r.reservationId),
      full.map((r) => r.reason),
      full.map((r) => r.createdAt),
    ],
  );
  return full;
}

/** The spec's sort: created_at DESC, then id DESC (PostgreSQL uuid order = lowercase hex order). */
export function newestFirst<T extends { id: string; createdAt: Date }>(rows: readonly T[]): T[] {
  return [...rows].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
}

/**
 * Starts order-service for a test on one of the two stacks (design §5):
 *  - `postgres`: a fresh PostgreSQL database and RabbitMQ (real servers on 127.0.0.1);
 *  - `pglite`:   a fresh PGlite schema and the in-process transport.
 * Each start has its own messaging namespace (exchanges and queues), deleted on close.
 */
import { randomUUID } from 'node:crypto';
import { createEvent, type EventData, type EventType, type Identity, routingKeyOf } from '@ecom/contracts';
import type { Database, Service } from '@ecom/platform';
import {
  type DbMode,
  deleteNamespacedTopology,
  startTestService,
  TEST_AMQP_URL,
  type TestIssuer,
  uniqueName,
} from '@ecom/platform/testing';
import { createOrderService, type OrderModule } from '../app.js';
import type { OrderConfig } from '../config.js';

const RETRY_TTL_MS = 200;

export interface Harness {
  service: Service<OrderConfig>;
  module: OrderModule;
  db: Database;
  namespace: string;
  /** POST /api/orders; `token: null` sends no Authorization. */
  post(
    body: unknown,
    opts?: { token?: string | null; key?: string | null; headers?: Record<string, string>; raw?: string },
  ): Promise<InjectResponse>;
  get(url: string, token?: string): Promise<InjectResponse>;
  /** Publishes a result event on this service's namespace, as inventory or payment would. */
  publish<T extends EventType>(
    type: T,
    data: EventData<T>,
    opts?: { messageId?: string; traceId?: string; identity?: Identity | null },
  ): Promise<ReturnType<typeof createEvent<T>>>;
  counts(): Promise<{ orders: number; items: number; keys: number; outbox: number; history: number }>;
  /** Value of one series in /actuator/prometheus (0 when absent). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export interface InjectResponse {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field in the tests
  json(): any;
}

export async function startOrder(
  mode: DbMode,
  issuer: TestIssuer,
  opts: { catalogUrl?: string; env?: Record<string, string> } = {},
): Promise<Harness> {
  const namespace = `${uniqueName('ord')}.`;
  const module = createOrderService();
  const svc = await startTestService(module, mode, {
    env: {
      MESSAGING_NAMESPACE: namespace,
      APP_MESSAGING_RETRY_TTL_MS: String(RETRY_TTL_MS),
      APP_OUTBOX_POLL_INTERVAL_MS: '100',
      AUTH_JWKS_URI: issuer.jwksUri,
      CATALOG_SERVICE_URL: opts.catalogUrl ?? 'http://127.0.0.1:9',
      // Generous: a loaded CI machine must not turn a healthy fake catalog into a 503. The SLOW
      // product answers after 5 s, still beyond it.
      ORDER_CATALOG_TIMEOUT_MS: '3000',
      ...(mode === 'postgres' ? { RABBITMQ_URL: TEST_AMQP_URL } : {}),
      ...opts.env,
    },
  });
  const service = svc.service as Service<OrderConfig>;
  const { app } = service;
  const db = service.deps.db;
  const count = async (sql: string) => (await db.query<{ n: number }>(sql))[0]?.n ?? 0;

  return {
    service,
    module,
    db,
    namespace,
    async post(body, o = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...o.headers };
      if (o.key !== null) headers['idempotency-key'] = o.key ?? randomUUID();
      if (o.token !== null && o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
      return (await app.inject({
        method: 'POST',
        url: '/api/orders',
        headers,
        payload: o.raw ?? JSON.stringify(body),
      })) as unknown as InjectResponse;
    },
    async get(url, token) {
      return (await app.inject({
        method: 'GET',
        url,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      })) as unknown as InjectResponse;
    },
    async publish(type, data, o = {}) {
      const event = createEvent(type, data, {
        traceId: o.traceId ?? randomUUID(),
        identity: o.identity === undefined ? { user_id: 'user-x', roles: ['buyer'] } : o.identity,
      });
      await service.deps.transport.publish({
        exchange: `${namespace}ecom.events`,
        routingKey: routingKeyOf(type),
        body: Buffer.from(JSON.stringify(event)),
        messageId: o.messageId ?? event.event_id,
        contentType: 'application/json',
        contentEncoding: 'UTF-8',
        headers: { 'x-event-type': type, 'x-event-id': event.event_id },
      });
      return event;
    },
    async counts() {
      return {
        orders: await count('SELECT count(*) AS n FROM orders'),
        items: await count('SELECT count(*) AS n FROM order_items'),
        keys: await count('SELECT count(*) AS n FROM idempotency_keys'),
        outbox: await count('SELECT count(*) AS n FROM outbox_events'),
        history: await count('SELECT count(*) AS n FROM order_status_history'),
      };
    },
    async metric(name, labels = {}) {
      const text = await service.deps.registry.metrics();
      const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
      const line = text
        .split('\n')
        .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && wanted.every((w) => l.includes(w)));
      return line ? Number(line.split(' ').pop()) : 0;
    },
    async close() {
      await svc.close();
      if (mode === 'postgres') await deleteNamespacedTopology(TEST_AMQP_URL, namespace);
    },
  };
}

/** A compact JWS with any header (alg none, HS256, an unknown kid…) and a junk signature. */
export function forgedToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signature = 'c2ln',
): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

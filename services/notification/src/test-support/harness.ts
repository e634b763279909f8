/**
 * Starts notification-service for a test on one of the two stacks (design §5):
 *  - `postgres`: a fresh PostgreSQL database and RabbitMQ (real servers on 127.0.0.1);
 *  - `pglite`:   a fresh PGlite schema and the in-process transport.
 * Each start has its own MESSAGING_NAMESPACE; a probe queue bound to `#` records everything that
 * reaches `<ns>ecom.events`, so a test can prove that the service itself publishes nothing.
 */
import { randomUUID } from 'node:crypto';
import { createEvent, type EventData, type EventOf, type Identity } from '@ecom/contracts';
import type { Delivery, Service } from '@ecom/platform';
import {
  attachProbe,
  type DbMode,
  deleteNamespacedTopology,
  startTestService,
  TEST_AMQP_URL,
  uniqueName,
} from '@ecom/platform/testing';
import { createNotificationService } from '../app.js';
import type { NotificationConfig } from '../config.js';

const RETRY_TTL_MS = 200;

export type PaymentResult = 'PaymentSucceeded' | 'PaymentFailed';

export interface Notifications {
  service: Service<NotificationConfig>;
  namespace: string;
  /** Everything seen on `<ns>ecom.events` (the test's own publishes included). */
  seen: Delivery[];
  /** Builds a valid envelope (createEvent) for a payment result. */
  envelope<T extends PaymentResult>(
    type: T,
    data?: Partial<EventData<T>>,
    context?: { traceId?: string; identity?: Identity | null },
  ): EventOf<T>;
  /** Publishes a body (object → JSON) with routing key payment.succeeded / payment.failed. */
  publish(body: object | string, opts?: { routingKey?: string; messageId?: string }): Promise<void>;
  /** Rows in the store. */
  count(): Promise<number>;
  metric(pattern: RegExp): Promise<number>;
  close(): Promise<void>;
}

export async function startNotifications(
  mode: DbMode,
  env: Record<string, string> = {},
  opts: { namespace?: string } = {},
): Promise<Notifications> {
  const namespace = opts.namespace ?? `${uniqueName('ntf')}.`;
  const svc = await startTestService(createNotificationService(), mode, {
    env: {
      MESSAGING_NAMESPACE: namespace,
      APP_MESSAGING_RETRY_TTL_MS: String(RETRY_TTL_MS),
      ...(mode === 'postgres' ? { RABBITMQ_URL: TEST_AMQP_URL } : {}),
      ...env,
    },
  });
  const service = svc.service as Service<NotificationConfig>;
  const { transport, db } = service.deps;
  const seen = await attachProbe(transport, namespace);

  return {
    service,
    namespace,
    seen,
    envelope(type, data = {}, context = {}) {
      const base =
        type === 'PaymentFailed'
          ? { order_id: randomUUID(), payment_id: randomUUID(), reason: 'MOCK_DECLINED' }
          : { order_id: randomUUID(), payment_id: randomUUID() };
      return createEvent(type, { ...base, ...data } as EventData<typeof type>, {
        traceId: context.traceId ?? randomUUID(),
        identity: context.identity === undefined ? { user_id: 'user-1', roles: ['buyer'] } : context.identity,
      });
    },
    async publish(body, publishOpts = {}) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      const parsed = typeof body === 'string' ? undefined : (body as { event_id?: string; event_type?: string });
      await transport.publish({
        exchange: `${namespace}ecom.events`,
        routingKey:
          publishOpts.routingKey ?? (parsed?.event_type === 'PaymentFailed' ? 'payment.failed' : 'payment.succeeded'),
        body: Buffer.from(text),
        messageId: publishOpts.messageId ?? parsed?.event_id,
        contentType: 'application/json',
        headers: parsed?.event_type ? { 'x-event-type': parsed.event_type } : {},
      });
    },
    async count() {
      const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notification_events');
      return row?.n ?? -1;
    },
    async metric(pattern) {
      const text = await service.deps.registry.metrics();
      const line = text.split('\n').find((l) => !l.startsWith('#') && pattern.test(l));
      return line ? Number(line.split(' ').pop()) : 0;
    },
    async close() {
      await svc.close();
      if (mode === 'postgres') await deleteNamespacedTopology(TEST_AMQP_URL, namespace, { extraQueues: ['probe'] });
    },
  };
}

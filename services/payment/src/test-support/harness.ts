/**
 * Starts payment-service for a test on one of the two stacks (design §5):
 *  - `postgres`: a fresh PostgreSQL database and RabbitMQ (real servers on 127.0.0.1);
 *  - `pglite`:   a fresh PGlite schema and the in-process transport.
 * Each start has its own MESSAGING_NAMESPACE, so it never meets another test's messages on the
 * shared broker; its outputs are read from a probe queue bound to `payment.*` like order-service's.
 */
import { randomUUID } from 'node:crypto';
import { createEvent, type EventOf, type Identity } from '@ecom/contracts';
import type { Delivery, Service } from '@ecom/platform';
import {
  attachProbe,
  type DbMode,
  deleteNamespacedTopology,
  startTestService,
  TEST_AMQP_URL,
  uniqueName,
} from '@ecom/platform/testing';
import { createPaymentService } from '../app.js';
import type { PaymentConfig } from '../config.js';

const RETRY_TTL_MS = 200;

export interface PublishedOutcome {
  delivery: Delivery;
  envelope: {
    event_id: string;
    event_type: 'PaymentSucceeded' | 'PaymentFailed';
    trace_id: string;
    identity: Identity | null;
    data: { order_id: string; payment_id: string; reason?: string };
  };
}

export interface ReservedOptions {
  orderId?: string;
  totalAmount?: number;
  messageId?: string;
  traceId?: string;
  identity?: Identity | null;
}

export interface Payment {
  service: Service<PaymentConfig>;
  namespace: string;
  outputs: PublishedOutcome[];
  /** Publishes an InventoryReserved envelope to `<ns>ecom.events` and returns it. */
  publishReserved(opts?: ReservedOptions): Promise<EventOf<'InventoryReserved'>>;
  outputsFor(orderId: string): PublishedOutcome[];
  records(orderId: string): Promise<{ id: string; status: string; reason: string | null }[]>;
  metric(pattern: RegExp): Promise<number>;
  close(): Promise<void>;
}

export async function startPayment(mode: DbMode, env: Record<string, string> = {}): Promise<Payment> {
  const namespace = `${uniqueName('pay')}.`;
  const svc = await startTestService(createPaymentService(), mode, {
    env: {
      MESSAGING_NAMESPACE: namespace,
      APP_MESSAGING_RETRY_TTL_MS: String(RETRY_TTL_MS),
      APP_OUTBOX_POLL_INTERVAL_MS: '100',
      ...(mode === 'postgres' ? { RABBITMQ_URL: TEST_AMQP_URL } : {}),
      ...env,
    },
  });
  const service = svc.service as Service<PaymentConfig>;
  const { transport, db } = service.deps;
  const outputs: PublishedOutcome[] = [];
  await attachProbe(transport, namespace, {
    bindingKeys: ['payment.*'],
    onDelivery: (delivery) => outputs.push({ delivery, envelope: JSON.parse(delivery.body.toString()) }),
  });

  return {
    service,
    namespace,
    outputs,
    async publishReserved(opts = {}) {
      const orderId = opts.orderId ?? randomUUID();
      const event = createEvent(
        'InventoryReserved',
        {
          order_id: orderId,
          reservation_id: randomUUID(),
          reserved_items: [{ sku_id: 'SKU-1', quantity: 2 }],
          ...(opts.totalAmount === undefined ? {} : { total_amount: opts.totalAmount }),
        },
        {
          traceId: opts.traceId ?? randomUUID(),
          identity: opts.identity === undefined ? { user_id: 'user-1', roles: ['buyer'] } : opts.identity,
        },
      );
      await transport.publish({
        exchange: `${namespace}ecom.events`,
        routingKey: 'inventory.reserved',
        body: Buffer.from(JSON.stringify(event)),
        messageId: opts.messageId ?? event.event_id,
        contentType: 'application/json',
        headers: { 'x-event-type': 'InventoryReserved', 'x-trace-id': event.trace_id },
      });
      return event;
    },
    outputsFor: (orderId) => outputs.filter((o) => o.envelope.data.order_id === orderId.toLowerCase()),
    records: (orderId) =>
      db.query('SELECT id, status, reason FROM payment_records WHERE order_id = $1 ORDER BY created_at', [orderId]),
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

import type { EventType } from '@ecom/contracts';
import type { ConsumerDefinition } from '@ecom/platform';
import type { NotificationMetrics } from './metrics.js';
import { notificationFromEvent } from './notification.js';
import { storeNotification } from './store-notification.js';

/** What the handler needs from the running service (bound in register(), before consumers start). */
export interface NotificationRuntime {
  capacity: number;
  metrics: NotificationMetrics;
  clock: () => Date;
}

/**
 * `q.notification.payment-result` ← `payment.*` (events.md §6.5) through the kernel pipeline.
 * Unlike the original (no dedupe, malformed JSON acked and dropped), the pipeline deduplicates on
 * the message key under the consumer name `notification.payment-result`, and a body that is not a
 * valid PaymentSucceeded / PaymentFailed envelope goes to `q.notification.payment-result.dlq`.
 */
export function paymentResultConsumer(runtime: () => NotificationRuntime): ConsumerDefinition {
  return consumerOf({
    queue: 'q.notification.payment-result',
    consumer: 'notification.payment-result',
    accept: ['PaymentSucceeded', 'PaymentFailed'],
    async handle(event, ctx) {
      const { capacity, metrics, clock } = runtime();
      const notification = notificationFromEvent(event, clock());
      const outcome = await storeNotification(ctx.tx, notification, capacity);
      if (outcome.kind === 'duplicate') ctx.logger.info({ event_id: event.event_id }, 'event_id already stored');
      ctx.afterCommit(() => metrics.record('event', notification.eventType, outcome));
    },
    // Notifications that queue up are stored together, one transaction per batch (kernel
    // consumer `batch`): an insert each, no row locks (only a trim's store lock, 1 in 100).
    batch: { max: 20 },
  });
}

/**
 * The kernel keeps consumers in one list typed for any event; a handler for some event types is
 * not assignable to it (parameters are contravariant). The pipeline only passes events it
 * validated against `accept`, so widening here is sound.
 */
function consumerOf<T extends EventType>(definition: ConsumerDefinition<T>): ConsumerDefinition {
  return definition as unknown as ConsumerDefinition;
}

import { sleep } from './backoff.js';
import type { MessagingLogger } from './logger.js';
import type { Delivery, DeliveryHandler, Settlement } from './transport.js';

/** How long a delivery whose handler threw is held before it is requeued. */
export const HANDLER_ERROR_REQUEUE_DELAY_MS = 1000;

/**
 * A handler is supposed to decide, not throw (the consumer pipeline turns errors into
 * settlements). If it throws anyway, we neither ack (the work did not happen) nor reject (on a
 * queue without a DLX that deletes the message): we requeue it, after a pause that holds the
 * prefetch slot, so a bug cannot become a hot redelivery loop.
 */
export async function runHandler(
  handler: DeliveryHandler,
  delivery: Delivery,
  queue: string,
  logger: MessagingLogger,
): Promise<Settlement> {
  try {
    return await handler(delivery);
  } catch (err) {
    logger.error({ err, queue, messageId: delivery.messageId }, 'delivery handler threw; requeueing after a pause');
    await sleep(HANDLER_ERROR_REQUEUE_DELAY_MS);
    return { kind: 'requeue' };
  }
}

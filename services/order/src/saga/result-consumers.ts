import type { ConsumerDefinition } from '@ecom/platform';
import { consumerOf } from '../shared/consumer.js';
import { handleSagaResult, type SagaResultDeps } from './handle-saga-result.js';

/**
 * Results that queue up are applied together, one transaction per batch (kernel consumer
 * `batch`): each handler locks one order row, and the batch runs in order-id order, so batches
 * of the two queues lock rows in the same order.
 */
const BATCH = { max: 20, key: (event: { data: { order_id: string } }) => event.data.order_id.toLowerCase() };

/** `q.order.inventory-result` ← `inventory.*` (events.md §6.4; consumer name from §6.0). */
export function inventoryResultConsumer(deps: SagaResultDeps): ConsumerDefinition {
  return consumerOf({
    queue: 'q.order.inventory-result',
    consumer: 'order.inventory-result',
    accept: ['InventoryReserved', 'InventoryFailed', 'InventoryReleased'],
    handle: (event, ctx) => handleSagaResult(deps, event, ctx),
    batch: BATCH,
  });
}

/** `q.order.payment-result` ← `payment.*`. */
export function paymentResultConsumer(deps: SagaResultDeps): ConsumerDefinition {
  return consumerOf({
    queue: 'q.order.payment-result',
    consumer: 'order.payment-result',
    accept: ['PaymentSucceeded', 'PaymentFailed'],
    handle: (event, ctx) => handleSagaResult(deps, event, ctx),
    batch: BATCH,
  });
}

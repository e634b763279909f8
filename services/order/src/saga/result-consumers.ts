import type { ConsumerDefinition } from '@ecom/platform';
import { consumerOf } from '../shared/consumer.js';
import { handleSagaResult, type SagaResultDeps } from './handle-saga-result.js';

/** `q.order.inventory-result` ← `inventory.*` (events.md §6.4; consumer name from §6.0). */
export function inventoryResultConsumer(deps: SagaResultDeps): ConsumerDefinition {
  return consumerOf({
    queue: 'q.order.inventory-result',
    consumer: 'order.inventory-result',
    accept: ['InventoryReserved', 'InventoryFailed', 'InventoryReleased'],
    handle: (event, ctx) => handleSagaResult(deps, event, ctx),
  });
}

/** `q.order.payment-result` ← `payment.*`. */
export function paymentResultConsumer(deps: SagaResultDeps): ConsumerDefinition {
  return consumerOf({
    queue: 'q.order.payment-result',
    consumer: 'order.payment-result',
    accept: ['PaymentSucceeded', 'PaymentFailed'],
    handle: (event, ctx) => handleSagaResult(deps, event, ctx),
  });
}

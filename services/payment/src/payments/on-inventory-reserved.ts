import { randomUUID } from 'node:crypto';
import type { EventType } from '@ecom/contracts';
import type { ConsumerDefinition } from '@ecom/platform';
import { assertNever, type PaymentPolicy } from './decide-payment.js';
import type { PaymentMetrics } from './metrics.js';
import { settlePayment } from './settle-payment.js';

/** What the handler needs from the running service (bound in register(), before consumers start). */
export interface PaymentRuntime {
  policy: PaymentPolicy;
  metrics: PaymentMetrics;
  clock: () => Date;
}

/**
 * `q.payment.inventory-reserved` (events.md §6.3). The kernel pipeline has validated the envelope
 * and writes the dedupe row (`payment.inventory-reserved`) with this transaction's COMMIT; here: the stored
 * outcome or a new decision, then `PaymentSucceeded` / `PaymentFailed` for the STORED status
 * through the outbox (trace_id and identity copied by ctx.emit), published after commit.
 */
export function inventoryReservedConsumer(runtime: () => PaymentRuntime): ConsumerDefinition {
  return consumerOf({
    queue: 'q.payment.inventory-reserved',
    consumer: 'payment.inventory-reserved',
    accept: ['InventoryReserved'],
    async handle(event, ctx) {
      const { policy, metrics, clock } = runtime();
      const settlement = await settlePayment(
        ctx.tx,
        // The UUID column stores it lowercase: the form every published event carries.
        { orderId: event.data.order_id.toLowerCase(), totalAmount: event.data.total_amount },
        policy,
        { clock, newId: randomUUID },
      );
      const record = settlement.record;
      switch (record.status) {
        case 'SUCCEEDED':
          await ctx.emit('PaymentSucceeded', { order_id: record.orderId, payment_id: record.id });
          break;
        case 'FAILED':
          await ctx.emit('PaymentFailed', { order_id: record.orderId, payment_id: record.id, reason: record.reason });
          break;
        default:
          assertNever(record);
      }
      ctx.logger.info(
        {
          order_id: record.orderId,
          payment_id: record.id,
          status: record.status,
          reason: record.reason,
          outcome: settlement.kind,
          ...(settlement.kind === 'decided' ? { amount_check: settlement.decision.amountCheck } : {}),
        },
        settlement.kind === 'decided' ? 'payment decided' : 'stored payment outcome re-published',
      );
      ctx.afterCommit(() => metrics.record(settlement));
    },
    // Reservations that queue up are settled together, one transaction per batch (kernel consumer
    // `batch`): one payment row each, inserted first, no row locks held beyond it.
    batch: { max: 20, key: (event) => event.data.order_id.toLowerCase() },
  });
}

/**
 * The kernel keeps consumers in one list typed for any event; a handler for one event type is not
 * assignable to it (parameters are contravariant). The pipeline only passes events it validated
 * against `accept`, so widening here is sound.
 */
function consumerOf<T extends EventType>(definition: ConsumerDefinition<T>): ConsumerDefinition {
  return definition as unknown as ConsumerDefinition;
}

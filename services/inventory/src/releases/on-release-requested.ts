import { type ConsumerDefinition, PermanentError } from '@ecom/platform';
import { consumerOf } from '../shared/consumer.js';
import { invalidateStocks, type StockCache } from '../stock/stock-cache.js';
import { releaseReservation } from './release-reservation.js';

/** inventory_release_events.reason and inventory_reservations.reason are VARCHAR(255). */
const REASON_MAX_LENGTH = 255;

/**
 * `q.inventory.release-requested` (events.md §6.2): release, then InventoryReleased through the
 * outbox; a request for a FAILED/RELEASED/unknown reservation does nothing and emits nothing.
 */
export function releaseRequestedConsumer(deps: { cache: StockCache; clock: () => Date }): ConsumerDefinition {
  return consumerOf({
    queue: 'q.inventory.release-requested',
    consumer: 'inventory.release-requested',
    accept: ['InventoryReleaseRequested'],
    async handle(event, ctx) {
      const { reason } = event.data;
      if (reason.length > REASON_MAX_LENGTH) throw new PermanentError(`reason longer than ${REASON_MAX_LENGTH}`);
      const outcome = await releaseReservation(
        ctx.tx,
        { orderId: event.data.order_id.toLowerCase(), reason },
        deps.clock(),
      );
      if (outcome.kind === 'skipped') {
        ctx.logger.info({ order_id: event.data.order_id, why: outcome.why }, 'release request ignored');
        return;
      }
      ctx.afterCommit(() => invalidateStocks(deps.cache, outcome.changed));
      await ctx.emit('InventoryReleased', {
        release_id: outcome.release.id,
        order_id: outcome.release.order_id,
        reservation_id: outcome.release.reservation_id,
        reason: outcome.release.reason,
        released_items: outcome.reservation.items.map((i) => ({ sku_id: i.skuId, quantity: i.quantity })),
      });
    },
  });
}

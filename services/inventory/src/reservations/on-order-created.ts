import type { EventOf } from '@ecom/contracts';
import { type ConsumerDefinition, type HandlerContext, PermanentError } from '@ecom/platform';
import { assertNever, consumerOf } from '../shared/consumer.js';
import { SKU_MAX_LENGTH } from '../shared/schemas.js';
import { invalidateStocks, type StockCache } from '../stock/stock-cache.js';
import { aggregateItems, oversizedItem } from './decide-reservation.js';
import type { Reservation, SkuQuantity } from './reservation.js';
import { reserveStock, reserveStocks } from './reserve-stock.js';

/**
 * `q.inventory.order-created` (events.md §6.1). The kernel pipeline has already validated the
 * envelope and writes the dedupe row with this transaction's COMMIT; here: reserve, then the outcome event
 * through the outbox (published only after commit), and cache invalidation after commit.
 */
export function orderCreatedConsumer(deps: { cache: StockCache; clock: () => Date }): ConsumerDefinition {
  return consumerOf({
    queue: 'q.inventory.order-created',
    consumer: 'inventory.order-created',
    accept: ['OrderCreated'],
    async handle(event, ctx) {
      const items = itemsOf(event.data.items);
      const outcome = await reserveStock(ctx.tx, { orderId: event.data.order_id.toLowerCase(), items }, deps.clock());
      ctx.afterCommit(() => invalidateStocks(deps.cache, outcome.changed));
      await emitOutcome(event, ctx, outcome.reservation);
    },
    // Orders that queue up are reserved together (kernel consumer `batch`): one transaction, one
    // lock statement for all their SKUs, one stock move per SKU (reserveStocks). The SKU locks are
    // held for the same two round trips as a single order's, by twenty orders at most.
    batch: {
      max: 20,
      async handleBatch(entries, tx) {
        const requests = entries.map(({ event }) => ({
          orderId: event.data.order_id.toLowerCase(),
          items: itemsOf(event.data.items), // a poison one fails the batch; alone, it goes to the DLQ
        }));
        const { outcomes, changed } = await reserveStocks(tx, requests, deps.clock());
        entries[0]?.ctx.afterCommit(() => invalidateStocks(deps.cache, changed));
        for (const [i, { event, ctx }] of entries.entries()) {
          const outcome = outcomes[i];
          if (outcome) await emitOutcome(event, ctx, outcome.reservation);
        }
      },
    },
  });
}

/** The reservation's event (events.md §6.1), through the outbox in the handler's transaction. */
async function emitOutcome(event: EventOf<'OrderCreated'>, ctx: HandlerContext, r: Reservation): Promise<void> {
  switch (r.status) {
    case 'RESERVED':
      await ctx.emit('InventoryReserved', {
        order_id: r.orderId,
        reservation_id: r.id,
        reserved_items: r.items.map((i) => ({ sku_id: i.skuId, quantity: i.quantity })),
        // Additive: the order's amount, so payment can apply amount rules without a lookup.
        total_amount: event.data.total_amount,
      });
      return;
    case 'FAILED':
      await ctx.emit('InventoryFailed', { order_id: r.orderId, reservation_id: r.id, reason: r.reason ?? '' });
      return;
    case 'RELEASED':
      // A replay after compensation: the original re-published InventoryFailed with the
      // release reason; the spec recommends emitting nothing (the saga is already over).
      ctx.logger.info({ order_id: r.orderId }, 'order already released; nothing emitted');
      return;
    default:
      assertNever(r.status);
  }
}

/** A SKU that could never be stored is a poison message, not a transient failure. */
function itemsOf(items: readonly { sku_id: string; quantity: number }[]): SkuQuantity[] {
  const parsed = items.map((i) => ({ skuId: i.sku_id.trim(), quantity: i.quantity }));
  if (parsed.length === 0) throw new PermanentError('OrderCreated has no items');
  const bad = parsed.find((i) => i.skuId === '' || i.skuId.length > SKU_MAX_LENGTH);
  if (bad) throw new PermanentError(`invalid sku_id "${bad.skuId.slice(0, 80)}"`);
  const tooBig = oversizedItem(aggregateItems(parsed));
  if (tooBig) throw new PermanentError(`total quantity of ${tooBig.skuId} is too large`);
  return parsed;
}

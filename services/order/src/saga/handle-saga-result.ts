import type { AnyEvent } from '@ecom/contracts';
import type { HandlerContext } from '@ecom/platform';
import { assertNever } from '../shared/assert-never.js';
import { type OrderMetrics, observeSagaCompletion, type ResultOutcome } from '../shared/metrics.js';
import { type AppliedTrigger, applySagaTrigger } from './apply-saga-trigger.js';
import type { ResultEventType, SagaTrigger } from './saga-trigger.js';

export type ResultEvent = Extract<AnyEvent, { event_type: ResultEventType }>;

export interface SagaResultDeps {
  clock: () => Date;
  metrics: OrderMetrics;
}

/** The event as a saga trigger: the envelope is validated already, only the meaning is mapped. */
export function triggerOf(event: ResultEvent): SagaTrigger {
  switch (event.event_type) {
    case 'InventoryReserved':
      return { kind: 'InventoryReserved' };
    case 'InventoryFailed':
      return { kind: 'InventoryFailed', reason: event.data.reason };
    case 'InventoryReleased':
      return { kind: 'InventoryReleased', reason: event.data.reason };
    case 'PaymentSucceeded':
      return { kind: 'PaymentSucceeded' };
    case 'PaymentFailed':
      return { kind: 'PaymentFailed', reason: event.data.reason };
    default:
      return assertNever(event);
  }
}

/**
 * Both result queues (events.md §6.4). The kernel pipeline has validated the envelope and
 * writes the dedupe row with `ctx.tx`'s COMMIT; a duplicate's work here is rolled back there.
 * The release request, when the decision asks for one, goes through `ctx.emit`: same
 * transaction, trace_id and identity copied from this event. Metrics move only after the commit.
 */
export async function handleSagaResult(deps: SagaResultDeps, event: ResultEvent, ctx: HandlerContext): Promise<void> {
  const applied = await applySagaTrigger(
    ctx.tx,
    event.data.order_id,
    triggerOf(event),
    { cause: event.event_type, messageId: ctx.messageId, at: deps.clock() },
    (reason, order) => ctx.emit('InventoryReleaseRequested', { order_id: order.id, reason }),
  );
  const outcome = outcomeOf(applied);
  if (outcome === 'unknown_order') {
    ctx.logger.info({ order_id: event.data.order_id }, 'result for an unknown order; recorded as consumed');
  } else if (outcome === 'late') {
    ctx.logger.warn(
      { order_id: event.data.order_id, released: applied.kind === 'ignored' ? applied.released : null },
      'result arrived after the saga deadline failed the order; ignored',
    );
  }
  ctx.afterCommit(() => {
    deps.metrics.results.inc({ event_type: event.event_type, outcome });
    if (outcome === 'late') deps.metrics.lateResults.inc({ event_type: event.event_type });
    if (applied.kind === 'applied' && applied.completed) {
      observeSagaCompletion(deps.metrics, applied.completed.outcome, applied.completed.seconds);
    }
  });
}

function outcomeOf(applied: AppliedTrigger): ResultOutcome {
  switch (applied.kind) {
    case 'unknown_order':
      return 'unknown_order';
    case 'applied':
      return 'applied';
    case 'ignored':
      return applied.note === 'LATE' ? 'late' : 'ignored';
    default:
      return assertNever(applied);
  }
}

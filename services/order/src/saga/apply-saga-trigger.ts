import type { Queryable } from '@ecom/platform';
import type { OrderRow, OrderStatus } from '../orders/order.js';
import { lockOrderRow } from '../orders/repository.js';
import { assertNever } from '../shared/assert-never.js';
import { appendTimeline } from '../timeline/repository.js';
import type { TimelineCause } from '../timeline/timeline-entry.js';
import { decideTransition } from './decide-transition.js';
import { updateOrderStatus } from './repository.js';
import type { IgnoreNote, ReleaseReason, SagaOutcome, SagaTrigger } from './saga-trigger.js';

export type AppliedTrigger =
  | { kind: 'unknown_order' }
  | {
      kind: 'applied';
      from: OrderStatus;
      to: OrderStatus;
      released: ReleaseReason | null;
      /** Set when the saga reached a terminal status: for the completion metrics. */
      completed: { outcome: SagaOutcome; seconds: number } | null;
    }
  | { kind: 'ignored'; status: OrderStatus; note: IgnoreNote; released: ReleaseReason | null };

/** Writes InventoryReleaseRequested to the outbox in the caller's transaction. */
export type EmitRelease = (reason: ReleaseReason, order: OrderRow) => Promise<void>;

/**
 * One trigger applied to one order, race-free, inside the caller's transaction: lock the order
 * row (SELECT … FOR UPDATE — an InventoryReserved and a PaymentSucceeded of one order arriving
 * together on their two queues serialize here, so the second one decides on the first one's
 * result and the order can never end RESERVED after CONFIRMED), decide (pure), then write the
 * status, the release request and the timeline entry. Unknown order → nothing written.
 */
export async function applySagaTrigger(
  tx: Queryable,
  orderId: string,
  trigger: SagaTrigger,
  meta: { cause: TimelineCause; messageId: string | null; at: Date },
  emitRelease: EmitRelease,
): Promise<AppliedTrigger> {
  const row = await lockOrderRow(tx, orderId);
  if (!row) return { kind: 'unknown_order' };
  const decision = decideTransition({ status: row.status, statusCause: row.status_cause }, trigger);
  if (decision.release) await emitRelease(decision.release, row);
  const emitted = decision.release ? 'InventoryReleaseRequested' : null;
  switch (decision.kind) {
    case 'transition':
      await updateOrderStatus(tx, row.id, { to: decision.to, reason: decision.reason, cause: meta.cause, at: meta.at });
      await appendTimeline(tx, {
        orderId: row.id,
        from: row.status,
        to: decision.to,
        at: meta.at,
        cause: meta.cause,
        messageId: meta.messageId,
        reason: decision.reason,
        ignored: false,
        note: null,
        emitted,
      });
      return {
        kind: 'applied',
        from: row.status,
        to: decision.to,
        released: decision.release,
        completed: decision.completes
          ? { outcome: decision.completes, seconds: (meta.at.getTime() - row.created_at.getTime()) / 1000 }
          : null,
      };
    case 'ignore':
      await appendTimeline(tx, {
        orderId: row.id,
        from: row.status,
        to: row.status,
        at: meta.at,
        cause: meta.cause,
        messageId: meta.messageId,
        reason: reasonOf(trigger) ?? decision.release,
        ignored: true,
        note: decision.note,
        emitted,
      });
      return { kind: 'ignored', status: row.status, note: decision.note, released: decision.release };
    default:
      return assertNever(decision);
  }
}

function reasonOf(trigger: SagaTrigger): string | null {
  switch (trigger.kind) {
    case 'InventoryFailed':
    case 'InventoryReleased':
    case 'PaymentFailed':
      return trigger.reason;
    case 'InventoryReserved':
    case 'PaymentSucceeded':
    case 'Deadline':
      return null;
    default:
      return assertNever(trigger);
  }
}

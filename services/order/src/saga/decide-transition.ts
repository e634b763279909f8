import { assertNever } from '../shared/assert-never.js';
import type { IgnoreNote, SagaDecision, SagaState, SagaTrigger } from './saga-trigger.js';
import { SAGA_TIMEOUT } from './saga-trigger.js';

/**
 * The order lifecycle (spec README "Status lifecycles → Order") as one pure decision:
 *
 * | Trigger           | Applies when status is   | New status | Side effect                                  |
 * |-------------------|--------------------------|------------|----------------------------------------------|
 * | InventoryReserved | NEW                      | RESERVED   | —                                            |
 * | InventoryFailed   | anything but CONFIRMED   | FAILED     | —                                            |
 * | PaymentSucceeded  | anything but FAILED      | CONFIRMED  | —                                            |
 * | PaymentFailed     | NEW, RESERVED            | FAILED     | InventoryReleaseRequested PAYMENT_FAILED     |
 * | InventoryReleased | any                      | unchanged  | recorded only                                |
 * | Deadline (new)    | NEW, RESERVED            | FAILED     | InventoryReleaseRequested SAGA_TIMEOUT       |
 *
 * "X → X" (FAILED on InventoryFailed, CONFIRMED on PaymentSucceeded) changes nothing, so it is
 * an ignored event, not a transition. A result for an order the DEADLINE failed is LATE: it is
 * ignored like any result for a FAILED order, and a late InventoryReserved re-requests the
 * release, because inventory may have reserved AFTER it processed the first release request
 * (a release for an order with no reservation does nothing, events.md §6.2) — without the second
 * request that stock would stay reserved forever.
 */
export function decideTransition(state: SagaState, trigger: SagaTrigger): SagaDecision {
  const { status } = state;
  const inFlight = status === 'NEW' || status === 'RESERVED';
  const late = status === 'FAILED' && state.statusCause === 'DEADLINE';
  const ignored = (release: SagaDecision['release'] = null): SagaDecision => ({
    kind: 'ignore',
    note: (late ? 'LATE' : 'NOT_APPLICABLE') satisfies IgnoreNote,
    release,
  });

  switch (trigger.kind) {
    case 'InventoryReserved':
      if (status === 'NEW') return { kind: 'transition', to: 'RESERVED', reason: null, release: null, completes: null };
      return ignored(late ? SAGA_TIMEOUT : null);
    case 'InventoryFailed':
      if (inFlight) {
        return {
          kind: 'transition',
          to: 'FAILED',
          reason: trigger.reason,
          release: null,
          completes: 'inventory_failed',
        };
      }
      return ignored();
    case 'PaymentSucceeded':
      if (inFlight) return { kind: 'transition', to: 'CONFIRMED', reason: null, release: null, completes: 'confirmed' };
      return ignored();
    case 'PaymentFailed':
      if (inFlight) {
        return {
          kind: 'transition',
          to: 'FAILED',
          reason: trigger.reason,
          release: 'PAYMENT_FAILED',
          completes: 'payment_failed',
        };
      }
      return ignored();
    case 'InventoryReleased':
      return { kind: 'ignore', note: 'AUDIT_ONLY', release: null };
    case 'Deadline':
      if (inFlight) {
        return { kind: 'transition', to: 'FAILED', reason: SAGA_TIMEOUT, release: SAGA_TIMEOUT, completes: 'timeout' };
      }
      return { kind: 'ignore', note: 'NOT_APPLICABLE', release: null };
    default:
      return assertNever(trigger);
  }
}

import type { OrderStatus } from '../orders/order.js';

/** The events order-service consumes (events.md §6.4): inventory results and payment results. */
export type ResultEventType =
  | 'InventoryReserved'
  | 'InventoryFailed'
  | 'InventoryReleased'
  | 'PaymentSucceeded'
  | 'PaymentFailed';

/** What can move an order: a consumed result, or the saga deadline passing. */
export type SagaTrigger =
  | { kind: 'InventoryReserved' }
  | { kind: 'InventoryFailed'; reason: string }
  | { kind: 'InventoryReleased'; reason: string }
  | { kind: 'PaymentSucceeded' }
  | { kind: 'PaymentFailed'; reason: string }
  | { kind: 'Deadline' };

/** `reason` of the InventoryReleaseRequested this service writes. */
export type ReleaseReason = 'PAYMENT_FAILED' | 'SAGA_TIMEOUT';
export const SAGA_TIMEOUT = 'SAGA_TIMEOUT';

/** How a saga ended (the label of order_saga_completed_total / order_saga_duration_seconds). */
export type SagaOutcome = 'confirmed' | 'inventory_failed' | 'payment_failed' | 'timeout';
export const SAGA_OUTCOMES: readonly SagaOutcome[] = ['confirmed', 'inventory_failed', 'payment_failed', 'timeout'];

/** Why an event changed nothing. */
export type IgnoreNote =
  /** By design the event changes no status (InventoryReleased). */
  | 'AUDIT_ONLY'
  /** The lifecycle table does not apply in the current status. */
  | 'NOT_APPLICABLE'
  /** A result that arrived after the deadline had already failed the order. */
  | 'LATE';

/** What the decision needs to know about the order. */
export interface SagaState {
  status: OrderStatus;
  /** What caused the current status: 'HTTP', 'DEADLINE' or an event type (orders.status_cause). */
  statusCause: string | null;
}

export type SagaDecision =
  | {
      kind: 'transition';
      to: OrderStatus;
      /** Stored as orders.status_reason and in the timeline. */
      reason: string | null;
      /** Write InventoryReleaseRequested with this reason in the same transaction. */
      release: ReleaseReason | null;
      /** The saga reached a terminal status. */
      completes: SagaOutcome | null;
    }
  | { kind: 'ignore'; note: IgnoreNote; release: ReleaseReason | null };

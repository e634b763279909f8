import type { OrderStatus } from '../orders/order.js';
import type { IgnoreNote, ResultEventType } from '../saga/saga-trigger.js';

export type { IgnoreNote };

/** What caused an entry: the HTTP creation, the saga deadline, or a consumed event (its type). */
export type TimelineCause = 'HTTP' | 'DEADLINE' | ResultEventType;

export interface TimelineEntry {
  orderId: string;
  /** null for the creation. */
  from: OrderStatus | null;
  /** = from when ignored. */
  to: OrderStatus;
  at: Date;
  cause: TimelineCause;
  /** The consumed message's dedupe key (events.md §6.0); null for HTTP and DEADLINE. */
  messageId: string | null;
  reason: string | null;
  ignored: boolean;
  note: IgnoreNote | null;
  /** The event written to the outbox by the same transaction, if any. */
  emitted: string | null;
}

/** `order_status_history` table shape. */
export interface TimelineRow {
  id: number;
  order_id: string;
  from_status: OrderStatus | null;
  to_status: OrderStatus;
  at: Date;
  cause: TimelineCause;
  message_id: string | null;
  reason: string | null;
  ignored: boolean;
  note: IgnoreNote | null;
  emitted: string | null;
}

import type { Queryable } from '@ecom/platform';
import { decidePayment, type PaymentDecision, type PaymentPolicy, type PaymentRequest } from './decide-payment.js';
import type { PaymentRecord } from './payment-record.js';
import { findPaymentByOrder, insertPaymentIfAbsent } from './repository.js';

/** `decided`: this call made and stored the decision. `stored`: the order already had one; it stands. */
export type PaymentSettlement =
  | { kind: 'decided'; record: PaymentRecord; decision: PaymentDecision }
  | { kind: 'stored'; record: PaymentRecord };

/**
 * events.md §6.3 step 2, inside the caller's transaction: the order's stored payment when there is
 * one (never decided again, whatever the new message says); otherwise decide, store, return it.
 * Insert first (the decision is a pure function, cheap to make and drop): the unique order_id
 * answers "is there one already?" in the same round trip that stores ours, and only a conflict
 * costs a second one to read the stored row. Two deliveries racing for one order: the loser's
 * insert waits on the unique index, finds the winner's row and returns it as `stored`, so both
 * publish the same outcome and payment_id.
 */
export async function settlePayment(
  tx: Queryable,
  request: PaymentRequest,
  policy: PaymentPolicy,
  deps: { clock: () => Date; newId: () => string },
): Promise<PaymentSettlement> {
  const decision = decidePayment(policy, request);
  const base = { id: deps.newId(), orderId: request.orderId, createdAt: deps.clock() };
  const candidate: PaymentRecord =
    decision.status === 'SUCCEEDED'
      ? { ...base, status: 'SUCCEEDED', reason: null }
      : { ...base, status: 'FAILED', reason: decision.reason };
  const inserted = await insertPaymentIfAbsent(tx, candidate);
  if (inserted) return { kind: 'decided', record: inserted, decision };

  const stored = await findPaymentByOrder(tx, request.orderId);
  // Cannot happen (the conflicting row committed before our insert returned); a retry sorts it out.
  if (!stored) throw new Error(`payment for order ${request.orderId} conflicted but is not readable`);
  return { kind: 'stored', record: stored };
}

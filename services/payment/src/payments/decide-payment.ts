import { hashedSucceeds, type MockMode } from './mock-mode.js';

/** How payment-service decides (config, read once at boot). */
export interface PaymentPolicy {
  mode: MockMode;
  /** Reason stored and published for a mock-mode failure (default `MOCK_DECLINED`). */
  failureReason: string;
  /** `PAYMENT_DECLINE_ABOVE_AMOUNT`: orders whose total_amount exceeds it are declined. undefined = rule off. */
  declineAboveAmount: number | undefined;
}

/** What the decision looks at: the order id and the additive `total_amount` of InventoryReserved. */
export interface PaymentRequest {
  orderId: string;
  /** Absent when the producer predates the additive field (the original inventory never sends it). */
  totalAmount: number | undefined;
}

/**
 * What the amount rule saw, for logs and metrics:
 *  - `off`: no limit configured;
 *  - `within`: total_amount ≤ limit;
 *  - `above`: total_amount > limit → declined;
 *  - `unknown`: a limit is configured but the event carries no total_amount → the rule cannot
 *    apply and the mode decides (fail-open; see README "Amount rule");
 *  - `not_applied`: FAIL mode, which declines everything with its own reason anyway.
 */
export type AmountCheck = 'off' | 'within' | 'above' | 'unknown' | 'not_applied';

export type PaymentDecision =
  | { status: 'SUCCEEDED'; reason: null; amountCheck: AmountCheck }
  | { status: 'FAILED'; reason: string; amountCheck: AmountCheck };

/** The reason of an amount-rule decline: names the rule and the limit, e.g. `AMOUNT_ABOVE_LIMIT:100`. */
export function amountAboveLimitReason(limit: number): string {
  return `AMOUNT_ABOVE_LIMIT:${limit}`;
}

/**
 * The payment decision, pure: (policy, request) → outcome. The caller stores it only when the
 * order has no payment record yet (settle-payment.ts), and once stored it is never made again.
 *
 * Order of rules: FAIL declines everything with the configured reason; otherwise an amount above
 * the limit declines with `AMOUNT_ABOVE_LIMIT:<limit>`; otherwise the mode decides (SUCCESS: yes;
 * HASHED: the order id's Java-hash parity, failing with the configured reason).
 */
export function decidePayment(policy: PaymentPolicy, request: PaymentRequest): PaymentDecision {
  switch (policy.mode) {
    case 'FAIL':
      return { status: 'FAILED', reason: policy.failureReason, amountCheck: 'not_applied' };
    case 'SUCCESS':
    case 'HASHED': {
      const amountCheck = checkAmount(policy.declineAboveAmount, request.totalAmount);
      if (amountCheck === 'above' && policy.declineAboveAmount !== undefined) {
        return { status: 'FAILED', reason: amountAboveLimitReason(policy.declineAboveAmount), amountCheck };
      }
      const succeeds = policy.mode === 'SUCCESS' || hashedSucceeds(request.orderId);
      return succeeds
        ? { status: 'SUCCEEDED', reason: null, amountCheck }
        : { status: 'FAILED', reason: policy.failureReason, amountCheck };
    }
    default:
      return assertNever(policy.mode);
  }
}

/** Strictly greater declines: an order of exactly the limit passes. */
function checkAmount(limit: number | undefined, amount: number | undefined): AmountCheck {
  if (limit === undefined) return 'off';
  if (amount === undefined) return 'unknown';
  return amount > limit ? 'above' : 'within';
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${String(value)}`);
}

import { Counter, type Registry } from 'prom-client';
import { assertNever } from './decide-payment.js';
import type { PaymentSettlement } from './settle-payment.js';

/** payment-service's own series (additive names, operations.md §4.3 "new names"). */
export interface PaymentMetrics {
  /** Counts one settlement, after its transaction committed. */
  record(settlement: PaymentSettlement): void;
}

export function createPaymentMetrics(registry: Registry): PaymentMetrics {
  const decided = new Counter({
    name: 'payments_decided_total',
    help: 'Payment outcomes decided (once per order), by status and reason (reason "none" on success)',
    labelNames: ['status', 'reason'] as const,
    registers: [registry],
  });
  const republished = new Counter({
    name: 'payments_stored_outcome_republished_total',
    help: 'Later InventoryReserved messages for an already decided order: the stored outcome was published again',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const amountUnknown = new Counter({
    name: 'payments_amount_rule_skipped_total',
    help: 'Decisions taken with PAYMENT_DECLINE_ABOVE_AMOUNT set but no total_amount in the event (the mode decided)',
    registers: [registry],
  });
  amountUnknown.inc(0); // present from startup
  return {
    record(settlement) {
      switch (settlement.kind) {
        case 'decided':
          decided.inc({ status: settlement.record.status, reason: settlement.record.reason ?? 'none' });
          if (settlement.decision.amountCheck === 'unknown') amountUnknown.inc();
          return;
        case 'stored':
          republished.inc({ status: settlement.record.status });
          return;
        default:
          assertNever(settlement);
      }
    },
  };
}

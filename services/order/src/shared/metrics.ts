import { Counter, Histogram, type Registry } from 'prom-client';
import type { CatalogLookupResult } from '../catalog/catalog-client.js';
import type { ResultEventType, SagaOutcome } from '../saga/saga-trigger.js';
import { SAGA_OUTCOMES } from '../saga/saga-trigger.js';

/**
 * order-service's own metrics (additive to operations.md §4; every series also carries
 * `application="order-service"`). Declared once here; label values are fixed sets, and each is
 * present at 0 from startup so rates and alerts work before the first event.
 */
export interface OrderMetrics {
  ordersCreated: Counter;
  idempotentReplays: Counter;
  idempotencyMismatches: Counter;
  idempotencyKeysPurged: Counter;
  sagaCompleted: Counter<'outcome'>;
  sagaDuration: Histogram<'outcome'>;
  results: Counter<'event_type' | 'outcome'>;
  lateResults: Counter<'event_type'>;
  catalogLookups: Counter<'result'>;
}

const RESULT_TYPES: readonly ResultEventType[] = [
  'InventoryReserved',
  'InventoryFailed',
  'InventoryReleased',
  'PaymentSucceeded',
  'PaymentFailed',
];
export type ResultOutcome = 'applied' | 'ignored' | 'late' | 'unknown_order';
const RESULT_OUTCOMES: readonly ResultOutcome[] = ['applied', 'ignored', 'late', 'unknown_order'];
const CATALOG_RESULTS: readonly CatalogLookupResult[] = ['cache_hit', 'found', 'not_found', 'unavailable'];

export function createOrderMetrics(registry: Registry): OrderMetrics {
  const registers = [registry];
  const m: OrderMetrics = {
    ordersCreated: new Counter({ name: 'orders_created_total', help: 'Orders created (201)', registers }),
    idempotentReplays: new Counter({
      name: 'order_idempotent_replays_total',
      help: 'POST /api/orders answered from a stored Idempotency-Key (200, reused)',
      registers,
    }),
    idempotencyMismatches: new Counter({
      name: 'order_idempotency_mismatches_total',
      help: 'Idempotency-Key reused with a different request body (422)',
      registers,
    }),
    idempotencyKeysPurged: new Counter({
      name: 'order_idempotency_keys_purged_total',
      help: 'Expired idempotency keys deleted by the purge job',
      registers,
    }),
    sagaCompleted: new Counter({
      name: 'order_saga_completed_total',
      help: 'Orders that reached a terminal status, by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    sagaDuration: new Histogram({
      name: 'order_saga_duration_seconds',
      help: 'Time from order creation to its terminal status, by outcome',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    results: new Counter({
      name: 'order_saga_results_total',
      help: 'Consumed inventory/payment results by event type and effect on the order',
      labelNames: ['event_type', 'outcome'],
      registers,
    }),
    lateResults: new Counter({
      name: 'order_late_results_total',
      help: 'Results that arrived after the saga deadline had failed the order (ignored; see README)',
      labelNames: ['event_type'],
      registers,
    }),
    catalogLookups: new Counter({
      name: 'order_catalog_lookups_total',
      help: 'Catalog product lookups by result',
      labelNames: ['result'],
      registers,
    }),
  };
  for (const outcome of SAGA_OUTCOMES) {
    m.sagaCompleted.inc({ outcome }, 0);
    m.sagaDuration.zero({ outcome });
  }
  for (const event_type of RESULT_TYPES) {
    m.lateResults.inc({ event_type }, 0);
    for (const outcome of RESULT_OUTCOMES) m.results.inc({ event_type, outcome }, 0);
  }
  for (const result of CATALOG_RESULTS) m.catalogLookups.inc({ result }, 0);
  return m;
}

export function observeSagaCompletion(metrics: OrderMetrics, outcome: SagaOutcome, seconds: number): void {
  metrics.sagaCompleted.inc({ outcome });
  metrics.sagaDuration.observe({ outcome }, Math.max(0, seconds));
}

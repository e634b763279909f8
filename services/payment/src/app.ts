import { fileURLToPath } from 'node:url';
import type { ServiceModule } from '@ecom/platform';
import { type PaymentConfig, readPaymentConfig } from './config.js';
import { createPaymentMetrics } from './payments/metrics.js';
import { inventoryReservedConsumer, type PaymentRuntime } from './payments/on-inventory-reserved.js';

/**
 * payment-service (spec http-api.md §4, events.md §6.3): decides each order's payment ONCE with
 * the mock mode and the amount rule, stores it in payment_records and publishes the stored outcome
 * through the outbox. No business HTTP API: the kernel's actuator, OpenAPI and DLQ admin routes only.
 * The consumer is added in register(): its handler needs the policy and metrics made there.
 */
export function createPaymentService(): ServiceModule<PaymentConfig> {
  return {
    name: 'payment-service',
    defaultPort: 8083,
    version: '0.1.0',
    description: 'Decides each order payment once (mock modes, amount rule) and publishes the outcome.',
    readConfig: (env) => readPaymentConfig(env),
    database: {
      envPrefix: 'PAYMENT',
      schema: 'payment',
      migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
    },
    messaging: {
      service: 'payment',
      publishes: true,
      consumers: [],
    },
    register(_app, deps) {
      const { policy, unknownMockMode } = deps.config;
      if (unknownMockMode) {
        deps.logger.warn(
          { variable: unknownMockMode.name, value: unknownMockMode.value },
          'unknown payment mock mode; falling back to SUCCESS (http-api.md §4.1)',
        );
      }
      deps.logger.info(
        {
          mode: policy.mode,
          failureReason: policy.failureReason,
          declineAboveAmount: policy.declineAboveAmount ?? null,
        },
        'payment policy',
      );
      const runtime: PaymentRuntime = { policy, metrics: createPaymentMetrics(deps.registry), clock: () => new Date() };
      deps.addConsumer(inventoryReservedConsumer(() => runtime));
    },
  };
}

export const paymentService: ServiceModule<PaymentConfig> = createPaymentService();

import { fileURLToPath } from 'node:url';
import type { ServiceModule } from '@ecom/platform';
import { type NotificationConfig, readNotificationConfig } from './config.js';
import { createNotificationMetrics } from './notifications/metrics.js';
import { type NotificationRuntime, paymentResultConsumer } from './notifications/on-payment-result.js';
import { registerNotificationRoutes } from './notifications/routes.js';

/**
 * notification-service (spec http-api.md §7, events.md §6.5): keeps the newest payment results
 * (PaymentSucceeded / PaymentFailed) in a bounded, persisted store and serves them over HTTP. It
 * publishes nothing. The consumer is added in register(): it needs the metrics made there.
 */
export function createNotificationService(): ServiceModule<NotificationConfig> {
  return {
    name: 'notification-service',
    defaultPort: 8086,
    version: '0.1.0',
    description: 'Keeps the newest payment results (bounded, persisted) and serves them over HTTP.',
    readConfig: (env) => readNotificationConfig(env),
    // New (data-model.md §6 recommendation): the original keeps the store in memory only.
    database: {
      envPrefix: 'NOTIFICATION',
      schema: 'notification',
      migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
    },
    messaging: {
      service: 'notification',
      publishes: false,
      consumers: [],
    },
    register(app, deps) {
      const metrics = createNotificationMetrics(deps.registry);
      const clock = () => new Date();
      const runtime: NotificationRuntime = { capacity: deps.config.storeSize, metrics, clock };
      deps.addConsumer(paymentResultConsumer(() => runtime));
      registerNotificationRoutes(app, { db: deps.db, capacity: deps.config.storeSize, metrics, clock });
    },
  };
}

export const notificationService: ServiceModule<NotificationConfig> = createNotificationService();

import { fileURLToPath } from 'node:url';
import { createBearerVerifierFromConfig, type ServiceModule } from '@ecom/platform';
import { createCatalogClient } from './catalog/catalog-client.js';
import { createPriceOrder } from './catalog/price-order.js';
import { type OrderConfig, readOrderConfig } from './config.js';
import { purgeExpiredKeys } from './idempotency/purge-expired-keys.js';
import { registerOrderRoutes } from './orders/routes.js';
import { expireOverdueOrders } from './saga/expire-overdue-orders.js';
import { inventoryResultConsumer, paymentResultConsumer } from './saga/result-consumers.js';
import { createOrderMetrics, type OrderMetrics } from './shared/metrics.js';
import { type PeriodicJob, startPeriodic } from './shared/periodic.js';
import { registerTimelineRoute } from './timeline/routes.js';

export interface OrderModule extends ServiceModule<OrderConfig> {
  /** The running service's background jobs (tests run a cycle on demand); undefined before start. */
  readonly jobs: { sagaDeadline: PeriodicJob; idempotencyPurge: PeriodicJob } | undefined;
}

/**
 * order-service (spec http-api.md §2, events.md §6.4): authenticated, strictly idempotent order
 * creation with catalog validation, and the saga's order side — result consumers, the saga
 * deadline, the order timeline. One module object serves one running service at a time (its
 * consumers reach that service's metrics); start another with a fresh `createOrderService()`.
 */
export function createOrderService(): OrderModule {
  const clock = () => new Date();
  let metrics: OrderMetrics | undefined;
  let jobs: OrderModule['jobs'];
  // The consumers are declared before register() runs and start after it: they look metrics up late.
  const sagaDeps = {
    clock,
    get metrics(): OrderMetrics {
      if (!metrics) throw new Error('order-service: consumer ran before register()');
      return metrics;
    },
  };

  return {
    name: 'order-service',
    defaultPort: 8081,
    version: '0.1.0',
    description: 'Orders: authenticated, idempotent creation with catalog validation; the saga order side.',
    readConfig: (env) => readOrderConfig(env),
    database: {
      envPrefix: 'ORDER',
      schema: 'orders',
      migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
    },
    messaging: {
      service: 'order',
      publishes: true,
      consumers: [inventoryResultConsumer(sagaDeps), paymentResultConsumer(sagaDeps)],
    },
    get jobs() {
      return jobs;
    },
    register(app, deps) {
      if (metrics) throw new Error('order-service: this module is already running; use createOrderService()');
      const { config, db, outbox, logger } = deps;
      const orderMetrics = createOrderMetrics(deps.registry);
      metrics = orderMetrics;

      const { verifier } = createBearerVerifierFromConfig(config.bearer, { logger });
      const read = { access: config.readAccess, adminRole: config.adminRole, verifier };
      const catalog = createCatalogClient({
        baseUrl: config.catalog.baseUrl,
        timeoutMs: config.catalog.timeoutMs,
        cacheTtlMs: config.catalog.cacheTtlMs,
        cacheMaxEntries: config.catalog.cacheMaxEntries,
        onLookup: (result) => orderMetrics.catalogLookups.inc({ result }),
      });
      registerOrderRoutes(app, {
        db,
        outbox,
        verifier,
        requiredRole: config.requiredOrderRole,
        read,
        priceOrder: createPriceOrder(config.catalog.validation, catalog),
        clock,
        idempotencyTtlSeconds: config.idempotency.ttlSeconds,
        metrics: orderMetrics,
      });
      registerTimelineRoute(app, { db, read });

      const sagaDeadline = startPeriodic({
        name: 'saga-deadline',
        intervalMs: config.saga.sweepIntervalMs,
        logger,
        run: async () => {
          const expire = () =>
            expireOverdueOrders({
              db,
              outbox,
              clock,
              timeoutSeconds: config.saga.timeoutSeconds,
              batchSize: config.saga.sweepBatchSize,
              metrics: orderMetrics,
            });
          let failed = await expire();
          while (failed === config.saga.sweepBatchSize) failed = await expire();
        },
      });
      const idempotencyPurge = startPeriodic({
        name: 'idempotency-purge',
        intervalMs: config.idempotency.purgeIntervalMs,
        logger,
        run: async () => {
          const purged = await purgeExpiredKeys(db, clock());
          orderMetrics.idempotencyKeysPurged.inc(purged);
          if (purged > 0) logger.info({ purged }, 'expired idempotency keys purged');
        },
      });
      jobs = { sagaDeadline, idempotencyPurge };
      deps.onClose(async () => {
        await Promise.all([sagaDeadline.stop(), idempotencyPurge.stop()]);
        jobs = undefined;
        metrics = undefined;
      });
      logger.info(
        {
          catalogValidation: config.catalog.validation,
          readAccess: config.readAccess,
          sagaTimeoutSeconds: config.saga.timeoutSeconds,
        },
        'order-service configured',
      );
    },
  };
}

export const orderService: OrderModule = createOrderService();

import { fileURLToPath } from 'node:url';
import {
  cacheHealthIndicator,
  createBearerVerifierFromConfig,
  openCacheStore,
  type ServiceModule,
  type VersionedStore,
} from '@ecom/platform';
import { type InventoryConfig, readInventoryConfig } from './config.js';
import { loadDashboardAssets } from './dashboard/assets.js';
import { registerDashboardRoutes } from './dashboard/routes.js';
import { registerReleaseExportRoute } from './releases/export-routes.js';
import { registerReleaseListRoutes } from './releases/list-routes.js';
import { releaseRequestedConsumer } from './releases/on-release-requested.js';
import { orderCreatedConsumer } from './reservations/on-order-created.js';
import { registerReservationRoutes } from './reservations/routes.js';
import { stockLoader } from './stock/get-stock.js';
import { registerStockRoutes } from './stock/routes.js';
import { createStockCache, type StockCache } from './stock/stock-cache.js';

export interface InventoryModule extends ServiceModule<InventoryConfig> {
  /** The running service's stock cache (tests reach the race through it); undefined before start. */
  readonly stockCache: StockCache | undefined;
}

/**
 * inventory-service (spec http-api.md §3, events.md §6.1–6.2): stock, oversell-free
 * reservations, compensation with its audit, the stock read cache, the CSV export and the
 * dashboard. `stockCache` is the last started instance's cache (tests reach the race through it);
 * a fresh `createInventoryService()` gives a test its own handle.
 */
export function createInventoryService(): InventoryModule {
  const clock = () => new Date();
  let cache: StockCache | undefined;

  return {
    name: 'inventory-service',
    defaultPort: 8082,
    version: '0.1.0',
    description: 'Stock and oversell-free reservations, compensation with its audit, the stock cache, CSV export.',
    readConfig: (env) => readInventoryConfig(env),
    database: {
      envPrefix: 'INVENTORY',
      schema: 'inventory',
      migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
    },
    messaging: {
      service: 'inventory',
      publishes: true,
      consumers: [], // added in register(): their handlers need the stock cache it creates
    },
    get stockCache() {
      return cache;
    },
    async register(app, deps) {
      const { config, db, logger } = deps;

      let store: VersionedStore | undefined;
      if (config.stockCache.enabled) {
        const opened = await openCacheStore(config.stockCache.connection, {
          logger,
          connectionName: 'inventory-service',
        });
        store = opened;
        deps.addHealthIndicator(cacheHealthIndicator(opened));
        deps.onClose(() => opened.close());
      } else {
        logger.info('stock cache disabled (INVENTORY_STOCK_CACHE_ENABLED=false): Redis is never touched');
      }
      const stockCache = createStockCache({
        store,
        keyPrefix: config.stockCache.keyPrefix,
        ttlSeconds: config.stockCache.ttlSeconds,
        registry: deps.registry,
        logger,
      });
      cache = stockCache;
      deps.addConsumer(orderCreatedConsumer({ clock, cache: stockCache }));
      deps.addConsumer(releaseRequestedConsumer({ clock, cache: stockCache }));

      const { verifier } = createBearerVerifierFromConfig(config.bearer, { logger });
      // The literal release-event routes first (http-api.md §3.8).
      registerReleaseListRoutes(app, { db });
      registerReleaseExportRoute(app, { db, pageSize: config.exportPageSize });
      registerStockRoutes(app, { db, cache: stockCache, load: stockLoader(db), clock });
      registerReservationRoutes(app, { db, cache: stockCache, clock, verifier, adminRole: config.adminRole });
      registerDashboardRoutes(app, loadDashboardAssets(config.orderServiceUrl));
    },
  };
}

export const inventoryService: InventoryModule = createInventoryService();

import {
  type BearerConfig,
  type CacheConnectionConfig,
  ConfigError,
  type EnvReader,
  readBearerConfig,
  readCacheConnectionConfig,
} from '@ecom/platform';

/** Everything inventory-service reads from the environment (README "Configuration"), once at boot. */
export interface InventoryConfig {
  stockCache: {
    /** `INVENTORY_STOCK_CACHE_ENABLED`: off → the store is never opened and no counter moves. */
    enabled: boolean;
    /** `INVENTORY_STOCK_CACHE_TTL_SECONDS`, ≥ 1. */
    ttlSeconds: number;
    /** `APP_CACHE_STOCK_KEY_PREFIX`. */
    keyPrefix: string;
    /** `REDIS_HOST` / `REDIS_PORT`, else the in-process map. */
    connection: CacheConnectionConfig;
  };
  /** Bearer verification for `POST /api/stocks/reservations` (`AUTH_JWKS_URI`, `AUTH_EXPECTED_ISSUER`, …). */
  bearer: BearerConfig;
  /** `AUTH_REQUIRED_ADMIN_ROLE`: the role a reservation token must carry. */
  adminRole: string;
  /** `ORDER_SERVICE_URL`: base URL the dashboard links each order's timeline to; unset → no links. */
  orderServiceUrl: string | undefined;
  /** `INVENTORY_EXPORT_PAGE_SIZE`: rows the CSV export reads per query (memory bound). */
  exportPageSize: number;
}

export function readInventoryConfig(env: EnvReader): InventoryConfig {
  return {
    stockCache: {
      enabled: env.bool('INVENTORY_STOCK_CACHE_ENABLED', true),
      ttlSeconds: env.int('INVENTORY_STOCK_CACHE_TTL_SECONDS', 300, { min: 1, max: 2_592_000 }),
      // Spring relaxed binding: dashes to underscores, or dashes removed.
      keyPrefix: env.string(['APP_CACHE_STOCK_KEY_PREFIX', 'APP_CACHE_STOCK_KEYPREFIX'], 'inventory:stock:'),
      connection: readCacheConnectionConfig(env),
    },
    bearer: readBearerConfig(env),
    adminRole: env.string('AUTH_REQUIRED_ADMIN_ROLE', 'admin'),
    orderServiceUrl: readHttpUrl(env, 'ORDER_SERVICE_URL'),
    exportPageSize: env.int('INVENTORY_EXPORT_PAGE_SIZE', 500, { min: 1, max: 10_000 }),
  };
}

function readHttpUrl(env: EnvReader, name: string): string | undefined {
  const value = env.optionalString(name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name}: not a URL: "${value}"`);
  }
  // It ends up in an href on the dashboard: never a javascript: or data: URL.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name}: must be an http or https URL, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

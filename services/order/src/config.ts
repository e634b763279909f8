import { type BearerConfig, ConfigError, type EnvReader, readBearerConfig, readBlankable } from '@ecom/platform';

/** Who may read an order and its timeline (README "Reading orders"). */
export type ReadAccess = 'owner' | 'open';
export type CatalogValidation = 'enforce' | 'off';

/** Everything order-service reads from the environment (README "Configuration"), once at boot. */
export interface OrderConfig {
  /** `AUTH_JWKS_URI`, `AUTH_EXPECTED_ISSUER`, … (kernel). */
  bearer: BearerConfig;
  /** `AUTH_REQUIRED_ORDER_ROLE`: '' = role check off (set but blank). */
  requiredOrderRole: string;
  /** `AUTH_REQUIRED_ADMIN_ROLE`: may read any order (and use the kernel's DLQ routes). */
  adminRole: string;
  /** `ORDER_READ_ACCESS`. */
  readAccess: ReadAccess;
  catalog: {
    /** `ORDER_CATALOG_VALIDATION`. */
    validation: CatalogValidation;
    /** `CATALOG_SERVICE_URL`. */
    baseUrl: string;
    /** `ORDER_CATALOG_TIMEOUT_MS`. */
    timeoutMs: number;
    /** `ORDER_CATALOG_CACHE_TTL_MS`; 0 = no cache. */
    cacheTtlMs: number;
    /** `ORDER_CATALOG_CACHE_MAX_ENTRIES`. */
    cacheMaxEntries: number;
  };
  idempotency: {
    /** `ORDER_IDEMPOTENCY_TTL_SECONDS` (the spec's 24 h). */
    ttlSeconds: number;
    /** `ORDER_IDEMPOTENCY_PURGE_INTERVAL_MS`. */
    purgeIntervalMs: number;
  };
  saga: {
    /** `ORDER_SAGA_TIMEOUT_SECONDS`. */
    timeoutSeconds: number;
    /** `ORDER_SAGA_SWEEP_INTERVAL_MS`. */
    sweepIntervalMs: number;
    /** `ORDER_SAGA_SWEEP_BATCH_SIZE`. */
    sweepBatchSize: number;
  };
}

export function readOrderConfig(env: EnvReader): OrderConfig {
  return {
    bearer: readBearerConfig(env),
    requiredOrderRole: readBlankable(env, 'AUTH_REQUIRED_ORDER_ROLE', 'buyer'),
    adminRole: env.string('AUTH_REQUIRED_ADMIN_ROLE', 'admin'),
    readAccess: env.oneOf<ReadAccess>('ORDER_READ_ACCESS', ['owner', 'open'], 'owner'),
    catalog: {
      validation: env.oneOf<CatalogValidation>('ORDER_CATALOG_VALIDATION', ['enforce', 'off'], 'enforce'),
      baseUrl: readHttpUrl(env, 'CATALOG_SERVICE_URL', 'http://localhost:8085'),
      timeoutMs: env.int('ORDER_CATALOG_TIMEOUT_MS', 2000, { min: 50, max: 60_000 }),
      cacheTtlMs: env.int('ORDER_CATALOG_CACHE_TTL_MS', 5000, { min: 0, max: 3_600_000 }),
      cacheMaxEntries: env.int('ORDER_CATALOG_CACHE_MAX_ENTRIES', 10_000, { min: 1, max: 1_000_000 }),
    },
    idempotency: {
      ttlSeconds: env.int('ORDER_IDEMPOTENCY_TTL_SECONDS', 86_400, { min: 1, max: 31_536_000 }),
      purgeIntervalMs: env.int('ORDER_IDEMPOTENCY_PURGE_INTERVAL_MS', 3_600_000, { min: 100, max: 86_400_000 }),
    },
    saga: {
      timeoutSeconds: env.int('ORDER_SAGA_TIMEOUT_SECONDS', 60, { min: 1, max: 604_800 }),
      sweepIntervalMs: env.int('ORDER_SAGA_SWEEP_INTERVAL_MS', 5000, { min: 50, max: 3_600_000 }),
      sweepBatchSize: env.int('ORDER_SAGA_SWEEP_BATCH_SIZE', 100, { min: 1, max: 10_000 }),
    },
  };
}

function readHttpUrl(env: EnvReader, name: string, fallback: string): string {
  const value = env.string(name, fallback);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name}: not a URL: "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name}: must be an http or https URL, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

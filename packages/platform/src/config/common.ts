import { type PgTarget, parseDatabaseUrl } from '../db/url.js';
import { ConfigError, type EnvReader } from './env.js';

/** Settings every service reads (operations.md §1.1), plus the kernel's own knobs. */
export interface CommonConfig {
  port: number;
  host: string;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  bodyLimitBytes: number;
  /** Readiness reports DOWN this long before the server stops accepting (load balancers notice). */
  shutdownDrainDelayMs: number;
  /** Hard cap on graceful shutdown; past it, remaining connections are cut. */
  shutdownTimeoutMs: number;
  healthTimeoutMs: number;
  /** Root for embedded state (PGlite data, auth keys). Unset = throwaway, nothing persists. */
  dataDir: string | undefined;
}

export function readCommonConfig(env: EnvReader, defaultPort: number): CommonConfig {
  return {
    port: env.port('SERVER_PORT', defaultPort),
    host: env.string('SERVER_HOST', '0.0.0.0'),
    logLevel: env.oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info'),
    logFormat: env.oneOf('LOG_FORMAT', ['json', 'pretty'], 'json'),
    bodyLimitBytes: env.int('HTTP_BODY_LIMIT_BYTES', 256 * 1024, { min: 1024, max: 64 * 1024 * 1024 }),
    shutdownDrainDelayMs: env.int('SHUTDOWN_DRAIN_DELAY_MS', 0, { min: 0, max: 120_000 }),
    shutdownTimeoutMs: env.int('SHUTDOWN_TIMEOUT_MS', 10_000, { min: 100, max: 600_000 }),
    healthTimeoutMs: env.int('HEALTH_CHECK_TIMEOUT_MS', 1500, { min: 50, max: 30_000 }),
    dataDir: env.optionalString('DATA_DIR'),
  };
}

export type DatabaseConfig =
  | { mode: 'postgres'; target: PgTarget; maxConnections: number }
  | { mode: 'pglite'; dataDir: string | undefined };

/**
 * `<PREFIX>_DB_URL` set → that PostgreSQL (JDBC or postgres:// form); otherwise embedded PGlite
 * (operations.md §1.0). A malformed URL fails boot naming the variable.
 */
export function readDatabaseConfig(env: EnvReader, prefix: string, dataDir: string | undefined): DatabaseConfig {
  const url = env.raw(`${prefix}_DB_URL`);
  if (!url) return { mode: 'pglite', dataDir };
  try {
    const target = parseDatabaseUrl(url.value, {
      user: env.optionalString(`${prefix}_DB_USER`),
      password: env.optionalString(`${prefix}_DB_PASSWORD`),
    });
    return { mode: 'postgres', target, maxConnections: env.int(`${prefix}_DB_POOL_SIZE`, 10, { min: 1, max: 200 }) };
  } catch (err) {
    throw new ConfigError(`${url.name}: ${(err as Error).message}`);
  }
}

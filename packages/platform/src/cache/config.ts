import type { Logger } from 'pino';
import type { EnvReader } from '../config/env.js';
import type { HealthIndicator } from '../health.js';
import { createMemoryStore } from './memory-store.js';
import { createRedisStore } from './redis-store.js';
import type { VersionedStore } from './store.js';

/** operations.md §1.0/§1.4: `REDIS_HOST` set → Redis (`REDIS_PORT`, default 6379); else in-process. */
export type CacheConnectionConfig =
  | { mode: 'redis'; host: string; port: number; commandTimeoutMs: number }
  | { mode: 'in-process' };

/** Redis command timeout of the spec (operations.md §1.4). */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;

export function readCacheConnectionConfig(env: EnvReader): CacheConnectionConfig {
  const host = env.optionalString('REDIS_HOST');
  if (!host) return { mode: 'in-process' };
  return { mode: 'redis', host, port: env.port('REDIS_PORT', 6379), commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS };
}

export async function openCacheStore(
  config: CacheConnectionConfig,
  opts: { logger?: Logger; connectionName?: string } = {},
): Promise<VersionedStore> {
  if (config.mode === 'in-process') return createMemoryStore();
  return createRedisStore({
    host: config.host,
    port: config.port,
    commandTimeoutMs: config.commandTimeoutMs,
    connectionName: opts.connectionName,
    logger: opts.logger,
  });
}

/**
 * `redis` in /actuator/health. Not critical: the cache only speeds reads up, so an outage
 * shows in health (503, component DOWN) but never takes readiness down with it.
 */
export function cacheHealthIndicator(store: VersionedStore): HealthIndicator {
  return { name: 'redis', critical: false, mode: store.kind, check: () => store.ping() };
}

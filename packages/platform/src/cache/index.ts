export {
  type CacheConnectionConfig,
  cacheHealthIndicator,
  openCacheStore,
  REDIS_COMMAND_TIMEOUT_MS,
  readCacheConnectionConfig,
} from './config.js';
export { maySet, mayTombstone, tombstoneText, versionOf } from './entry.js';
export { createMemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { createRedisStore, type RedisStoreOptions } from './redis-store.js';
export type { VersionedStore } from './store.js';
export {
  type CacheCounters,
  createVersionedCache,
  type Versioned,
  type VersionedCache,
  type VersionedCacheOptions,
} from './versioned-cache.js';

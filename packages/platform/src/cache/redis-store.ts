import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { tombstoneText } from './entry.js';
import type { VersionedStore } from './store.js';

// The rules of entry.ts, as Lua so each runs atomically inside Redis. GET of a missing key
// is `false` in Lua; cjson turns JSON null into a userdata, so only a real number counts.
const VERSION_OF = `
local function version_of(raw)
  if not raw then return nil end
  local ok, obj = pcall(cjson.decode, raw)
  if ok and type(obj) == 'table' and type(obj['version']) == 'number' then return obj['version'] end
  return nil
end
`;
const SET_IF_NOT_OLDER = `${VERSION_OF}
local held = version_of(redis.call('GET', KEYS[1]))
if held and held > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1`;
const TOMBSTONE = `${VERSION_OF}
local held = version_of(redis.call('GET', KEYS[1]))
if held and held >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;
const DELETE_IF_EQUALS = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface Scripts {
  ecomSetIfNotOlder(key: string, value: string, version: number, ttlSeconds: number): Promise<number>;
  ecomTombstone(key: string, version: number, tombstone: string, ttlSeconds: number): Promise<number>;
  ecomDeleteIfEquals(key: string, value: string): Promise<number>;
}

export interface RedisStoreOptions {
  host: string;
  port: number;
  /** operations.md §1.4: 2 s. */
  commandTimeoutMs?: number;
  connectionName?: string;
  logger?: Logger;
  /** How long `createRedisStore` waits for the first connection before returning anyway. */
  initialConnectWaitMs?: number;
}

/**
 * Redis through ioredis. Settings chosen so an outage degrades to "every call fails fast"
 * (the caller falls back to the database) and never to "a stale command runs later":
 *  - no offline queue: a command issued while disconnected rejects at once instead of waiting
 *    and running minutes later (a delayed SET of an old value is exactly the stale write the
 *    versions guard against; keep the window small);
 *  - unfulfilled commands are NOT re-sent after a reconnect, for the same reason;
 *  - 2 s command timeout; reconnect forever with a capped back-off.
 * A Redis that is down at startup does not stop the service (the cache is not critical).
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<VersionedStore> {
  const { logger } = options;
  const redis = new Redis({
    host: options.host,
    port: options.port,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectTimeout: options.commandTimeoutMs ?? 2000,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    connectionName: options.connectionName,
    lazyConnect: true,
  });
  // Without a listener an 'error' event would crash the process; log a lost connection once.
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger?.warn({ err: err.message }, 'redis unavailable; cache calls fall back');
  });
  redis.on('ready', () => {
    if (down) logger?.info('redis connection restored');
    down = false;
  });
  redis.defineCommand('ecomSetIfNotOlder', { numberOfKeys: 1, lua: SET_IF_NOT_OLDER });
  redis.defineCommand('ecomTombstone', { numberOfKeys: 1, lua: TOMBSTONE });
  redis.defineCommand('ecomDeleteIfEquals', { numberOfKeys: 1, lua: DELETE_IF_EQUALS });
  const scripts = redis as unknown as Scripts;

  const connecting = redis.connect().catch(() => undefined); // retried by retryStrategy
  await Promise.race([connecting, new Promise((r) => setTimeout(r, options.initialConnectWaitMs ?? 2000).unref())]);

  return {
    kind: 'redis',
    description: `redis://${options.host}:${options.port}`,
    get: (key) => redis.get(key),
    async setIfNotOlder(key, value, version, ttlSeconds) {
      return (await scripts.ecomSetIfNotOlder(key, value, version, ttlSeconds)) === 1;
    },
    async invalidate(key, version, ttlSeconds) {
      await scripts.ecomTombstone(key, version, tombstoneText(version), ttlSeconds);
    },
    async deleteIfEquals(key, value) {
      return (await scripts.ecomDeleteIfEquals(key, value)) === 1;
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

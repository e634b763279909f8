import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { VersionedStore } from './store.js';

/** A value as the database has it, with the row's version (strictly increasing per key). */
export interface Versioned<T> {
  value: T;
  version: number;
}

export interface VersionedCacheOptions<T> {
  /** undefined = cache disabled: the store is never touched and no counter moves. */
  store: VersionedStore | undefined;
  /** `inventory:stock:` → key `inventory:stock:<id>`. */
  keyPrefix: string;
  /** Lifetime of a cached value (≥ 1). */
  ttlSeconds: number;
  /** `inventory_stock_cache` → `inventory_stock_cache_hits_total`, … (the five counters below). */
  metricPrefix: string;
  /** Noun for the counters' help text (`stock read`). */
  what?: string;
  registry: Registry;
  /** The value's JSON members; the cache adds `version`. */
  encode(value: T): Record<string, unknown>;
  /** The value from a parsed cached object, or undefined when it is not a usable T. */
  decode(json: Record<string, unknown>): T | undefined;
  logger?: Logger;
  /**
   * Lifetime of a tombstone. It must outlive any read that started before the write and
   * stores its (older) result after it; a load slower than half of it is not cached at all.
   * Default max(ttlSeconds, 60).
   */
  tombstoneTtlSeconds?: number;
  /** Monotonic ms (tests). */
  now?: () => number;
  /** How often invalidations that failed (store down) are retried in the background. Default 1000 ms. */
  retryPendingEveryMs?: number;
}

export interface CacheCounters {
  hits: Counter;
  misses: Counter;
  fallback: Counter;
  writes: Counter;
  evictions: Counter;
}

/**
 * Cache-aside over a VersionedStore, with the counters of operations.md §4.3 (names from
 * `metricPrefix`). Rules:
 *  - read: a usable value → hit; no key, a blank value or a tombstone → miss, load from the
 *    database and store the result unless something newer is there (404s are not cached);
 *    a store error or an undecodable value → fallback, load from the database (an undecodable
 *    entry is deleted; that delete counts as an eviction);
 *  - put (after a commit that wrote the value): store unless something newer is there;
 *  - invalidate (after a commit that changed the key): tombstone with the new version;
 *  - writes counts values actually stored; evictions counts successful invalidations, one per key.
 * Nothing here ever throws because of the store: the database answers instead.
 *
 * An invalidation that fails (store down) is not forgotten: the key is remembered with its
 * version, reads of it bypass the cache until the tombstone is in place, and the tombstone is
 * retried on the key's next use and in the background, so an entry older than a committed write
 * does not come back when the store does.
 */
export interface VersionedCache<T> {
  readonly enabled: boolean;
  readonly counters: CacheCounters;
  read(id: string, load: () => Promise<Versioned<T> | undefined>): Promise<T | undefined>;
  put(id: string, entry: Versioned<T>): Promise<void>;
  invalidate(id: string, version: number): Promise<void>;
}

export function createVersionedCache<T>(options: VersionedCacheOptions<T>): VersionedCache<T> {
  const { store, keyPrefix, ttlSeconds, logger } = options;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new RangeError(`ttlSeconds must be an integer ≥ 1`);
  const tombstoneTtl = options.tombstoneTtlSeconds ?? Math.max(ttlSeconds, 60);
  const now = options.now ?? (() => performance.now());
  const counters = cacheCounters(options.registry, options.metricPrefix, options.what ?? 'cache read');
  const key = (id: string) => `${keyPrefix}${id}`;
  /** id → version of invalidations the store did not take yet. */
  const pending = new Map<string, number>();
  let retryTimer: NodeJS.Timeout | undefined;

  // One warning per outage, not one per request: the fallback counter carries the volume.
  let lastWarnAt = Number.NEGATIVE_INFINITY;
  const fellBack = (op: string, err: unknown) => {
    counters.fallback.inc();
    if (now() - lastWarnAt > 10_000) {
      lastWarnAt = now();
      logger?.warn({ op, err: (err as Error)?.message ?? String(err) }, 'cache unavailable; using the database');
    }
  };

  /**
   * Stores a value unless something newer is there. `committedWrite`: the value comes from a
   * write that just committed, so if the store fails the old entry must not survive it — the
   * key becomes pending, exactly like a failed invalidation.
   */
  const storeValue = async (id: string, entry: Versioned<T>, committedWrite: boolean): Promise<void> => {
    if (!store) return;
    let text: string;
    try {
      text = JSON.stringify({ ...options.encode(entry.value), version: entry.version });
    } catch (err) {
      fellBack('encode', err);
      if (committedWrite) await tombstone(id, entry.version);
      return;
    }
    try {
      if (await store.setIfNotOlder(key(id), text, entry.version, ttlSeconds)) counters.writes.inc();
      // Whatever the key holds now is at least this version: an older pending invalidation is moot.
      if ((pending.get(id) ?? Number.POSITIVE_INFINITY) <= entry.version) pending.delete(id);
    } catch (err) {
      fellBack('set', err);
      if (committedWrite) markPending(id, entry.version);
    }
  };

  const markPending = (id: string, version: number) => {
    if (pending.size >= MAX_PENDING && !pending.has(id)) {
      logger?.error({ id }, 'too many cache keys await invalidation; this one may serve a stale value until its TTL');
      return;
    }
    pending.set(id, Math.max(version, pending.get(id) ?? Number.NEGATIVE_INFINITY));
    scheduleRetry();
  };

  /** One tombstone attempt; on failure the key stays (or becomes) pending. */
  const tombstone = async (id: string, version: number): Promise<boolean> => {
    if (!store) return true;
    try {
      await store.invalidate(key(id), version, tombstoneTtl);
      counters.evictions.inc();
      if ((pending.get(id) ?? Number.NEGATIVE_INFINITY) <= version) pending.delete(id);
      return true;
    } catch (err) {
      fellBack('invalidate', err);
      markPending(id, version);
      return false;
    }
  };

  const scheduleRetry = () => {
    if (retryTimer || pending.size === 0) return;
    retryTimer = setInterval(async () => {
      // One attempt per tick while the store is down; the rest follow once one succeeds.
      for (const [id, version] of [...pending]) {
        if (!(await tombstone(id, version))) return;
      }
      clearInterval(retryTimer);
      retryTimer = undefined;
    }, options.retryPendingEveryMs ?? 1000);
    retryTimer.unref();
  };

  return {
    enabled: store !== undefined,
    counters,
    async read(id, load) {
      if (!store) return (await load())?.value;
      const unflushed = pending.get(id);
      if (unflushed !== undefined && !(await tombstone(id, unflushed))) return (await load())?.value;
      let raw: string | null;
      try {
        raw = await store.get(key(id));
      } catch (err) {
        fellBack('get', err);
        return (await load())?.value; // no write-back: the store just failed
      }
      if (raw !== null && raw.trim() !== '') {
        const cached = decodeEntry(raw, options.decode);
        if (cached.kind === 'value') {
          counters.hits.inc();
          return cached.value;
        }
        if (cached.kind === 'undecodable') {
          fellBack('decode', new Error('undecodable cached value'));
          try {
            await store.deleteIfEquals(key(id), raw);
            counters.evictions.inc();
          } catch (err) {
            fellBack('delete', err);
          }
          return (await load())?.value;
        }
      }
      counters.misses.inc(); // no key, a blank value, or a tombstone
      const started = now();
      const loaded = await load();
      if (!loaded) return undefined;
      // A load this slow may have started before a write whose tombstone has since expired.
      if (now() - started < (tombstoneTtl * 1000) / 2) await storeValue(id, loaded, false);
      return loaded.value;
    },
    async put(id, entry) {
      const unflushed = pending.get(id);
      if (unflushed !== undefined && unflushed > entry.version && !(await tombstone(id, unflushed))) return;
      await storeValue(id, entry, true);
    },
    async invalidate(id, version) {
      await tombstone(id, version);
    },
  };
}

/** Bound on remembered failed invalidations (about 100 bytes each). */
const MAX_PENDING = 100_000;

type Decoded<T> = { kind: 'value'; value: T } | { kind: 'tombstone' } | { kind: 'undecodable' };

function decodeEntry<T>(raw: string, decode: (json: Record<string, unknown>) => T | undefined): Decoded<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { kind: 'undecodable' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { kind: 'undecodable' };
  const json = parsed as Record<string, unknown>;
  if (json.tombstone === true) return { kind: 'tombstone' };
  const value = decode(json);
  return value === undefined ? { kind: 'undecodable' } : { kind: 'value', value };
}

/** The five counters, registered at once so they read 0 from startup (operations.md §4.3). */
function cacheCounters(registry: Registry, prefix: string, what: string): CacheCounters {
  const counter = (suffix: string, help: string) => {
    const name = `${prefix}_${suffix}_total`;
    return (
      (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, registers: [registry] })
    );
  };
  return {
    hits: counter('hits', `A ${what} found a usable cached value`),
    misses: counter('misses', `A ${what} found no cached value (no key, blank or tombstone)`),
    fallback: counter(
      'fallback',
      'A cache operation failed or a value could not be decoded/encoded; the database was used',
    ),
    writes: counter('writes', 'A value was written to the cache'),
    evictions: counter('evictions', 'A cache key was invalidated (one per key)'),
  };
}

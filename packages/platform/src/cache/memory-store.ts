import { maySet, mayTombstone, tombstoneText } from './entry.js';
import type { VersionedStore } from './store.js';

export interface MemoryStoreOptions {
  /** Epoch ms; tests move time forward instead of sleeping. */
  now?: () => number;
  /** How often expired entries are swept (a key that is never read again would otherwise stay). */
  sweepIntervalMs?: number;
}

/**
 * The embedded twin of Redis: a Map with per-entry expiry. Every operation is synchronous
 * inside, so each one is atomic exactly like a Redis Lua script.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): VersionedStore {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const read = (key: string): string | null => {
    const entry = entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= now()) {
      entries.delete(key);
      return null;
    }
    return entry.value;
  };
  const write = (key: string, value: string, ttlSeconds: number) =>
    entries.set(key, { value, expiresAt: now() + ttlSeconds * 1000 });
  const sweep = setInterval(() => {
    const t = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= t) entries.delete(key);
  }, options.sweepIntervalMs ?? 30_000);
  sweep.unref();

  return {
    kind: 'in-process',
    description: 'in-process map',
    async get(key) {
      return read(key);
    },
    async setIfNotOlder(key, value, version, ttlSeconds) {
      if (!maySet(read(key), version)) return false;
      write(key, value, ttlSeconds);
      return true;
    },
    async invalidate(key, version, ttlSeconds) {
      if (mayTombstone(read(key), version)) write(key, tombstoneText(version), ttlSeconds);
    },
    async deleteIfEquals(key, value) {
      if (read(key) !== value) return false;
      entries.delete(key);
      return true;
    },
    async ping() {},
    async close() {
      clearInterval(sweep);
      entries.clear();
    },
  };
}

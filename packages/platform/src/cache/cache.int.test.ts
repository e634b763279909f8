/**
 * The cache port and its cache-aside helper, on real Redis and on the in-process map: the same
 * observable semantics (versions, tombstones, TTL), the counters' exact rules, the
 * read-miss/invalidate race, and a Redis outage (through a TCP proxy the test cuts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { startTcpProxy, waitFor } from '../testing/index.js';
import { cacheHealthIndicator } from './config.js';
import { createMemoryStore } from './memory-store.js';
import { createRedisStore } from './redis-store.js';
import type { VersionedStore } from './store.js';
import { createVersionedCache, type Versioned } from './versioned-cache.js';

const REDIS = { host: process.env.TEST_REDIS_HOST ?? '127.0.0.1', port: Number(process.env.TEST_REDIS_PORT ?? 6379) };
const STORES = ['redis', 'in-process'] as const;

interface Item {
  name: string;
  n: number;
}

function cacheOver(store: VersionedStore | undefined, keyPrefix: string, extra: { now?: () => number } = {}) {
  const registry = new Registry();
  const cache = createVersionedCache<Item>({
    store,
    keyPrefix,
    ttlSeconds: 60,
    metricPrefix: 'test_cache',
    registry,
    encode: (v) => ({ name: v.name, n: v.n }),
    decode: (j) => (typeof j.name === 'string' && typeof j.n === 'number' ? { name: j.name, n: j.n } : undefined),
    ...extra,
  });
  const counts = async () => {
    const text = await registry.metrics();
    const read = (c: string) =>
      Number(/ (\d+)$/.exec(text.split('\n').find((l) => l.startsWith(`test_cache_${c}_total`)) ?? '')?.[1]);
    return {
      hits: read('hits'),
      misses: read('misses'),
      fallback: read('fallback'),
      writes: read('writes'),
      evictions: read('evictions'),
    };
  };
  return { cache, counts };
}

const v = (n: number, version = n): Versioned<Item> => ({ value: { name: 'x', n }, version });

for (const kind of STORES) {
  describe(`versioned cache on ${kind}`, () => {
    let store: VersionedStore;
    let raw: Redis | undefined;
    const prefix = `test:${randomUUID()}:`;
    const key = (id: string) => `${prefix}${id}`;
    const rawGet = async (id: string) => (raw ? raw.get(key(id)) : store.get(key(id)));

    before(async () => {
      store = kind === 'redis' ? await createRedisStore(REDIS) : createMemoryStore();
      if (kind === 'redis') {
        raw = new Redis(REDIS);
      }
    });
    after(async () => {
      if (raw) {
        const keys = await raw.keys(`${prefix}*`);
        if (keys.length > 0) await raw.del(...keys);
        raw.disconnect();
      }
      await store.close();
    });

    test('setIfNotOlder refuses only a strictly older version; foreign text is replaced', async () => {
      const k = key('set');
      assert.equal(await store.setIfNotOlder(k, JSON.stringify({ version: 5 }), 5, 60), true);
      assert.equal(await store.setIfNotOlder(k, JSON.stringify({ version: 4 }), 4, 60), false);
      assert.equal(await store.get(k), JSON.stringify({ version: 5 }));
      assert.equal(await store.setIfNotOlder(k, JSON.stringify({ version: 5, again: true }), 5, 60), true);
      assert.equal(await store.setIfNotOlder(k, JSON.stringify({ version: 6 }), 6, 60), true);
      const foreign = key('foreign');
      if (raw) await raw.set(foreign, 'not json');
      else await store.setIfNotOlder(foreign, 'not json', 0, 60);
      assert.equal(await store.setIfNotOlder(foreign, JSON.stringify({ version: 1 }), 1, 60), true);
    });

    test('invalidate leaves a tombstone that blocks older values, keeps an equal or newer value', async () => {
      const k = key('tomb');
      await store.setIfNotOlder(k, JSON.stringify({ version: 3 }), 3, 60);
      await store.invalidate(k, 4, 60);
      assert.deepEqual(JSON.parse((await store.get(k))!), { version: 4, tombstone: true });
      assert.equal(
        await store.setIfNotOlder(k, JSON.stringify({ version: 3 }), 3, 60),
        false,
        'the stale value stays out',
      );
      assert.equal(
        await store.setIfNotOlder(k, JSON.stringify({ version: 4 }), 4, 60),
        true,
        'the committed value goes in',
      );
      await store.invalidate(k, 4, 60);
      assert.deepEqual(JSON.parse((await store.get(k))!), { version: 4 }, 'an equally new value is kept');
      await store.invalidate(k, 3, 60);
      assert.deepEqual(JSON.parse((await store.get(k))!), { version: 4 }, 'a late, older invalidation changes nothing');
      assert.equal(await store.deleteIfEquals(k, 'something else'), false);
      assert.equal(await store.deleteIfEquals(k, JSON.stringify({ version: 4 })), true);
      assert.equal(await store.get(k), null);
    });

    test('entries expire after their TTL', async () => {
      if (raw) {
        await store.setIfNotOlder(key('ttl'), JSON.stringify({ version: 1 }), 1, 42);
        const ttl = await raw.ttl(key('ttl'));
        assert.ok(ttl > 0 && ttl <= 42, `SET … EX 42, TTL is ${ttl}`);
        await store.invalidate(key('ttl'), 2, 7);
        const t2 = await raw.ttl(key('ttl'));
        assert.ok(t2 > 0 && t2 <= 7);
        return;
      }
      let now = 1_000_000;
      const clocked = createMemoryStore({ now: () => now });
      await clocked.setIfNotOlder('k', JSON.stringify({ version: 1 }), 1, 2);
      now += 1999;
      assert.notEqual(await clocked.get('k'), null);
      now += 1;
      assert.equal(await clocked.get('k'), null);
      await clocked.close();
    });

    test('cache-aside counters: miss → write, hit, blank → miss, tombstone → miss, undecodable → fallback', async () => {
      const { cache, counts } = cacheOver(store, prefix);
      assert.deepEqual(await counts(), { hits: 0, misses: 0, fallback: 0, writes: 0, evictions: 0 }, 'present at 0');
      assert.deepEqual(await cache.read('a', async () => v(1)), { name: 'x', n: 1 });
      assert.deepEqual(await counts(), { hits: 0, misses: 1, fallback: 0, writes: 1, evictions: 0 });
      assert.deepEqual(await cache.read('a', async () => assert.fail('a hit never loads')), { name: 'x', n: 1 });
      assert.deepEqual(await counts(), { hits: 1, misses: 1, fallback: 0, writes: 1, evictions: 0 });
      assert.deepEqual(JSON.parse((await rawGet('a'))!), { name: 'x', n: 1, version: 1 }, 'value + version');

      assert.equal(await cache.read('none', async () => undefined), undefined);
      assert.equal(await rawGet('none'), null, 'a missing row is not cached');
      assert.deepEqual(await counts(), { hits: 1, misses: 2, fallback: 0, writes: 1, evictions: 0 });

      await cache.invalidate('a', 2);
      assert.deepEqual(await counts(), { hits: 1, misses: 2, fallback: 0, writes: 1, evictions: 1 });
      assert.deepEqual(await cache.read('a', async () => v(2)), { name: 'x', n: 2 });
      assert.deepEqual(await counts(), { hits: 1, misses: 3, fallback: 0, writes: 2, evictions: 1 });

      await cache.put('a', v(1)); // older than what is cached: not written
      await cache.put('a', v(3));
      assert.deepEqual(await counts(), { hits: 1, misses: 3, fallback: 0, writes: 3, evictions: 1 });

      if (raw) {
        await raw.set(key('blank'), '  ');
        await cache.read('blank', async () => v(1));
        assert.deepEqual(await counts(), { hits: 1, misses: 4, fallback: 0, writes: 4, evictions: 1 });
        await raw.set(key('bad'), '{"name":42}');
        assert.deepEqual(await cache.read('bad', async () => v(7)), { name: 'x', n: 7 });
        assert.deepEqual(await counts(), { hits: 1, misses: 4, fallback: 1, writes: 4, evictions: 2 });
        assert.equal(await raw.get(key('bad')), null, 'the undecodable entry was deleted');
      }
    });

    test('race: a load that started before a write cannot store its older value after the write', async () => {
      const { cache } = cacheOver(store, prefix);
      await cache.put('r', v(10, 1));
      await cache.invalidate('r', 2);
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let loaded!: () => void;
      const hasLoaded = new Promise<void>((r) => {
        loaded = r;
      });
      const slow = cache.read('r', async () => {
        const value = v(20, 2); // what the database held when the read began
        loaded();
        await gate;
        return value;
      });
      await hasLoaded;
      await cache.invalidate('r', 3); // a write committed (version 3) and evicted
      release();
      assert.equal((await slow)?.n, 20);
      assert.deepEqual(
        JSON.parse((await rawGet('r'))!),
        { version: 3, tombstone: true },
        'the stale value was refused',
      );
      assert.equal((await cache.read('r', async () => v(30, 3)))?.n, 30);
      assert.equal((await cache.read('r', async () => assert.fail('now a hit')))?.n, 30);
    });

    test('a load slower than half the tombstone life is not cached', async () => {
      let now = 0;
      const { cache, counts } = cacheOver(store, prefix, { now: () => now });
      await cache.read('slow', async () => {
        now += 31_000; // tombstones live max(ttl, 60) s
        return v(1);
      });
      assert.equal((await counts()).writes, 0);
      assert.equal(await rawGet('slow'), null);
    });

    test('disabled (no store): reads load every time and no counter moves', async () => {
      const { cache, counts } = cacheOver(undefined, prefix);
      let loads = 0;
      for (let i = 0; i < 3; i++) {
        await cache.read('d', async () => {
          loads++;
          return v(1);
        });
      }
      await cache.put('d', v(2));
      await cache.invalidate('d', 3);
      assert.equal(loads, 3);
      assert.equal(cache.enabled, false);
      assert.deepEqual(await counts(), { hits: 0, misses: 0, fallback: 0, writes: 0, evictions: 0 });
      assert.equal(await rawGet('d'), null);
    });
  });
}

describe('Redis outage through a cut TCP proxy', () => {
  test('every operation falls back fast and is counted; nothing throws; service resumes after restore', async () => {
    const proxy = await startTcpProxy(REDIS);
    const store = await createRedisStore({ host: '127.0.0.1', port: proxy.port });
    const prefix = `test:${randomUUID()}:`;
    const { cache, counts } = cacheOver(store, prefix);
    const health = cacheHealthIndicator(store);
    try {
      assert.deepEqual(await cache.read('k', async () => v(1)), { name: 'x', n: 1 });
      await health.check();
      assert.equal(health.critical, false);
      proxy.cut();
      const started = Date.now();
      assert.deepEqual(await cache.read('k', async () => v(2)), { name: 'x', n: 2 }, 'answered from the loader');
      await cache.put('k', v(3));
      await cache.invalidate('k', 4);
      assert.ok(Date.now() - started < 2500, 'fails fast, never waits for a reconnect');
      assert.deepEqual(await counts(), { hits: 0, misses: 1, fallback: 3, writes: 1, evictions: 0 });
      await assert.rejects(health.check());
      proxy.restore();
      // The entry cached before the outage (n=1) is older than the writes that returned during it:
      // it must never be served again, although its invalidation failed at the time.
      const served: number[] = [];
      await waitFor(
        async () => {
          const item = await cache.read('k', async () => v(5));
          served.push(item?.n ?? -1);
          return (await counts()).writes === 2;
        },
        { timeoutMs: 8000 },
      );
      assert.ok(!served.includes(1), `never the pre-outage value: ${served.join(',')}`);
      assert.ok((await counts()).evictions >= 1, 'the pending invalidation was replayed');
      assert.equal((await cache.read('k', async () => assert.fail('hit after recovery')))?.n, 5);
    } finally {
      await store.close();
      await proxy.close();
      const raw = new Redis(REDIS);
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length > 0) await raw.del(...keys);
      raw.disconnect();
    }
  });
});

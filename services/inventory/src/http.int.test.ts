/**
 * inventory-service over HTTP (http-api.md §3), on real PostgreSQL + RabbitMQ + Redis and on
 * PGlite + in-process transport + in-process cache: stock, the cache and its counters (with the
 * read-miss/invalidate race and a Redis outage), oversell-free reservations, the release audit
 * listings, the CSV export and the dashboard.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { DB_MODES, startTcpProxy, startTestIssuer, type TestIssuer, waitFor } from '@ecom/platform/testing';
import { stringify } from 'csv-stringify';
import { CSV_OPTIONS, csvRecord } from './releases/csv.js';
import { decodeCursor, encodeCursor } from './releases/cursor.js';
import { exportReleaseEvents } from './releases/export-release-events.js';
import { parseFilters } from './releases/filters.js';
import { releaseEventsAfter } from './releases/repository.js';
import { getStock, stockLoader } from './stock/get-stock.js';
import {
  type Inventory,
  newestFirst,
  REDIS_HOST,
  REDIS_PORT,
  seedReleaseEvents,
  startInventory,
  tokens,
} from './test-support/harness.js';

const ISO_MILLIS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const COUNTERS = ['hits', 'misses', 'fallback', 'writes', 'evictions'].map((c) => `inventory_stock_cache_${c}_total`);

/**
 * One GET over a raw socket (HTTP/1.1, Connection: close) that keeps the body as the server
 * framed it: one entry per Transfer-Encoding chunk, i.e. per write the service made.
 */
async function rawChunkedGet(base: string, path: string): Promise<{ head: string; chunks: Buffer[] }> {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/csv\r\nConnection: close\r\n\r\n`);
  const parts: Buffer[] = [];
  for await (const part of socket) parts.push(part as Buffer);
  const raw = Buffer.concat(parts);
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, headEnd + 2).toString('latin1'); // each header line keeps its CRLF
  assert.match(head, /\r\ntransfer-encoding: chunked\r\n/i);
  const chunks: Buffer[] = [];
  for (let at = headEnd + 4; ; ) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = Number.parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    assert.ok(lineEnd > 0 && Number.isInteger(size), 'well-formed chunk framing');
    if (size === 0) break;
    chunks.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return { head, chunks };
}

/** What the per-record implementation wrote: every record through one streaming stringifier. */
async function perRecordCsv(records: string[][]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(records).pipe(stringify({ ...CSV_OPTIONS, header: true }))) {
    out.push(Buffer.from(chunk as Buffer));
  }
  return Buffer.concat(out);
}

function assertErrorBody(body: Record<string, unknown>, status: number, path: string): void {
  assert.equal(body.status, status);
  assert.equal(typeof body.error, 'string');
  assert.equal(body.path, path);
  assert.match(String(body.timestamp), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/);
  assert.equal(typeof body.message, 'string');
}

for (const mode of DB_MODES) {
  const stack = mode === 'postgres' ? 'PostgreSQL + RabbitMQ + Redis' : 'PGlite + in-process';
  describe(`inventory-service HTTP on ${stack}`, () => {
    let issuer: TestIssuer;
    let inv: Inventory;
    let auth: { admin: string; buyer: string };
    const inject = (opts: {
      method: 'GET' | 'POST';
      url: string;
      payload?: object;
      headers?: Record<string, string>;
    }) => inv.service.app.inject(opts);
    const get = (url: string, headers: Record<string, string> = {}) => inject({ method: 'GET', url, headers });
    const upsert = (payload: unknown) => inject({ method: 'POST', url: '/api/stocks', payload: payload as object });
    const reserve = (payload: unknown, authorization: string = auth.admin) =>
      inject({
        method: 'POST',
        url: '/api/stocks/reservations',
        payload: payload as object,
        headers: authorization ? { authorization } : {},
      });
    const counters = async () =>
      Object.fromEntries(await Promise.all(COUNTERS.map(async (n) => [n, await inv.metric(n)])));
    const delta = (before: Record<string, number>, after: Record<string, number>) =>
      Object.fromEntries(
        COUNTERS.map((n) => [n.replace(/^inventory_stock_cache_|_total$/g, ''), after[n]! - before[n]!]),
      );
    const stockRow = async (sku: string) =>
      (
        await inv.service.deps.db.query<{ available_qty: number; reserved_qty: number }>(
          'SELECT available_qty, reserved_qty FROM sku_stocks WHERE sku_id = $1',
          [sku],
        )
      )[0];
    const reservedSum = async (sku: string) =>
      (
        await inv.service.deps.db.query<{ n: number }>(
          `SELECT COALESCE(sum(i.quantity), 0)::bigint AS n FROM inventory_reservation_items i
             JOIN inventory_reservations r ON r.id = i.reservation_id WHERE r.status = 'RESERVED' AND i.sku_id = $1`,
          [sku],
        )
      )[0]?.n;
    const sku = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

    before(async () => {
      issuer = await startTestIssuer();
      auth = await tokens(issuer);
      inv = await startInventory(mode, issuer, { listen: true });
    });
    after(async () => {
      await inv?.close();
      await issuer?.close();
    });

    // ---- §3.1 / §3.2 stock ------------------------------------------------------------------

    test('POST /api/stocks creates, trims the SKU, and a second POST sets available only (reserved kept)', async () => {
      const s = sku('UPS');
      const created = await upsert({ skuId: `  ${s}  `, availableQty: 10, ignored: true });
      assert.equal(created.statusCode, 200);
      const body = created.json();
      assert.deepEqual({ ...body, updatedAt: 'x' }, { skuId: s, availableQty: 10, reservedQty: 0, updatedAt: 'x' });
      assert.match(body.updatedAt, ISO_MILLIS_Z);
      assert.equal(
        (await reserve({ orderId: randomUUID(), items: [{ skuId: s, quantity: 4 }] })).json().status,
        'RESERVED',
      );
      const overwritten = await upsert({ skuId: s, availableQty: 3 });
      assert.deepEqual(
        [overwritten.json().availableQty, overwritten.json().reservedQty],
        [3, 4],
        'absolute set of available; reserved untouched',
      );
      const read = await get(`/api/stocks/${s}`);
      assert.equal(read.statusCode, 200);
      assert.deepEqual([read.json().availableQty, read.json().reservedQty], [3, 4]);
    });

    const badStocks: [string, unknown][] = [
      ['missing availableQty', { skuId: 'X' }],
      ['negative availableQty', { skuId: 'X', availableQty: -1 }],
      ['fractional availableQty', { skuId: 'X', availableQty: 1.5 }],
      ['availableQty as a string', { skuId: 'X', availableQty: '5' }],
      ['blank skuId', { skuId: '   ', availableQty: 1 }],
      ['skuId over 64 characters', { skuId: 'S'.repeat(65), availableQty: 1 }],
      ['missing skuId', { availableQty: 1 }],
    ];
    for (const [what, payload] of badStocks) {
      test(`POST /api/stocks with ${what} is 400 with the error body`, async () => {
        const res = await upsert(payload);
        assert.equal(res.statusCode, 400);
        assertErrorBody(res.json(), 400, '/api/stocks');
      });
    }

    test('GET /api/stocks/{skuId}: 404 for an unknown SKU, 400 for a blank one, the path is trimmed', async () => {
      const missing = await get('/api/stocks/NO-SUCH-SKU-404');
      assert.equal(missing.statusCode, 404);
      assertErrorBody(missing.json(), 404, '/api/stocks/NO-SUCH-SKU-404');
      assert.equal((await get('/api/stocks/%20')).statusCode, 400);
      const s = sku('TRIM');
      await upsert({ skuId: s, availableQty: 1 });
      assert.equal((await get(`/api/stocks/%20${s}%20`)).json().skuId, s);
    });

    test('literal release-event routes win over /api/stocks/{skuId} (§3.8)', async () => {
      assert.equal((await upsert({ skuId: 'release-events', availableQty: 7 })).statusCode, 200);
      const res = await get('/api/stocks/release-events');
      assert.equal(res.statusCode, 200);
      assert.ok('totalElements' in res.json(), 'the offset listing answered, not the stock of SKU "release-events"');
      assert.ok('hasMore' in (await get('/api/stocks/release-events/cursor')).json());
      assert.equal((await get('/api/stocks/release-events/export')).headers['content-type'], 'text/csv;charset=UTF-8');
    });

    // ---- the stock cache ----------------------------------------------------------------------

    test('the five cache counters exist from startup and move exactly per operations.md §4.3', async () => {
      for (const name of COUNTERS) assert.ok(Number.isFinite(await inv.metric(name)), `${name} is exposed`);
      const s = sku('CNT');
      let c0 = await counters();
      await upsert({ skuId: s, availableQty: 10 });
      assert.deepEqual(delta(c0, await counters()), { hits: 0, misses: 0, fallback: 0, writes: 1, evictions: 0 });

      c0 = await counters();
      assert.equal((await get(`/api/stocks/${s}`)).json().availableQty, 10);
      assert.deepEqual(delta(c0, await counters()), { hits: 1, misses: 0, fallback: 0, writes: 0, evictions: 0 });

      c0 = await counters();
      const other = sku('CNT2');
      await upsert({ skuId: other, availableQty: 5 });
      const c1 = await counters();
      await reserve({
        orderId: randomUUID(),
        items: [
          { skuId: s, quantity: 2 },
          { skuId: other, quantity: 1 },
        ],
      });
      assert.deepEqual(delta(c1, await counters()), { hits: 0, misses: 0, fallback: 0, writes: 0, evictions: 2 });

      c0 = await counters();
      assert.equal((await get(`/api/stocks/${s}`)).json().availableQty, 8, 'the eviction made the next read fresh');
      assert.deepEqual(delta(c0, await counters()), { hits: 0, misses: 1, fallback: 0, writes: 1, evictions: 0 });
      c0 = await counters();
      await get(`/api/stocks/${s}`);
      assert.deepEqual(delta(c0, await counters()), { hits: 1, misses: 0, fallback: 0, writes: 0, evictions: 0 });

      c0 = await counters();
      const failed = await reserve({ orderId: randomUUID(), items: [{ skuId: s, quantity: 999 }] });
      assert.equal(failed.json().status, 'FAILED');
      assert.deepEqual(delta(c0, await counters()), { hits: 0, misses: 0, fallback: 0, writes: 0, evictions: 0 });

      c0 = await counters();
      assert.equal((await get('/api/stocks/NOT-CACHED-404')).statusCode, 404);
      assert.equal((await get('/api/stocks/NOT-CACHED-404')).statusCode, 404);
      assert.deepEqual(delta(c0, await counters()), { hits: 0, misses: 2, fallback: 0, writes: 0, evictions: 0 });
    });

    test('race: a read that loaded BEFORE a write cannot put its older value back AFTER the write returned', async () => {
      const cache = inv.module.stockCache!;
      const db = inv.service.deps.db;
      const s = sku('RACE');
      await upsert({ skuId: s, availableQty: 10 });
      await reserve({ orderId: randomUUID(), items: [{ skuId: s, quantity: 1 }] }); // key now invalidated

      // 1) the writer is an upsert: the slow reader holds available=9, the upsert returns 50.
      let release!: () => void;
      let loaded!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const hasLoaded = new Promise<void>((r) => {
        loaded = r;
      });
      const load = stockLoader(db);
      const slowRead = getStock(
        {
          cache,
          load: async (id) => {
            const v = await load(id);
            loaded();
            await gate; // the pause between the DB read and the cache write
            return v;
          },
        },
        s,
      );
      await hasLoaded;
      assert.equal((await upsert({ skuId: s, availableQty: 50 })).json().availableQty, 50);
      release();
      assert.equal((await slowRead)?.availableQty, 9, 'the slow reader itself answers what it read');
      assert.equal((await get(`/api/stocks/${s}`)).json().availableQty, 50, 'the cache was not rolled back');

      // 2) the writer is a reservation (invalidation): the slow reader holds 50, the reservation leaves 45.
      let release2!: () => void;
      let loaded2!: () => void;
      const gate2 = new Promise<void>((r) => {
        release2 = r;
      });
      const hasLoaded2 = new Promise<void>((r) => {
        loaded2 = r;
      });
      await reserve({ orderId: randomUUID(), items: [{ skuId: s, quantity: 1 }] }); // invalidate → next read misses
      const before2 = (await stockRow(s))!.available_qty;
      const slowRead2 = getStock(
        {
          cache,
          load: async (id) => {
            const v = await load(id);
            loaded2();
            await gate2;
            return v;
          },
        },
        s,
      );
      await hasLoaded2;
      assert.equal(
        (await reserve({ orderId: randomUUID(), items: [{ skuId: s, quantity: 5 }] })).json().status,
        'RESERVED',
      );
      release2();
      assert.equal((await slowRead2)?.availableQty, before2);
      assert.equal(
        (await get(`/api/stocks/${s}`)).json().availableQty,
        before2 - 5,
        'no stale value after the eviction',
      );
    });

    test('Redis down: reads come from the database (200), fallback counted, readiness stays UP', async () => {
      const proxy = await startTcpProxy({ host: REDIS_HOST, port: REDIS_PORT });
      const down = await startInventory(mode, issuer, { redis: { host: '127.0.0.1', port: proxy.port } });
      try {
        const s = sku('DOWN');
        assert.equal(
          (
            await down.service.app.inject({
              method: 'POST',
              url: '/api/stocks',
              payload: { skuId: s, availableQty: 3 },
            })
          ).statusCode,
          200,
        );
        proxy.cut();
        const fallback0 = await down.metric('inventory_stock_cache_fallback_total');
        const read = await down.service.app.inject({ method: 'GET', url: `/api/stocks/${s}` });
        assert.equal(read.statusCode, 200);
        assert.equal(read.json().availableQty, 3);
        const written = await down.service.app.inject({
          method: 'POST',
          url: '/api/stocks',
          payload: { skuId: s, availableQty: 4 },
        });
        assert.equal(written.statusCode, 200, 'a write is not failed by the cache');
        assert.equal(
          (await down.service.app.inject({ method: 'GET', url: `/api/stocks/${s}` })).json().availableQty,
          4,
        );
        assert.ok((await down.metric('inventory_stock_cache_fallback_total')) >= fallback0 + 3);
        assert.equal(
          (await down.service.app.inject({ method: 'GET', url: '/actuator/health/readiness' })).statusCode,
          200,
        );
        const health = await down.service.app.inject({ method: 'GET', url: '/actuator/health' });
        assert.equal(health.json().components.redis.status, 'DOWN', 'visible in health, not critical');

        // Redis returns: hits resume, and the value written during the outage is what they serve.
        proxy.restore();
        const hits0 = await down.metric('inventory_stock_cache_hits_total');
        const served: number[] = [];
        await waitFor(
          async () => {
            const res = await down.service.app.inject({ method: 'GET', url: `/api/stocks/${s}` });
            served.push(res.json().availableQty);
            return (await down.metric('inventory_stock_cache_hits_total')) > hits0;
          },
          { timeoutMs: 15_000, intervalMs: 200 },
        );
        assert.ok(
          served.every((q) => q === 4),
          `never the value from before the outage: ${served}`,
        );
      } finally {
        await down.close();
        await proxy.close();
      }
    });

    test('cache disabled: reads and writes work and no counter ever moves', async () => {
      const off = await startInventory(mode, issuer, { env: { INVENTORY_STOCK_CACHE_ENABLED: 'false' } });
      try {
        const app = off.service.app;
        const s = sku('OFF');
        await app.inject({ method: 'POST', url: '/api/stocks', payload: { skuId: s, availableQty: 2 } });
        await app.inject({ method: 'GET', url: `/api/stocks/${s}` });
        await app.inject({ method: 'GET', url: `/api/stocks/${s}` });
        await app.inject({
          method: 'POST',
          url: '/api/stocks/reservations',
          headers: { authorization: auth.admin },
          payload: { orderId: randomUUID(), items: [{ skuId: s, quantity: 1 }] },
        });
        assert.equal((await app.inject({ method: 'GET', url: `/api/stocks/${s}` })).json().availableQty, 1);
        for (const name of COUNTERS) assert.equal(await off.metric(name), 0, `${name} stays 0`);
        const health = (await app.inject({ method: 'GET', url: '/actuator/health' })).json();
        assert.equal(health.components.redis, undefined, 'Redis is never touched');
      } finally {
        await off.close();
      }
    });

    // ---- §3.3 reservations --------------------------------------------------------------------

    test('reservation: RESERVED aggregates items per SKU; a repeat for the order returns it unchanged', async () => {
      const [a, b] = [sku('RA'), sku('RB')];
      await upsert({ skuId: a, availableQty: 10 });
      await upsert({ skuId: b, availableQty: 10 });
      const orderId = randomUUID();
      const res = await reserve({
        orderId: orderId.toUpperCase(),
        items: [
          { skuId: a, quantity: 2 },
          { skuId: ` ${b} `, quantity: 1 },
          { skuId: a, quantity: 3 },
        ],
      });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.equal(body.status, 'RESERVED');
      assert.equal(body.orderId, orderId, 'lowercase UUID');
      assert.equal(body.reason, null);
      assert.match(body.createdAt, ISO_MILLIS_Z);
      assert.deepEqual(
        [...body.items].sort((x: { skuId: string }, y: { skuId: string }) => (x.skuId < y.skuId ? -1 : 1)),
        [
          { skuId: a, quantity: 5 },
          { skuId: b, quantity: 1 },
        ].sort((x, y) => (x.skuId < y.skuId ? -1 : 1)),
      );
      assert.deepEqual(await stockRow(a), { available_qty: 5, reserved_qty: 5 });
      const again = await reserve({ orderId, items: [{ skuId: b, quantity: 9 }] });
      assert.deepEqual(again.json(), body, 'existing reservation returned unchanged');
      assert.deepEqual(await stockRow(b), { available_qty: 9, reserved_qty: 1 });
    });

    test('reservation FAILED reasons: first missing SKU in request order, then insufficient stock; no stock change', async () => {
      const [a, b] = [sku('FA'), sku('FB')];
      await upsert({ skuId: a, availableQty: 2 });
      await upsert({ skuId: b, availableQty: 1 });
      const missing = await reserve({
        orderId: randomUUID(),
        items: [
          { skuId: a, quantity: 1 },
          { skuId: 'NOPE-1', quantity: 1 },
          { skuId: 'NOPE-2', quantity: 1 },
        ],
      });
      assert.equal(missing.json().status, 'FAILED');
      assert.equal(missing.json().reason, 'SKU_NOT_FOUND:NOPE-1');
      assert.equal(missing.json().items.length, 3, 'a FAILED reservation stores its requested items');
      const short = await reserve({
        orderId: randomUUID(),
        items: [
          { skuId: a, quantity: 1 },
          { skuId: b, quantity: 1 },
          { skuId: a, quantity: 2 },
        ],
      });
      assert.equal(short.json().reason, `INSUFFICIENT_STOCK:${a} available=2 requested=3`);
      assert.deepEqual(await stockRow(a), { available_qty: 2, reserved_qty: 0 });
      assert.deepEqual(await stockRow(b), { available_qty: 1, reserved_qty: 0 });
    });

    test('reservation is admin-only: 401 without a token (before validation), 403 without the role', async () => {
      const none = await reserve({}, '');
      assert.equal(none.statusCode, 401);
      assertErrorBody(none.json(), 401, '/api/stocks/reservations');
      assert.equal(none.headers['www-authenticate'], 'Bearer');
      assert.equal((await reserve({ orderId: randomUUID(), items: [] }, 'Bearer not.a.jwt')).statusCode, 401);
      const buyer = await reserve({ orderId: randomUUID(), items: [{ skuId: 'X', quantity: 1 }] }, auth.buyer);
      assert.equal(buyer.statusCode, 403);
      assertErrorBody(buyer.json(), 403, '/api/stocks/reservations');
    });

    const badReservations: [string, unknown][] = [
      ['a bad UUID', { orderId: 'not-a-uuid', items: [{ skuId: 'A', quantity: 1 }] }],
      ['a missing orderId', { items: [{ skuId: 'A', quantity: 1 }] }],
      ['no items', { orderId: randomUUID(), items: [] }],
      ['quantity 0', { orderId: randomUUID(), items: [{ skuId: 'A', quantity: 0 }] }],
      ['a non-integer quantity', { orderId: randomUUID(), items: [{ skuId: 'A', quantity: 1.5 }] }],
      ['a quantity as a string', { orderId: randomUUID(), items: [{ skuId: 'A', quantity: '2' }] }],
      ['a blank skuId', { orderId: randomUUID(), items: [{ skuId: ' ', quantity: 1 }] }],
      ['a skuId over 64 characters', { orderId: randomUUID(), items: [{ skuId: 'S'.repeat(65), quantity: 1 }] }],
      [
        'a summed quantity beyond INTEGER',
        {
          orderId: randomUUID(),
          items: [
            { skuId: 'A', quantity: 2_000_000_000 },
            { skuId: 'A', quantity: 2_000_000_000 },
          ],
        },
      ],
    ];
    for (const [what, payload] of badReservations) {
      test(`reservation with ${what} is 400, not 500`, async () => {
        const res = await reserve(payload);
        assert.equal(res.statusCode, 400);
        assertErrorBody(res.json(), 400, '/api/stocks/reservations');
      });
    }

    test('200 concurrent reservations against stock for 100: exactly 100 RESERVED, no oversell, no 500', async () => {
      const s = sku('HOT');
      await upsert({ skuId: s, availableQty: 100 });
      const results = await Promise.all(
        Array.from({ length: 200 }, () => reserve({ orderId: randomUUID(), items: [{ skuId: s, quantity: 1 }] })),
      );
      assert.deepEqual([...new Set(results.map((r) => r.statusCode))], [200]);
      const bodies = results.map((r) => r.json());
      const reserved = bodies.filter((b) => b.status === 'RESERVED');
      const failed = bodies.filter((b) => b.status === 'FAILED');
      assert.equal(reserved.length, 100);
      assert.equal(failed.length, 100);
      for (const f of failed) assert.equal(f.reason, `INSUFFICIENT_STOCK:${s} available=0 requested=1`);
      assert.deepEqual(await stockRow(s), { available_qty: 0, reserved_qty: 100 });
      assert.equal(await reservedSum(s), 100);
      assert.equal((await get(`/api/stocks/${s}`)).json().availableQty, 0, 'the cache agrees');
    });

    test('concurrent multi-SKU reservations in opposite item orders never deadlock (rows locked in sku order)', async () => {
      const [a, b] = [sku('DLA'), sku('DLB')];
      await upsert({ skuId: a, availableQty: 1000 });
      await upsert({ skuId: b, availableQty: 1000 });
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          reserve({
            orderId: randomUUID(),
            items:
              i % 2 === 0
                ? [
                    { skuId: a, quantity: 1 },
                    { skuId: b, quantity: 2 },
                  ]
                : [
                    { skuId: b, quantity: 2 },
                    { skuId: a, quantity: 1 },
                  ],
          }),
        ),
      );
      assert.ok(results.every((r) => r.statusCode === 200 && r.json().status === 'RESERVED'));
      assert.deepEqual(await stockRow(a), { available_qty: 940, reserved_qty: 60 });
      assert.deepEqual(await stockRow(b), { available_qty: 880, reserved_qty: 120 });
    });

    test('concurrent duplicates for one order: one reservation, stock moved once, never a 500', async () => {
      const s = sku('DUP');
      await upsert({ skuId: s, availableQty: 10 });
      const orderId = randomUUID();
      const results = await Promise.all(
        Array.from({ length: 12 }, () => reserve({ orderId, items: [{ skuId: s, quantity: 3 }] })),
      );
      assert.ok(results.every((r) => r.statusCode === 200));
      assert.equal(new Set(results.map((r) => r.json().reservationId)).size, 1);
      assert.deepEqual(await stockRow(s), { available_qty: 7, reserved_qty: 3 });
    });

    test('one order reserved at once under different SKUs: one reservation wins, every call answers with it', async () => {
      // Different SKUs share no lock: the unique order_id decides, at the losers' COMMIT.
      const skus = Array.from({ length: 8 }, (_, i) => sku(`RACE${i}`));
      for (const s of skus) await upsert({ skuId: s, availableQty: 5 });
      const orderId = randomUUID();
      const results = await Promise.all(skus.map((s) => reserve({ orderId, items: [{ skuId: s, quantity: 2 }] })));
      assert.deepEqual([...new Set(results.map((r) => r.statusCode))], [200]);
      const ids = new Set(results.map((r) => r.json().reservationId));
      assert.equal(ids.size, 1, 'every answer is the winning reservation');
      const rows = await Promise.all(skus.map((s) => stockRow(s)));
      const moved = rows.filter((r) => r?.reserved_qty === 2);
      assert.equal(moved.length, 1, 'only the winner moved stock');
      assert.equal(rows.filter((r) => r?.available_qty === 5 && r?.reserved_qty === 0).length, skus.length - 1);
    });

    test('stock upserts racing reservations never lose reserved quantity', async () => {
      const s = sku('MIX');
      await upsert({ skuId: s, availableQty: 300 });
      const ops: Promise<{ statusCode: number }>[] = [];
      for (let i = 0; i < 120; i++) {
        ops.push(reserve({ orderId: randomUUID(), items: [{ skuId: s, quantity: 1 + (i % 3) }] }));
        if (i % 6 === 0) ops.push(upsert({ skuId: s, availableQty: 200 + i }));
      }
      const results = await Promise.all(ops);
      assert.ok(results.every((r) => r.statusCode === 200));
      const row = (await stockRow(s))!;
      assert.equal(row.reserved_qty, await reservedSum(s), 'reserved_qty = Σ RESERVED reservation items');
      assert.ok(row.available_qty >= 0);
      assert.equal((await get(`/api/stocks/${s}`)).json().reservedQty, row.reserved_qty);
    });

    // ---- §3.4 / §3.5 release audit -------------------------------------------------------------

    describe('release audit listings', () => {
      const orderA = randomUUID();
      let seeded: Awaited<ReturnType<typeof seedReleaseEvents>>;
      const base = Date.parse('2031-03-01T10:00:00.000Z');
      // Its own time window, so rows other tests write never interfere.
      const window = 'from=2031-03-01T00:00:00Z&to=2031-03-02T00:00:00Z';

      before(async () => {
        const times = [0, 0, 0, 1, 1, 5, 5, 5, 5, 60_000, 120_000, 120_000].map((ms) => new Date(base + ms));
        seeded = await seedReleaseEvents(
          inv.service,
          times.map((createdAt, i) => ({ createdAt, ...(i < 3 ? { orderId: i === 0 ? orderA : undefined } : {}) })),
        );
      });

      test('offset: sorted createdAt DESC, releaseId DESC; page maths; a page past the end is empty', async () => {
        const expected = newestFirst(seeded).map((r) => r.id);
        const all = (await get(`/api/stocks/release-events?${window}&size=100`)).json();
        assert.equal(all.totalElements, 12);
        assert.deepEqual(
          all.items.map((i: { releaseId: string }) => i.releaseId),
          expected,
        );
        const first = all.items[0];
        assert.deepEqual(Object.keys(first).sort(), ['createdAt', 'orderId', 'reason', 'releaseId', 'reservationId']);
        assert.match(first.createdAt, ISO_MILLIS_Z);
        const p1 = (await get(`/api/stocks/release-events?${window}&page=1&size=5`)).json();
        assert.deepEqual(
          {
            page: p1.page,
            size: p1.size,
            totalElements: p1.totalElements,
            totalPages: p1.totalPages,
            hasNext: p1.hasNext,
          },
          { page: 1, size: 5, totalElements: 12, totalPages: 3, hasNext: true },
        );
        assert.deepEqual(
          p1.items.map((i: { releaseId: string }) => i.releaseId),
          expected.slice(5, 10),
        );
        const last = (await get(`/api/stocks/release-events?${window}&page=2&size=5`)).json();
        assert.equal(last.hasNext, false);
        const beyond = (await get(`/api/stocks/release-events?${window}&page=9&size=5`)).json();
        assert.deepEqual([beyond.items, beyond.totalElements, beyond.hasNext], [[], 12, false]);
        const defaults = (await get(`/api/stocks/release-events?orderId=${orderA}`)).json();
        assert.deepEqual([defaults.page, defaults.size, defaults.totalElements], [0, 20, 1]);
        const none = (await get('/api/stocks/release-events?from=2031-03-01T00:00:00Z&to=2031-03-01T00:00:01Z')).json();
        assert.deepEqual([none.totalElements, none.totalPages, none.hasNext], [0, 0, false]);
      });

      test('filters: orderId exact, from/to inclusive to the millisecond, any offset form', async () => {
        const at5 = new Date(base + 5).toISOString();
        const inclusive = (await get(`/api/stocks/release-events?from=${at5}&to=${at5}&size=100`)).json();
        assert.equal(inclusive.totalElements, 4, 'both bounds inclusive');
        const plus2 = encodeURIComponent('2031-03-01T12:00:00.005+02:00'); // = base + 5 ms
        assert.equal((await get(`/api/stocks/release-events?from=${plus2}&to=${plus2}`)).json().totalElements, 4);
        const micro = encodeURIComponent('2031-03-01T10:00:00.004999Z');
        assert.equal(
          (await get(`/api/stocks/release-events?from=${micro}&to=2031-03-01T10:00:00.005Z`)).json().totalElements,
          4,
        );
        assert.equal(
          (await get(`/api/stocks/release-events?${window}&orderId=${orderA.toUpperCase()}`)).json().totalElements,
          1,
        );
      });

      const badQueries: [string, string][] = [
        ['bad UUID', 'orderId=nope'],
        ['size 0', 'size=0'],
        ['size 101', 'size=101'],
        ['page -1', 'page=-1'],
        ['non-integer size', 'size=1.5'],
        ['bad instant', 'from=yesterday'],
        ['instant without offset', 'from=2031-03-01T10:00:00'],
        ['impossible date', 'to=2031-02-30T10:00:00Z'],
        ['from after to', 'from=2031-03-02T00:00:00Z&to=2031-03-01T00:00:00Z'],
      ];
      for (const [what, query] of badQueries) {
        test(`offset and cursor listings answer 400 for ${what}`, async () => {
          for (const path of ['/api/stocks/release-events', '/api/stocks/release-events/cursor']) {
            if (path.endsWith('cursor') && query.startsWith('page')) continue;
            const res = await get(`${path}?${query}`);
            assert.equal(res.statusCode, 400, `${path}?${query}`);
            assertErrorBody(res.json(), 400, path);
          }
        });
      }

      test('cursor: walking pages of 2 across identical timestamps returns every row once, in order', async () => {
        const expected = newestFirst(seeded).map((r) => r.id);
        const seen: string[] = [];
        let after = '';
        for (let guard = 0; guard < 20; guard++) {
          const page = (
            await get(`/api/stocks/release-events/cursor?${window}&size=2${after ? `&after=${after}` : ''}`)
          ).json();
          assert.equal(page.size, 2);
          seen.push(...page.items.map((i: { releaseId: string }) => i.releaseId));
          if (!page.hasMore) {
            assert.equal(page.nextCursor, null);
            break;
          }
          assert.match(page.nextCursor, /^[A-Za-z0-9_-]+$/, 'base64url without padding');
          after = page.nextCursor;
        }
        assert.deepEqual(seen, expected);
      });

      test('cursor aliases: limit = size and cursor = after; the original names win', async () => {
        const first = (await get(`/api/stocks/release-events/cursor?${window}&limit=3`)).json();
        assert.deepEqual([first.size, first.items.length, first.hasMore], [3, 3, true]);
        const viaAlias = (
          await get(`/api/stocks/release-events/cursor?${window}&limit=3&cursor=${first.nextCursor}`)
        ).json();
        const viaAfter = (
          await get(`/api/stocks/release-events/cursor?${window}&size=3&after=${first.nextCursor}`)
        ).json();
        assert.deepEqual(viaAlias, viaAfter);
        const both = (
          await get(
            `/api/stocks/release-events/cursor?${window}&size=2&limit=0&after=${first.nextCursor}&cursor=garbage!`,
          )
        ).json();
        assert.equal(both.size, 2);
        assert.deepEqual(both.items, viaAfter.items.slice(0, 2));
        assert.equal((await get(`/api/stocks/release-events/cursor?limit=101`)).statusCode, 400);
        const padded = `${first.nextCursor}${'='.repeat((4 - (first.nextCursor.length % 4)) % 4)}`;
        assert.deepEqual(
          (await get(`/api/stocks/release-events/cursor?${window}&size=3&after=${encodeURIComponent(padded)}`)).json(),
          viaAfter,
          'padding is optional',
        );
        const blank = (await get(`/api/stocks/release-events/cursor?${window}&size=3&after=%20`)).json();
        assert.deepEqual(blank.items, first.items, 'blank after = first page');
      });

      test('cursor format: the spec example, and malformed cursors are 400', async () => {
        const example = 'MTc3MDgwNDAwMDAwMDphMzJlZTNlNS0wZjgxLTRhODgtYTM2MS1mMWYyMTU4ZGZkYmY';
        assert.equal(
          encodeCursor({
            createdAtMillis: Date.parse('2026-02-11T10:00:00Z'),
            id: 'a32ee3e5-0f81-4a88-a361-f1f2158dfdbf',
          }),
          example,
        );
        assert.deepEqual(decodeCursor(example), {
          createdAtMillis: 1770804000000,
          id: 'a32ee3e5-0f81-4a88-a361-f1f2158dfdbf',
        });
        const b64 = (s: string) => Buffer.from(s).toString('base64url');
        for (const bad of [
          'not*base64',
          b64('1770804000000'),
          b64(`1770804000000:${randomUUID()}:x`),
          b64(`12.5:${randomUUID()}`),
          b64('1770804000000:not-a-uuid'),
        ]) {
          const res = await get(`/api/stocks/release-events/cursor?after=${encodeURIComponent(bad)}`);
          assert.equal(res.statusCode, 400, bad);
          assert.equal(
            (await get(`/api/stocks/release-events/cursor?cursor=${encodeURIComponent(bad)}`)).statusCode,
            400,
          );
        }
      });
    });

    // ---- §3.6 CSV export ------------------------------------------------------------------------

    describe('CSV export', () => {
      const window = 'from=2032-05-01T00:00:00Z&to=2032-05-02T00:00:00Z';
      let rows: Awaited<ReturnType<typeof seedReleaseEvents>>;
      before(async () => {
        rows = await seedReleaseEvents(inv.service, [
          { createdAt: new Date('2032-05-01T10:00:00Z'), reason: 'PAYMENT_FAILED' },
          { createdAt: new Date('2032-05-01T10:00:01.120Z'), reason: 'has,comma' },
          { createdAt: new Date('2032-05-01T10:00:02Z'), reason: 'say "hi"' },
          { createdAt: new Date('2032-05-01T10:00:03Z'), reason: 'line\nbreak' },
          { createdAt: new Date('2032-05-01T10:00:04Z'), reason: 'carriage\rreturn' },
          { createdAt: new Date('2032-05-01T10:00:05Z'), reason: '=HYPERLINK("http://evil","x")' },
          { createdAt: new Date('2032-05-01T10:00:06Z'), reason: '+1' },
          { createdAt: new Date('2032-05-01T10:00:07Z'), reason: '-2' },
          { createdAt: new Date('2032-05-01T10:00:08Z'), reason: '@SUM(A1)' },
          { createdAt: new Date('2032-05-01T10:00:09Z'), reason: '\tTAB' },
          { createdAt: new Date('2032-05-01T10:00:10Z'), reason: '\rCR' },
        ]);
      });

      test('exact header, lines, quoting, formula neutralization, order and headers', async () => {
        const res = await get(`/api/stocks/release-events/export?${window}`);
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-type'], 'text/csv;charset=UTF-8');
        assert.equal(res.headers['content-disposition'], 'attachment; filename="inventory-release-events.csv"');
        const [r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10] = rows.map(
          (r) => `${r.id},${r.orderId},${r.reservationId}`,
        );
        const expected = [
          'release_id,order_id,reservation_id,reason,created_at',
          `${r10},"'\rCR",2032-05-01T10:00:10Z`,
          `${r9},'\tTAB,2032-05-01T10:00:09Z`,
          `${r8},'@SUM(A1),2032-05-01T10:00:08Z`,
          `${r7},'-2,2032-05-01T10:00:07Z`,
          `${r6},'+1,2032-05-01T10:00:06Z`,
          `${r5},"'=HYPERLINK(""http://evil"",""x"")",2032-05-01T10:00:05Z`,
          `${r4},"carriage\rreturn",2032-05-01T10:00:04Z`,
          `${r3},"line\nbreak",2032-05-01T10:00:03Z`,
          `${r2},"say ""hi""",2032-05-01T10:00:02Z`,
          `${r1},"has,comma",2032-05-01T10:00:01.120Z`,
          `${r0},PAYMENT_FAILED,2032-05-01T10:00:00Z`,
        ];
        assert.equal(res.body, `${expected.join('\n')}\n`);
        assert.notEqual(res.rawPayload[0], 0xef, 'no BOM');
        const limited = await get(`/api/stocks/release-events/export?${window}&limit=2`);
        assert.equal(limited.body, `${expected.slice(0, 3).join('\n')}\n`);
        const empty = await get('/api/stocks/release-events/export?from=2032-06-01T00:00:00Z&to=2032-06-01T00:00:01Z');
        assert.equal(empty.body, 'release_id,order_id,reservation_id,reason,created_at\n');
        const byOrder = await get(`/api/stocks/release-events/export?orderId=${rows[0]!.orderId}`);
        assert.equal(byOrder.body.split('\n').length, 3);
      });

      test('content negotiation: 406 when Accept excludes text/csv; */*, text/* and text/csv work', async () => {
        const url = '/api/stocks/release-events/export';
        const json = await get(url, { accept: 'application/json' });
        assert.equal(json.statusCode, 406);
        assertErrorBody(json.json(), 406, url);
        assert.equal(json.json().error, 'Not Acceptable');
        assert.equal((await get(`${url}?limit=0`, { accept: 'application/json' })).statusCode, 406, '406 before 400');
        assert.equal((await get(url, { accept: 'text/csv;q=0, application/json' })).statusCode, 406);
        for (const accept of ['*/*', 'text/csv', 'text/*', 'application/json, text/csv;q=0.5']) {
          assert.equal((await get(url, { accept })).statusCode, 200, accept);
        }
        const reversed = 'from=2032-05-02T00:00:00Z&to=2032-05-01T00:00:00Z';
        for (const q of ['limit=0', 'limit=10001', 'limit=x', 'from=bad', 'orderId=bad', reversed]) {
          assert.equal((await get(`${url}?${q}`)).statusCode, 400, q);
        }
      });

      test('5,000 rows stream out page by page: the export never holds the whole result', async () => {
        const start = Date.parse('2033-01-01T00:00:00Z');
        const db = inv.service.deps.db;
        await db.execute(
          `INSERT INTO inventory_release_events (id, order_id, reservation_id, reason, created_at)
           SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'PAYMENT_FAILED',
                  $1::timestamptz + (g / 3) * interval '1 millisecond'
             FROM generate_series(1, 5000) AS g`,
          [new Date(start)],
        );
        const window5k = 'from=2033-01-01T00:00:00Z&to=2033-01-02T00:00:00Z';
        const res = await get(`/api/stocks/release-events/export?${window5k}&limit=10000`);
        assert.equal(res.statusCode, 200);
        const lines = res.body.split('\n');
        assert.equal(lines.length, 5002, 'header + 5000 lines + the final LF');
        assert.equal(new Set(lines.slice(1, -1).map((l) => l.slice(0, 36))).size, 5000, 'no row twice');

        // The same use-case with a spy on its page reads.
        const parsed = parseFilters({ from: '2033-01-01T00:00:00Z', to: '2033-01-02T00:00:00Z' });
        const calls: { limit: number; returned: number }[] = [];
        const stream = await exportReleaseEvents(
          async (afterPos, limit) => {
            const page = await releaseEventsAfter(db, parsed, afterPos, limit);
            calls.push({ limit, returned: page.length });
            return page;
          },
          { limit: 10_000, pageSize: 400 },
        );
        const iterator = stream[Symbol.asyncIterator]();
        await iterator.next();
        assert.ok(calls.length <= 2, `after the first chunk only ${calls.length} page(s) were read`);
        let text = '';
        for (let r = await iterator.next(); !r.done; r = await iterator.next()) text += String(r.value);
        assert.ok(
          calls.every((c) => c.limit <= 400 && c.returned <= 400),
          'never more than one page at a time',
        );
        assert.equal(calls.length, 13, '12 full pages + 1 short page');
        assert.equal(
          calls.reduce((n, c) => n + c.returned, 0),
          5000,
        );
        assert.ok(text.length > 0);
      });
      test('a multi-page export is one HTTP chunk per keyset page, byte for byte the per-record CSV', async () => {
        const pageSize = inv.service.deps.config.exportPageSize;
        const hostile = [
          'has,comma',
          'say "hi"',
          'line\nbreak',
          'cr\rlf',
          '=1+1',
          '+1',
          '-2',
          '@x',
          '\tT',
          '\rC',
          'ünï €',
        ];
        const n = 2 * pageSize + 234;
        const seeded = await seedReleaseEvents(
          inv.service,
          Array.from({ length: n }, (_, i) => ({
            // Pairs share a millisecond, so (created_at, id) ties straddle the page boundaries.
            createdAt: new Date(Date.parse('2034-03-01T00:00:00Z') + Math.floor(i / 2)),
            reason: i % 7 === 0 ? hostile[(i / 7) % hostile.length]! : 'PAYMENT_FAILED',
          })),
        );
        const records = newestFirst(seeded).map((r) =>
          csvRecord({
            id: r.id,
            order_id: r.orderId,
            reservation_id: r.reservationId,
            reason: r.reason,
            created_at: r.createdAt,
          }),
        );
        const url = '/api/stocks/release-events/export?from=2034-03-01T00:00:00Z&to=2034-03-02T00:00:00Z';
        for (const limit of [10_000, 2 * pageSize, pageSize + 1]) {
          const { head, chunks } = await rawChunkedGet(inv.url, `${url}&limit=${limit}`);
          assert.match(head, /^HTTP\/1\.1 200 /);
          assert.match(head, /\r\ncontent-type: text\/csv;charset=UTF-8\r\n/i);
          assert.match(head, /\r\ncontent-disposition: attachment; filename="inventory-release-events.csv"\r\n/i);
          const rowCount = Math.min(limit, n);
          const pages = Math.ceil(rowCount / pageSize);
          assert.ok(
            chunks.length <= pages + 1,
            `limit ${limit}: ${chunks.length} chunks for ${rowCount} rows in ${pages} pages (not one per row)`,
          );
          assert.ok(
            chunks.every((c) => c.length > 0),
            'no empty chunk',
          );
          const body = Buffer.concat(chunks);
          const expected = await perRecordCsv(records.slice(0, rowCount));
          assert.equal(body.toString('utf8'), expected.toString('utf8'), `limit ${limit}`);
          assert.ok(body.equals(expected), `limit ${limit}: byte-identical`);
        }
      });
    });

    // ---- §3.7 dashboard -----------------------------------------------------------------------

    describe('dashboard', () => {
      test('redirects and assets are served, with no external URL and no HTML sinks', async () => {
        for (const path of ['/dashboard', '/dashboard/release-audit']) {
          const res = await get(path);
          assert.equal(res.statusCode, 302);
          assert.equal(res.headers.location, '/release-dashboard.html');
        }
        const html = await get('/release-dashboard.html');
        assert.equal(html.statusCode, 200);
        assert.match(String(html.headers['content-type']), /^text\/html/);
        assert.match(html.body, /<title>Inventory Release Audit Dashboard<\/title>/);
        for (const text of [
          'Inventory Service',
          'Release Audit Dashboard',
          'Load Data',
          'Reset',
          'Export CSV',
          'Auto refresh',
          'Matched Events',
          'Rows On Page',
          'Newest Event',
          'Oldest Event',
          'Time Trend',
          'Reason Share',
          'Previous',
          'Next',
        ]) {
          assert.ok(html.body.includes(text), text);
        }
        const css = await get('/assets/release-dashboard.css');
        const js = await get('/assets/release-dashboard.js');
        assert.match(String(css.headers['content-type']), /^text\/css/);
        assert.match(String(js.headers['content-type']), /^text\/javascript/);
        for (const body of [html.body, css.body, js.body]) {
          assert.doesNotMatch(body, /https?:\/\//i, 'no absolute URL');
          assert.doesNotMatch(body, /(src|href)\s*=\s*["']?\/\//i, 'no protocol-relative URL');
          assert.doesNotMatch(body, /@import|url\(\s*['"]?(https?:)?\/\//i);
        }
        assert.doesNotMatch(js.body, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
        assert.match(String(html.headers['content-security-policy']), /script-src 'self'/);
        const docs = (await get('/v3/api-docs')).json();
        assert.ok(!Object.keys(docs.paths).some((p) => p.includes('dashboard') || p.includes('assets')));
      });

      test('ORDER_SERVICE_URL is escaped into the page (never markup)', async () => {
        const hostile = 'http://orders.test:8081/x"><script>alert(1)</script>';
        const withUrl = await startInventory(mode, issuer, { env: { ORDER_SERVICE_URL: hostile } });
        try {
          const html = (await withUrl.service.app.inject({ method: 'GET', url: '/release-dashboard.html' })).body;
          assert.ok(
            html.includes('content="http://orders.test:8081/x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'),
          );
          assert.ok(!html.includes('<script>alert(1)'));
        } finally {
          await withUrl.close();
        }
      });

      // The page in a real browser: dashboard.browser.int.test.ts (playwright-core + Debian chromium).
    });
  });
}

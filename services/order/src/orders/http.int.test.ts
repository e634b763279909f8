/**
 * POST /api/orders, GET /api/orders/{id}, GET …/timeline and /v3/api-docs, on real PostgreSQL +
 * RabbitMQ and on PGlite + the in-process transport (one suite, parameterized).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { Database, Queryable } from '@ecom/platform';
import {
  DB_MODES,
  dropDatabase,
  startTcpProxy,
  startTestIssuer,
  TEST_PG_ADMIN_URL,
  type TestIssuer,
  uniqueName,
} from '@ecom/platform/testing';
import { type FakeCatalog, startFakeCatalog } from '../test-support/fake-catalog.js';
import { forgedToken, type Harness, type InjectResponse, startOrder } from '../test-support/harness.js';
import { fingerprintOf, normalizeOrderRequest } from './order-request.js';
import { placeOrder } from './place-order.js';

const uid = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

function assertError(res: InjectResponse, status: number, code?: string): void {
  assert.equal(res.statusCode, status, res.body);
  const body = res.json();
  assert.equal(body.status, status);
  assert.equal(body.path, '/api/orders');
  assert.equal(typeof body.error, 'string');
  assert.match(String(body.timestamp), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/);
  assert.ok(!('stack' in body));
  if (code) assert.equal(body.code, code, res.body);
}

for (const mode of DB_MODES) {
  describe(`order-service HTTP on ${mode}`, () => {
    let issuer: TestIssuer;
    let catalog: FakeCatalog;
    let h: Harness;
    /** A second service: catalog validation off, role check off (blank), reads open. */
    let lax: Harness;

    before(async () => {
      issuer = await startTestIssuer();
      catalog = await startFakeCatalog();
      [h, lax] = await Promise.all([
        startOrder(mode, issuer, { catalogUrl: catalog.url }),
        startOrder(mode, issuer, {
          catalogUrl: catalog.url,
          env: { ORDER_CATALOG_VALIDATION: 'off', AUTH_REQUIRED_ORDER_ROLE: '  ', ORDER_READ_ACCESS: 'open' },
        }),
      ]);
    });
    after(async () => {
      await Promise.all([h?.close(), lax?.close()]);
      await catalog?.close();
      await issuer?.close();
    });

    /** A buyer with a token and catalog products of their own. */
    const buyer = async (roles = ['buyer']) => {
      const userId = uid('user');
      return { userId, token: await issuer.token(userId, roles) };
    };
    const product = (price: number, active = true) => {
      const sku = uid('SKU');
      catalog.put(sku, price, active);
      return sku;
    };

    describe('http-api.md §2.1: the check order, case by case (nothing written on any of them)', () => {
      test('framework 400s come first: even without Authorization, a bad body or header is 400, not 401', async () => {
        const before = await h.counts();
        const good = { userId: 'u', items: [{ skuId: 'A', quantity: 1, price: 1 }] };
        const bad: [string, unknown][] = [
          ['missing userId', { items: good.items }],
          ['blank userId', { ...good, userId: '   ' }],
          ['userId not a string', { ...good, userId: 42 }],
          ['items missing', { userId: 'u' }],
          ['items empty', { userId: 'u', items: [] }],
          ['quantity 0', { userId: 'u', items: [{ skuId: 'A', quantity: 0, price: 1 }] }],
          ['quantity missing (counts as 0)', { userId: 'u', items: [{ skuId: 'A', price: 1 }] }],
          ['quantity fractional', { userId: 'u', items: [{ skuId: 'A', quantity: 1.5, price: 1 }] }],
          ['price missing (original: 500)', { userId: 'u', items: [{ skuId: 'A', quantity: 1 }] }],
          ['price null (original: 500)', { userId: 'u', items: [{ skuId: 'A', quantity: 1, price: null }] }],
          ['price below 0.01', { userId: 'u', items: [{ skuId: 'A', quantity: 1, price: 0.001 }] }],
          ['price as a string', { userId: 'u', items: [{ skuId: 'A', quantity: 1, price: '12' }] }],
          ['blank skuId', { userId: 'u', items: [{ skuId: ' ', quantity: 1, price: 1 }] }],
          ['trimmed userId over 64', { ...good, userId: 'u'.repeat(65) }],
          ['trimmed skuId over 64', { userId: 'u', items: [{ skuId: 'S'.repeat(65), quantity: 1, price: 1 }] }],
          ['body is an array', [good]],
        ];
        for (const [name, body] of bad) {
          const res = await h.post(body, { token: null });
          assert.equal(res.statusCode, 400, `${name}: ${res.body}`);
        }
        assertError(await h.post(good, { token: null, key: null }), 400); // Idempotency-Key absent
        assertError(await h.post(null, { token: null, raw: '{"userId": "u", "items": [' }), 400); // unreadable JSON
        const text = await h.service.app.inject({
          method: 'POST',
          url: '/api/orders',
          headers: { 'content-type': 'text/plain', 'idempotency-key': 'k' },
          payload: 'hello',
        });
        assert.equal(text.statusCode, 415);
        assert.deepEqual(await h.counts(), before);
      });

      test('step 2: a blank or over-long Idempotency-Key is 400 before any 401', async () => {
        const good = { userId: 'u', items: [{ skuId: 'A', quantity: 1, price: 1 }] };
        assertError(await h.post(good, { token: null, key: '   ' }), 400, 'IDEMPOTENCY_KEY_INVALID');
        assertError(await h.post(good, { token: null, key: 'k'.repeat(129) }), 400, 'IDEMPOTENCY_KEY_INVALID');
      });

      test('steps 3–4: every refused credential is 401 with WWW-Authenticate and the error body', async () => {
        const before = await h.counts();
        const { userId, token } = await buyer();
        const body = { userId: 'someone-else', items: [{ skuId: product(1), quantity: 1, price: 1 }] };
        const now = Math.floor(Date.now() / 1000);
        const claims = { sub: userId, roles: ['buyer'], iss: 'auth-service', exp: now + 600 };
        const [header, payload] = token.split('.');
        const cases: [string, Record<string, string>, string][] = [
          ['absent', {}, 'AUTH_HEADER_MISSING'],
          ['blank', { authorization: '   ' }, 'AUTH_HEADER_MISSING'],
          ['not Bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 'AUTH_SCHEME_INVALID'],
          ['Bearer without a token', { authorization: 'Bearer    ' }, 'AUTH_SCHEME_INVALID'],
          ['not a JWS', { authorization: 'Bearer a.b' }, 'TOKEN_MALFORMED'],
          [
            'alg none',
            { authorization: `Bearer ${forgedToken({ alg: 'none', typ: 'JWT' }, claims, 'x')}` },
            'TOKEN_ALG_INVALID',
          ],
          [
            'alg HS256',
            { authorization: `Bearer ${forgedToken({ alg: 'HS256', typ: 'JWT', kid: 'test-key-1' }, claims)}` },
            'TOKEN_ALG_INVALID',
          ],
          [
            'unknown kid',
            { authorization: `Bearer ${forgedToken({ alg: 'RS256', typ: 'JWT', kid: 'no-such-key' }, claims)}` },
            'TOKEN_KID_UNKNOWN',
          ],
          ['bad signature', { authorization: `Bearer ${header}.${payload}.AAAA` }, 'TOKEN_SIGNATURE_INVALID'],
          [
            'wrong issuer',
            { authorization: `Bearer ${await issuer.token(userId, ['buyer'], { issuer: 'evil' })}` },
            'TOKEN_ISSUER_INVALID',
          ],
          [
            'expired (beyond the 60 s leeway)',
            { authorization: `Bearer ${await issuer.token(userId, ['buyer'], { expiresInSeconds: -120 })}` },
            'TOKEN_EXPIRED',
          ],
        ];
        for (const [name, headers, code] of cases) {
          const res = await h.post(body, { token: null, headers });
          assert.equal(res.statusCode, 401, `${name}: ${res.body}`);
          assert.equal(res.json().code, code, name);
          assert.equal(res.json().error, 'Unauthorized');
          assert.match(String(res.headers['www-authenticate']), /^Bearer/, name);
        }
        assert.deepEqual(await h.counts(), before);
      });

      test('step 5 before step 6: userId ≠ subject is 400 even for a token without the role', async () => {
        const before = await h.counts();
        const { userId } = await buyer();
        const viewer = await issuer.token(userId, ['viewer']);
        const items = [{ skuId: product(1), quantity: 1, price: 1 }];
        assertError(await h.post({ userId: `${userId}x`, items }, { token: viewer }), 400, 'USER_ID_MISMATCH');
        assertError(await h.post({ userId: userId.toUpperCase(), items }, { token: viewer }), 400, 'USER_ID_MISMATCH');
        const forbidden = await h.post({ userId: `  ${userId} `, items }, { token: viewer });
        assertError(forbidden, 403, 'ROLE_MISSING');
        assert.match(String(forbidden.headers['www-authenticate']), /insufficient_scope/);
        assert.deepEqual(await h.counts(), before);
      });

      // Only PostgreSQL can be taken away from under a running service (through a TCP proxy).
      if (mode === 'postgres') {
        test('no database access before step 6: with the database cut, steps 1–6 still answer 400/401/403', async () => {
          const admin = new URL(TEST_PG_ADMIN_URL);
          const proxy = await startTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
          const dbName = uniqueName('order_cut');
          const cut = await startOrder(mode, issuer, {
            catalogUrl: catalog.url,
            env: { ORDER_DB_URL: `postgres://${admin.username || 'postgres'}@127.0.0.1:${proxy.port}/${dbName}` },
          });
          try {
            const { userId, token } = await buyer();
            const viewer = await issuer.token(userId, ['viewer']);
            const items = [{ skuId: product(1), quantity: 1, price: 1 }];
            proxy.cut();
            assertError(await cut.post({ userId, items: [] }, { token }), 400);
            assertError(await cut.post({ userId, items }, { token, key: ' ' }), 400, 'IDEMPOTENCY_KEY_INVALID');
            assertError(await cut.post({ userId, items }, { token: null }), 401);
            assertError(await cut.post({ userId: 'other', items }, { token }), 400, 'USER_ID_MISMATCH');
            assertError(await cut.post({ userId, items }, { token: viewer }), 403);
            // The same request with every check passed needs the database: proof that it is gone.
            const valid = await cut.post({ userId, items }, { token });
            assert.ok(valid.statusCode >= 500, `${valid.statusCode} ${valid.body}`);
          } finally {
            proxy.restore();
            await cut.close();
            await proxy.close();
            await dropDatabase(dbName);
          }
        });
      }

      test('"bearer" in lower case and the role in any case are accepted', async () => {
        const { userId } = await buyer();
        const token = await issuer.token(userId, ['BUYER']);
        const res = await h.post(
          { userId, items: [{ skuId: product(2), quantity: 1, price: 2 }] },
          { token: null, headers: { authorization: `bearer ${token}` } },
        );
        assert.equal(res.statusCode, 201, res.body);
      });

      test('AUTH_REQUIRED_ORDER_ROLE set but blank turns the role check off', async () => {
        const userId = uid('user');
        const res = await lax.post(
          { userId, items: [{ skuId: 'ANY', quantity: 1, price: 1 }] },
          { token: await issuer.token(userId, []) },
        );
        assert.equal(res.statusCode, 201, res.body);
      });
    });

    describe('creation', () => {
      test('201: the response writes two decimals, keeps request order, and one transaction wrote order, key, timeline and OrderCreated', async () => {
        const { userId, token } = await buyer();
        const [a, b] = [product(19.9), product(8.5)];
        const traceHeader = randomUUID();
        const res = await h.post(
          {
            userId: ` ${userId} `,
            items: [
              { skuId: ` ${a}`, quantity: 2, price: 19.9 },
              { skuId: b, quantity: 1, price: 8.5 },
            ],
            unknown: 'ignored',
          },
          { token, headers: { 'x-trace-id': traceHeader } },
        );
        assert.equal(res.statusCode, 201, res.body);
        assert.equal(res.headers['x-trace-id'], traceHeader);
        assert.equal(res.headers['idempotent-replayed'], undefined);
        assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
        const body = res.json();
        assert.match(res.body, /"totalAmount":48\.30,/);
        assert.match(res.body, /"price":19\.90\}/);
        assert.match(res.body, /"price":8\.50\}/);
        assert.deepEqual(
          { ...body, orderId: undefined, createdAt: undefined },
          {
            orderId: undefined,
            userId,
            status: 'NEW',
            totalAmount: 48.3,
            createdAt: undefined,
            reused: false,
            items: [
              { skuId: a, quantity: 2, price: 19.9 },
              { skuId: b, quantity: 1, price: 8.5 },
            ],
          },
        );
        assert.match(body.orderId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.match(body.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

        const [row] = await h.db.query<{ payload: string; routing_key: string }>(
          'SELECT payload, routing_key FROM outbox_events WHERE payload LIKE $1',
          [`%${body.orderId}%`],
        );
        assert.equal(row?.routing_key, 'order.created');
        const event = JSON.parse(row!.payload);
        assert.equal(event.event_type, 'OrderCreated');
        assert.equal(event.trace_id, traceHeader, 'events.md §5 rule 2: a UUID X-Trace-Id becomes the trace_id');
        assert.deepEqual(event.identity, { user_id: userId, roles: ['buyer'] });
        assert.deepEqual(event.data, {
          order_id: body.orderId,
          user_id: userId,
          items: [
            { sku_id: a, quantity: 2, price: 19.9 },
            { sku_id: b, quantity: 1, price: 8.5 },
          ],
          total_amount: 48.3,
        });
        const [key] = await h.db.query<{ user_id: string; status: string; request_hash: string; ttl: number }>(
          `SELECT user_id, status, request_hash, EXTRACT(EPOCH FROM (expires_at - created_at))::int AS ttl
             FROM idempotency_keys WHERE order_id = $1`,
          [body.orderId],
        );
        assert.deepEqual(
          { ...key, request_hash: key?.request_hash.length },
          {
            user_id: userId,
            status: 'COMPLETED',
            request_hash: 64,
            ttl: 86_400,
          },
        );
        assert.equal(await h.metric('orders_created_total'), (await h.counts()).orders);
      });

      test('a trace id that is not a UUID or hex gives the event a fresh UUID; 16 hex is padded', async () => {
        const { userId, token } = await buyer();
        const sku = product(1);
        const traceOf = async (header: string) => {
          const res = await h.post(
            { userId, items: [{ skuId: sku, quantity: 1, price: 1 }] },
            { token, headers: { 'x-trace-id': header } },
          );
          const [row] = await h.db.query<{ payload: string }>(
            'SELECT payload FROM outbox_events WHERE payload LIKE $1',
            [`%${res.json().orderId}%`],
          );
          return JSON.parse(row!.payload).trace_id as string;
        };
        assert.equal(await traceOf('a3ce929d0e0e4736'), '00000000-0000-0000-a3ce-929d0e0e4736');
        const fresh = await traceOf('checkout-42');
        assert.match(fresh, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      });
    });

    describe('strict Idempotency-Key', () => {
      test('same key + same body → 200 reused with Idempotent-Replayed, the stored order, nothing new written', async () => {
        const { userId, token } = await buyer();
        const sku = product(19.9);
        const key = uid('key');
        const first = await h.post({ userId, items: [{ skuId: sku, quantity: 2, price: 19.9 }] }, { token, key });
        assert.equal(first.statusCode, 201);
        const before = await h.counts();
        const replays = await h.metric('order_idempotent_replays_total');
        // Whitespace and 19.9 vs 19.90 are the same normalized body.
        const again = await h.post(
          { userId: ` ${userId}`, items: [{ skuId: `${sku} `, quantity: 2, price: 19.9 }] },
          { token, key: ` ${key} ` },
        );
        assert.equal(again.statusCode, 200, again.body);
        assert.equal(again.headers['idempotent-replayed'], 'true');
        assert.equal(again.headers['content-type'], 'application/json; charset=utf-8');
        assert.deepEqual(again.json(), { ...first.json(), reused: true });
        assert.match(again.body, /"totalAmount":39\.80,/);
        assert.deepEqual(await h.counts(), before);
        assert.equal(await h.metric('order_idempotent_replays_total'), replays + 1);
      });

      test('a replay returns the current status and needs no catalog (the product may be gone)', async () => {
        const { userId, token } = await buyer();
        const sku = product(3);
        const key = uid('key');
        const body = { userId, items: [{ skuId: sku, quantity: 1, price: 3 }] };
        const first = await h.post(body, { token, key });
        await h.db.execute("UPDATE orders SET status = 'CONFIRMED' WHERE id = $1", [first.json().orderId]);
        catalog.put(sku, 3, false);
        const again = await h.post(body, { token, key });
        assert.equal(again.statusCode, 200);
        assert.equal(again.json().status, 'CONFIRMED');
      });

      test('same key + different body → 422, nothing written', async () => {
        const { userId, token } = await buyer();
        const sku = product(1);
        const key = uid('key');
        assert.equal(
          (await h.post({ userId, items: [{ skuId: sku, quantity: 1, price: 1 }] }, { token, key })).statusCode,
          201,
        );
        const before = await h.counts();
        const res = await h.post({ userId, items: [{ skuId: sku, quantity: 2, price: 1 }] }, { token, key });
        assertError(res, 422, 'IDEMPOTENCY_KEY_REUSED');
        assert.equal(res.json().error, 'Unprocessable Entity');
        assert.deepEqual(await h.counts(), before);
      });

      test("another user with the same key gets their own order; neither sees the other's", async () => {
        const alice = await buyer();
        const bob = await buyer();
        const sku = product(5);
        const key = uid('shared-key');
        const a = await h.post(
          { userId: alice.userId, items: [{ skuId: sku, quantity: 1, price: 5 }] },
          { token: alice.token, key },
        );
        const b = await h.post(
          { userId: bob.userId, items: [{ skuId: sku, quantity: 1, price: 5 }] },
          { token: bob.token, key },
        );
        assert.equal(a.statusCode, 201);
        assert.equal(b.statusCode, 201, 'a new order, not a replay of alice’s');
        assert.notEqual(b.json().orderId, a.json().orderId);
        assert.equal(b.json().userId, bob.userId);
        const aliceAgain = await h.post(
          { userId: alice.userId, items: [{ skuId: sku, quantity: 1, price: 5 }] },
          { token: alice.token, key },
        );
        assert.equal(aliceAgain.json().orderId, a.json().orderId);
      });

      test('50 concurrent identical requests → exactly one order and one outbox row; all 201/200, no 5xx', async () => {
        const { userId, token } = await buyer();
        const sku = product(7.25);
        const key = uid('race');
        const body = { userId, items: [{ skuId: sku, quantity: 3, price: 7.25 }] };
        const responses = await Promise.all(Array.from({ length: 50 }, () => h.post(body, { token, key })));
        const statuses = responses.map((r) => r.statusCode).sort();
        assert.deepEqual(statuses, [...Array(49).fill(200), 201].sort(), JSON.stringify(statuses));
        const ids = new Set(responses.map((r) => r.json().orderId));
        assert.equal(ids.size, 1);
        const [orderId] = [...ids];
        const orders = await h.db.query<{ n: number }>('SELECT count(*) AS n FROM orders WHERE user_id = $1', [userId]);
        assert.equal(orders[0]?.n, 1);
        const outbox = await h.db.query<{ n: number }>(
          'SELECT count(*) AS n FROM outbox_events WHERE payload LIKE $1',
          [`%${orderId}%`],
        );
        assert.equal(outbox[0]?.n, 1);
        assert.ok(
          responses.filter((r) => r.statusCode === 200).every((r) => r.headers['idempotent-replayed'] === 'true'),
        );
      });

      test('an expired key is treated as new (a new order); the purge job deletes expired keys only', async () => {
        const { userId, token } = await buyer();
        const sku = product(2);
        const key = uid('key');
        const body = { userId, items: [{ skuId: sku, quantity: 1, price: 2 }] };
        const first = await h.post(body, { token, key });
        await h.db.execute(
          "UPDATE idempotency_keys SET created_at = created_at - interval '2 days', expires_at = now() - interval '1 second' WHERE user_id = $1",
          [userId],
        );
        const second = await h.post(body, { token, key });
        assert.equal(second.statusCode, 201, second.body);
        assert.notEqual(second.json().orderId, first.json().orderId);
        const keys = await h.db.query<{ order_id: string }>(
          'SELECT order_id FROM idempotency_keys WHERE user_id = $1',
          [userId],
        );
        assert.deepEqual(keys, [{ order_id: second.json().orderId }]);

        const other = await buyer();
        for (const k of ['old-1', 'old-2', 'live']) {
          await h.post(
            { userId: other.userId, items: [{ skuId: sku, quantity: 1, price: 2 }] },
            { token: other.token, key: k },
          );
        }
        await h.db.execute(
          "UPDATE idempotency_keys SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE user_id = $1 AND idempotency_key LIKE 'old-%'",
          [other.userId],
        );
        const purged = await h.metric('order_idempotency_keys_purged_total');
        await h.module.jobs!.idempotencyPurge.runNow();
        const left = await h.db.query<{ idempotency_key: string }>(
          'SELECT idempotency_key FROM idempotency_keys WHERE user_id = $1',
          [other.userId],
        );
        assert.deepEqual(left, [{ idempotency_key: 'live' }]);
        assert.ok((await h.metric('order_idempotency_keys_purged_total')) >= purged + 2);
        assert.equal((await h.counts()).orders >= 5, true, 'orders are never purged with their keys');
      });

      const expireKeysOf = (userId: string) =>
        h.db.execute(
          "UPDATE idempotency_keys SET created_at = created_at - interval '2 days', expires_at = now() - interval '1 second' WHERE user_id = $1",
          [userId],
        );

      test('an expired key is taken over in place, even by another body; from then on it answers for that body', async () => {
        const { userId, token } = await buyer();
        const sku = product(2);
        const key = uid('key');
        const oldBody = { userId, items: [{ skuId: sku, quantity: 1, price: 2 }] };
        const newBody = { userId, items: [{ skuId: sku, quantity: 2, price: 2 }] };
        const first = await h.post(oldBody, { token, key });
        assert.equal(first.statusCode, 201, first.body);
        await expireKeysOf(userId);
        const second = await h.post(newBody, { token, key });
        assert.equal(second.statusCode, 201, second.body);
        assert.notEqual(second.json().orderId, first.json().orderId);
        const keys = await h.db.query<{ order_id: string; live: boolean; ttl: number }>(
          `SELECT order_id, expires_at > now() AS live, EXTRACT(EPOCH FROM (expires_at - created_at))::int AS ttl
             FROM idempotency_keys WHERE user_id = $1`,
          [userId],
        );
        assert.deepEqual(keys, [{ order_id: second.json().orderId, live: true, ttl: 86_400 }]);
        const again = await h.post(newBody, { token, key });
        assert.equal(again.statusCode, 200, again.body);
        assert.equal(again.json().orderId, second.json().orderId);
        assertError(await h.post(oldBody, { token, key }), 422, 'IDEMPOTENCY_KEY_REUSED');
      });

      test('20 concurrent requests on one expired key → exactly one new order; the others replay it, no 5xx', async () => {
        const { userId, token } = await buyer();
        const sku = product(3);
        const key = uid('race');
        const body = { userId, items: [{ skuId: sku, quantity: 1, price: 3 }] };
        const first = await h.post(body, { token, key });
        await expireKeysOf(userId);
        const responses = await Promise.all(Array.from({ length: 20 }, () => h.post(body, { token, key })));
        const statuses = responses.map((r) => r.statusCode).sort();
        assert.deepEqual(statuses, [...Array(19).fill(200), 201].sort(), JSON.stringify(statuses));
        const ids = new Set(responses.map((r) => r.json().orderId));
        assert.equal(ids.size, 1);
        assert.ok(!ids.has(first.json().orderId), 'the expired key’s order is not replayed');
        const orders = await h.db.query<{ n: number }>('SELECT count(*) AS n FROM orders WHERE user_id = $1', [userId]);
        assert.equal(orders[0]?.n, 2);
      });

      test('a live key answers before the catalog: SKU now inactive or catalog down → still 200 reused, or 422 for another body', async () => {
        const own = await startFakeCatalog();
        // No cache: every request asks the catalog, so pricing really fails below.
        const svc = await startOrder(mode, issuer, { catalogUrl: own.url, env: { ORDER_CATALOG_CACHE_TTL_MS: '0' } });
        let catalogUp = true;
        try {
          const { userId, token } = await buyer();
          const [a, b] = [uid('SKU'), uid('SKU')];
          own.put(a, 4);
          own.put(b, 6);
          const [keyA, keyB] = [uid('key'), uid('key')];
          const bodyA = { userId, items: [{ skuId: a, quantity: 1, price: 4 }] };
          const bodyB = { userId, items: [{ skuId: b, quantity: 1, price: 6 }] };
          const firstA = await svc.post(bodyA, { token, key: keyA });
          const firstB = await svc.post(bodyB, { token, key: keyB });
          assert.deepEqual([firstA.statusCode, firstB.statusCode], [201, 201]);
          const before = await svc.counts();
          const otherBody = (body: typeof bodyA) => ({ userId, items: [{ ...body.items[0]!, quantity: 2 }] });

          own.put(a, 4, false);
          assertError(await svc.post(bodyA, { token }), 422, 'PRODUCT_INACTIVE'); // a new key: pricing fails
          const replayA = await svc.post(bodyA, { token, key: keyA });
          assert.equal(replayA.statusCode, 200, replayA.body);
          assert.deepEqual(replayA.json(), { ...firstA.json(), reused: true });
          assertError(await svc.post(otherBody(bodyA), { token, key: keyA }), 422, 'IDEMPOTENCY_KEY_REUSED');

          await own.close();
          catalogUp = false;
          assertError(await svc.post(bodyB, { token }), 503, 'CATALOG_UNAVAILABLE'); // a new key: pricing fails
          const replayB = await svc.post(bodyB, { token, key: keyB });
          assert.equal(replayB.statusCode, 200, replayB.body);
          assert.equal(replayB.headers['idempotent-replayed'], 'true');
          assert.deepEqual(replayB.json(), { ...firstB.json(), reused: true });
          assertError(await svc.post(otherBody(bodyB), { token, key: keyB }), 422, 'IDEMPOTENCY_KEY_REUSED');
          assert.deepEqual(await svc.counts(), before);
        } finally {
          await svc.close();
          if (catalogUp) await own.close();
        }
      });

      test('a live key answers before the total check: another body over the maximum → 422 reused, not 400', async () => {
        const { userId, token } = await buyer();
        const key = uid('key');
        const first = await lax.post({ userId, items: [{ skuId: 'A', quantity: 1, price: 1 }] }, { token, key });
        assert.equal(first.statusCode, 201, first.body);
        const over = { userId, items: [{ skuId: 'A', quantity: 2, price: 5_000_000_000 }] };
        assertError(await lax.post(over, { token, key }), 422, 'IDEMPOTENCY_KEY_REUSED');
        assertError(await lax.post(over, { token }), 400, 'AMOUNT_TOO_LARGE');
      });
    });

    test('round trips: a new order is ONE auto-committed statement (key + order + items + timeline + outbox row)', async () => {
      // Every statement placeOrder sends through the Database port; on PostgreSQL each is one
      // round trip (PGlite adds its own SET LOCAL search_path inside the port).
      const { db } = h.service.deps;
      const statements: string[] = [];
      const label = (text: string) => text.trim().split(/\s+/, 3).join(' ');
      const recorded = (q: Queryable): Queryable => ({
        ...q,
        query: (text, params) => {
          statements.push(label(text));
          return q.query(text, params);
        },
        execute: (text, params) => {
          statements.push(label(text));
          return q.execute(text, params);
        },
        exec: (sql) => {
          statements.push(label(sql));
          return q.exec(sql);
        },
      });
      const recordingDb: Database = {
        ...db,
        ...recorded(db),
        async transaction(fn) {
          statements.push('BEGIN');
          const result = await db.transaction((tx) => fn(recorded(tx)));
          statements.push('COMMIT');
          return result;
        },
      };
      const userId = uid('user');
      // SKUs an array literal would misread if they were not quoted: NULL, commas, braces, quotes.
      const items = [
        { skuId: 'NULL', quantity: 1, price: 1 },
        { skuId: 'a,"b\\{c} d', quantity: 2, price: 2.5 },
        { skuId: 'NULL', quantity: 3, price: 1 },
      ];
      const normalized = normalizeOrderRequest({ userId, items });
      assert.ok(normalized.ok);
      const result = await placeOrder(
        {
          db: recordingDb,
          outbox: h.service.deps.outbox,
          priceOrder: async (items) => [...items],
          clock: () => new Date(),
          newId: randomUUID,
          idempotencyTtlSeconds: 86_400,
        },
        {
          request: normalized.request,
          fingerprint: fingerprintOf(normalized.request),
          idempotencyKey: uid('key'),
          buyer: { userId, roles: ['buyer'] },
          traceId: randomUUID(),
        },
      );
      assert.equal(result.kind, 'created');
      assert.deepEqual(statements, ['WITH key AS']);
      const [outboxRow] = await db.query<{ event_type: string; payload: string }>(
        'SELECT event_type, payload FROM outbox_events WHERE id = (SELECT id FROM outbox_events WHERE payload::jsonb @> $1::jsonb)',
        [JSON.stringify({ data: { order_id: result.order.id } })],
      );
      assert.equal(outboxRow?.event_type, 'OrderCreated', 'the same statement wrote the OrderCreated outbox row');
      const stored = await h.get(`/api/orders/${result.order.id}`, await issuer.token(userId, ['buyer']));
      assert.deepEqual(stored.json().items, items, 'the one statement wrote every item, as sent, in request order');
      const timeline = await h.get(`/api/orders/${result.order.id}/timeline`, await issuer.token(userId, ['buyer']));
      assert.equal(timeline.json().entries.length, 1);
    });

    describe('catalog validation (ORDER_CATALOG_VALIDATION=enforce, the default)', () => {
      test('unknown or inactive SKUs → 422 naming each; nothing written', async () => {
        const { userId, token } = await buyer();
        const known = product(1);
        const inactive = product(1, false);
        const unknown = uid('NOPE');
        const before = await h.counts();
        const one = await h.post({ userId, items: [{ skuId: unknown, quantity: 1, price: 1 }] }, { token });
        assertError(one, 422, 'PRODUCT_NOT_FOUND');
        assert.match(one.json().message, new RegExp(unknown));
        const two = await h.post(
          {
            userId,
            items: [
              { skuId: known, quantity: 1, price: 1 },
              { skuId: inactive, quantity: 1, price: 1 },
              { skuId: unknown, quantity: 1, price: 1 },
            ],
          },
          { token },
        );
        assertError(two, 422, 'PRODUCT_INACTIVE');
        assert.match(two.json().message, new RegExp(`${inactive}.*inactive|${inactive}" is not active`));
        assert.match(two.json().message, new RegExp(unknown));
        assert.deepEqual(
          two.json().errors.map((e: { field: string }) => e.field),
          ['items[1].skuId', 'items[2].skuId'],
        );
        assert.deepEqual(await h.counts(), before);
      });

      test('unit prices come from the catalog (half-up), the client price is ignored', async () => {
        const { userId, token } = await buyer();
        const a = product(12.345);
        const b = product(0.005);
        const res = await h.post(
          {
            userId,
            items: [
              { skuId: a, quantity: 2, price: 1 },
              { skuId: b, quantity: 3, price: 99.99 },
            ],
          },
          { token },
        );
        assert.equal(res.statusCode, 201, res.body);
        assert.deepEqual(
          res.json().items.map((i: { price: number }) => i.price),
          [12.35, 0.01],
        );
        assert.match(res.body, /"totalAmount":24\.73,/);
      });

      test('catalog 5xx, reset connection, bad JSON or timeout → 503 with Retry-After; nothing written', async () => {
        const { userId, token } = await buyer();
        const before = await h.counts();
        for (const sku of [uid('ERR500'), uid('RESET'), uid('BADJSON'), uid('SLOW')]) {
          const res = await h.post(
            {
              userId,
              items: [
                { skuId: product(1), quantity: 1, price: 1 },
                { skuId: sku, quantity: 1, price: 1 },
              ],
            },
            { token },
          );
          assertError(res, 503, 'CATALOG_UNAVAILABLE');
          assert.equal(res.headers['retry-after'], '5', sku);
        }
        assert.deepEqual(await h.counts(), before);
      });

      test('catalog unreachable (nothing listens) → 503; ORDER_CATALOG_VALIDATION=off trusts the client', async () => {
        const down = await startOrder(mode, issuer, { catalogUrl: 'http://127.0.0.1:9' });
        try {
          const { userId, token } = await buyer();
          const before = await down.counts();
          const res = await down.post({ userId, items: [{ skuId: 'X', quantity: 1, price: 1 }] }, { token });
          assertError(res, 503, 'CATALOG_UNAVAILABLE');
          assert.ok(res.headers['retry-after']);
          assert.deepEqual(await down.counts(), before);
        } finally {
          await down.close();
        }
        const { userId, token } = await buyer();
        const off = await lax.post(
          { userId, items: [{ skuId: uid('NOT-IN-CATALOG'), quantity: 1, price: 4.2 }] },
          { token },
        );
        assert.equal(off.statusCode, 201, off.body);
        assert.match(off.body, /"price":4\.20\}/);
      });

      test('lookups are cached briefly: a second order of the same SKU does not ask again', async () => {
        const { userId, token } = await buyer();
        const sku = product(1);
        await h.post({ userId, items: [{ skuId: sku, quantity: 1, price: 1 }] }, { token });
        await h.post({ userId, items: [{ skuId: sku, quantity: 2, price: 1 }] }, { token });
        assert.equal(catalog.requests(sku), 1);
      });
    });

    describe('amounts', () => {
      test('client prices round half-up (catalog off); items of one SKU are kept apart, in order', async () => {
        const { userId, token } = await buyer();
        const res = await lax.post(
          {
            userId,
            items: [
              { skuId: 'A', quantity: 1, price: 19.994 },
              { skuId: 'B', quantity: 2, price: 1.005 },
              { skuId: 'A', quantity: 1, price: 0.015 },
              { skuId: 'C', quantity: 1, price: 2.675 },
            ],
          },
          { token },
        );
        assert.equal(res.statusCode, 201, res.body);
        assert.deepEqual(res.json().items, [
          { skuId: 'A', quantity: 1, price: 19.99 },
          { skuId: 'B', quantity: 2, price: 1.01 },
          { skuId: 'A', quantity: 1, price: 0.02 },
          { skuId: 'C', quantity: 1, price: 2.68 },
        ]);
        assert.match(res.body, /"totalAmount":24\.71,/);
        const read = await lax.get(`/api/orders/${res.json().orderId}`);
        assert.deepEqual(read.json().items, res.json().items, 'the stored items come back in request order');
      });

      test('a total above 9 999 999 999.99 is 400 (original: 500); exactly the maximum is fine', async () => {
        const { userId, token } = await buyer();
        const before = await lax.counts();
        const over = await lax.post({ userId, items: [{ skuId: 'A', quantity: 2, price: 5_000_000_000 }] }, { token });
        assertError(over, 400, 'AMOUNT_TOO_LARGE');
        const one = await lax.post(
          { userId, items: [{ skuId: 'A', quantity: 1, price: 9_999_999_999.995 }] },
          { token },
        );
        assertError(one, 400, 'AMOUNT_TOO_LARGE');
        assert.deepEqual(await lax.counts(), before);
        const max = await lax.post(
          { userId, items: [{ skuId: 'A', quantity: 1, price: 9_999_999_999.99 }] },
          { token },
        );
        assert.equal(max.statusCode, 201, max.body);
        assert.match(max.body, /"totalAmount":9999999999\.99,/);
      });
    });

    describe('reading orders (ORDER_READ_ACCESS=owner by default)', () => {
      test('a bearer token is required; the owner and an admin read it; anyone else gets 404', async () => {
        const owner = await buyer();
        const res = await h.post(
          { userId: owner.userId, items: [{ skuId: product(19.9), quantity: 1, price: 1 }] },
          { token: owner.token },
        );
        const id = res.json().orderId;
        for (const path of [`/api/orders/${id}`, `/api/orders/${id}/timeline`]) {
          const anonymous = await h.get(path);
          assert.equal(anonymous.statusCode, 401, path);
          assert.equal(anonymous.headers['www-authenticate'], 'Bearer');
          const mine = await h.get(path, owner.token);
          assert.equal(mine.statusCode, 200, path);
          const stranger = await h.get(path, (await buyer()).token);
          assert.equal(stranger.statusCode, 404, path);
          const admin = await h.get(path, await issuer.token(uid('ops'), ['ADMIN']));
          assert.equal(admin.statusCode, 200, path);
        }
        const read = await h.get(`/api/orders/${id}`, owner.token);
        assert.deepEqual(read.json(), { ...res.json(), reused: false });
        assert.match(read.body, /"price":19\.90\}/);
        assert.equal(read.headers['content-type'], 'application/json; charset=utf-8');
        assert.equal((await h.get(`/api/orders/${randomUUID()}`, owner.token)).statusCode, 404);
        assert.equal((await h.get('/api/orders/not-a-uuid', owner.token)).statusCode, 400);
      });

      test('ORDER_READ_ACCESS=open reproduces the original: no token needed', async () => {
        const { userId, token } = await buyer();
        const res = await lax.post({ userId, items: [{ skuId: 'A', quantity: 1, price: 1 }] }, { token });
        assert.equal((await lax.get(`/api/orders/${res.json().orderId}`)).statusCode, 200);
        const timeline = await lax.get(`/api/orders/${res.json().orderId}/timeline`);
        assert.equal(timeline.statusCode, 200);
        assert.deepEqual(
          timeline
            .json()
            .entries.map((e: { from: string | null; to: string; cause: string; emitted: string }) => [
              e.from,
              e.to,
              e.cause,
              e.emitted,
            ]),
          [[null, 'NEW', 'HTTP', 'OrderCreated']],
        );
      });
    });

    test('/v3/api-docs is valid OpenAPI and lists the three order paths', async () => {
      const doc = (await h.get('/v3/api-docs')).json();
      await SwaggerParser.validate(structuredClone(doc));
      for (const path of ['/api/orders', '/api/orders/{orderId}', '/api/orders/{orderId}/timeline']) {
        assert.ok(doc.paths[path], path);
      }
      const post = doc.paths['/api/orders'].post;
      assert.ok(
        post.parameters.some((p: { in: string; name: string }) => p.in === 'header' && p.name === 'idempotency-key'),
      );
      assert.deepEqual(Object.keys(post.responses).sort(), ['200', '201', '400', '401', '403', '422', '503']);
      assert.deepEqual(post.security, [{ bearerAuth: [] }]);
    });
  });
}

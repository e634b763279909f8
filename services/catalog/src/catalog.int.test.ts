import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DB_MODES,
  dropDatabase,
  startTcpProxy,
  startTestService,
  TEST_PG_ADMIN_URL,
  type TestService,
  uniqueName,
  waitFor,
} from '@ecom/platform/testing';
import { catalogService } from './app.js';

const ISO_MILLIS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function assertErrorBody(body: Record<string, unknown>, status: number, path: string): void {
  assert.equal(body.status, status);
  assert.equal(typeof body.error, 'string');
  assert.equal(body.path, path);
  assert.match(String(body.timestamp), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/);
  assert.equal(typeof body.message, 'string');
  assert.ok(!('stack' in body));
}

for (const mode of DB_MODES) {
  describe(`catalog-service on ${mode}`, () => {
    let svc: TestService<unknown>;
    const put = (sku: string, payload: unknown) =>
      svc.service.app.inject({
        method: 'PUT',
        url: `/api/catalog/products/${encodeURIComponent(sku)}`,
        payload: payload as object,
      });
    const get = (url: string) => svc.service.app.inject({ method: 'GET', url });

    before(async () => {
      svc = await startTestService(catalogService, mode, { env: { HTTP_BODY_LIMIT_BYTES: '4096' } });
    });
    after(() => svc.close());

    test('PUT creates a product with the contract defaults and answers 200', async () => {
      const res = await put('SKU-001', { name: 'Coffee mug', price: 19.9, ignored: 'unknown fields are ignored' });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.deepEqual(
        { ...body, updatedAt: undefined },
        { skuId: 'SKU-001', name: 'Coffee mug', description: '', price: 19.9, active: true, updatedAt: undefined },
      );
      assert.match(body.updatedAt, ISO_MILLIS_Z);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    });

    test('PUT is a full replace, the price is stored as sent, and GET returns it', async () => {
      await put('SKU-REPLACE', { name: 'Old', description: 'first', price: 5, active: false });
      const res = await put('SKU-REPLACE', { name: '  New name  ', price: 12.345, description: null, active: null });
      assert.equal(res.statusCode, 200);
      const read = await get('/api/catalog/products/SKU-REPLACE');
      assert.equal(read.statusCode, 200);
      const body = read.json();
      assert.equal(body.name, '  New name  ', 'name is stored as sent, not trimmed');
      assert.equal(body.description, '', 'null description becomes ""');
      assert.equal(body.active, true, 'null active becomes true');
      assert.equal(body.price, 12.345, 'price is not rounded');
    });

    test('the path SKU is used as is (spaces, case)', async () => {
      const res = await put(' Sku Lower ', { name: 'x', price: 1 });
      assert.equal(res.json().skuId, ' Sku Lower ');
      assert.equal((await get(`/api/catalog/products/${encodeURIComponent(' Sku Lower ')}`)).statusCode, 200);
      assert.equal((await get(`/api/catalog/products/${encodeURIComponent('sku lower')}`)).statusCode, 404);
    });

    test('GET of an unknown SKU is 404 with the spec error body', async () => {
      const res = await get('/api/catalog/products/NOPE-404');
      assert.equal(res.statusCode, 404);
      assertErrorBody(res.json(), 404, '/api/catalog/products/NOPE-404');
      assert.equal(res.json().error, 'Not Found');
    });

    test('the list is sorted by skuId in simple string order and filters on active', async () => {
      const svcList = await startTestService(catalogService, mode);
      try {
        const app = svcList.service.app;
        for (const [sku, active] of [
          ['b-2', true],
          ['B-1', false],
          ['a-3', true],
          ['A-10', true],
        ] as const) {
          await app.inject({
            method: 'PUT',
            url: `/api/catalog/products/${sku}`,
            payload: { name: sku, price: 1, active },
          });
        }
        const skus = async (q: string) =>
          (await app.inject({ method: 'GET', url: `/api/catalog/products${q}` }))
            .json()
            .map((p: { skuId: string }) => p.skuId);
        assert.deepEqual(await skus(''), ['A-10', 'B-1', 'a-3', 'b-2']);
        assert.deepEqual(await skus('?active=true'), ['A-10', 'a-3', 'b-2']);
        assert.deepEqual(await skus('?active=false'), ['B-1']);
        assert.deepEqual(await skus('?active=no'), ['B-1'], 'Spring also accepts yes/no/on/off/1/0');
        assert.deepEqual(await skus('?active=1'), ['A-10', 'a-3', 'b-2']);
        assert.deepEqual(
          await skus('?unknown=1'),
          ['A-10', 'B-1', 'a-3', 'b-2'],
          'unknown query parameters are ignored',
        );
        const bad = await app.inject({ method: 'GET', url: '/api/catalog/products?active=maybe' });
        assert.equal(bad.statusCode, 400);
        assertErrorBody(bad.json(), 400, '/api/catalog/products');
      } finally {
        await svcList.close();
      }
    });

    const invalidBodies: [string, unknown, string][] = [
      ['blank name', { name: '   ', price: 1 }, 'name'],
      ['missing name', { price: 1 }, 'name'],
      ['null name', { name: null, price: 1 }, 'name'],
      ['zero price', { name: 'x', price: 0 }, 'price'],
      ['negative price', { name: 'x', price: -1 }, 'price'],
      ['missing price', { name: 'x' }, 'price'],
      ['price as a string', { name: 'x', price: '12' }, 'price'],
      ['active not a boolean', { name: 'x', price: 1, active: 'sometimes' }, 'active'],
      ['body is an array', [{ name: 'x', price: 1 }], 'body'],
    ];
    for (const [what, payload, field] of invalidBodies) {
      test(`PUT with ${what} is 400 naming ${field}, and writes nothing`, async () => {
        const sku = `INVALID-${field}-${what.length}`;
        const res = await put(sku, payload);
        assert.equal(res.statusCode, 400);
        const body = res.json();
        assertErrorBody(body, 400, `/api/catalog/products/${sku}`);
        assert.ok(
          body.errors.some((e: { field: string }) => e.field === field),
          `errors ${JSON.stringify(body.errors)} name ${field}`,
        );
        assert.equal((await get(`/api/catalog/products/${sku}`)).statusCode, 404);
      });
    }

    test('a SKU over 64 characters is 400, not a database error', async () => {
      const res = await put('S'.repeat(65), { name: 'x', price: 1 });
      assert.equal(res.statusCode, 400);
    });

    test('framework-level failures map to the spec statuses with the error body', async () => {
      const app = svc.service.app;
      const url = '/api/catalog/products/FW-1';
      const text = await app.inject({
        method: 'PUT',
        url,
        headers: { 'content-type': 'text/plain' },
        payload: 'hello',
      });
      assert.equal(text.statusCode, 415);
      assertErrorBody(text.json(), 415, url);
      const xml = await app.inject({
        method: 'PUT',
        url,
        headers: { 'content-type': 'application/xml' },
        payload: '<a/>',
      });
      assert.equal(xml.statusCode, 415);
      const malformed = await app.inject({
        method: 'PUT',
        url,
        headers: { 'content-type': 'application/json' },
        payload: '{"name":',
      });
      assert.equal(malformed.statusCode, 400);
      assertErrorBody(malformed.json(), 400, url);
      const empty = await app.inject({ method: 'PUT', url, headers: { 'content-type': 'application/json' } });
      assert.equal(empty.statusCode, 400);
      const huge = await app.inject({ method: 'PUT', url, payload: { name: 'x'.repeat(8000), price: 1 } });
      assert.equal(huge.statusCode, 413);
      assertErrorBody(huge.json(), 413, url);
      const wrongMethod = await app.inject({ method: 'DELETE', url });
      assert.equal(wrongMethod.statusCode, 405);
      assert.match(String(wrongMethod.headers.allow), /PUT/);
      assertErrorBody(wrongMethod.json(), 405, url);
      const unknown = await app.inject({ method: 'GET', url: '/api/unknown?x=1' });
      assert.equal(unknown.statusCode, 404);
      assertErrorBody(unknown.json(), 404, '/api/unknown');
      assert.equal((await get('/api/catalog/products/FW-1')).statusCode, 404, 'nothing was written');
    });
  });
}

describe('catalog-service readiness follows its PostgreSQL', () => {
  test('DOWN while the database is unreachable (through a proxy the test cuts), UP again when it returns', async () => {
    const admin = new URL(TEST_PG_ADMIN_URL);
    const proxy = await startTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
    const dbName = uniqueName('catalog_ready');
    const svc = await startTestService(catalogService, 'postgres', {
      env: {
        CATALOG_DB_URL: `jdbc:postgresql://127.0.0.1:${proxy.port}/${dbName}`,
        CATALOG_DB_USER: admin.username || 'postgres',
        HEALTH_CHECK_TIMEOUT_MS: '500',
      },
    });
    const app = svc.service.app;
    const readiness = async () => (await app.inject({ method: 'GET', url: '/actuator/health/readiness' })).statusCode;
    try {
      assert.equal(await readiness(), 200);
      proxy.cut();
      assert.equal(await readiness(), 503);
      const read = await app.inject({ method: 'GET', url: '/api/catalog/products/ANY' });
      assert.equal(read.statusCode, 503, 'a request needing the database is refused as unavailable while it is gone');
      assert.equal(read.headers['retry-after'], '1');
      assert.doesNotMatch(read.body, /ECONNRESET|Connection terminated|at .*\.ts/, 'without internal detail');
      proxy.restore();
      await waitFor(async () => (await readiness()) === 200, { timeoutMs: 10_000 });
      assert.equal((await app.inject({ method: 'GET', url: '/api/catalog/products/ANY' })).statusCode, 404);
    } finally {
      proxy.restore();
      await svc.service.stop();
      await proxy.close();
      await dropDatabase(dbName);
    }
  });
});

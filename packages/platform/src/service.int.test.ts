import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { InjectOptions } from 'fastify';
import { fixtureService } from './fixtures/test-service.js';
import { createService } from './service.js';
import {
  DB_MODES,
  dropDatabase,
  startTcpProxy,
  startTestService,
  TEST_PG_ADMIN_URL,
  type TestService,
  uniqueName,
  waitFor,
} from './testing/index.js';

for (const mode of DB_MODES) {
  describe(`kernel on ${mode}`, () => {
    let svc: TestService<unknown>;
    before(async () => {
      svc = await startTestService(fixtureService, mode);
    });
    after(() => svc.close());
    const inject = (opts: InjectOptions) => svc.service.app.inject(opts);

    test('migrations ran in version order (V2 after V1) and are recorded once', async () => {
      await svc.service.deps.db.execute('INSERT INTO items (id, name, price) VALUES (1, $1, 19.9)', ['one']);
      const res = await inject({ method: 'GET', url: '/items/1' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { id: 1, name: 'one', price: '19.90' });
      const rows = await svc.service.deps.db.query<{ name: string }>(
        'SELECT name FROM schema_migrations ORDER BY name',
      );
      assert.deepEqual(
        rows.map((r) => r.name),
        ['V1__create_items.sql', 'V2__add_price.sql'],
      );
    });

    test('a transaction that throws commits nothing', async () => {
      const res = await inject({ method: 'POST', url: '/items', payload: { id: 77, name: 'rollback' } });
      assert.equal(res.statusCode, 409);
      assert.equal((await inject({ method: 'GET', url: '/items/77' })).statusCode, 404);
      assert.equal(
        (await inject({ method: 'POST', url: '/items', payload: { id: 78, name: 'kept' } })).statusCode,
        201,
      );
      assert.equal((await inject({ method: 'GET', url: '/items/78' })).statusCode, 200);
    });

    test('X-Trace-Id: echoed trimmed, generated when absent/blank/too long/not printable ASCII', async () => {
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
      const traceOf = async (h?: string) =>
        String(
          (
            await inject({
              method: 'GET',
              url: '/actuator/health/liveness',
              headers: h === undefined ? {} : { 'x-trace-id': h },
            })
          ).headers['x-trace-id'],
        );
      assert.equal(await traceOf('  abc-123  '), 'abc-123');
      assert.match(await traceOf(), uuid);
      assert.match(await traceOf('   '), uuid);
      assert.match(await traceOf('x'.repeat(129)), uuid);
      assert.equal(await traceOf('x'.repeat(128)), 'x'.repeat(128));
      assert.match(await traceOf('bad\u00e9value'), uuid);
      const err = await inject({ method: 'GET', url: '/nope', headers: { 'x-trace-id': 'on-errors-too' } });
      assert.equal(err.headers['x-trace-id'], 'on-errors-too');
    });

    test('an unhandled error is a 500 with the spec body and no internal detail', async () => {
      const res = await inject({ method: 'GET', url: '/crash' });
      assert.equal(res.statusCode, 500);
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'path', 'status', 'timestamp']);
      assert.equal(body.error, 'Internal Server Error');
      assert.doesNotMatch(res.body, /secret internal detail|at .*\.ts/);
    });

    test('bad path/query values are 400 (the original gave 500 for range rules)', async () => {
      for (const url of ['/items/abc', '/items/0', '/items/1?size=0', '/items/1?size=101']) {
        const res = await inject({ method: 'GET', url });
        assert.equal(res.statusCode, 400, url);
        assert.ok(Array.isArray(res.json().errors), url);
      }
    });

    test('actuator: health with components, liveness, readiness, info', async () => {
      const health = await inject({ method: 'GET', url: '/actuator/health' });
      assert.equal(health.statusCode, 200);
      assert.deepEqual(health.json(), {
        status: 'UP',
        groups: ['liveness', 'readiness'],
        components: { db: { status: 'UP', details: { mode } } },
      });
      assert.deepEqual((await inject({ method: 'GET', url: '/actuator/health/liveness' })).json(), { status: 'UP' });
      assert.deepEqual((await inject({ method: 'GET', url: '/actuator/health/readiness' })).json(), { status: 'UP' });
      const info = (await inject({ method: 'GET', url: '/actuator/info' })).json();
      assert.equal(info.build.name, 'fixture-service');
      assert.equal(info.build.version, '9.9.9');
      assert.match(info.git.commit.id, /^[0-9a-f]{40}$/);
      assert.match(info.dependencies.database, new RegExp(`^${mode}`));
    });

    test('prometheus: a real histogram with route templates and the Micrometer labels', async () => {
      await inject({ method: 'GET', url: '/items/424242' });
      await inject({ method: 'GET', url: '/no/such/path/123' });
      const res = await inject({ method: 'GET', url: '/actuator/prometheus' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const text = res.body;
      assert.match(
        text,
        /http_server_requests_seconds_count\{application="fixture-service",method="GET",uri="\/items\/\{id\}",status="404",outcome="CLIENT_ERROR",exception="ITEM_NOT_FOUND",error="ITEM_NOT_FOUND"\} [1-9]\d*\n/,
      );
      assert.match(
        text,
        /http_server_requests_seconds_count\{application="fixture-service",method="GET",uri="NOT_FOUND",status="404"/,
      );
      assert.doesNotMatch(text, /uri="\/items\/424242"|uri="\/no\/such/);
      for (const le of ['0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '\\+Inf']) {
        assert.match(text, new RegExp(`http_server_requests_seconds_bucket\\{le="${le}"`));
      }
      assert.match(text, /process_cpu_user_seconds_total\{application="fixture-service"\}/);
      assert.match(text, /nodejs_eventloop_lag_seconds\{application="fixture-service"\}/);
    });

    test('/v3/api-docs is a valid OpenAPI document of the business routes; Swagger UI is served locally', async () => {
      const doc = (await inject({ method: 'GET', url: '/v3/api-docs' })).json();
      await SwaggerParser.validate(structuredClone(doc));
      assert.deepEqual(Object.keys(doc.paths).sort(), ['/crash', '/items', '/items/{id}', '/slow']);
      const params = doc.paths['/items/{id}'].get.parameters.map(
        (p: { name: string; in: string }) => `${p.in}:${p.name}`,
      );
      assert.deepEqual(params.sort(), ['path:id', 'query:size']);
      assert.equal(
        doc.paths['/items'].post.requestBody.content['application/json'].schema.properties.name.type,
        'string',
      );
      const redirect = await inject({ method: 'GET', url: '/swagger-ui.html' });
      assert.equal(redirect.statusCode, 302);
      assert.equal(redirect.headers.location, '/swagger-ui/');
      const page = await inject({ method: 'GET', url: '/swagger-ui/' });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /swagger-ui-bundle\.js/);
      assert.doesNotMatch(page.body, /https?:\/\/(?!127\.0\.0\.1|localhost)[a-z]/i, 'no CDN');
      const bundle = await inject({ method: 'GET', url: '/swagger-ui/static/swagger-ui-bundle.js' });
      assert.equal(bundle.statusCode, 200);
      assert.ok(bundle.body.length > 100_000);
    });
  });
}

describe('kernel lifecycle', () => {
  test('a bad setting fails boot naming the variable', async () => {
    await assert.rejects(createService(fixtureService, { env: { SERVER_PORT: 'eighty' } }), /SERVER_PORT/);
    await assert.rejects(createService(fixtureService, { env: { LOG_LEVEL: 'loud' } }), /LOG_LEVEL/);
    await assert.rejects(createService(fixtureService, { env: { FIXTURE_DB_URL: 'mysql://h/db' } }), /FIXTURE_DB_URL/);
    await assert.rejects(
      createService(fixtureService, { env: { HTTP_BODY_LIMIT_BYTES: '-5' } }),
      /HTTP_BODY_LIMIT_BYTES/,
    );
  });

  test('a JDBC URL creates the missing database and two replicas migrate it once', async () => {
    const name = uniqueName('jdbc');
    const admin = new URL(TEST_PG_ADMIN_URL);
    const env = {
      FIXTURE_DB_URL: `jdbc:postgresql://${admin.hostname}:${admin.port || 5432}/${name}`,
      FIXTURE_DB_USER: admin.username || 'postgres',
      SERVER_PORT: '0',
      LOG_LEVEL: 'warn',
    };
    const [a, b] = await Promise.all([createService(fixtureService, { env }), createService(fixtureService, { env })]);
    try {
      const rows = await a.deps.db.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
      assert.equal(rows[0]?.n, 2);
      assert.equal(a.deps.db.kind, 'postgres');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await dropDatabase(name);
    }
  });

  test('a boot that fails halfway closes what it opened (no pool left behind)', async () => {
    const name = uniqueName('halfway');
    const admin = new URL(TEST_PG_ADMIN_URL);
    const broken = {
      ...fixtureService,
      name: 'broken-boot',
      register: () => {
        throw new Error('register failed');
      },
    };
    await assert.rejects(
      createService(broken, {
        env: {
          FIXTURE_DB_URL: `postgres://${admin.username || 'postgres'}@${admin.host}/${name}`,
          LOG_LEVEL: 'silent',
        },
      }),
      /register failed/,
    );
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
      assert.equal(rows[0].n, 0, 'every connection of the failed boot was closed');
    } finally {
      await client.end();
      await dropDatabase(name);
    }
  });

  test('graceful shutdown: readiness DOWN first, in-flight requests finish, then the port closes', async () => {
    const svc = await startTestService(fixtureService, 'pglite', {
      listen: true,
      env: { SHUTDOWN_DRAIN_DELAY_MS: '300' },
    });
    const get = (path: string) => fetch(`${svc.url}${path}`);
    const slow = get('/slow');
    await new Promise((r) => setTimeout(r, 50));
    const stopping = svc.close();
    const readiness = await get('/actuator/health/readiness');
    assert.equal(readiness.status, 503);
    assert.deepEqual(await readiness.json(), { status: 'DOWN' });
    const slowRes = await slow;
    assert.equal(slowRes.status, 200, 'the in-flight request completed');
    assert.deepEqual(await slowRes.json(), { done: true });
    await stopping;
    await assert.rejects(rawGet(svc.url), /ECONNREFUSED/);
  });

  test('readiness goes DOWN while Postgres is unreachable and UP again when it returns', async () => {
    const admin = new URL(TEST_PG_ADMIN_URL);
    const proxy = await startTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
    const name = uniqueName('ready');
    const svc = await startTestService(fixtureService, 'postgres', {
      env: {
        FIXTURE_DB_URL: `postgres://${admin.username || 'postgres'}@127.0.0.1:${proxy.port}/${name}`,
        HEALTH_CHECK_TIMEOUT_MS: '500',
      },
    });
    const app = svc.service.app;
    try {
      assert.equal((await app.inject({ method: 'GET', url: '/actuator/health/readiness' })).statusCode, 200);
      proxy.cut();
      const down = await app.inject({ method: 'GET', url: '/actuator/health/readiness' });
      assert.equal(down.statusCode, 503);
      assert.equal(down.json().status, 'DOWN');
      assert.equal(down.json().components.db.status, 'DOWN');
      const health = await app.inject({ method: 'GET', url: '/actuator/health' });
      assert.equal(health.statusCode, 503);
      assert.equal(
        (await app.inject({ method: 'GET', url: '/actuator/health/liveness' })).statusCode,
        200,
        'liveness ignores dependencies',
      );
      proxy.restore();
      await waitFor(
        async () => (await app.inject({ method: 'GET', url: '/actuator/health/readiness' })).statusCode === 200,
        { timeoutMs: 10_000 },
      );
      assert.equal((await app.inject({ method: 'GET', url: '/items/1' })).statusCode, 404, 'queries work again');
    } finally {
      proxy.restore();
      await svc.service.stop();
      await proxy.close();
      await dropDatabase(name);
    }
  });
});

function rawGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/actuator/health/liveness`, (res) => resolve(res.statusCode ?? 0));
    req.on('error', reject);
    req.end();
  });
}

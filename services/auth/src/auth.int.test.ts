import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Service } from '@ecom/platform';
import { startTestService, type TestService } from '@ecom/platform/testing';
import { createRemoteJWKSet, jwtVerify, SignJWT } from 'jose';
import { authService } from './app.js';
import type { AuthConfig } from './config.js';
import { craftToken, decodeSegments, encodeSegment } from './test-support/jws.js';
import { introspect, issue, pemEnv, pemPair, QUIET, start } from './test-support/service.js';

describe('auth-service over HTTP (in-memory key)', () => {
  let service: Service<AuthConfig>;
  before(async () => {
    service = await start();
  });
  after(() => service.stop());

  test('POST /api/auth/token: 200, TokenResponse members in order, trimmed values, default TTL', async () => {
    const before = Date.now();
    const res = await service.app.inject({
      method: 'POST',
      url: '/api/auth/token',
      payload: { userId: '  alice  ', roles: [' buyer ', 'admin'], unknownField: 1 },
    });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['accessToken', 'tokenType', 'expiresAt', 'userId', 'roles']);
    assert.equal(body.tokenType, 'Bearer');
    assert.equal(body.userId, 'alice');
    assert.deepEqual(body.roles, ['buyer', 'admin']);
    assert.match(body.expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const expiresAtMs = Date.parse(body.expiresAt);
    assert.ok(expiresAtMs >= before + 3600_000 && expiresAtMs <= Date.now() + 3600_000);

    const { header, payload } = decodeSegments(body.accessToken);
    const claims = JSON.parse(payload);
    assert.deepEqual(Object.keys(JSON.parse(header)), ['alg', 'typ', 'kid']);
    assert.deepEqual(Object.keys(claims), ['sub', 'user_id', 'roles', 'iss', 'iat', 'exp']);
    assert.deepEqual(claims.roles, ['buyer', 'admin']);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.user_id, 'alice');
    assert.equal(claims.iss, 'auth-service');
    assert.equal(claims.exp - claims.iat, 3600);
    assert.equal(claims.exp, Math.floor(expiresAtMs / 1000), 'exp is expiresAt truncated to seconds');
  });

  test('roles absent or null → []; ttlSeconds 60 and 86400 are accepted, null means the default', async () => {
    assert.deepEqual((await issue(service, { userId: 'u' })).roles, []);
    assert.deepEqual((await issue(service, { userId: 'u', roles: null })).roles, []);
    for (const [ttlSeconds, expected] of [
      [60, 60],
      [86400, 86400],
      [null, 3600],
    ] as const) {
      const claims = JSON.parse(
        decodeSegments((await issue(service, { userId: 'u', ttlSeconds })).accessToken).payload,
      );
      assert.equal(claims.exp - claims.iat, expected, String(ttlSeconds));
    }
  });

  test('an issued token introspects active: subject, roles, expiresAt in whole seconds', async () => {
    const issued = await issue(service, { userId: 'bob', roles: ['buyer'], ttlSeconds: 120 });
    const result = await introspect(service, `  ${issued.accessToken}  `);
    assert.deepEqual(Object.keys(result), ['active', 'userId', 'roles', 'expiresAt', 'reason']);
    assert.equal(result.active, true);
    assert.equal(result.userId, 'bob');
    assert.deepEqual(result.roles, ['buyer']);
    assert.equal(result.reason, null);
    assert.match(result.expiresAt ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(result.expiresAt, `${issued.expiresAt.slice(0, 19)}Z`);
  });

  test('an inactive token: 200 with nulls written out and a reason', async () => {
    const res = await service.app.inject({
      method: 'POST',
      url: '/api/auth/introspect',
      payload: { token: 'not-a-token' },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '{"active":false,"userId":null,"roles":[],"expiresAt":null,"reason":"TOKEN_MALFORMED"}');
  });

  const specErrorBody = (
    res: { statusCode: number; json(): Record<string, unknown> },
    status: number,
    path: string,
  ) => {
    assert.equal(res.statusCode, status);
    const body = res.json();
    assert.equal(body.status, status);
    assert.equal(body.path, path);
    assert.equal(body.error, status === 400 ? 'Bad Request' : 'Unsupported Media Type');
    assert.match(String(body.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
    assert.equal(typeof body.message, 'string');
    assert.ok(String(body.message).length > 0);
  };

  test('token request validation failures are 400 with the spec error body', async () => {
    const cases: [string, unknown][] = [
      ['blank userId', { userId: '   ' }],
      ['missing userId', { roles: ['buyer'] }],
      ['null userId', { userId: null }],
      ['numeric userId', { userId: 42 }],
      ['blank role element', { userId: 'u', roles: ['buyer', '  '] }],
      ['null role element', { userId: 'u', roles: ['buyer', null] }],
      ['roles not an array', { userId: 'u', roles: 'buyer' }],
      ['ttlSeconds 59', { userId: 'u', ttlSeconds: 59 }],
      ['ttlSeconds 86401', { userId: 'u', ttlSeconds: 86401 }],
      ['ttlSeconds 1.5', { userId: 'u', ttlSeconds: 1.5 }],
      ['ttlSeconds as a string', { userId: 'u', ttlSeconds: '120' }],
      ['a JSON array body', [{ userId: 'u' }]],
    ];
    for (const [name, payload] of cases) {
      const res = await service.app.inject({
        method: 'POST',
        url: '/api/auth/token',
        payload: JSON.stringify(payload),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.statusCode, 400, name);
      specErrorBody(res, 400, '/api/auth/token');
    }
  });

  test('missing body and malformed JSON → 400; a non-JSON content type → 415', async () => {
    for (const url of ['/api/auth/token', '/api/auth/introspect']) {
      specErrorBody(await service.app.inject({ method: 'POST', url }), 400, url);
      specErrorBody(
        await service.app.inject({ method: 'POST', url, payload: '', headers: { 'content-type': 'application/json' } }),
        400,
        url,
      );
      specErrorBody(
        await service.app.inject({
          method: 'POST',
          url,
          payload: '{"userId":',
          headers: { 'content-type': 'application/json' },
        }),
        400,
        url,
      );
      specErrorBody(
        await service.app.inject({
          method: 'POST',
          url,
          payload: 'userId=alice',
          headers: { 'content-type': 'text/plain' },
        }),
        415,
        url,
      );
      specErrorBody(
        await service.app.inject({
          method: 'POST',
          url,
          payload: 'userId=alice',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
        415,
        url,
      );
    }
  });

  test('introspect: blank, missing or non-string token → 400', async () => {
    for (const payload of [{ token: '  ' }, { token: '' }, {}, { token: null }, { token: 7 }]) {
      specErrorBody(
        await service.app.inject({ method: 'POST', url: '/api/auth/introspect', payload }),
        400,
        '/api/auth/introspect',
      );
    }
  });

  test('GET /.well-known/jwks.json: one RSA key, the kid tokens carry, cacheable for 5 minutes', async () => {
    const res = await service.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.headers['cache-control'], 'max-age=300');
    const { keys } = res.json();
    assert.equal(keys.length, 1);
    const token = (await issue(service)).accessToken;
    assert.equal(keys[0].kid, JSON.parse(decodeSegments(token).header).kid);
    assert.match(keys[0].kid, /^[A-Za-z0-9_-]{16}$/);
  });

  test('OpenAPI lists the auth paths (the CI openapi-check)', async () => {
    const doc = (await service.app.inject({ method: 'GET', url: '/v3/api-docs' })).json();
    assert.ok(doc.openapi);
    for (const path of ['/api/auth/token', '/api/auth/introspect', '/.well-known/jwks.json'])
      assert.ok(doc.paths[path], path);
  });
});

describe('an independent verifier (jose + remote JWKS over a real socket)', () => {
  const pair = pemPair();
  let svc: TestService<AuthConfig>;
  let verifyToken: (token: string) => ReturnType<typeof jwtVerify>;
  before(async () => {
    svc = await startTestService(authService, 'pglite', { listen: true, env: { ...QUIET, ...pemEnv(pair) } });
    const jwks = createRemoteJWKSet(new URL(`${svc.url}/.well-known/jwks.json`));
    verifyToken = (token) => jwtVerify(token, jwks, { issuer: 'auth-service', algorithms: ['RS256'] });
  });
  after(() => svc.close());

  async function httpIssue(): Promise<string> {
    const res = await fetch(`${svc.url}/api/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'alice', roles: ['buyer'] }),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { accessToken: string }).accessToken;
  }

  async function httpReason(token: string): Promise<string | null> {
    const res = await fetch(`${svc.url}/api/auth/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { reason: string | null }).reason;
  }

  const nowS = () => Math.floor(Date.now() / 1000);
  const header = () => ({ alg: 'RS256', typ: 'JWT', kid: pair.kid });
  const claims = (over: Record<string, unknown> = {}) => ({
    sub: 'alice',
    user_id: 'alice',
    roles: ['buyer'],
    iss: 'auth-service',
    iat: nowS(),
    exp: nowS() + 600,
    ...over,
  });

  test('accepts a token the service issued over HTTP', async () => {
    const { payload, protectedHeader } = await verifyToken(await httpIssue());
    assert.equal(protectedHeader.kid, pair.kid);
    assert.equal(payload.sub, 'alice');
    assert.deepEqual(payload.roles, ['buyer']);
  });

  test('accepts a hand-made token with the real key (control for the rejections below)', async () => {
    await verifyToken(craftToken(header(), claims(), pair.privateKey));
    assert.equal(await httpReason(craftToken(header(), claims(), pair.privateKey)), null);
  });

  /**
   * Forged or invalid tokens: how each is made, the code jose's verifier (the remote JWKS) rejects
   * it with, and the reason the service's own introspection gives. Each row is a test.
   */
  const rejections: { name: string; token: () => string | Promise<string>; joseCode: string; reason: string }[] = [
    {
      name: 'a tampered signature (one character of an issued token flipped)',
      token: async () => {
        const [h, p, s = ''] = (await httpIssue()).split('.');
        return `${h}.${p}.${s.slice(0, 20)}${s[20] === 'A' ? 'B' : 'A'}${s.slice(21)}`;
      },
      joseCode: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      reason: 'TOKEN_SIGNATURE_INVALID',
    },
    {
      name: "a tampered payload (admin added, the issued token's signature kept)",
      token: async () => {
        const [h, , s] = (await httpIssue()).split('.');
        return `${h}.${encodeSegment(claims({ roles: ['buyer', 'admin'] }))}.${s}`;
      },
      joseCode: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      reason: 'TOKEN_SIGNATURE_INVALID',
    },
    {
      name: 'alg none (no signature)',
      token: () => `${encodeSegment({ alg: 'none', typ: 'JWT', kid: pair.kid })}.${encodeSegment(claims())}.`,
      joseCode: 'ERR_JOSE_ALG_NOT_ALLOWED',
      reason: 'TOKEN_MALFORMED',
    },
    {
      name: 'HS256 signed with the public key bytes as the HMAC secret',
      token: () =>
        new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: pair.kid })
          .sign(new TextEncoder().encode(pair.publicPem)),
      joseCode: 'ERR_JOSE_ALG_NOT_ALLOWED',
      reason: 'TOKEN_ALG_INVALID',
    },
    {
      name: 'a wrong issuer (real key)',
      token: () => craftToken(header(), claims({ iss: 'evil-idp' }), pair.privateKey),
      joseCode: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      reason: 'TOKEN_ISSUER_INVALID',
    },
    {
      name: 'an expired token (real key, exp an hour ago)',
      token: () => craftToken(header(), claims({ iat: nowS() - 7200, exp: nowS() - 3600 }), pair.privateKey),
      joseCode: 'ERR_JWT_EXPIRED',
      reason: 'TOKEN_EXPIRED',
    },
    {
      name: 'an unknown kid (real key, kid not in the JWKS)',
      token: () => craftToken({ ...header(), kid: 'not-a-published-kid' }, claims(), pair.privateKey),
      joseCode: 'ERR_JWKS_NO_MATCHING_KEY',
      reason: 'TOKEN_KID_UNKNOWN',
    },
  ];
  for (const { name, token, joseCode, reason } of rejections) {
    test(`rejects ${name}: jose ${joseCode}, introspection ${reason}`, async () => {
      const forged = await token();
      await assert.rejects(verifyToken(forged), (err: { code?: string }) => {
        assert.equal(err.code, joseCode);
        return true;
      });
      assert.equal(await httpReason(forged), reason);
    });
  }
});

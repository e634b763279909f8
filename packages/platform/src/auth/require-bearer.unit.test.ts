import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../http/errors.js';
import type { BearerResult, BearerVerifier } from './bearer.js';
import { assertRole, authenticate, hasRole, principalOf, requireBearer } from './require-bearer.js';

/** A verifier stub: `Bearer <subject>:<role,role>` is valid, `Bearer bad` is refused. */
const verifier: BearerVerifier = {
  async verify(header): Promise<BearerResult> {
    if (!header) return { ok: false, reason: 'AUTH_HEADER_MISSING' };
    if (!header.startsWith('Bearer ')) return { ok: false, reason: 'AUTH_SCHEME_INVALID' };
    const [subject = '', roles = ''] = header.slice(7).split(':');
    if (subject === 'bad') return { ok: false, reason: 'TOKEN_EXPIRED' };
    return { ok: true, subject, roles: roles.split(',').filter(Boolean), claims: {} };
  },
};

/** The kernel's error handler maps AppError the same way (status, headers, code); this is its gist. */
function app() {
  const fastify = Fastify().withTypeProvider<TypeBoxTypeProvider>();
  fastify.setErrorHandler((err, _request, reply) => {
    if (!(err instanceof AppError)) return reply.code(500).send({ message: String(err) });
    if (err.extra.headers) reply.headers(err.extra.headers);
    return reply.code(err.status).send({ code: err.code, message: err.message });
  });

  // Admin style: everything in the preHandler.
  fastify.post(
    '/admin/dlq/replay',
    { preHandler: requireBearer(verifier, { requiredRole: 'admin' }) },
    async (request) => ({ by: principalOf(request)?.subject }),
  );

  // Order style (http-api.md §2.1 steps 3–6): 401, then 400 userId ≠ subject, then 403.
  fastify.post('/api/orders', { schema: { body: Type.Object({ userId: Type.String() }) } }, async (request, reply) => {
    const principal = await authenticate(verifier, request);
    if (request.body.userId.trim() !== principal.subject) {
      throw new AppError('bad_request', 'USER_MISMATCH', 'userId does not match the token subject');
    }
    assertRole(principal, ' Buyer ');
    return reply.code(201).send({ userId: principal.subject, attached: principalOf(request) === principal });
  });
  return fastify;
}

describe('requireBearer (preHandler)', () => {
  test('401 with the reason code and a WWW-Authenticate challenge', async () => {
    const res = await app().inject({
      method: 'POST',
      url: '/admin/dlq/replay',
      headers: { authorization: 'Bearer bad' },
    });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"');
    assert.equal(res.json().code, 'TOKEN_EXPIRED');
  });

  test('no credentials at all → 401 with the bare challenge (RFC 6750 §3.1)', async () => {
    const none = await app().inject({ method: 'POST', url: '/admin/dlq/replay' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.equal(none.json().code, 'AUTH_HEADER_MISSING');
    const basic = await app().inject({
      method: 'POST',
      url: '/admin/dlq/replay',
      headers: { authorization: 'Basic x' },
    });
    assert.equal(basic.headers['www-authenticate'], 'Bearer');
  });

  test('valid token without the role → 403; with it (any case) → the handler sees the principal', async () => {
    const forbidden = await app().inject({
      method: 'POST',
      url: '/admin/dlq/replay',
      headers: { authorization: 'Bearer ops:buyer' },
    });
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.json().code, 'ROLE_MISSING');
    assert.equal(forbidden.headers['www-authenticate'], 'Bearer error="insufficient_scope"');

    const ok = await app().inject({
      method: 'POST',
      url: '/admin/dlq/replay',
      headers: { authorization: 'Bearer ops:ADMIN' },
    });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { by: 'ops' });
  });

  test('an empty configured role turns the role check off', async () => {
    const off = Fastify();
    off.get('/x', { preHandler: requireBearer(verifier, { requiredRole: '  ' }) }, async () => 'ok');
    const res = await off.inject({ method: 'GET', url: '/x', headers: { authorization: 'Bearer ops:' } });
    assert.equal(res.statusCode, 200);
  });
});

describe('order ordering: verify → compare subject → check role', () => {
  const post = (authorization: string | undefined, userId: string) =>
    app().inject({
      method: 'POST',
      url: '/api/orders',
      headers: authorization ? { authorization } : {},
      payload: { userId },
    });

  test('401 beats 400 beats 403', async () => {
    assert.equal((await post(undefined, 'someone-else')).statusCode, 401);
    assert.equal((await post('Bearer bad', 'someone-else')).statusCode, 401);
    const mismatch = await post('Bearer alice:', 'bob'); // no role either: the 400 still wins
    assert.equal(mismatch.statusCode, 400);
    assert.equal((await post('Bearer alice:', ' alice ')).statusCode, 403);
    const created = await post('Bearer alice:BUYER', 'alice');
    assert.equal(created.statusCode, 201);
    assert.deepEqual(created.json(), { userId: 'alice', attached: true });
  });
});

test('hasRole: case-insensitive, trimmed required role, blank = off', () => {
  assert.equal(hasRole(['Buyer'], 'buyer'), true);
  assert.equal(hasRole(['buyer'], ' BUYER '), true);
  assert.equal(hasRole(['buyers'], 'buyer'), false);
  assert.equal(hasRole([], 'buyer'), false);
  assert.equal(hasRole([], ''), true);
  assert.equal(hasRole([], undefined), true);
});

test('principalOf is empty for a request that was never authenticated', () => {
  assert.equal(principalOf({}), undefined);
});

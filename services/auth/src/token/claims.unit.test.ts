import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import { decodeSegments } from '../test-support/jws.js';
import { decideClaims } from './claims.js';
import { signToken } from './sign.js';

const now = new Date('2026-02-11T10:00:00.123Z');
const ctx = { now, issuer: 'auth-service', kid: 'kid-1', defaultTtlSeconds: 3600 };

describe('decideClaims', () => {
  test('header and payload members come in the spec order', () => {
    const { header, payload } = decideClaims({ userId: 'u', roles: ['buyer'] }, ctx);
    assert.deepEqual(Object.keys(header), ['alg', 'typ', 'kid']);
    assert.deepEqual(Object.keys(payload), ['sub', 'user_id', 'roles', 'iss', 'iat', 'exp']);
  });

  test('trims the user id and every role; sub and user_id carry the same id', () => {
    const { payload } = decideClaims({ userId: '  alice ', roles: [' buyer', 'admin  '] }, ctx);
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.user_id, 'alice');
    assert.deepEqual(payload.roles, ['buyer', 'admin']);
  });

  test('absent or null roles become []', () => {
    assert.deepEqual(decideClaims({ userId: 'u' }, ctx).payload.roles, []);
    assert.deepEqual(decideClaims({ userId: 'u', roles: null }, ctx).payload.roles, []);
  });

  test('default TTL when absent or null; iat/exp whole seconds; expiresAt keeps the milliseconds', () => {
    for (const ttlSeconds of [undefined, null]) {
      const claims = decideClaims({ userId: 'u', ttlSeconds }, ctx);
      assert.equal(claims.payload.iat, 1770804000);
      assert.equal(claims.payload.exp, 1770804000 + 3600);
      assert.equal(claims.expiresAt.toISOString(), '2026-02-11T11:00:00.123Z');
    }
    const short = decideClaims({ userId: 'u', ttlSeconds: 60 }, { ...ctx, defaultTtlSeconds: 999 });
    assert.equal(short.payload.exp - short.payload.iat, 60);
    assert.equal(short.expiresAt.toISOString(), '2026-02-11T10:01:00.123Z');
  });

  test('issuer and kid come from the context', () => {
    const claims = decideClaims({ userId: 'u' }, { ...ctx, issuer: 'idp', kid: 'abc' });
    assert.equal(claims.payload.iss, 'idp');
    assert.equal(claims.header.kid, 'abc');
    assert.equal(claims.header.alg, 'RS256');
    assert.equal(claims.header.typ, 'JWT');
  });
});

describe('signToken', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  test('writes header and payload JSON byte-for-byte in the spec order, unpadded', async () => {
    const { header, payload } = decideClaims({ userId: 'u1', roles: ['buyer'] }, ctx);
    const token = await signToken(header, payload, privateKey);
    assert.doesNotMatch(token, /=/);
    const parts = decodeSegments(token);
    assert.equal(parts.header, '{"alg":"RS256","typ":"JWT","kid":"kid-1"}');
    assert.equal(
      parts.payload,
      '{"sub":"u1","user_id":"u1","roles":["buyer"],"iss":"auth-service","iat":1770804000,"exp":1770807600}',
    );
  });

  test('the signature is RS256 over header.payload (checked with node:crypto, not jose)', async () => {
    const { header, payload } = decideClaims({ userId: 'u1' }, ctx);
    const token = await signToken(header, payload, privateKey);
    const [h, p, s = ''] = token.split('.');
    assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url')));
    assert.ok(!verify('sha256', Buffer.from(`${h}.${p}x`), publicKey, Buffer.from(s, 'base64url')));
  });

  test('refuses an RSA key under 2048 bits', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const { header, payload } = decideClaims({ userId: 'u1' }, ctx);
    await assert.rejects(signToken(header, payload, weak.privateKey), /2048/);
  });
});

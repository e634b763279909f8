import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { buildKeyRing } from '../keys/key-ring.js';
import { toJwks } from './jwks.js';

const current = generateKeyPairSync('rsa', { modulusLength: 2048 });
const old = generateKeyPairSync('rsa', { modulusLength: 3072 });
const ring = buildKeyRing(current, 'cur', [{ kid: 'old', publicKey: old.publicKey }]);

describe('toJwks', () => {
  test('current key first, then previous keys; members kty, kid, use, alg, n, e in that order', () => {
    const { keys } = toJwks(ring);
    assert.deepEqual(
      keys.map((k) => k.kid),
      ['cur', 'old'],
    );
    for (const key of keys) {
      assert.deepEqual(Object.keys(key), ['kty', 'kid', 'use', 'alg', 'n', 'e']);
      assert.equal(key.kty, 'RSA');
      assert.equal(key.use, 'sig');
      assert.equal(key.alg, 'RS256');
    }
  });

  test('n and e are unpadded base64url, big-endian, with no leading zero byte', () => {
    const { keys } = toJwks(ring);
    const [cur, prev] = keys;
    for (const key of keys) {
      assert.match(key.n, /^[A-Za-z0-9_-]+$/);
      assert.equal(key.e, 'AQAB');
      assert.notEqual(Buffer.from(key.n, 'base64url')[0], 0);
    }
    assert.equal(Buffer.from(cur?.n ?? '', 'base64url').length, 256);
    assert.equal(Buffer.from(prev?.n ?? '', 'base64url').length, 384);
  });

  test('each JWK rebuilds exactly the key it announces', () => {
    const { keys } = toJwks(ring);
    const rebuilt = keys.map((jwk) => createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' }));
    assert.ok(rebuilt[0]?.equals(current.publicKey));
    assert.ok(rebuilt[1]?.equals(old.publicKey));
  });

  test('never leaks private parameters', () => {
    const text = JSON.stringify(toJwks(ring));
    for (const member of ['"d"', '"p"', '"q"', '"dp"', '"dq"', '"qi"']) assert.ok(!text.includes(member), member);
  });
});

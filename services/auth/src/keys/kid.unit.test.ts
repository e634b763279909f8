import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { describe, test } from 'node:test';
import { deriveKid } from './kid.js';

// A fixed key whose kid was computed outside Node, with the openssl CLI:
//   openssl pkey -pubin -in pub.pem -outform DER | openssl dgst -sha256 -binary \
//     | head -c 12 | base64 | tr '+/' '-_' | tr -d '='
const FIXTURE_PUBLIC_PEM = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAl9ABLki8rXdCJwKvzY9M
2TAt++ZQG4xyGhQN7rbsV9maKtbnKng2Xk9NhXUiTPPjzK1xHhe2TbTpehqp2LRI
LK6e3PakbXgw7tnF14AZ6xFF2hsvP15fxnJvZ1j7kKy+yHaiVyOTQ71TYEFtF6xH
1V7iUSUCWPwshWaj1NyMWghKfRkRZNfTrt3VqRt3c7ZRY2e7mvEcrtavHVvDeP3Q
ViTmEY5Oxjn81DhoTZu/y2EOv3VMYZbrg4R/hggOSomWegxT7Q+t8rRZjSRM9Bvj
DnlK90umEehLntZ1Xf3FUexCCs7IHa2+Mqo7MU2Gg6TRDKI3dW175AaVRWqOMQ6j
QQIDAQAB
-----END PUBLIC KEY-----`;
const FIXTURE_KID = 'RzzpzVTsEdr3SPOP';

describe('deriveKid', () => {
  test('matches the kid openssl computes for a fixed key', () => {
    assert.equal(deriveKid(createPublicKey(FIXTURE_PUBLIC_PEM)), FIXTURE_KID);
  });

  test('matches an independent WebCrypto computation (SPKI from the JWK, SHA-256, 12 bytes, base64url)', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' });
    const imported = await webcrypto.subtle.importKey(
      'jwk',
      jwk,
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      true,
      ['verify'],
    );
    const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', imported));
    const digest = new Uint8Array(await webcrypto.subtle.digest('SHA-256', spki)).slice(0, 12);
    const expected = btoa(String.fromCharCode(...digest))
      .replaceAll('+', '-')
      .replaceAll('/', '_')
      .replace(/=+$/, '');
    assert.equal(deriveKid(publicKey), expected);
  });

  test('is 16 base64url characters, and differs between keys', () => {
    const a = deriveKid(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
    const b = deriveKid(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
    assert.match(a, /^[A-Za-z0-9_-]{16}$/);
    assert.notEqual(a, b);
  });
});

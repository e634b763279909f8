import assert from 'node:assert/strict';
import { type KeyObject, verify } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadOrCreatePersistedKeyPair, SIGNING_KEY_FILE } from './keys/persisted-key.js';
import { craftToken, decodeSegments } from './test-support/jws.js';
import { introspect, issue, jwksOf, pemEnv, pemPair, rejectsWithConfigError, start } from './test-support/service.js';

// Key sources, rotation and DATA_DIR persistence, end to end through createService + inject().
describe('configured keys and settings', () => {
  const pair = pemPair();

  test('PEM env keys are used: JWKS modulus, derived kid, signature checked with node:crypto', async () => {
    const service = await start(pemEnv(pair));
    try {
      const [jwk, ...rest] = (await jwksOf(service)).keys;
      assert.equal(rest.length, 0);
      assert.equal(jwk?.n, pair.publicKey.export({ format: 'jwk' }).n);
      assert.equal(jwk?.kid, pair.kid);
      const [h, p, s = ''] = (await issue(service)).accessToken.split('.');
      assert.equal(JSON.parse(Buffer.from(h ?? '', 'base64url').toString()).kid, pair.kid);
      assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), pair.publicKey, Buffer.from(s, 'base64url')));
    } finally {
      await service.stop();
    }
  });

  test('key files, AUTH_RSA_KEY_ID (trimmed), AUTH_TOKEN_ISSUER and APP_AUTH_DEFAULT_TTL_SECONDS', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auth-files-'));
    try {
      await writeFile(join(dir, 'private.pem'), pair.privatePem, { mode: 0o600 });
      await writeFile(join(dir, 'public.pem'), pair.publicPem);
      const service = await start({
        AUTH_RSA_PRIVATE_KEY_FILE: join(dir, 'private.pem'),
        AUTH_RSA_PUBLIC_KEY_FILE: join(dir, 'public.pem'),
        AUTH_RSA_KEY_ID: '  key-2026-02  ',
        AUTH_TOKEN_ISSUER: 'shop-idp',
        APP_AUTH_DEFAULT_TTL_SECONDS: '600',
      });
      try {
        const token = (await issue(service)).accessToken;
        const { header, payload } = decodeSegments(token);
        assert.equal(JSON.parse(header).kid, 'key-2026-02');
        const claims = JSON.parse(payload);
        assert.equal(claims.iss, 'shop-idp');
        assert.equal(claims.exp - claims.iat, 600);
        assert.deepEqual(
          (await jwksOf(service)).keys.map((k) => [k.kid, k.n]),
          [['key-2026-02', pair.publicKey.export({ format: 'jwk' }).n]],
        );
        assert.equal((await introspect(service, token)).active, true);
        // A token from the default issuer is refused by a service configured with another one.
        assert.equal(
          (
            await introspect(
              service,
              craftToken(
                { alg: 'RS256', kid: 'key-2026-02' },
                { ...JSON.parse(payload), iss: 'auth-service' },
                pair.privateKey,
              ),
            )
          ).reason,
          'TOKEN_ISSUER_INVALID',
        );
      } finally {
        await service.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('only one PEM set → createService rejects naming the missing variable', async () => {
    await rejectsWithConfigError(start({ AUTH_RSA_PRIVATE_KEY_PEM: pair.privatePem }), /AUTH_RSA_PUBLIC_KEY_PEM/);
    await rejectsWithConfigError(start({ AUTH_RSA_PUBLIC_KEY_PEM: pair.publicPem }), /AUTH_RSA_PRIVATE_KEY_PEM/);
  });

  test('RSA keys under 2048 bits are refused at startup', async () => {
    const weak = pemPair(1024);
    await rejectsWithConfigError(start(pemEnv(weak)), /AUTH_RSA_PRIVATE_KEY_PEM: RSA key has 1024 bits/);
    await rejectsWithConfigError(
      start({ AUTH_RSA_PREVIOUS_PUBLIC_KEYS_PEM: weak.publicPem }),
      /AUTH_RSA_PREVIOUS_PUBLIC_KEYS_PEM.*1024 bits/,
    );
  });
});

describe('rotation window (AUTH_RSA_PREVIOUS_PUBLIC_KEYS_PEM)', () => {
  const oldPair = pemPair();
  const newPair = pemPair();

  test('tokens of the previous key stay active and its key stays published; only the current key signs', async () => {
    const oldService = await start(pemEnv(oldPair));
    const oldToken = (await issue(oldService)).accessToken;
    await oldService.stop();

    const rotated = await start({ ...pemEnv(newPair), AUTH_RSA_PREVIOUS_PUBLIC_KEYS_PEM: oldPair.publicPem });
    const retired = await start(pemEnv(newPair));
    try {
      assert.deepEqual(
        (await jwksOf(rotated)).keys.map((k) => k.kid),
        [newPair.kid, oldPair.kid],
      );
      assert.equal((await introspect(rotated, oldToken)).active, true);
      const newToken = (await issue(rotated)).accessToken;
      assert.equal(JSON.parse(decodeSegments(newToken).header).kid, newPair.kid);
      assert.equal((await introspect(rotated, newToken)).active, true);
      // A key in neither set is unknown.
      const stranger = pemPair();
      const strangerToken = craftToken(
        { alg: 'RS256', typ: 'JWT', kid: stranger.kid },
        JSON.parse(decodeSegments(newToken).payload),
        stranger.privateKey,
      );
      assert.equal((await introspect(rotated, strangerToken)).reason, 'TOKEN_KID_UNKNOWN');
      // Once the previous key is dropped from config, its tokens are unknown.
      assert.equal((await introspect(retired, oldToken)).reason, 'TOKEN_KID_UNKNOWN');
      assert.equal((await jwksOf(retired)).keys.length, 1);
    } finally {
      await rotated.stop();
      await retired.stop();
    }
  });

  test('a labelled previous key keeps its custom kid', async () => {
    const oldService = await start({ ...pemEnv(oldPair), AUTH_RSA_KEY_ID: 'legacy-1' });
    const oldToken = (await issue(oldService)).accessToken;
    await oldService.stop();
    const rotated = await start({
      ...pemEnv(newPair),
      AUTH_RSA_PREVIOUS_PUBLIC_KEYS_PEM: `kid: legacy-1\n${oldPair.publicPem}`,
    });
    try {
      assert.deepEqual(
        (await jwksOf(rotated)).keys.map((k) => k.kid),
        [newPair.kid, 'legacy-1'],
      );
      assert.equal((await introspect(rotated, oldToken)).active, true);
    } finally {
      await rotated.stop();
    }
  });
});

describe('persisted key under DATA_DIR', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'auth-data-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));
  const freshDir = () => mkdtemp(join(dataDir, 'case-'));

  test('generated once, 0600, atomically; a restart keeps the key so earlier tokens stay active', async () => {
    const dir = await freshDir();
    const first = await start({ DATA_DIR: dir });
    const token = (await issue(first)).accessToken;
    const kid = (await jwksOf(first)).keys[0]?.kid;
    await first.stop();

    const keyFile = join(dir, 'auth', SIGNING_KEY_FILE);
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    assert.match(await readFile(keyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.deepEqual(await readdir(join(dir, 'auth')), [SIGNING_KEY_FILE], 'no temp files left behind');

    const second = await start({ DATA_DIR: dir });
    try {
      assert.equal((await jwksOf(second)).keys[0]?.kid, kid);
      const result = await introspect(second, token);
      assert.equal(result.active, true, String(result.reason));
    } finally {
      await second.stop();
    }
  });

  test('two services started together on one empty DATA_DIR end with the same key', async () => {
    const dir = await freshDir();
    const [a, b] = await Promise.all([start({ DATA_DIR: dir }), start({ DATA_DIR: dir })]);
    try {
      const kidA = (await jwksOf(a)).keys[0]?.kid;
      assert.ok(kidA);
      assert.equal((await jwksOf(b)).keys[0]?.kid, kidA);
      assert.equal((await introspect(b, (await issue(a)).accessToken)).active, true);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test('racing creators: exactly one publishes, every one of them reads the same key', async () => {
    const dir = join(await freshDir(), 'auth');
    const results = await Promise.all(Array.from({ length: 5 }, () => loadOrCreatePersistedKeyPair(dir)));
    assert.equal(results.filter((r) => r.created).length, 1);
    const spki = (k: KeyObject) => k.export({ format: 'der', type: 'spki' }).toString('hex');
    assert.equal(new Set(results.map((r) => spki(r.publicKey))).size, 1);
    assert.deepEqual(await readdir(dir), [SIGNING_KEY_FILE]);
  });

  test('a corrupt key file fails startup and is never overwritten', async () => {
    const dir = await freshDir();
    const keyFile = join(dir, 'auth', SIGNING_KEY_FILE);
    await loadOrCreatePersistedKeyPair(join(dir, 'auth'));
    await writeFile(keyFile, 'garbage');
    await assert.rejects(start({ DATA_DIR: dir }), /signing-key\.pem .*fix or delete the file/);
    assert.equal(await readFile(keyFile, 'utf8'), 'garbage');
  });

  test('configured PEMs win over DATA_DIR: nothing is written there', async () => {
    const dir = await freshDir();
    const pair = pemPair();
    const service = await start({ ...pemEnv(pair), DATA_DIR: dir });
    try {
      assert.equal((await jwksOf(service)).keys[0]?.kid, pair.kid);
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await service.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, EnvReader, readCommonConfig } from '@ecom/platform';
import { readAuthConfig } from './config.js';

function read(vars: Record<string, string>) {
  const env = new EnvReader(vars);
  return readAuthConfig(env, readCommonConfig(env, 8084));
}

const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const PUBLIC_PEM = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();

function assertConfigError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('readAuthConfig', () => {
  test('defaults: issuer auth-service, TTL 3600, derived kid, ephemeral key, no previous keys', () => {
    const config = read({});
    assert.equal(config.issuer, 'auth-service');
    assert.equal(config.defaultTtlSeconds, 3600);
    assert.equal(config.explicitKid, undefined);
    assert.deepEqual(config.keySource, { kind: 'ephemeral' });
    assert.deepEqual(config.previousKeys, []);
  });

  test('reads issuer, TTL (also the relaxed-binding spelling) and a trimmed key id', () => {
    const config = read({ AUTH_TOKEN_ISSUER: 'idp', APP_AUTH_DEFAULT_TTL_SECONDS: '900', AUTH_RSA_KEY_ID: '  k1  ' });
    assert.equal(config.issuer, 'idp');
    assert.equal(config.defaultTtlSeconds, 900);
    assert.equal(config.explicitKid, 'k1');
    assert.equal(read({ APP_AUTH_DEFAULTTTLSECONDS: '120' }).defaultTtlSeconds, 120);
    assert.equal(read({ AUTH_RSA_KEY_ID: '   ' }).explicitKid, undefined);
  });

  test('a default TTL outside 60…86400 or not an integer fails naming the variable', () => {
    for (const bad of ['59', '86401', '1.5', 'soon']) {
      assertConfigError(() => read({ APP_AUTH_DEFAULT_TTL_SECONDS: bad }), /^APP_AUTH_DEFAULT_TTL_SECONDS/);
    }
  });

  test('DATA_DIR selects the persisted key under <DATA_DIR>/auth', () => {
    assert.deepEqual(read({ DATA_DIR: '/var/lib/ecom' }).keySource, {
      kind: 'persisted',
      dir: join('/var/lib/ecom', 'auth'),
    });
  });

  test('both PEMs → the configured pair, even with DATA_DIR set', () => {
    const source = read({
      AUTH_RSA_PRIVATE_KEY_PEM: PRIVATE_PEM,
      AUTH_RSA_PUBLIC_KEY_PEM: PUBLIC_PEM,
      DATA_DIR: '/x',
    }).keySource;
    assert.equal(source.kind, 'configured');
    assert.ok(
      source.kind === 'configured' &&
        source.privateKey.equals(pair.privateKey) &&
        source.publicKey.equals(pair.publicKey),
    );
  });

  test('only one PEM fails naming the missing variable', () => {
    assertConfigError(() => read({ AUTH_RSA_PRIVATE_KEY_PEM: PRIVATE_PEM }), /^AUTH_RSA_PUBLIC_KEY_PEM .*must be set/);
    assertConfigError(() => read({ AUTH_RSA_PUBLIC_KEY_PEM: PUBLIC_PEM }), /^AUTH_RSA_PRIVATE_KEY_PEM .*must be set/);
  });

  test('a PEM and a _FILE for the same key is ambiguous', () => {
    assertConfigError(
      () =>
        read({
          AUTH_RSA_PRIVATE_KEY_PEM: PRIVATE_PEM,
          AUTH_RSA_PRIVATE_KEY_FILE: '/k.pem',
          AUTH_RSA_PUBLIC_KEY_PEM: PUBLIC_PEM,
        }),
      /AUTH_RSA_PRIVATE_KEY_PEM and AUTH_RSA_PRIVATE_KEY_FILE are both set/,
    );
  });

  test('an unreadable key file fails naming the variable', () => {
    assertConfigError(
      () => read({ AUTH_RSA_PRIVATE_KEY_FILE: '/nonexistent/key.pem', AUTH_RSA_PUBLIC_KEY_PEM: PUBLIC_PEM }),
      /^AUTH_RSA_PRIVATE_KEY_FILE: cannot read \/nonexistent\/key.pem: ENOENT/,
    );
  });

  test('bad, weak or mismatched keys fail naming the variable', () => {
    assertConfigError(
      () => read({ AUTH_RSA_PRIVATE_KEY_PEM: 'garbage', AUTH_RSA_PUBLIC_KEY_PEM: PUBLIC_PEM }),
      /^AUTH_RSA_PRIVATE_KEY_PEM:/,
    );
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assertConfigError(
      () =>
        read({
          AUTH_RSA_PRIVATE_KEY_PEM: weak.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
          AUTH_RSA_PUBLIC_KEY_PEM: weak.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
        }),
      /^AUTH_RSA_PRIVATE_KEY_PEM: RSA key has 1024 bits/,
    );
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .publicKey.export({ format: 'pem', type: 'spki' })
      .toString();
    assertConfigError(
      () => read({ AUTH_RSA_PRIVATE_KEY_PEM: PRIVATE_PEM, AUTH_RSA_PUBLIC_KEY_PEM: other }),
      /does not belong/,
    );
  });

  test('previous public keys: blocks with optional kid labels; a bad block fails naming it', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const otherPem = other.export({ format: 'pem', type: 'spki' }).toString();
    const previous = read({ AUTH_RSA_PREVIOUS_PUBLIC_KEYS_PEM: `${PUBLIC_PEM}kid: legacy\n${otherPem}` }).previousKeys;
    assert.equal(previous.length, 2);
    assert.equal(previous[0]?.kid, undefined);
    assert.ok(previous[0]?.publicKey.equals(pair.publicKey));
    assert.equal(previous[1]?.kid, 'legacy');
    assert.ok(previous[1]?.publicKey.equals(other));
    assertConfigError(
      () => read({ AUTH_RSA_PREVIOUS_PUBLIC_KEYS_PEM: `${PUBLIC_PEM}${PRIVATE_PEM}` }),
      /^AUTH_RSA_PREVIOUS_PUBLIC_KEYS_PEM \(block 2\)/,
    );
  });
});

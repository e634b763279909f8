import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, EnvReader } from '../config/env.js';
import { readBearerConfig, readBlankable } from './config.js';

const read = (env: Record<string, string>) => readBearerConfig(new EnvReader(env));

test('defaults (operations.md §1.3 plus the new knobs)', () => {
  assert.deepEqual(read({}), {
    jwksUri: 'http://localhost:8084/.well-known/jwks.json',
    jwksCacheSeconds: 300,
    expectedIssuer: 'auth-service',
    clockSkewSeconds: 60,
    forcedRefreshMinIntervalMs: 10_000,
  });
});

test('values are read and trimmed', () => {
  assert.deepEqual(
    read({
      AUTH_JWKS_URI: ' https://auth.example/jwks ',
      AUTH_JWKS_CACHE_SECONDS: '1',
      AUTH_EXPECTED_ISSUER: ' issuer-x ',
      AUTH_CLOCK_SKEW_SECONDS: '0',
      AUTH_JWKS_FORCED_REFRESH_MIN_INTERVAL_MS: '0',
    }),
    {
      jwksUri: 'https://auth.example/jwks',
      jwksCacheSeconds: 1,
      expectedIssuer: 'issuer-x',
      clockSkewSeconds: 0,
      forcedRefreshMinIntervalMs: 0,
    },
  );
});

test('a set but blank AUTH_EXPECTED_ISSUER turns the issuer check off (it does not fall back)', () => {
  assert.equal(read({ AUTH_EXPECTED_ISSUER: '' }).expectedIssuer, '');
  assert.equal(read({ AUTH_EXPECTED_ISSUER: '   ' }).expectedIssuer, '');
  assert.equal(readBlankable(new EnvReader({ AUTH_REQUIRED_ORDER_ROLE: '' }), 'AUTH_REQUIRED_ORDER_ROLE', 'buyer'), '');
  assert.equal(readBlankable(new EnvReader({}), 'AUTH_REQUIRED_ORDER_ROLE', 'buyer'), 'buyer');
});

test('bad values fail at boot naming the variable', () => {
  const bad: Record<string, string>[] = [
    { AUTH_JWKS_CACHE_SECONDS: '0' },
    { AUTH_JWKS_CACHE_SECONDS: 'soon' },
    { AUTH_CLOCK_SKEW_SECONDS: '301' },
    { AUTH_CLOCK_SKEW_SECONDS: '-1' },
    { AUTH_JWKS_FORCED_REFRESH_MIN_INTERVAL_MS: '-5' },
    { AUTH_JWKS_URI: 'not a url' },
    { AUTH_JWKS_URI: 'ftp://auth/jwks' },
  ];
  for (const env of bad) {
    const [name] = Object.keys(env);
    assert.throws(
      () => read(env),
      (e: Error) => e instanceof ConfigError && e.message.startsWith(`${name}:`),
      JSON.stringify(env),
    );
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, EnvReader } from './env.js';

test('the first non-blank spelling wins; blank counts as unset', () => {
  const env = new EnvReader({ PAYMENT_MOCK_MODE: ' ', APP_PAYMENT_MOCK_MODE: 'fail' });
  assert.equal(
    env.oneOf(['PAYMENT_MOCK_MODE', 'APP_PAYMENT_MOCK_MODE'], ['SUCCESS', 'FAIL', 'HASHED'], 'SUCCESS'),
    'FAIL',
  );
  assert.equal(env.int('MISSING', 7), 7);
});

test('bad values fail naming the variable that carried them', () => {
  const env = new EnvReader({ A: '1.5', B: '0', C: 'maybe', D: 'nope', E: '70000' });
  assert.throws(
    () => env.int('A', 1),
    (e: Error) => e instanceof ConfigError && /^A:/.test(e.message),
  );
  assert.throws(() => env.int(['X', 'B'], 1, { min: 1 }), /ConfigError: B: must be >= 1, got 0$/);
  assert.throws(() => env.bool('C', true), /ConfigError: C:/);
  assert.throws(() => env.oneOf('D', ['on', 'off'], 'on'), /ConfigError: D: must be one of on, off, got "nope"$/);
  assert.throws(() => env.port('E', 80), /ConfigError: E:/);
});

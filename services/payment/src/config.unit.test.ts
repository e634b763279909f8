import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, EnvReader } from '@ecom/platform';
import { readPaymentConfig } from './config.js';

const read = (env: Record<string, string>) => readPaymentConfig(new EnvReader(env));

describe('payment-service configuration (operations.md §1.5)', () => {
  test('defaults: SUCCESS, MOCK_DECLINED, no amount rule', () => {
    assert.deepEqual(read({}), {
      policy: { mode: 'SUCCESS', failureReason: 'MOCK_DECLINED', declineAboveAmount: undefined },
      unknownMockMode: undefined,
    });
  });

  test('PAYMENT_MOCK_MODE wins over APP_PAYMENT_MOCK_MODE; either alone works; blank counts as unset', () => {
    assert.equal(read({ PAYMENT_MOCK_MODE: 'FAIL', APP_PAYMENT_MOCK_MODE: 'HASHED' }).policy.mode, 'FAIL');
    assert.equal(read({ APP_PAYMENT_MOCK_MODE: ' hashed ' }).policy.mode, 'HASHED');
    assert.equal(read({ PAYMENT_MOCK_MODE: '  ', APP_PAYMENT_MOCK_MODE: 'fail' }).policy.mode, 'FAIL');
    assert.equal(read({ APP_PAYMENT_MOCKMODE: 'FAIL' }).policy.mode, 'FAIL', 'relaxed binding without dashes');
  });

  test('an unknown mode falls back to SUCCESS (not a boot error) and is reported for the warning', () => {
    const config = read({ APP_PAYMENT_MOCK_MODE: 'sometimes' });
    assert.equal(config.policy.mode, 'SUCCESS');
    assert.deepEqual(config.unknownMockMode, { name: 'APP_PAYMENT_MOCK_MODE', value: 'sometimes' });
  });

  test('failure reason: PAYMENT_FAILURE_REASON wins over APP_PAYMENT_FAILURE_REASON; longer than 255 → ConfigError', () => {
    assert.equal(read({ PAYMENT_FAILURE_REASON: 'A', APP_PAYMENT_FAILURE_REASON: 'B' }).policy.failureReason, 'A');
    assert.equal(read({ APP_PAYMENT_FAILURE_REASON: 'B' }).policy.failureReason, 'B');
    assert.throws(
      () => read({ APP_PAYMENT_FAILURE_REASON: 'x'.repeat(256) }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /^APP_PAYMENT_FAILURE_REASON: at most 255/);
        return true;
      },
    );
  });

  test('PAYMENT_DECLINE_ABOVE_AMOUNT: a non-negative decimal; anything else fails boot naming the variable', () => {
    assert.equal(read({ PAYMENT_DECLINE_ABOVE_AMOUNT: '100' }).policy.declineAboveAmount, 100);
    assert.equal(read({ PAYMENT_DECLINE_ABOVE_AMOUNT: ' 99.50 ' }).policy.declineAboveAmount, 99.5);
    assert.equal(read({ PAYMENT_DECLINE_ABOVE_AMOUNT: '' }).policy.declineAboveAmount, undefined);
    for (const bad of ['-1', 'abc', '1e3', '100abc', '1,000']) {
      assert.throws(
        () => read({ PAYMENT_DECLINE_ABOVE_AMOUNT: bad }),
        (err: Error) => err instanceof ConfigError && err.message.startsWith('PAYMENT_DECLINE_ABOVE_AMOUNT:'),
        bad,
      );
    }
  });
});

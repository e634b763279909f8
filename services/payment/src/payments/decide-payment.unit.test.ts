import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { javaHashSaysSuccess, SPEC_HASHED_EXAMPLES } from '../test-support/java-hash.js';
import { type AmountCheck, decidePayment, type PaymentDecision, type PaymentPolicy } from './decide-payment.js';
import { hashedSucceeds, MOCK_MODES, parseMockMode } from './mock-mode.js';

const EVEN = 'a32ee3e5-0f81-4a88-a361-f1f2158dfdbf';
const ODD = '4d8e1012-e736-4d43-b955-ed169d37efda';

describe('HASHED rule (http-api.md §4.1)', () => {
  for (const [uuid, expected] of SPEC_HASHED_EXAMPLES) {
    test(`${uuid} → ${expected} (spec example)`, () => {
      assert.equal(hashedSucceeds(uuid), expected === 'success');
      assert.equal(javaHashSaysSuccess(uuid), expected === 'success', 'the reference agrees with the spec example');
    });
  }

  test('equals the parity of Java UUID.hashCode() for 20 000 random UUIDs', () => {
    fc.assert(
      fc.property(fc.uuid(), (uuid) => hashedSucceeds(uuid) === javaHashSaysSuccess(uuid)),
      { numRuns: 20_000 },
    );
  });

  test('reads exactly the hex digits 7, 15, 23 and 31: flipping the low bit of any other digit changes nothing', () => {
    const base = '00000000-0000-0000-0000-000000000000';
    const hexIndexToPos = (i: number) =>
      i + (i >= 8 ? 1 : 0) + (i >= 12 ? 1 : 0) + (i >= 16 ? 1 : 0) + (i >= 20 ? 1 : 0);
    for (let i = 0; i < 32; i++) {
      const pos = hexIndexToPos(i);
      const flipped = `${base.slice(0, pos)}1${base.slice(pos + 1)}`;
      assert.equal(hashedSucceeds(flipped), ![7, 15, 23, 31].includes(i), `hex digit ${i}`);
    }
    // Two decisive bits cancel out: XOR, not OR.
    assert.equal(hashedSucceeds('00000001-0000-0001-0000-000000000000'), true);
  });

  test('is case-insensitive and refuses what is not a UUID', () => {
    assert.equal(hashedSucceeds(ODD.toUpperCase()), false);
    assert.equal(hashedSucceeds(EVEN.toUpperCase()), true);
    assert.throws(() => hashedSucceeds('not-a-uuid'), RangeError);
    assert.throws(() => hashedSucceeds(EVEN.replaceAll('-', '')), RangeError);
  });
});

describe('mock mode parsing (§4.1: trimmed, case-insensitive, unknown → SUCCESS)', () => {
  test('known values in any case, with spaces', () => {
    assert.deepEqual(parseMockMode(' hashed '), { mode: 'HASHED', known: true });
    assert.deepEqual(parseMockMode('Fail'), { mode: 'FAIL', known: true });
    assert.deepEqual(parseMockMode('SUCCESS'), { mode: 'SUCCESS', known: true });
  });
  test('unset or blank → SUCCESS; unknown → SUCCESS flagged as unknown', () => {
    assert.deepEqual(parseMockMode(undefined), { mode: 'SUCCESS', known: true });
    assert.deepEqual(parseMockMode('  '), { mode: 'SUCCESS', known: true });
    assert.deepEqual(parseMockMode('RANDOM'), { mode: 'SUCCESS', known: false });
  });
});

describe('decidePayment: (policy, request) → outcome', () => {
  const policy = (mode: PaymentPolicy['mode'], declineAboveAmount?: number): PaymentPolicy => ({
    mode,
    failureReason: 'CARD_DECLINED',
    declineAboveAmount,
  });
  const ok = (amountCheck: AmountCheck): PaymentDecision => ({ status: 'SUCCEEDED', reason: null, amountCheck });
  const no = (reason: string, amountCheck: AmountCheck): PaymentDecision => ({ status: 'FAILED', reason, amountCheck });

  // Every mode × limit (off / 100) × amount (absent / below / equal / above) × order parity:
  // 3 × 2 × 4 × 2 = 48 cases, each with its expected outcome written out by rule.
  const amounts = [undefined, 50, 100, 100.01] as const;
  const expected = (
    mode: PaymentPolicy['mode'],
    limit: number | undefined,
    amount: number | undefined,
    even: boolean,
  ): PaymentDecision => {
    if (mode === 'FAIL') return no('CARD_DECLINED', 'not_applied');
    const check: AmountCheck =
      limit === undefined ? 'off' : amount === undefined ? 'unknown' : amount > limit ? 'above' : 'within';
    if (check === 'above') return no('AMOUNT_ABOVE_LIMIT:100', 'above');
    if (mode === 'SUCCESS' || even) return ok(check);
    return no('CARD_DECLINED', check);
  };
  for (const mode of MOCK_MODES) {
    for (const limit of [undefined, 100]) {
      for (const amount of amounts) {
        for (const [orderId, even] of [
          [EVEN, true],
          [ODD, false],
        ] as const) {
          const want = expected(mode, limit, amount, even);
          test(`${mode}, limit ${limit ?? 'off'}, amount ${amount ?? 'absent'}, ${even ? 'even' : 'odd'} order → ${want.status}${want.reason ? ` ${want.reason}` : ''}`, () => {
            assert.deepEqual(decidePayment(policy(mode, limit), { orderId, totalAmount: amount }), want);
          });
        }
      }
    }
  }

  test('given/when/then: SUCCESS with a limit declines only strictly above it, naming the rule and the limit', () => {
    const p = policy('SUCCESS', 99.5);
    assert.deepEqual(decidePayment(p, { orderId: randomUUID(), totalAmount: 99.5 }), ok('within'));
    assert.deepEqual(
      decidePayment(p, { orderId: randomUUID(), totalAmount: 99.51 }),
      no('AMOUNT_ABOVE_LIMIT:99.5', 'above'),
    );
    assert.deepEqual(decidePayment(policy('SUCCESS', 0), { orderId: randomUUID(), totalAmount: 0.01 }), {
      status: 'FAILED',
      reason: 'AMOUNT_ABOVE_LIMIT:0',
      amountCheck: 'above',
    });
  });

  test('FAIL ignores the amount rule: the configured reason, even far above the limit', () => {
    assert.deepEqual(
      decidePayment(policy('FAIL', 10), { orderId: EVEN, totalAmount: 1_000_000 }),
      no('CARD_DECLINED', 'not_applied'),
    );
  });

  test('HASHED: the amount rule wins over an even (succeeding) order id', () => {
    assert.deepEqual(
      decidePayment(policy('HASHED', 10), { orderId: EVEN, totalAmount: 11 }),
      no('AMOUNT_ABOVE_LIMIT:10', 'above'),
    );
  });

  test('the decision is a pure function: same input, same outcome, for any order and amount', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MOCK_MODES),
        fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }),
        fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }),
        fc.uuid(),
        (mode, limit, amount, orderId) => {
          const p = { mode, failureReason: 'X', declineAboveAmount: limit };
          const first = decidePayment(p, { orderId, totalAmount: amount });
          assert.deepEqual(decidePayment(p, { orderId, totalAmount: amount }), first);
          assert.equal(first.status === 'FAILED', first.reason !== null, 'a reason exactly when it failed');
        },
      ),
      { numRuns: 2000 },
    );
  });
});

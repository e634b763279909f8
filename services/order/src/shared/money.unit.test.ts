import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exceedsMaximum, type Money, moneyFromDb, moneyToNumber, roundMoney, totalOf } from './money.js';

describe('money: half-up to 2 decimals, never binary floating point', () => {
  const cases: [number | string, string][] = [
    [0.005, '0.01'],
    [19.994, '19.99'],
    [19.995, '20.00'],
    [19.9, '19.90'],
    [8.5, '8.50'],
    [1.005, '1.01'], // 1.00499999999999989… as a double; the original's BigDecimal(String) gives 1.01
    [2.675, '2.68'], // the classic toFixed trap (2.67)
    [1.015, '1.02'],
    [0.015, '0.02'],
    [10, '10.00'],
    [0.004, '0.00'],
    ['9999999999.994', '9999999999.99'],
    ['9999999999.995', '10000000000.00'],
  ];
  for (const [input, expected] of cases) {
    test(`${input} → ${expected}`, () => assert.equal(roundMoney(input), expected));
  }

  test('totals are exact sums of rounded prices × quantities', () => {
    const items = [
      { price: roundMoney(19.9), quantity: 2 },
      { price: roundMoney(8.5), quantity: 1 },
    ];
    assert.equal(totalOf(items), '48.30');
    // 0.1 + 0.2 in binary is 0.30000000000000004
    assert.equal(
      totalOf([
        { price: roundMoney(0.1), quantity: 1 },
        { price: roundMoney(0.2), quantity: 1 },
      ]),
      '0.30',
    );
    assert.equal(totalOf([{ price: roundMoney(0.01), quantity: 2_147_483_647 }]), '21474836.47');
  });

  test('the NUMERIC(12,2) maximum is 9 999 999 999.99', () => {
    assert.equal(exceedsMaximum('9999999999.99' as Money), false);
    assert.equal(exceedsMaximum('10000000000.00' as Money), true);
    assert.equal(exceedsMaximum(totalOf([{ price: roundMoney(5_000_000_000), quantity: 2 }])), true);
  });

  test('database text is normalized; numbers for JSON writers lose only trailing zeros', () => {
    assert.equal(moneyFromDb('39.80'), '39.80');
    assert.equal(moneyFromDb('39.8'), '39.80');
    assert.equal(moneyToNumber('39.80' as Money), 39.8);
  });

  test('a non-finite amount is refused', () => {
    assert.throws(() => roundMoney(Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => roundMoney(Number.NaN), RangeError);
  });
});

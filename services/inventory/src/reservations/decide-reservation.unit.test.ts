import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aggregateItems, decideReservation, oversizedItem } from './decide-reservation.js';

test('aggregateItems sums per SKU and keeps first-appearance order', () => {
  assert.deepEqual(
    aggregateItems([
      { skuId: 'B', quantity: 1 },
      { skuId: 'A', quantity: 2 },
      { skuId: 'B', quantity: 3 },
    ]),
    [
      { skuId: 'B', quantity: 4 },
      { skuId: 'A', quantity: 2 },
    ],
  );
  assert.deepEqual(oversizedItem(aggregateItems([{ skuId: 'A', quantity: 2 ** 31 - 1 }])), undefined);
  assert.equal(
    oversizedItem(
      aggregateItems([
        { skuId: 'A', quantity: 2 ** 31 - 1 },
        { skuId: 'A', quantity: 1 },
      ]),
    )?.skuId,
    'A',
  );
});

test('decideReservation: every SKU must exist (first missing in request order), then every SKU must suffice', () => {
  const stock = new Map([
    ['A', 5],
    ['B', 0],
  ]);
  assert.deepEqual(
    decideReservation(
      [
        { skuId: 'A', quantity: 9 },
        { skuId: 'X', quantity: 1 },
        { skuId: 'Y', quantity: 1 },
      ],
      stock,
    ),
    { status: 'FAILED', reason: 'SKU_NOT_FOUND:X' },
    'a missing SKU wins over a short one',
  );
  assert.deepEqual(
    decideReservation(
      [
        { skuId: 'A', quantity: 6 },
        { skuId: 'B', quantity: 1 },
      ],
      stock,
    ),
    { status: 'FAILED', reason: 'INSUFFICIENT_STOCK:A available=5 requested=6' },
  );
  assert.deepEqual(decideReservation([{ skuId: 'A', quantity: 5 }], stock), { status: 'RESERVED' });
  assert.deepEqual(decideReservation([{ skuId: 'B', quantity: 1 }], stock), {
    status: 'FAILED',
    reason: 'INSUFFICIENT_STOCK:B available=0 requested=1',
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OrderStatus } from '../orders/order.js';
import { decideTransition } from './decide-transition.js';
import type { SagaDecision, SagaTrigger } from './saga-trigger.js';

const reserved: SagaTrigger = { kind: 'InventoryReserved' };
const invFailed: SagaTrigger = { kind: 'InventoryFailed', reason: 'INSUFFICIENT_STOCK:SKU-1 available=0 requested=1' };
const released: SagaTrigger = { kind: 'InventoryReleased', reason: 'PAYMENT_FAILED' };
const paid: SagaTrigger = { kind: 'PaymentSucceeded' };
const payFailed: SagaTrigger = { kind: 'PaymentFailed', reason: 'MOCK_DECLINED' };
const deadline: SagaTrigger = { kind: 'Deadline' };

const state = (status: OrderStatus, statusCause: string | null = 'HTTP') => ({ status, statusCause });
const to = (decision: SagaDecision) => (decision.kind === 'transition' ? decision.to : `ignore:${decision.note}`);

describe('the order lifecycle table (spec README), given state + event → decision', () => {
  // [trigger, NEW, RESERVED, CONFIRMED, FAILED (by an event)]
  const table: [SagaTrigger, string, string, string, string][] = [
    [reserved, 'RESERVED', 'ignore:NOT_APPLICABLE', 'ignore:NOT_APPLICABLE', 'ignore:NOT_APPLICABLE'],
    [invFailed, 'FAILED', 'FAILED', 'ignore:NOT_APPLICABLE', 'ignore:NOT_APPLICABLE'],
    [paid, 'CONFIRMED', 'CONFIRMED', 'ignore:NOT_APPLICABLE', 'ignore:NOT_APPLICABLE'],
    [payFailed, 'FAILED', 'FAILED', 'ignore:NOT_APPLICABLE', 'ignore:NOT_APPLICABLE'],
    [released, 'ignore:AUDIT_ONLY', 'ignore:AUDIT_ONLY', 'ignore:AUDIT_ONLY', 'ignore:AUDIT_ONLY'],
    [deadline, 'FAILED', 'FAILED', 'ignore:NOT_APPLICABLE', 'ignore:NOT_APPLICABLE'],
  ];
  const statuses: OrderStatus[] = ['NEW', 'RESERVED', 'CONFIRMED', 'FAILED'];
  for (const [trigger, ...expected] of table) {
    for (const [i, status] of statuses.entries()) {
      test(`${trigger.kind} on ${status} → ${expected[i]}`, () => {
        assert.equal(
          to(decideTransition(state(status, status === 'FAILED' ? 'PaymentFailed' : 'HTTP'), trigger)),
          expected[i],
        );
      });
    }
  }

  test('NEW → CONFIRMED when the payment result comes first (legal: two queues)', () => {
    const d = decideTransition(state('NEW'), paid);
    assert.deepEqual(d, { kind: 'transition', to: 'CONFIRMED', reason: null, release: null, completes: 'confirmed' });
  });

  test('PaymentFailed requests the release (PAYMENT_FAILED) only when it transitions', () => {
    for (const status of ['NEW', 'RESERVED'] as const) {
      assert.deepEqual(decideTransition(state(status), payFailed), {
        kind: 'transition',
        to: 'FAILED',
        reason: 'MOCK_DECLINED',
        release: 'PAYMENT_FAILED',
        completes: 'payment_failed',
      });
    }
    assert.equal(decideTransition(state('CONFIRMED'), payFailed).release, null);
    assert.equal(decideTransition(state('FAILED', 'InventoryFailed'), payFailed).release, null);
  });

  test('InventoryFailed keeps its reason and requests no release', () => {
    assert.deepEqual(decideTransition(state('RESERVED'), invFailed), {
      kind: 'transition',
      to: 'FAILED',
      reason: invFailed.kind === 'InventoryFailed' ? invFailed.reason : '',
      release: null,
      completes: 'inventory_failed',
    });
  });

  test('the deadline fails an in-flight order with SAGA_TIMEOUT and requests the release', () => {
    for (const status of ['NEW', 'RESERVED'] as const) {
      assert.deepEqual(decideTransition(state(status), deadline), {
        kind: 'transition',
        to: 'FAILED',
        reason: 'SAGA_TIMEOUT',
        release: 'SAGA_TIMEOUT',
        completes: 'timeout',
      });
    }
  });

  test('results after the deadline are LATE; a late InventoryReserved re-requests the release', () => {
    const timedOut = state('FAILED', 'DEADLINE');
    assert.deepEqual(decideTransition(timedOut, reserved), { kind: 'ignore', note: 'LATE', release: 'SAGA_TIMEOUT' });
    for (const t of [paid, payFailed, invFailed]) {
      assert.deepEqual(decideTransition(timedOut, t), { kind: 'ignore', note: 'LATE', release: null }, t.kind);
    }
    // The release's own confirmation is expected, not late.
    assert.deepEqual(decideTransition(timedOut, released), { kind: 'ignore', note: 'AUDIT_ONLY', release: null });
  });

  test('a result for an order failed by an event is not late, and never re-requests a release', () => {
    const failed = state('FAILED', 'PaymentFailed');
    assert.deepEqual(decideTransition(failed, reserved), { kind: 'ignore', note: 'NOT_APPLICABLE', release: null });
    assert.deepEqual(decideTransition(failed, paid), { kind: 'ignore', note: 'NOT_APPLICABLE', release: null });
  });
});

/**
 * 1,000 mixed orders through the whole saga — half over the payment decline amount, some for
 * stock that runs out — on the real servers and on the embedded default; then the invariant
 * checker: every order terminal, one reservation and one payment per confirmed order, stock
 * conserved, outboxes drained, DLQs empty.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { waitFor } from '@ecom/platform/testing';
import { checkInvariants } from '../invariants.js';
import { placeOrder, seed, token } from './client.js';
import { type StackMode, startStack } from './stack.js';

const ORDERS = Number(process.env.E2E_LOAD_ORDERS ?? 1000);
const CONCURRENCY = 16;

for (const mode of ['real', 'embedded'] as StackMode[]) {
  test(`${ORDERS} mixed orders on ${mode === 'real' ? 'the real servers' : 'the embedded default'}: the invariants hold`, async () => {
    const stack = await startStack(mode, { per: { payment: { PAYMENT_DECLINE_ABOVE_AMOUNT: '1000' } } });
    try {
      const mug = `MUG-${stack.ns}`;
      const grinder = `GRINDER-${stack.ns}`;
      const rare = `RARE-${stack.ns}`;
      const products = [
        { skuId: mug, price: 19.9, stock: ORDERS },
        { skuId: grinder, price: 1499, stock: ORDERS },
        { skuId: rare, price: 5, stock: 25 },
      ];
      await seed(stack, products);
      const bearer = await token(stack, 'load-buyer', ['buyer']);
      const plan = Array.from(
        { length: ORDERS },
        (_, i) =>
          i % 4 < 2
            ? { skuId: grinder, quantity: 1, price: 1499 } // declined: over the amount
            : i % 4 === 2
              ? { skuId: mug, quantity: 2, price: 19.9 } // confirmed
              : { skuId: rare, quantity: 1, price: 5 }, // the first 25 confirmed, then out of stock
      );
      const ids: string[] = [];
      const started = Date.now();
      let next = 0;
      let retried = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < plan.length) {
            const item = plan[next++]!;
            // A well-behaved client: a 503 (Retry-After) is retried with the SAME key, so a
            // retry can never create a second order.
            const key = randomUUID();
            let res = await placeOrder(stack, bearer, { userId: 'load-buyer', items: [item] }, { key });
            for (let attempt = 0; res.status === 503 && attempt < 10; attempt++) {
              retried++;
              await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
              res = await placeOrder(stack, bearer, { userId: 'load-buyer', items: [item] }, { key });
            }
            assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
            ids.push(res.body.orderId);
          }
        }),
      );
      const placedMs = Date.now() - started;
      await waitFor(
        async () => {
          const [row] = await stack
            .db('order')
            .query<{ n: number }>(
              "SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[]) AND status NOT IN ('CONFIRMED', 'FAILED')",
              [ids],
            );
          return row?.n === 0;
        },
        { timeoutMs: 240_000, intervalMs: 500 },
      );
      // Let the last compensations (releases) land before checking stock.
      await waitFor(
        async () => {
          for (const name of ['order', 'inventory', 'payment'] as const) {
            const [row] = await stack
              .db(name)
              .query<{ n: number }>("SELECT count(*)::int AS n FROM outbox_events WHERE status = 'PENDING'");
            if ((row?.n ?? 0) > 0) return false;
          }
          const [live] = await stack.db('inventory').query<{ n: number }>(
            `SELECT count(*)::int AS n FROM inventory_reservations r
              WHERE r.status = 'RESERVED' AND r.order_id = ANY($1::uuid[])`,
            [ids],
          );
          const [confirmed] = await stack
            .db('order')
            .query<{ n: number }>(
              "SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[]) AND status = 'CONFIRMED'",
              [ids],
            );
          return live?.n === confirmed?.n;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );
      const totalMs = Date.now() - started;
      const report = await checkInvariants({
        order: stack.db('order'),
        inventory: stack.db('inventory'),
        payment: stack.db('payment'),
        initialStock: new Map(products.map((p) => [p.skuId, p.stock])),
        orderIds: ids,
        dlqs: {
          transport: stack.transport,
          queues: [
            'q.inventory.order-created.dlq',
            'q.inventory.release-requested.dlq',
            'q.payment.inventory-reserved.dlq',
            'q.order.inventory-result.dlq',
            'q.order.payment-result.dlq',
            'q.notification.payment-result.dlq',
          ].map(stack.name),
        },
      });
      assert.deepEqual(report.violations, []);
      const expectedConfirmed = Math.floor(ORDERS / 4) + Math.min(25, Math.floor(ORDERS / 4));
      assert.equal(report.counts.confirmed, expectedConfirmed);
      assert.equal(report.counts.failed, ORDERS - expectedConfirmed);
      console.log(
        `# ${mode}: ${ORDERS} orders placed in ${placedMs} ms, all terminal and compensated in ${totalMs} ms ` +
          `(${report.counts.confirmed} confirmed, ${report.counts.failed} failed; ${retried} retries after a 503)`,
      );
    } finally {
      await stack.close();
    }
  });
}

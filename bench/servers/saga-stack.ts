/**
 * The whole platform for saga-throughput, in this child process: the six services started by the
 * e2e harness (`startStack('real')`, tests/e2e/stack.ts) exactly as the e2e suite runs them — one
 * process, their own databases on the real PostgreSQL, a RabbitMQ namespace, a Redis key prefix,
 * LOG_LEVEL=warn, outbox poll 200 ms, retry TTL 300 ms. payment declines above
 * PAYMENT_DECLINE_ABOVE_AMOUNT=1000 (the bench orders stay under it). `stack.close()` on stop drops
 * the databases and deletes the namespace's topology.
 *
 * Calls: { op: 'info' } → urls, namespace, database names; { op: 'invariants', initialStock } →
 * the invariant checker (tests/invariants.ts) over every order, with the six DLQs.
 */

import { startStack } from '../../tests/e2e/stack.js';
import { checkInvariants } from '../../tests/invariants.js';
import { guardChild, serveCalls, signalReady } from '../lib/child-guard.js';

// BENCH_SAGA_STACK_ENV="K=V,K2=V2": extra environment for every service (experiments such as
// MESSAGING_PREFETCH or INVENTORY_DB_POOL_SIZE); printed by the scenario and kept in its report.
const extra = Object.fromEntries(
  (process.env.BENCH_SAGA_STACK_ENV ?? '')
    .split(',')
    .map((kv) => kv.trim())
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const stack = await startStack('real', { env: extra, per: { payment: { PAYMENT_DECLINE_ABOVE_AMOUNT: '1000' } } });
const DLQS = [
  'q.inventory.order-created.dlq',
  'q.inventory.release-requested.dlq',
  'q.payment.inventory-reserved.dlq',
  'q.order.inventory-result.dlq',
  'q.order.payment-result.dlq',
  'q.notification.payment-result.dlq',
];

serveCalls(async (request) => {
  const req = request as { op: 'info' } | { op: 'invariants'; initialStock: [string, number][] };
  if (req.op === 'info') {
    return {
      urls: stack.urls,
      ns: stack.ns,
      databases: Object.fromEntries(
        (['order', 'inventory', 'payment', 'notification', 'catalog'] as const).map((n) => [n, `${stack.ns}_${n}`]),
      ),
    };
  }
  if (req.op === 'invariants') {
    return checkInvariants({
      order: stack.db('order'),
      inventory: stack.db('inventory'),
      payment: stack.db('payment'),
      initialStock: new Map(req.initialStock),
      dlqs: { transport: stack.transport, queues: DLQS.map(stack.name) },
    });
  }
  throw new Error(`unknown op ${JSON.stringify(request)}`);
});

guardChild(() => stack.close(), { hardExitMs: 30_000 });
signalReady();

/**
 * The whole platform for saga-throughput, driven from this child process, in one of two shapes
 * (BENCH_SAGA_TOPOLOGY):
 *
 * - `one-process` (default): the six services started by the e2e harness (`startStack('real')`,
 *   tests/e2e/stack.ts) exactly as the e2e suite and `npm start` run them — one process, one
 *   event loop for all six.
 * - `processes`: one process per service, each started as production starts a service alone
 *   (`node … services/<name>/src/main.ts`, scripts/reliability/fleet.ts — what deploy/ and
 *   `npm run scale` run), this child only supervising them.
 *
 * Either way: their own databases on the real PostgreSQL, a RabbitMQ namespace, a Redis key
 * prefix, LOG_LEVEL=warn, outbox poll 200 ms, retry TTL 300 ms; payment declines above
 * PAYMENT_DECLINE_ABOVE_AMOUNT=1000 (the bench orders stay under it). Closing drops the databases
 * and deletes the namespace's topology.
 *
 * Calls: { op: 'info' } → urls, namespace, database names; { op: 'cpu' } → CPU ms of
 * the service processes other than this one (0 for one-process); { op: 'invariants',
 * initialStock } → the invariant checker (tests/invariants.ts) over every order, with the six DLQs.
 */

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAmqpTransport, type Database, type Transport } from '@ecom/platform';
import { deleteNamespacedTopology, TEST_AMQP_URL } from '@ecom/platform/testing';
import { type Dbs, openDbs } from '../../scripts/reliability/check.js';
import { Fleet, type ServiceName } from '../../scripts/reliability/fleet.js';
import { sharedInfra } from '../../scripts/reliability/lab.js';
import { ALL, startStack } from '../../tests/e2e/stack.js';
import { checkInvariants } from '../../tests/invariants.js';
import { guardChild, serveCalls, signalReady } from '../lib/child-guard.js';
import { processCpuTimeMs } from '../lib/child-server.js';

// BENCH_SAGA_STACK_ENV="K=V,K2=V2": extra environment for every service (experiments such as
// MESSAGING_PREFETCH or INVENTORY_DB_POOL_SIZE); printed by the scenario and kept in its report.
const extra = Object.fromEntries(
  (process.env.BENCH_SAGA_STACK_ENV ?? '')
    .split(',')
    .map((kv) => kv.trim())
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const topology = process.env.BENCH_SAGA_TOPOLOGY ?? 'one-process';
if (topology !== 'one-process' && topology !== 'processes')
  throw new Error(`BENCH_SAGA_TOPOLOGY must be one-process or processes, not ${topology}`);
const DECLINE = { PAYMENT_DECLINE_ABOVE_AMOUNT: '1000' };
const DLQS = [
  'q.inventory.order-created.dlq',
  'q.inventory.release-requested.dlq',
  'q.payment.inventory-reserved.dlq',
  'q.order.inventory-result.dlq',
  'q.order.payment-result.dlq',
  'q.notification.payment-result.dlq',
];

interface Running {
  ns: string;
  urls: Record<string, string>;
  db(name: 'order' | 'inventory' | 'payment'): Database;
  transport: Transport;
  /** CPU ms of service processes that are not this one. */
  otherCpuMs(): number;
  close(): Promise<void>;
}

async function oneProcess(): Promise<Running> {
  const stack = await startStack('real', { env: extra, per: { payment: DECLINE } });
  return {
    ns: stack.ns,
    urls: stack.urls,
    db: (name) => stack.db(name),
    transport: stack.transport,
    otherCpuMs: () => 0,
    close: () => stack.close(),
  };
}

async function processes(): Promise<Running> {
  const ns = `saga${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const infra = sharedInfra(ns);
  const dir = mkdtempSync(join(tmpdir(), 'saga-fleet-'));
  const fleet = new Fleet({
    infra,
    ns,
    logDir: join(dir, 'logs'),
    dataDir: join(dir, 'data'),
    env: {
      APP_OUTBOX_POLL_INTERVAL_MS: '200',
      APP_MESSAGING_RETRY_TTL_MS: '300',
      ORDER_CATALOG_TIMEOUT_MS: '10000',
      ...extra,
    },
    per: { payment: DECLINE },
  });
  let dbs: Dbs | undefined;
  let transport: Transport | undefined;
  const close = async () => {
    await fleet.stopAll().catch(() => undefined);
    await dbs?.close();
    await transport?.close().catch(() => undefined);
    infra.teardown();
    await deleteNamespacedTopology(TEST_AMQP_URL, `${ns}.`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await fleet.plan(Object.fromEntries(ALL.map((n) => [n, 1])) as Record<ServiceName, number>);
    await fleet.startAll(ALL);
    const opened = await openDbs(infra, ns);
    dbs = opened;
    transport = await createAmqpTransport({ url: infra.amqpUrl, connectionName: 'saga-bench-checker' });
    const t = transport;
    return {
      ns,
      urls: Object.fromEntries(ALL.map((n) => [n, fleet.urlOf(n)])),
      db: (name) => opened[name],
      transport: t,
      otherCpuMs: () => fleet.procs.reduce((sum, p) => sum + (p.pid ? processCpuTimeMs(p.pid) : 0), 0),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

const running = topology === 'processes' ? await processes() : await oneProcess();

serveCalls(async (request) => {
  const req = request as { op: 'info' } | { op: 'cpu' } | { op: 'invariants'; initialStock: [string, number][] };
  if (req.op === 'info') {
    return {
      urls: running.urls,
      ns: running.ns,
      databases: Object.fromEntries(
        (['order', 'inventory', 'payment', 'notification', 'catalog'] as const).map((n) => [n, `${running.ns}_${n}`]),
      ),
    };
  }
  if (req.op === 'cpu') return running.otherCpuMs();
  if (req.op === 'invariants') {
    return checkInvariants({
      order: running.db('order'),
      inventory: running.db('inventory'),
      payment: running.db('payment'),
      initialStock: new Map(req.initialStock),
      dlqs: { transport: running.transport, queues: DLQS.map((q) => `${running.ns}.${q}`) },
    });
  }
  throw new Error(`unknown op ${JSON.stringify(request)}`);
});

guardChild(() => running.close(), { hardExitMs: 30_000 });
signalReady();

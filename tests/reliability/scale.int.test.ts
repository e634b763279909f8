/**
 * Scale-out in CI: scripts/scale.ts with a smaller load — two processes each of order,
 * inventory and payment (OUTBOX_RELAYS=2 each) and two auth processes sharing one key, on ONE
 * PostgreSQL / RabbitMQ / Redis: the run's own lab (`scalelab`, beside the fault lab, so both
 * tests may run at once). Exactly-once effects hold, every replica did a share of the work, and
 * the auth replicas accept each other's tokens. When the lab cannot be created here, this test
 * FAILS and says why (never a skip).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScript } from './harness.js';

const ORDERS = process.env.RELIABILITY_SCALE_ORDERS ?? '300';

interface Share {
  process: string;
  handled: number;
  published: number;
  duplicates: number;
  httpOrders: number;
}

interface ScaleSummary {
  ok: boolean;
  labError?: string;
  /** The run itself failed (a lab server that did not come back, …). */
  error?: string;
  orders: number;
  verdict: { ok: boolean; lost: number; duplicated: number; confirmed: number; expectedConfirmed: number };
  shares: Record<'order' | 'inventory' | 'payment', Share[]>;
  auth: { ok: boolean; cross: { active: boolean }[]; verified: { status: number }[] };
  dlq: unknown[];
  violations: string[];
}

test(`scale-out: ${ORDERS} orders over two replicas of order, inventory and payment`, {
  timeout: 300_000,
}, async () => {
  const run = await runScript<ScaleSummary>(
    'scripts/scale.ts',
    'SCALE_SUMMARY',
    {
      SCALE_ORDERS: ORDERS,
      SCALE_MAX_SECONDS: '270',
      SCALE_SUMMARY_FILE: 'test-artifacts/reliability/scale-summary.ci.json',
    },
    285_000,
  );
  const s = run.summary;
  assert.ok(s, `scale.ts printed no summary (exit ${run.code ?? run.signal}, ${run.ms} ms):\n${run.tail}`);
  assert.equal(s.labError, undefined, `the scale lab could not be created on this machine: ${s.labError}`);
  assert.equal(s.error, undefined, `the run failed: ${s.error}\n${run.tail}`);
  assert.deepEqual(s.violations, [], 'no violation');
  assert.equal(s.verdict.lost, 0);
  assert.equal(s.verdict.duplicated, 0);
  assert.equal(s.verdict.confirmed, s.verdict.expectedConfirmed);
  for (const name of ['order', 'inventory', 'payment'] as const) {
    assert.equal(s.shares[name].length, 2, `two ${name} processes`);
    for (const r of s.shares[name]) {
      assert.ok(r.handled > 0, `${r.process} handled a share of the messages`);
      assert.ok(r.published > 0, `${r.process} published a share of the outbox`);
    }
  }
  assert.ok(s.auth.ok, 'auth replicas share keys');
  assert.ok(s.auth.cross.every((c) => c.active));
  assert.ok(s.auth.verified.every((v) => v.status !== 401));
  assert.deepEqual(s.dlq, []);
  assert.equal(run.code, 0, `exit code ${run.code}:\n${run.tail}`);
  const share = (list: Share[], k: 'handled' | 'published') => list.map((r) => `${r.process} ${r[k]}`).join(' / ');
  console.log(
    `# scale: ${s.orders} orders in ${Math.round(run.ms / 1000)} s; handled ${share(s.shares.inventory, 'handled')}, ` +
      `${share(s.shares.payment, 'handled')}, ${share(s.shares.order, 'handled')}; ` +
      `published ${share(s.shares.order, 'published')}`,
  );
});

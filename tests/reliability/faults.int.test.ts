/**
 * Fault injection in CI: scripts/faults.ts with a smaller but complete run — every scenario
 * (kill -9 and restart of each of the six service processes, RabbitMQ, PostgreSQL and Redis
 * restarted) with its own batch of mixed orders, against the private fault lab the script
 * creates and removes. Every scenario must pass its invariants. The lab needs root and the
 * Debian postgresql / rabbitmq-server / redis-server packages: when it cannot be created here,
 * this test FAILS and says why (never a skip).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScript } from './harness.js';

const ORDERS = process.env.RELIABILITY_FAULTS_ORDERS ?? '300';

interface FaultsSummary {
  ok: boolean;
  labError?: string;
  /** The run itself failed (a lab server that did not come back, …). */
  error?: string;
  orders: number;
  scenarios: {
    name: string;
    passed: boolean;
    orders: number;
    lost: number;
    duplicated: number;
    recoveryMs: number | null;
    violations: string[];
  }[];
  dlq: unknown[];
}

const SCENARIOS = [
  'kill-order',
  'kill-inventory',
  'kill-payment',
  'kill-notification',
  'kill-catalog',
  'kill-auth',
  'restart-rabbitmq',
  'restart-postgres',
  'restart-redis',
];

test(`fault injection: ${ORDERS} orders over every scenario, the invariants hold after each`, {
  timeout: 330_000,
}, async () => {
  const run = await runScript<FaultsSummary>(
    'scripts/faults.ts',
    'FAULTS_SUMMARY',
    {
      FAULTS_ORDERS: ORDERS,
      FAULTS_WINDOW_MS: '4000',
      FAULTS_INFRA_DOWN_MS: '1500',
      FAULTS_MAX_SECONDS: '280',
      FAULTS_SUMMARY_FILE: 'test-artifacts/reliability/faults-summary.ci.json',
    },
    295_000,
  );
  const s = run.summary;
  assert.ok(s, `faults.ts printed no summary (exit ${run.code ?? run.signal}, ${run.ms} ms):\n${run.tail}`);
  assert.equal(s.labError, undefined, `the fault lab could not be created on this machine: ${s.labError}`);
  assert.equal(s.error, undefined, `the run failed: ${s.error}\n${run.tail}`);
  assert.deepEqual(
    s.scenarios.map((x) => x.name),
    SCENARIOS,
    'every scenario ran',
  );
  for (const sc of s.scenarios) {
    assert.ok(sc.orders > 0, `${sc.name}: no orders`);
    assert.equal(sc.lost, 0, `${sc.name}: lost orders`);
    assert.equal(sc.duplicated, 0, `${sc.name}: duplicated effects`);
    assert.notEqual(sc.recoveryMs, null, `${sc.name}: no DOWN→UP recorded`);
    assert.ok(sc.passed, `${sc.name} failed:\n  ${sc.violations.join('\n  ')}`);
  }
  assert.deepEqual(s.dlq, [], 'DLQs are empty');
  assert.ok(s.ok, 'the run passed');
  assert.equal(run.code, 0, `exit code ${run.code}:\n${run.tail}`);
  console.log(
    `# faults: ${s.orders} orders, ${s.scenarios.length} scenarios passed in ${Math.round(run.ms / 1000)} s; ` +
      `recovery ${s.scenarios.map((x) => `${x.name} ${x.recoveryMs} ms`).join(', ')}`,
  );
});

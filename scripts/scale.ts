/**
 * `npm run scale`: scale-out. Two processes each of order, inventory and payment (each with
 * OUTBOX_RELAYS=2), two auth processes sharing one DATA_DIR (so one signing key), one catalog
 * and one notification — against ONE PostgreSQL / RabbitMQ / Redis: by default a private lab
 * of its own (`scalelab`: PostgreSQL 5434, RabbitMQ 5674, Redis 6381, created and removed by the
 * run, beside the fault lab), so ten processes' connection pools never crowd the shared servers
 * other tests use. SCALE_INFRA=shared runs on the shared servers instead (nothing is restarted
 * there), with small pools, under a namespace of the run (MESSAGING_NAMESPACE, fresh databases,
 * a Redis key prefix), all removed at the end.
 *
 * A load of mixed orders goes round-robin to both order processes with tokens taken
 * alternately from both auth processes (and order-2 fetches its JWKS from auth-2), then:
 *  - exactly-once effects: the invariant checker on the batch, no duplicate order per
 *    Idempotency-Key, the exact expected CONFIRMED count, empty DLQs, no stale cached stock;
 *  - work is shared: per process, messaging_consumed_total{outcome="handled"} and
 *    outbox_published_total from /actuator/prometheus — every replica must have done a share;
 *  - auth replicas share keys: same JWKS, a token of each introspects active on the other,
 *    and is accepted by the order process whose JWKS came from the other one.
 *
 *   SCALE_ORDERS (1000)  SCALE_CONCURRENCY (16)  SCALE_MAX_SECONDS (480)
 *   SCALE_SUMMARY_FILE (test-artifacts/reliability/scale-summary.json)
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deleteNamespacedTopology } from '@ecom/platform/testing';
import {
  dlqContents,
  judgeBatch,
  metricSum,
  openDbs,
  staleStockReads,
  startStockReader,
  waitSettled,
} from './reliability/check.js';
import { Fleet, ROOT, type ServiceName } from './reliability/fleet.js';
import { type FaultLab, type Infra, LabError, labDir, sharedInfra, startFaultLab } from './reliability/lab.js';
import { mixedPlan, runLoad, seedProducts } from './reliability/load.js';
import { cleanupNow, emitSummary, envInt, fmtMs, guardRun, onCleanup } from './reliability/run.js';

const ORDERS = envInt('SCALE_ORDERS', 1000, 1);
const CONCURRENCY = envInt('SCALE_CONCURRENCY', 16, 1);
const MAX_SECONDS = envInt('SCALE_MAX_SECONDS', 480, 30);
const SUMMARY_FILE = process.env.SCALE_SUMMARY_FILE ?? 'test-artifacts/reliability/scale-summary.json';
const LOG_DIR = join(ROOT, 'test-artifacts', 'reliability', 'scale-logs');
const RETRY_TTL_MS = 1000;
const LAYOUT: Record<ServiceName, number> = {
  auth: 2,
  catalog: 1,
  order: 2,
  inventory: 2,
  payment: 2,
  notification: 1,
};
const SCALED = ['order', 'inventory', 'payment'] as const;

const log = (msg: string) => process.stderr.write(`[scale] ${msg}\n`);

interface ReplicaShare {
  process: string;
  pid: number | undefined;
  /** messaging_consumed_total{outcome="handled"}, all its queues. */
  handled: number;
  /** messaging_consumed_total{outcome="duplicate"}: deliveries the dedupe table caught. */
  duplicates: number;
  /** outbox_published_total. */
  published: number;
  /** POST /api/orders answered (order processes). */
  httpOrders: number;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/actuator/prometheus`, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const guard = guardRun('scale', MAX_SECONDS);
  const ns = `sc${randomUUID().replaceAll('-', '').slice(0, 8)}`;
  let infra: Infra;
  const shared = process.env.SCALE_INFRA === 'shared';
  if (!shared) {
    try {
      infra = await startFaultLab({ name: 'scalelab' });
    } catch (err) {
      const why = err instanceof LabError ? err.message : String(err);
      console.error(`FAULT LAB UNAVAILABLE: ${why}`);
      emitSummary('SCALE_SUMMARY', SUMMARY_FILE, { ok: false, labError: why });
      guard.done();
      return 2;
    }
  } else {
    infra = sharedInfra(ns);
  }
  onCleanup(() => infra.teardown());
  rmSync(LOG_DIR, { recursive: true, force: true });
  const dataDir = shared ? join('/tmp', `ecom-scale-${ns}`) : join(labDir('scalelab'), 'data');
  mkdirSync(dataDir, { recursive: true });
  onCleanup(() => rmSync(dataDir, { recursive: true, force: true }));

  const fleet = new Fleet({
    infra,
    ns,
    logDir: LOG_DIR,
    dataDir,
    env: {
      OUTBOX_RELAYS: '2',
      APP_OUTBOX_POLL_INTERVAL_MS: '500',
      APP_MESSAGING_RETRY_TTL_MS: String(RETRY_TTL_MS),
      ORDER_SAGA_TIMEOUT_SECONDS: '120',
      NOTIFICATION_STORE_SIZE: '1000000',
      AUTH_RATE_LIMIT_MAX: '0',
      // On the shared server (max_connections 100, other tests on it): 3 per pool, not 10.
      ...(shared
        ? Object.fromEntries(
            ['ORDER', 'INVENTORY', 'PAYMENT', 'CATALOG', 'NOTIFICATION'].map((s) => [`${s}_DB_POOL_SIZE`, '3']),
          )
        : {}),
    },
    per: { payment: { PAYMENT_DECLINE_ABOVE_AMOUNT: '1000' } },
    // Each order process verifies tokens with the JWKS of "its" auth process.
    perReplica: (name, replica) =>
      name === 'order' ? { AUTH_JWKS_URI: `${fleet.urlOf('auth', replica)}/.well-known/jwks.json` } : undefined,
  });
  onCleanup(() => fleet.killAllNow());
  await fleet.plan(LAYOUT);
  const bootStarted = Date.now();
  // The two auth processes first and together: they race to create the one signing key.
  await Promise.all(fleet.all('auth').map((p) => p.start(120_000)));
  await Promise.all(fleet.procs.filter((p) => p.name !== 'auth').map((p) => p.start(120_000)));
  log(`${fleet.procs.length} processes ready in ${Date.now() - bootStarted} ms (${infra.kind} servers, ns ${ns})`);

  const auth = await checkAuthReplicas(fleet);
  log(`auth replicas: ${auth.ok ? 'share one key' : `DO NOT share keys: ${auth.problems.join('; ')}`}`);

  const dbs = await openDbs(infra, ns);
  const { products, plan } = mixedPlan(ns, ORDERS);
  await seedProducts(fleet.urlOf('catalog'), fleet.urlOf('inventory'), products);
  let rr = 0;
  let ra = 0;
  const reader = startStockReader(
    () => fleet.all('inventory').map((p) => p.url),
    products.map((p) => p.skuId),
  );
  const load = await runLoad({
    plan,
    orderUrl: () => fleet.urlOf('order', (rr++ % 2) + 1),
    authUrl: () => fleet.urlOf('auth', (ra++ % 2) + 1),
    concurrency: CONCURRENCY,
    windowMs: 0,
    perOrderDeadlineMs: 120_000,
    keyPrefix: 'scale',
  });
  const stockReads = await reader.stop();
  log(`${ORDERS} orders placed in ${load.stats.durationMs} ms`);
  const settledMs = await waitSettled(dbs, load.ids, 180_000);
  log(`settled ${fmtMs(settledMs)} after the last answer`);
  const batch = { ids: load.ids, keys: load.keys, products, plan };
  const verdict = await judgeBatch(dbs, batch);
  const stale = await staleStockReads(
    fleet.all('inventory').map((p) => p.url),
    dbs,
    products.map((p) => p.skuId),
  );
  const dlq = await dlqContents(infra, ns);

  const shares: Record<string, ReplicaShare[]> = {};
  for (const name of SCALED) {
    shares[name] = [];
    for (const p of fleet.all(name)) {
      const text = await scrape(p.url);
      shares[name].push({
        process: p.id,
        pid: p.pid,
        handled: metricSum(text, 'messaging_consumed_total', { outcome: 'handled' }),
        duplicates: metricSum(text, 'messaging_consumed_total', { outcome: 'duplicate' }),
        published: metricSum(text, 'outbox_published_total'),
        httpOrders: metricSum(text, 'http_server_requests_seconds_count', { method: 'POST', uri: '/api/orders' }),
      });
    }
  }

  const violations = [...verdict.violations, ...stale, ...auth.problems];
  if (settledMs === null) violations.push('the batch did not settle in time');
  if (load.stats.gaveUp > 0) violations.push(`the client gave up on ${load.stats.gaveUp} orders`);
  for (const m of dlq)
    violations.push(`unexplained DLQ message in ${m.queue}: ${m.eventType} ${m.messageId} (${m.reason})`);
  for (const [name, list] of Object.entries(shares)) {
    for (const s of list) {
      if (s.handled === 0) violations.push(`${s.process} handled no message: the work was not shared`);
      if (s.published === 0) violations.push(`${s.process} published no outbox row: the relays did not share`);
      if (name === 'order' && s.httpOrders === 0) violations.push(`${s.process} answered no POST /api/orders`);
    }
  }

  await dbs.close();
  await fleet.stopAll();
  if (infra.kind === 'shared') await removeSharedLeftovers(infra, ns);
  cleanupNow();
  guard.done();

  const summary = {
    ok: violations.length === 0,
    kind: 'scale',
    infra:
      infra.kind === 'lab' ? { kind: 'lab', name: 'scalelab', ports: (infra as FaultLab).ports } : { kind: 'shared' },
    namespace: ns,
    orders: ORDERS,
    concurrency: CONCURRENCY,
    layout: LAYOUT,
    outboxRelaysPerProcess: 2,
    durationMs: Date.now() - t0,
    placedMs: load.stats.durationMs,
    settledAfterLoadMs: settledMs,
    verdict,
    client: load.stats,
    stockReads,
    shares,
    auth,
    dlq,
    violations,
  };
  emitSummary('SCALE_SUMMARY', SUMMARY_FILE, summary);
  process.stderr.write(
    `\n| process | handled | duplicates | outbox published | POST /api/orders |\n${Object.values(shares)
      .flat()
      .map((s) => `| ${s.process} | ${s.handled} | ${s.duplicates} | ${s.published} | ${s.httpOrders} |`)
      .join('\n')}\n` +
      `\n${summary.ok ? 'PASS' : 'FAIL'}: ${verdict.confirmed} confirmed (expected ${verdict.expectedConfirmed}), ` +
      `${verdict.failed} failed, lost ${verdict.lost}, duplicated ${verdict.duplicated}` +
      (violations.length ? `\n  ${violations.slice(0, 10).join('\n  ')}` : '') +
      '\n',
  );
  return summary.ok ? 0 : 1;
}

/**
 * The auth replicas share keys: one JWKS, each one's token active at the other, and accepted by
 * the order process that verifies with the other one's JWKS.
 */
async function checkAuthReplicas(fleet: Fleet) {
  const problems: string[] = [];
  const [a1, a2] = fleet.all('auth');
  const jwks = async (url: string) =>
    ((await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map(
      (k) => k.kid,
    );
  const kids1 = await jwks(a1!.url);
  const kids2 = await jwks(a2!.url);
  if (JSON.stringify(kids1) !== JSON.stringify(kids2)) problems.push(`JWKS differ: ${kids1} vs ${kids2}`);
  const token = async (url: string, userId: string) =>
    (
      (await (
        await fetch(`${url}/api/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId, roles: ['buyer'] }),
        })
      ).json()) as { accessToken: string }
    ).accessToken;
  const introspect = async (url: string, t: string) =>
    (await (
      await fetch(`${url}/api/auth/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: t }),
      })
    ).json()) as { active: boolean; reason?: string };
  const cross: { issuedBy: string; introspectedAt: string; active: boolean }[] = [];
  const verified: { issuedBy: string; orderProcess: string; jwksFrom: string; status: number }[] = [];
  for (const [issuer, other, orderReplica] of [
    [a1!, a2!, 2],
    [a2!, a1!, 1],
  ] as const) {
    const userId = `auth-check-${issuer.id}`;
    const t = await token(issuer.url, userId);
    const r = await introspect(other.url, t);
    cross.push({ issuedBy: issuer.id, introspectedAt: other.id, active: r.active });
    if (!r.active) problems.push(`token of ${issuer.id} not active at ${other.id} (${r.reason})`);
    // order-<n> fetches its JWKS from auth-<n>: send the other replica's token there. A GET of an
    // order that does not exist: 404 after a verified token, 401 when the token is refused.
    const order = fleet.get('order', orderReplica);
    const res = await fetch(`${order.url}/api/orders/${randomUUID()}`, { headers: { authorization: `Bearer ${t}` } });
    await res.arrayBuffer();
    verified.push({
      issuedBy: issuer.id,
      orderProcess: order.id,
      jwksFrom: `auth-${orderReplica}`,
      status: res.status,
    });
    if (res.status === 401)
      problems.push(`${order.id} refused a token of ${issuer.id} (JWKS from auth-${orderReplica})`);
  }
  return { ok: problems.length === 0, kids: kids1, cross, verified, problems };
}

/** Queues and exchanges of the namespace, and its Redis keys (the databases go in teardown). */
async function removeSharedLeftovers(infra: Infra, ns: string): Promise<void> {
  await deleteNamespacedTopology(infra.amqpUrl, `${ns}.`).catch((err) =>
    log(`topology not removed: ${(err as Error).message}`),
  );
  const keys = spawnSync(
    'redis-cli',
    ['-h', infra.redisHost, '-p', String(infra.redisPort), '--scan', '--pattern', `${ns}:*`],
    {
      encoding: 'utf8',
    },
  )
    .stdout.split('\n')
    .filter(Boolean);
  if (keys.length > 0) spawnSync('redis-cli', ['-h', infra.redisHost, '-p', String(infra.redisPort), 'DEL', ...keys]);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[scale] failed: ${(err as Error).stack ?? err}`);
    cleanupNow();
    emitSummary('SCALE_SUMMARY', SUMMARY_FILE, { ok: false, error: String((err as Error).message ?? err) });
    process.exit(1);
  },
);

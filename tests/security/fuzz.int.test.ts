/**
 * Schema-driven HTTP fuzzing of the whole platform, then hostile messages into every consumed
 * queue, on one stack per mode (issue "Reliability and security proven").
 *
 * Each service's OpenAPI document (/v3/api-docs) is turned into fast-check arbitraries of
 * malformed and hostile requests (openapi-fuzz.ts) and every operation is hammered over
 * loopback. The properties:
 *   - no response is a 5xx;
 *   - every 4xx is the spec's error body (timestamp, status, error, path — the path sent);
 *   - an operation that can change state never answers 2xx (every request sent to it is one the
 *     server must refuse), and the databases are byte-for-byte unchanged afterwards (row count
 *     and MD5 of every table of every service, before vs after).
 * The distribution per endpoint and status is printed. Then, on the same stack, the hostile
 * messages of hostile-messages.ts (each must end in its queue's DLQ; the consumers keep going).
 *
 *   FUZZ_MODES=embedded,real   stacks to run (default both)
 *   FUZZ_REQUESTS=10000        requests on the embedded stack; FUZZ_REAL_REQUESTS=2000 on the real servers
 *   FUZZ_SEED=…                reproduce a run (the seed is printed)
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { json, placeOrder, seed, token, waitForStatus } from '../e2e/client.js';
import { ALL, type Stack, type StackMode, startStack } from '../e2e/stack.js';
import { type FuzzResult, type FuzzRun, runFuzz, Tally } from './fuzz-runner.js';
import { checkHostileMessages } from './hostile-messages.js';
import { type FuzzContext, loadOperations, type Operation } from './openapi-fuzz.js';
import { type DbSnapshot, diffSnapshots, snapshotDatabases } from './snapshot.js';

const MODES = (process.env.FUZZ_MODES ?? 'embedded,real').split(',').map((m) => m.trim()) as StackMode[];
const REQUESTS: Record<StackMode, number> = {
  embedded: Number(process.env.FUZZ_REQUESTS ?? 10_000),
  real: Number(process.env.FUZZ_REAL_REQUESTS ?? 2_000),
};
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TIME_LIMIT_MS = Number(process.env.FUZZ_TIME_LIMIT_MS ?? 120_000);

/**
 * The fuzzer in a worker thread (FUZZ_WORKER=0: in this thread). The services run in this
 * thread; generating, sending and checking requests is about as much work again.
 */
async function inWorker(run: FuzzRun): Promise<FuzzResult> {
  if (process.env.FUZZ_WORKER === '0') return runFuzz(run);
  const entry = new URL('./fuzz-worker.ts', import.meta.url).href;
  // tsx's loader is per thread: register it in the worker before loading the TypeScript entry.
  const boot = `import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(entry)});`;
  const worker = new Worker(boot, { eval: true, workerData: run });
  try {
    const [result] = (await Promise.race([
      once(worker, 'message'),
      once(worker, 'error').then(([e]) => Promise.reject(e)),
    ])) as [FuzzResult];
    return result;
  } finally {
    await worker.terminate();
  }
}

/** Writes bytes on a raw socket (what fetch refuses to send) and returns what came back. */
async function rawHttp(baseUrl: string, head: string): Promise<string> {
  const { port } = new URL(baseUrl);
  const socket = connect(Number(port), '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => socket.write(head));
    socket.once('close', () => resolve());
    socket.once('error', (err) => (chunks.length > 0 ? resolve() : reject(err)));
    setTimeout(() => socket.destroy(), 5000);
  });
  return Buffer.concat(chunks).toString('utf8');
}

/** A stack with data in every table the reads look at, and the tokens and ids the fuzzer mixes in. */
async function prepare(stack: Stack): Promise<FuzzContext> {
  await seed(stack, [
    { skuId: 'FZ-OK-1', price: 10, stock: 1000 },
    { skuId: 'FZ-DECLINE-1', price: 1500, stock: 10 },
  ]);
  const tokens = {
    buyer: await token(stack, 'fuzz-buyer', ['buyer']),
    admin: await token(stack, 'fuzz-admin', ['admin']),
    norole: await token(stack, 'fuzz-norole', []),
    buyerSubject: 'fuzz-buyer',
    noroleSubject: 'fuzz-norole',
  };
  const orderIds: string[] = [];
  for (const [skuId, price, key] of [
    ['FZ-OK-1', 10, 'fuzz-seed-1'],
    ['FZ-DECLINE-1', 1500, 'fuzz-seed-2'],
  ] as const) {
    const res = await placeOrder(
      stack,
      tokens.buyer,
      { userId: 'fuzz-buyer', items: [{ skuId, quantity: 1, price }] },
      { key },
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await waitForStatus(stack, tokens.buyer, res.body.orderId);
    orderIds.push(res.body.orderId);
  }
  // The compensation's audit row exists, and every outbox is drained: the state is at rest.
  const release = await waitForJson(
    `${stack.urls.inventory}/api/stocks/release-events?size=1`,
    (b) => b.items?.length === 1,
  );
  const item = release.items[0] as { releaseId: string; createdAt: string };
  for (const svc of ['order', 'inventory', 'payment'] as const) {
    await waitUntil(async () => {
      const [row] = await stack
        .db(svc)
        .query<{ n: number }>("SELECT count(*)::int AS n FROM outbox_events WHERE status = 'PENDING'");
      return row?.n === 0;
    });
  }
  return {
    tokens,
    known: {
      orderIds,
      skuIds: ['FZ-OK-1', 'FZ-DECLINE-1'],
      queues: ['q.order.payment-result.dlq', 'q.inventory.order-created.dlq', 'q.payment.inventory-reserved.dlq'],
      cursors: [Buffer.from(`${Date.parse(item.createdAt)}:${item.releaseId}`).toString('base64url')],
    },
    catalogSkus: new Set(['FZ-OK-1', 'FZ-DECLINE-1']),
  };
}

async function waitUntil(fn: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the stack to settle');
    await new Promise((r) => setTimeout(r, 50));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: a JSON answer
async function waitForJson(url: string, ok: (body: any) => boolean): Promise<any> {
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer
  let body: any;
  await waitUntil(async () => {
    body = await json(await fetch(url));
    return ok(body);
  });
  return body;
}

for (const mode of MODES) {
  describe(`bad input on ${mode === 'real' ? 'PostgreSQL + RabbitMQ + Redis' : 'the embedded stack'}`, () => {
    let stack: Stack;
    let ctx: FuzzContext;
    let ops: Operation[];
    let snapshot: DbSnapshot;

    before(async () => {
      stack = await startStack(mode, {
        env: { AUTH_RATE_LIMIT_MAX: '1000000000' }, // the fuzzer is one client; the limit has its own test
        per: { payment: { PAYMENT_DECLINE_ABOVE_AMOUNT: '1000' } },
      });
      ctx = await prepare(stack);
      ops = (await Promise.all(ALL.map((s) => loadOperations(s, stack.urls[s])))).flat();
      snapshot = await snapshotDatabases(stack);
    });

    after(async () => {
      await stack?.close();
    });

    test('regressions: requests that were 5xx (or not the spec body) before this suite are refused cleanly', async () => {
      const u = stack.urls;
      const buyer = { authorization: `Bearer ${ctx.tokens.buyer}` };
      const admin = { authorization: `Bearer ${ctx.tokens.admin}` };
      const urn = 'urn:uuid:0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2b';
      const order = (items: string, key: string) => ({
        method: 'POST',
        headers: { ...buyer, 'content-type': 'application/json', 'idempotency-key': key },
        body: `{"userId":"fuzz-buyer","items":${items}}`,
      });
      const cases: [string, string, RequestInit, number][] = [
        [
          'NUL in a path parameter (PostgreSQL: invalid byte sequence)',
          `${u.catalog}/api/catalog/products/a%00b`,
          {},
          400,
        ],
        ['NUL in a path parameter (stock)', `${u.inventory}/api/stocks/a%00b`, {}, 400],
        ['NUL in a query parameter', `${u.notification}/api/notifications/events?eventType=a%00b`, {}, 400],
        [
          'urn:uuid: order id (ajv took it, PostgreSQL did not)',
          `${u.order}/api/orders/${urn}`,
          { headers: buyer },
          400,
        ],
        ['urn:uuid: timeline id', `${u.order}/api/orders/${urn}/timeline`, { headers: buyer }, 400],
        ['urn:uuid: notification filter', `${u.notification}/api/notifications/events?orderId=${urn}`, {}, 400],
        [
          'urn:uuid: synthetic failure',
          `${u.notification}/api/notifications/events/synthetic-failure`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: `{"orderId":"${urn}","paymentId":"0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2b","reason":"x"}`,
          },
          400,
        ],
        [
          'price 1e400 (Infinity after JSON.parse), before authentication',
          `${u.order}/api/orders`,
          {
            ...order('[{"skuId":"FZ-OK-1","quantity":1,"price":1e400}]', 'r1'),
            headers: { 'content-type': 'application/json', 'idempotency-key': 'r1' },
          },
          400,
        ],
        [
          'SKU "." (a dot segment: "catalog unavailable" 503)',
          `${u.order}/api/orders`,
          order('[{"skuId":".","quantity":1,"price":1}]', 'r2'),
          422,
        ],
        [
          'SKU with an unpaired surrogate (encodeURIComponent threw: 503)',
          `${u.order}/api/orders`,
          order('[{"skuId":"x\\udfff","quantity":1,"price":1}]', 'r3'),
          400,
        ],
        [
          'cursor at -8.64e15 ms (timestamptz out of range)',
          `${u.inventory}/api/stocks/release-events/cursor?after=${Buffer.from('-8640000000000000:0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2b').toString('base64url')}`,
          {},
          400,
        ],
        [
          'DLQ named "toString" (found Object.prototype.toString)',
          `${u.order}/admin/dlq/toString/messages`,
          { headers: admin },
          404,
        ],
        ['DLQ named "__proto__"', `${u.payment}/admin/dlq/__proto__/messages`, { headers: admin }, 404],
        [
          '?active=constructor (found Object.prototype.constructor)',
          `${u.catalog}/api/catalog/products?active=constructor`,
          {},
          400,
        ],
        ['?active=__proto__', `${u.catalog}/api/catalog/products?active=__proto__`, {}, 400],
        [
          'JSON nested 100 000 deep',
          `${u.catalog}/api/catalog/products/X`,
          {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
          },
          400,
        ],
        [
          "malformed percent-encoding in the path (Fastify's own body)",
          `${u.catalog}/api/catalog/products/%zz`,
          {},
          400,
        ],
        [
          "a path parameter over the router limit (Fastify's own 414 body)",
          `${u.inventory}/api/stocks/${'x'.repeat(1100)}`,
          {},
          414,
        ],
      ];
      for (const [what, url, init, status] of cases) {
        const res = await fetch(url, init);
        const text = await res.text();
        assert.equal(res.status, status, `${what}: ${text.slice(0, 300)}`);
        const body = JSON.parse(text);
        assert.equal(body.status, status, what);
        assert.ok(
          body.timestamp && body.error && body.path?.startsWith('/'),
          `${what}: spec error body, got ${text.slice(0, 200)}`,
        );
      }
      // A request head Node cannot parse: the spec body is written on the socket by hand.
      for (const [what, head, status] of [
        ['NUL in a header value', 'GET /api/catalog/products HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n', 400],
        [
          'a request head over 16 KiB',
          `GET /api/catalog/products HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(20_000)}\r\n\r\n`,
          431,
        ],
        ['not HTTP at all', 'HELLO\r\n\r\n', 400],
      ] as const) {
        const raw = await rawHttp(u.catalog, head);
        assert.match(raw, new RegExp(`^HTTP/1\\.1 ${status} `), `${what}: ${raw.slice(0, 200)}`);
        const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
        assert.equal(body.status, status, what);
        assert.ok(body.timestamp && body.error && body.path, what);
      }
    });

    test(`${REQUESTS[mode]}+ malformed and hostile requests over every operation: no 5xx, spec error bodies, no state change`, async () => {
      const run: FuzzRun = {
        urls: stack.urls,
        ops,
        ctx,
        runs: Math.ceil(REQUESTS[mode] / ops.length),
        seed: SEED,
        timeLimitMs: TIME_LIMIT_MS,
      };
      const { tally: raw, failures, seconds } = await inWorker(run);
      const tally = Tally.from(raw);
      console.log(tally.report(`fuzz ${mode} (seed ${SEED}, ${seconds.toFixed(1)} s)`));
      assert.deepEqual(failures, [], `FUZZ_SEED=${SEED}`);
      assert.ok(tally.total >= REQUESTS[mode], `sent ${tally.total}, wanted ${REQUESTS[mode]}`);
      assert.ok(ops.length >= 37, `every service's operations were loaded (${ops.length})`);
      assert.deepEqual(
        [...tally.statuses().keys()].filter((s) => !/^[234]\d\d$/.test(s) && s !== 'hung-up-on-oversized'),
        [],
      );
      const changed = diffSnapshots(snapshot, await snapshotDatabases(stack));
      const mutating = new Set(ops.filter((o) => o.mutating).map((o) => `${o.service} ${o.method} ${o.path}`));
      let sentToMutating = 0;
      let refused = 0;
      for (const [endpoint, row] of tally.byEndpoint) {
        if (!mutating.has(endpoint)) continue;
        for (const [status, n] of row) {
          sentToMutating += n;
          if (/^4\d\d$/.test(status) || status === 'hung-up-on-oversized') refused += n;
        }
      }
      console.log(
        `  state-changing operations: ${refused}/${sentToMutating} requests refused; ` +
          `${Object.keys(snapshot).length - changed.length}/${Object.keys(snapshot).length} tables unchanged (count + MD5)`,
      );
      assert.deepEqual(changed, [], 'no table changed');
      assert.equal(refused, sentToMutating);
    });

    // After the "nothing changed" check: this one places orders.
    test('hostile messages into the six consumed queues: each in its DLQ with a reason, consumers keep going', async () => {
      console.log(await checkHostileMessages(stack, mode));
    });
  });
}

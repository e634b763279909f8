/**
 * The load generator of the reliability runs: mixed orders like tests/e2e/load.e2e.test.ts
 * (half over PAYMENT_DECLINE_ABOVE_AMOUNT, a quarter for plenty of stock, a quarter for stock
 * that runs out), paced over a time window so that a fault lands in the middle of it.
 *
 * A client that does the right thing under faults: every order gets its own Idempotency-Key,
 * and a POST that fails (connection refused or reset, timeout, 5xx, 429) is retried with the
 * SAME key after a back-off, until it gets its order (201, or 200 = the replay of an earlier
 * attempt whose answer was lost). Each order asks auth-service for a fresh token first, so an
 * auth outage is felt too (and retried the same way).
 */
import { randomUUID } from 'node:crypto';

export interface PlanItem {
  userId: string;
  skuId: string;
  quantity: number;
  price: number;
}

export interface Product {
  skuId: string;
  price: number;
  stock: number;
}

/** Products and a plan of `n` orders for one batch (`tag` makes the SKUs and users unique). */
export function mixedPlan(tag: string, n: number, users = 8): { products: Product[]; plan: PlanItem[] } {
  const mug = `MUG-${tag}`;
  const grinder = `GRINDER-${tag}`;
  const rare = `RARE-${tag}`;
  const rareOrders = Math.floor((n + 0) / 4);
  const rareStock = Math.max(1, Math.ceil(rareOrders / 4));
  const products: Product[] = [
    { skuId: mug, price: 19.9, stock: 2 * n },
    { skuId: grinder, price: 1499, stock: n },
    { skuId: rare, price: 5, stock: rareStock },
  ];
  const plan = Array.from({ length: n }, (_, i): PlanItem => {
    const userId = `buyer-${tag}-${i % users}`;
    if (i % 4 < 2) return { userId, skuId: grinder, quantity: 1, price: 1499 }; // declined: over the amount
    if (i % 4 === 2) return { userId, skuId: mug, quantity: 2, price: 19.9 }; // confirmed
    return { userId, skuId: rare, quantity: 1, price: 5 }; // the first rareStock confirmed, then out of stock
  });
  return { products, plan };
}

/** What the plan must end as when nothing is lost or applied twice. */
export function expectedOutcome(products: Product[], plan: PlanItem[]): { confirmed: number; failed: number } {
  const stock = new Map(products.map((p) => [p.skuId, p.stock]));
  const wanted = new Map<string, number>();
  for (const item of plan) wanted.set(item.skuId, (wanted.get(item.skuId) ?? 0) + 1);
  let confirmed = 0;
  for (const item of plan) {
    if (item.price > 1000) continue; // declined by payment
    if (item.skuId.startsWith('RARE-')) continue;
    confirmed++;
  }
  for (const [sku, count] of wanted) if (sku.startsWith('RARE-')) confirmed += Math.min(count, stock.get(sku) ?? 0);
  return { confirmed, failed: plan.length - confirmed };
}

export async function seedProducts(catalogUrl: string, inventoryUrl: string, products: Product[]): Promise<void> {
  for (const p of products) {
    await retrying(`catalog PUT ${p.skuId}`, async () => {
      const put = await fetch(`${catalogUrl}/api/catalog/products/${p.skuId}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Product ${p.skuId}`, price: p.price, active: true }),
        signal: AbortSignal.timeout(10_000),
      });
      if (put.status !== 200) throw new Error(`catalog PUT ${p.skuId}: ${put.status} ${await put.text()}`);
    });
    await retrying(`stock ${p.skuId}`, async () => {
      const stock = await fetch(`${inventoryUrl}/api/stocks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ skuId: p.skuId, availableQty: p.stock }),
        signal: AbortSignal.timeout(10_000),
      });
      if (stock.status !== 200) throw new Error(`stock ${p.skuId}: ${stock.status} ${await stock.text()}`);
    });
  }
}

async function retrying(what: string, fn: () => Promise<void>, attempts = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw new Error(`${what}: ${(err as Error).message}`);
      await sleep(200 * i);
    }
  }
}

export interface LoadStats {
  planned: number;
  /** 201 on some attempt. */
  created: number;
  /** 200 Idempotent-Replayed: an earlier attempt had created the order, its answer was lost. */
  replayed: number;
  /** Orders the client gave up on (deadline passed, or an answer that must not be retried). */
  gaveUp: number;
  /** POST /api/orders attempts after the first, with the same Idempotency-Key. */
  orderRetries: number;
  /** Orders that needed at least one retry. */
  ordersRetried: number;
  /** POST /api/orders answers 500-599. */
  http5xx: number;
  /** POST /api/orders attempts that got no HTTP answer (refused, reset, timed out). */
  connErrors: number;
  /** Non-2xx answers of POST /api/orders, by status (5xx included). */
  otherStatus: Record<string, number>;
  /** POST /api/auth/token attempts after the first (auth down or failing). */
  tokenRetries: number;
  token5xx: number;
  tokenConnErrors: number;
  /** The first few reasons an order was given up on. */
  errors: string[];
  /** First order sent → last answer received. */
  durationMs: number;
}

export interface LoadResult {
  /** Order ids, one per order that got one. */
  ids: string[];
  /** Every Idempotency-Key used (one per planned order). */
  keys: string[];
  stats: LoadStats;
}

export interface LoadOptions {
  plan: PlanItem[];
  /** Each call picks the next base URL (several replicas: round-robin). */
  orderUrl: () => string;
  authUrl: () => string;
  concurrency: number;
  /** Orders are started evenly over this window (0 = as fast as the workers go). */
  windowMs: number;
  /** `count` orders from `from` on start together at `atMs` (requests in flight when a fault hits). */
  burst?: { from: number; count: number; atMs: number };
  /** Give up on one order after this long, retries included. */
  perOrderDeadlineMs: number;
  /** Per attempt. */
  requestTimeoutMs?: number;
  /** Called after each order got its answer (progress, fault triggers). */
  onDone?: (done: number) => void;
  keyPrefix?: string;
  /** Live count of POST /api/orders requests on the wire (the fault trigger watches it). */
  flight?: { posts: number };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const backoff = (attempt: number) => Math.min(100 * 2 ** attempt, 2000) * (0.5 + Math.random() / 2);

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const stats: LoadStats = {
    planned: opts.plan.length,
    created: 0,
    replayed: 0,
    gaveUp: 0,
    orderRetries: 0,
    ordersRetried: 0,
    http5xx: 0,
    connErrors: 0,
    otherStatus: {},
    tokenRetries: 0,
    token5xx: 0,
    tokenConnErrors: 0,
    errors: [],
    durationMs: 0,
  };
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const ids: string[] = [];
  const keys: string[] = [];
  const started = Date.now();
  const gap = opts.plan.length > 0 ? opts.windowMs / opts.plan.length : 0;
  let next = 0;
  let done = 0;

  const fail = (msg: string) => {
    stats.gaveUp++;
    if (stats.errors.length < 10) stats.errors.push(msg);
  };

  const getToken = async (userId: string, deadline: number): Promise<string | undefined> => {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        stats.tokenRetries++;
        await sleep(backoff(attempt));
      }
      if (Date.now() > deadline) return undefined;
      try {
        const res = await fetch(`${opts.authUrl()}/api/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId, roles: ['buyer'] }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        if (res.status === 200) return (JSON.parse(text) as { accessToken: string }).accessToken;
        if (res.status >= 500) stats.token5xx++;
      } catch {
        stats.tokenConnErrors++;
      }
    }
  };

  const placeOne = async (item: PlanItem, key: string): Promise<void> => {
    const deadline = Date.now() + opts.perOrderDeadlineMs;
    let bearer = await getToken(item.userId, deadline);
    if (!bearer) return fail(`${key}: no token before the deadline`);
    let retried = false;
    let unauthorized = 0;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        stats.orderRetries++;
        retried = true;
        await sleep(backoff(attempt));
      }
      if (Date.now() > deadline) {
        if (retried) stats.ordersRetried++;
        return fail(`${key}: no answer before the deadline`);
      }
      let status: number;
      let text: string;
      const flight = opts.flight ?? { posts: 0 };
      flight.posts++;
      try {
        const res = await fetch(`${opts.orderUrl()}/api/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}`, 'idempotency-key': key },
          body: JSON.stringify({
            userId: item.userId,
            items: [{ skuId: item.skuId, quantity: item.quantity, price: item.price }],
          }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = res.status;
        text = await res.text();
      } catch {
        stats.connErrors++;
        continue;
      } finally {
        flight.posts--;
      }
      if (status === 201 || status === 200) {
        const body = JSON.parse(text) as { orderId: string };
        ids.push(body.orderId);
        if (status === 201) stats.created++;
        else stats.replayed++;
        if (retried) stats.ordersRetried++;
        return;
      }
      stats.otherStatus[status] = (stats.otherStatus[status] ?? 0) + 1;
      if (status >= 500) {
        stats.http5xx++;
        continue;
      }
      if (status === 429) continue;
      if (status === 401 && unauthorized++ < 3) {
        // A verifier that could not reach the JWKS: a fresh token, then the same key again.
        bearer = (await getToken(item.userId, deadline)) ?? bearer;
        continue;
      }
      if (retried) stats.ordersRetried++;
      return fail(`${key}: ${status} ${text.slice(0, 200)}`);
    }
  };

  await Promise.all(
    Array.from({ length: Math.max(1, opts.concurrency) }, async () => {
      while (next < opts.plan.length) {
        const i = next++;
        const item = opts.plan[i]!;
        const key = `${opts.keyPrefix ?? 'rel'}-${i}-${randomUUID()}`;
        keys.push(key);
        const b = opts.burst;
        const due = started + (b && i >= b.from && i < b.from + b.count ? b.atMs : i * gap);
        if (due > Date.now()) await sleep(due - Date.now());
        await placeOne(item, key);
        opts.onDone?.(++done);
      }
    }),
  );
  stats.durationMs = Date.now() - started;
  return { ids, keys, stats };
}

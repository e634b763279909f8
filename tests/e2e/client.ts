/** Small HTTP helpers over the stack's public APIs (black box: fetch only). */
import { randomUUID } from 'node:crypto';
import type { Stack } from './stack.js';

// biome-ignore lint/suspicious/noExplicitAny: callers read loosely typed JSON bodies in assertions
export async function json<T = any>(res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
}

export async function token(stack: Stack, userId: string, roles: string[]): Promise<string> {
  const res = await fetch(`${stack.urls.auth}/api/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, roles }),
  });
  if (res.status !== 200) throw new Error(`token: ${res.status}`);
  return (await json<{ accessToken: string }>(res)).accessToken;
}

export async function seed(
  stack: Stack,
  products: { skuId: string; price: number; stock: number; active?: boolean }[],
) {
  for (const p of products) {
    const put = await fetch(`${stack.urls.catalog}/api/catalog/products/${p.skuId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Product ${p.skuId}`, price: p.price, active: p.active ?? true }),
    });
    if (put.status !== 200) throw new Error(`catalog PUT ${p.skuId}: ${put.status}`);
    const stock = await fetch(`${stack.urls.inventory}/api/stocks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ skuId: p.skuId, availableQty: p.stock }),
    });
    if (stock.status !== 200) throw new Error(`stock ${p.skuId}: ${stock.status}`);
  }
}

export interface OrderInput {
  userId: string;
  items: { skuId: string; quantity: number; price: number }[];
}

export async function placeOrder(
  stack: Stack,
  bearer: string,
  body: OrderInput,
  opts: { key?: string; traceId?: string } = {},
) {
  const res = await fetch(`${stack.urls.order}/api/orders`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${bearer}`,
      'idempotency-key': opts.key ?? randomUUID(),
      ...(opts.traceId ? { 'x-trace-id': opts.traceId } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await json(res), headers: res.headers };
}

export async function getOrder(stack: Stack, bearer: string, orderId: string) {
  const res = await fetch(`${stack.urls.order}/api/orders/${orderId}`, {
    headers: { authorization: `Bearer ${bearer}` },
  });
  return { status: res.status, body: await json(res) };
}

export async function waitForStatus(
  stack: Stack,
  bearer: string,
  orderId: string,
  terminal = ['CONFIRMED', 'FAILED'],
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await getOrder(stack, bearer, orderId);
    if (terminal.includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`order ${orderId} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stockOf(stack: Stack, skuId: string) {
  const res = await fetch(`${stack.urls.inventory}/api/stocks/${skuId}`);
  return json<{ skuId: string; availableQty: number; reservedQty: number }>(res);
}

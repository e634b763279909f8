import { createEvent } from '@ecom/contracts';
import { AppError, type Database, type Outbox, type Queryable } from '@ecom/platform';
import type { PriceOrder } from '../catalog/price-order.js';
import { decideIdempotency, type IdempotencyDecision } from '../idempotency/idempotency-key.js';
import { claimKey, deleteExpiredKey, findKey } from '../idempotency/repository.js';
import { assertNever } from '../shared/assert-never.js';
import { exceedsMaximum, MAX_AMOUNT, moneyToNumber, totalOf } from '../shared/money.js';
import { appendTimeline } from '../timeline/repository.js';
import type { Buyer, Order } from './order.js';
import type { OrderRequest } from './order-request.js';
import { findOrder, insertOrder } from './repository.js';

export interface PlaceOrderDeps {
  db: Database;
  outbox: Outbox;
  priceOrder: PriceOrder;
  clock: () => Date;
  newId: () => string;
  idempotencyTtlSeconds: number;
}

export interface PlaceOrderCommand {
  request: OrderRequest;
  /** `fingerprintOf(request)`. */
  fingerprint: string;
  /** Trimmed, not blank, ≤ 128. */
  idempotencyKey: string;
  buyer: Buyer;
  /** The OrderCreated envelope's trace_id (events.md §5). */
  traceId: string;
}

export type PlaceOrderResult = { kind: 'created'; order: Order } | { kind: 'replayed'; order: Order };

/**
 * `POST /api/orders` after authentication (http-api.md §2.1 steps 7–8), strictly idempotent per
 * (user, Idempotency-Key):
 *
 * 1. A live key of this user → replay (same body) or 422 (other body), before anything else:
 *    a replay needs neither the catalog nor a write.
 * 2. Price the items (catalog; 422/503 here write nothing) and check the total.
 * 3. ONE transaction: delete the key if expired, claim it (INSERT … ON CONFLICT DO NOTHING —
 *    a concurrent request with the same key WAITS here for the first one's commit, then finds
 *    its key and replays it: never a second order, never a 500), then the order, its items,
 *    the first timeline entry and the OrderCreated outbox row.
 */
export async function placeOrder(deps: PlaceOrderDeps, cmd: PlaceOrderCommand): Promise<PlaceOrderResult> {
  const { db } = deps;
  const userId = cmd.buyer.userId;
  const known = decideIdempotency(await findKey(db, userId, cmd.idempotencyKey), cmd.fingerprint, deps.clock());
  if (known.kind !== 'new') return replay(db, known);

  const items = await deps.priceOrder(cmd.request.items);
  const totalAmount = totalOf(items);
  if (exceedsMaximum(totalAmount)) {
    throw new AppError(
      'bad_request',
      'AMOUNT_TOO_LARGE',
      `totalAmount ${totalAmount} exceeds the maximum ${MAX_AMOUNT}`,
      {
        errors: [{ field: 'items', message: `the order total must be at most ${MAX_AMOUNT}` }],
      },
    );
  }

  return db.transaction(async (tx) => {
    const now = deps.clock();
    const order: Order = { id: deps.newId(), userId, status: 'NEW', totalAmount, createdAt: now, items };
    const keyRow = {
      user_id: userId,
      idempotency_key: cmd.idempotencyKey,
      order_id: order.id,
      status: 'COMPLETED' as const,
      request_hash: cmd.fingerprint,
      created_at: now,
      expires_at: new Date(now.getTime() + deps.idempotencyTtlSeconds * 1000),
    };
    // Two rounds at most: a key that was live when we looked can only have expired meanwhile.
    for (let round = 0; ; round++) {
      await deleteExpiredKey(tx, userId, cmd.idempotencyKey, now);
      if (await claimKey(tx, keyRow)) break;
      const decision = decideIdempotency(await findKey(tx, userId, cmd.idempotencyKey), cmd.fingerprint, now);
      if (decision.kind !== 'new') return replay(tx, decision);
      if (round >= 2) throw new Error('idempotency key could not be claimed');
    }
    await insertOrder(tx, order, { traceId: cmd.traceId, buyer: cmd.buyer });
    await appendTimeline(tx, {
      orderId: order.id,
      from: null,
      to: 'NEW',
      at: now,
      cause: 'HTTP',
      messageId: null,
      reason: null,
      ignored: false,
      note: null,
      emitted: 'OrderCreated',
    });
    await deps.outbox.add(
      tx,
      createEvent(
        'OrderCreated',
        {
          order_id: order.id,
          user_id: userId,
          items: items.map((i) => ({ sku_id: i.skuId, quantity: i.quantity, price: moneyToNumber(i.price) })),
          total_amount: moneyToNumber(totalAmount),
        },
        {
          traceId: cmd.traceId,
          identity: { user_id: userId, roles: [...cmd.buyer.roles] },
          occurredAt: now,
        },
      ),
    );
    return { kind: 'created' as const, order };
  });
}

async function replay(
  db: Queryable,
  decision: Exclude<IdempotencyDecision, { kind: 'new' }>,
): Promise<PlaceOrderResult> {
  switch (decision.kind) {
    case 'replay': {
      const order = await findOrder(db, decision.orderId);
      // The key is written in the order's own transaction: a key without its order is corruption.
      if (!order) throw new Error(`idempotency key points at missing order ${decision.orderId}`);
      return { kind: 'replayed', order };
    }
    case 'mismatch':
      throw new AppError(
        'unprocessable',
        'IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was already used with a different request body',
      );
    default:
      return assertNever(decision);
  }
}

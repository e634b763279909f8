import { createEvent } from '@ecom/contracts';
import { AppError, type Database, type Outbox, type Queryable } from '@ecom/platform';
import type { PriceOrder } from '../catalog/price-order.js';
import { decideIdempotency, type IdempotencyDecision } from '../idempotency/idempotency-key.js';
import { findKey } from '../idempotency/repository.js';
import { assertNever } from '../shared/assert-never.js';
import { exceedsMaximum, MAX_AMOUNT, type Money, moneyToNumber, totalOf } from '../shared/money.js';
import type { Buyer, Order, OrderItem } from './order.js';
import type { OrderRequest } from './order-request.js';
import { findOrder, insertOrderClaimingKey } from './repository.js';

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
 * (user, Idempotency-Key). A new order costs ONE round trip to the database: one auto-committed
 * statement, no BEGIN/COMMIT.
 *
 * 1. Price the items (catalog, its lookups cached) and check the total — BEFORE looking at the
 *    key, which saves a round trip on every new order. The spec puts the key first (a live key
 *    replays or 422s whatever the catalog says), so when pricing or the total check fails, the
 *    key is looked up then: a live key of this user → its replay (same body) or 422 (other
 *    body), never the pricing error; otherwise that error (422/503/400), nothing written.
 * 2. ONE statement (its own transaction, data-modifying CTEs) claims the key (inserts it, or
 *    takes over an expired one) and, only when claimed, writes the order, its items, the first
 *    timeline entry and the OrderCreated outbox row — all or nothing. A live key makes it write
 *    nothing; the key is then read to replay it or 422. A concurrent request with the same key
 *    WAITS in this statement for the first one's commit, then finds the key live: never a
 *    second order, never a 500. After the commit, the outbox relay is woken.
 */
export async function placeOrder(deps: PlaceOrderDeps, cmd: PlaceOrderCommand): Promise<PlaceOrderResult> {
  const { db } = deps;
  const userId = cmd.buyer.userId;
  let items: OrderItem[];
  let totalAmount: Money;
  try {
    items = await deps.priceOrder(cmd.request.items);
    totalAmount = totalOf(items);
    assertWithinMaximum(totalAmount);
  } catch (err) {
    const known = decideIdempotency(await findKey(db, userId, cmd.idempotencyKey), cmd.fingerprint, deps.clock());
    if (known.kind !== 'new') return replay(db, known);
    throw err;
  }

  // Two rounds at most: a live key seen by the statement can only have expired (or been purged)
  // before the read that follows it, and then the next round claims it.
  for (let round = 0; round < 2; round++) {
    const now = deps.clock();
    const order: Order = { id: deps.newId(), userId, status: 'NEW', totalAmount, createdAt: now, items };
    const orderCreated = createEvent(
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
    );
    const claimed = await insertOrderClaimingKey(db, {
      order,
      saga: { traceId: cmd.traceId, buyer: cmd.buyer },
      key: {
        user_id: userId,
        idempotency_key: cmd.idempotencyKey,
        order_id: order.id,
        status: 'COMPLETED',
        request_hash: cmd.fingerprint,
        created_at: now,
        expires_at: new Date(now.getTime() + deps.idempotencyTtlSeconds * 1000),
      },
      firstEntry: {
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
      },
      outboxRow: deps.outbox.row(orderCreated),
    });
    if (claimed) {
      deps.outbox.committed();
      return { kind: 'created', order };
    }
    // A live key of this user (a concurrent duplicate has waited for the first request's
    // commit inside the statement): nothing was written; replay it or refuse the body.
    const decision = decideIdempotency(await findKey(db, userId, cmd.idempotencyKey), cmd.fingerprint, deps.clock());
    if (decision.kind !== 'new') return replay(db, decision);
  }
  throw new Error('idempotency key neither claimed nor live after two rounds');
}

function assertWithinMaximum(totalAmount: Money): void {
  if (!exceedsMaximum(totalAmount)) return;
  throw new AppError(
    'bad_request',
    'AMOUNT_TOO_LARGE',
    `totalAmount ${totalAmount} exceeds the maximum ${MAX_AMOUNT}`,
    {
      errors: [{ field: 'items', message: `the order total must be at most ${MAX_AMOUNT}` }],
    },
  );
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

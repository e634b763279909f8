import { randomUUID } from 'node:crypto';
import { createEvent } from '@ecom/contracts';
import type { Database, Outbox } from '@ecom/platform';
import { buyerOf } from '../orders/repository.js';
import { type OrderMetrics, observeSagaCompletion } from '../shared/metrics.js';
import { type AppliedTrigger, applySagaTrigger } from './apply-saga-trigger.js';
import { claimOverdueOrderIds } from './repository.js';

export interface ExpireDeps {
  db: Database;
  outbox: Outbox;
  clock: () => Date;
  /** `ORDER_SAGA_TIMEOUT_SECONDS`. */
  timeoutSeconds: number;
  batchSize: number;
  metrics?: OrderMetrics;
}

/**
 * The saga deadline: every order still NEW or RESERVED `timeoutSeconds` after its creation
 * becomes FAILED (reason SAGA_TIMEOUT) and its stock release is requested (InventoryReleaseRequested,
 * reason SAGA_TIMEOUT) — in ONE transaction per batch, so a failed order always has its
 * release row. The event carries the order's own trace_id and buyer identity (events.md §5:
 * one trace per saga). Returns the number of orders failed (a full batch means: run again).
 */
export async function expireOverdueOrders(deps: ExpireDeps): Promise<number> {
  const now = deps.clock();
  const cutoff = new Date(now.getTime() - deps.timeoutSeconds * 1000);
  const applied: AppliedTrigger[] = [];
  const claimed = await deps.db.transaction(async (tx) => {
    applied.length = 0;
    const ids = await claimOverdueOrderIds(tx, cutoff, deps.batchSize);
    for (const id of ids) {
      applied.push(
        await applySagaTrigger(
          tx,
          id,
          { kind: 'Deadline' },
          { cause: 'DEADLINE', messageId: null, at: now },
          (reason, order) => {
            const buyer = buyerOf(order);
            return deps.outbox.add(
              tx,
              createEvent(
                'InventoryReleaseRequested',
                { order_id: order.id, reason },
                {
                  traceId: order.trace_id ?? randomUUID(),
                  identity: { user_id: buyer.userId, roles: [...buyer.roles] },
                  occurredAt: now,
                },
              ),
            );
          },
        ),
      );
    }
    return ids.length;
  });
  for (const a of applied) {
    if (a.kind === 'applied' && a.completed && deps.metrics) {
      observeSagaCompletion(deps.metrics, a.completed.outcome, a.completed.seconds);
    }
  }
  return claimed;
}

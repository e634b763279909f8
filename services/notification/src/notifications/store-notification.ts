import type { Queryable } from '@ecom/platform';
import type { Notification } from './notification.js';
import { insertNotification, trimNotifications } from './repository.js';

export type StoreOutcome = { kind: 'stored'; trimmed: number } | { kind: 'duplicate' };

/**
 * How many inserts share one trim: a tenth of the store, at most 100 (every insert for a store of
 * fewer than 20). Trimming on every insert cost an index walk of the whole store (1,000 entries)
 * and a store-wide lock held to COMMIT per notification, which serialized the consumer
 * (bench/README.md, session 3); one trim per 100 deletes the same rows in one statement.
 */
export function trimInterval(capacity: number): number {
  return Math.max(1, Math.min(100, Math.floor(capacity / 10)));
}

/**
 * Adds one notification to the bounded store, inside the caller's transaction: insert (a known
 * event_id is a duplicate and changes nothing), then, on every `trimInterval(capacity)`-th
 * insertion (by `seq`), trim the table to the newest `capacity` in the same transaction. Between
 * trims the table holds up to about `capacity + trimInterval` rows; readers never see more than
 * the newest `capacity` (repository.ts listNotifications).
 */
export async function storeNotification(tx: Queryable, n: Notification, capacity: number): Promise<StoreOutcome> {
  const seq = await insertNotification(tx, n);
  if (seq === undefined) return { kind: 'duplicate' };
  const trimmed = seq % trimInterval(capacity) === 0 ? await trimNotifications(tx, capacity) : 0;
  return { kind: 'stored', trimmed };
}

import type { Queryable } from '@ecom/platform';
import type { Notification } from './notification.js';
import { insertNotification, trimNotifications } from './repository.js';

export type StoreOutcome = { kind: 'stored'; trimmed: number } | { kind: 'duplicate' };

/**
 * Adds one notification to the bounded store, inside the caller's transaction: insert (a known
 * event_id is a duplicate and changes nothing), then trim to the newest `capacity` in the same
 * transaction, so the store never commits above its bound.
 */
export async function storeNotification(tx: Queryable, n: Notification, capacity: number): Promise<StoreOutcome> {
  if (!(await insertNotification(tx, n))) return { kind: 'duplicate' };
  return { kind: 'stored', trimmed: await trimNotifications(tx, capacity) };
}

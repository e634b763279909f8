import type { Database } from '@ecom/platform';
import { type Notification, syntheticFailure } from './notification.js';
import { type StoreOutcome, storeNotification } from './store-notification.js';

/** http-api.md §7.2: store a fake PaymentFailed notification. Nothing is published. */
export async function recordSyntheticFailure(
  db: Database,
  input: { orderId: string; paymentId: string; reason: string },
  deps: { clock: () => Date; newId: () => string; capacity: number },
): Promise<{ notification: Notification; outcome: StoreOutcome }> {
  const notification = syntheticFailure(input, deps.clock(), deps.newId);
  // A fresh random event_id cannot collide, so the outcome is `stored`.
  const outcome = await db.transaction((tx) => storeNotification(tx, notification, deps.capacity));
  return { notification, outcome };
}

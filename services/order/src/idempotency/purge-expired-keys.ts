import type { Queryable } from '@ecom/platform';
import { deleteExpiredKeys } from './repository.js';

/**
 * The periodic purge of expired keys (http-api.md §2.1 "purge expired keys"). Batches keep each
 * statement short; it stops at the first batch that is not full. Expiry is enforced on read as
 * well, so a key between its expiry and its purge is already treated as new.
 */
export async function purgeExpiredKeys(db: Queryable, now: Date, batchSize = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await deleteExpiredKeys(db, now, batchSize);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

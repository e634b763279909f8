import type { Queryable } from '@ecom/platform';
import type { SqlParams } from '../shared/sql-params.js';
import type { IdempotencyKeyRow } from './idempotency-key.js';

const COLUMNS = 'user_id, idempotency_key, order_id, status, request_hash, created_at, expires_at';

export async function findKey(db: Queryable, userId: string, key: string): Promise<IdempotencyKeyRow | undefined> {
  const [row] = await db.query<IdempotencyKeyRow>(
    `SELECT ${COLUMNS} FROM idempotency_keys WHERE user_id = $1 AND idempotency_key = $2`,
    [userId, key],
  );
  return row;
}

/**
 * Claims the key, as the first part of the creating statement (a data-modifying CTE: see
 * `insertOrderClaimingKey`). It returns `order_id` when this transaction now holds the key, and
 * no row when a live key of this user exists (nothing written):
 *  - no key → inserted;
 *  - an expired key (`expires_at` ≤ the claim's `created_at`, i.e. now) is treated as new: taken
 *    over in place by ON CONFLICT DO UPDATE, atomically — no separate DELETE;
 *  - a live key → the DO UPDATE's WHERE is false: no row, and the key stays locked by this
 *    transaction until it ends, so the caller's `findKey` reads it unchanged.
 * Concurrency (READ COMMITTED, the kernel's level): when another transaction holds an uncommitted
 * insert or takeover of the same (user, key), PostgreSQL makes this statement WAIT for it. After
 * its commit the WHERE is re-checked against the committed, live key → no row → the caller
 * replays ("wait and replay"); after its rollback the claim goes ahead. Never a unique
 * violation, never a 500.
 */
export function claimKeySql(row: IdempotencyKeyRow, p: SqlParams): string {
  return `INSERT INTO idempotency_keys (${COLUMNS})
    VALUES (${p.add(row.user_id, 'varchar')}, ${p.add(row.idempotency_key, 'varchar')}, ${p.add(row.order_id, 'uuid')},
            ${p.add(row.status, 'varchar')}, ${p.add(row.request_hash, 'varchar')}, ${p.add(row.created_at, 'timestamptz')},
            ${p.add(row.expires_at, 'timestamptz')})
    ON CONFLICT (user_id, idempotency_key) DO UPDATE
      SET order_id = EXCLUDED.order_id, request_hash = EXCLUDED.request_hash, status = EXCLUDED.status,
          created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
      WHERE idempotency_keys.expires_at <= EXCLUDED.created_at
    RETURNING order_id`;
}

/** Deletes up to `limit` keys past their expiry; returns how many. */
export async function deleteExpiredKeys(db: Queryable, now: Date, limit: number): Promise<number> {
  const { rowCount } = await db.execute(
    `DELETE FROM idempotency_keys WHERE (user_id, idempotency_key) IN (
       SELECT user_id, idempotency_key FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)`,
    [now, limit],
  );
  return rowCount;
}

import type { Queryable } from '@ecom/platform';
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
 * An expired key is treated as new: delete it in the transaction that re-inserts it. Two
 * requests racing on one expired key: the second DELETE waits for the first transaction, then
 * finds the row gone and deletes nothing, and its INSERT conflicts with the fresh key — a replay.
 */
export async function deleteExpiredKey(tx: Queryable, userId: string, key: string, now: Date): Promise<number> {
  const { rowCount } = await tx.execute(
    'DELETE FROM idempotency_keys WHERE user_id = $1 AND idempotency_key = $2 AND expires_at <= $3',
    [userId, key, now],
  );
  return rowCount;
}

/**
 * Claims the key: true when this transaction inserted it. When another transaction holds an
 * uncommitted insert of the same (user, key), PostgreSQL makes this statement WAIT for it; after
 * its commit, nothing is inserted (false) and a new statement sees its row — "wait and replay".
 * After its rollback, this insert goes ahead. Never a unique violation, never a 500.
 */
export async function claimKey(tx: Queryable, row: IdempotencyKeyRow): Promise<boolean> {
  const inserted = await tx.query(
    `INSERT INTO idempotency_keys (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING order_id`,
    [row.user_id, row.idempotency_key, row.order_id, row.status, row.request_hash, row.created_at, row.expires_at],
  );
  return inserted.length === 1;
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

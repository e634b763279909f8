/** `idempotency_keys` table shape. */
export interface IdempotencyKeyRow {
  user_id: string;
  idempotency_key: string;
  order_id: string;
  status: 'COMPLETED';
  /** NULL only on rows the original wrote (it never stored a fingerprint). */
  request_hash: string | null;
  created_at: Date;
  expires_at: Date;
}

export type IdempotencyDecision =
  /** No live key: create the order (an expired key counts as absent). */
  | { kind: 'new'; expired: boolean }
  /** Same user, same key, same body: return the stored order. */
  | { kind: 'replay'; orderId: string }
  /** Same user, same key, another body: 422 (IETF Idempotency-Key draft). */
  | { kind: 'mismatch' };

/**
 * What a request with this fingerprint does with the stored key of the same (user, key). Keys
 * are scoped by user in storage, so another user's key is never an input here.
 */
export function decideIdempotency(
  stored: Pick<IdempotencyKeyRow, 'order_id' | 'request_hash' | 'expires_at'> | undefined,
  fingerprint: string,
  now: Date,
): IdempotencyDecision {
  if (!stored) return { kind: 'new', expired: false };
  if (stored.expires_at.getTime() <= now.getTime()) return { kind: 'new', expired: true };
  // A key the original stored has no fingerprint: replay it as the original would have.
  if (stored.request_hash === null || stored.request_hash === fingerprint) {
    return { kind: 'replay', orderId: stored.order_id };
  }
  return { kind: 'mismatch' };
}

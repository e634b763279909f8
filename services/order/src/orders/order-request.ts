import { createHash } from 'node:crypto';
import type { FieldError } from '@ecom/platform';
import { roundMoney } from '../shared/money.js';
import type { OrderItem } from './order.js';

/** DB columns (data-model.md §2): the trimmed values must fit. */
export const USER_ID_MAX_LENGTH = 64;
export const SKU_MAX_LENGTH = 64;
export const IDEMPOTENCY_KEY_MAX_LENGTH = 128;

/** The body as the route schema admits it (http-api.md §2.1). */
export interface OrderRequestBody {
  userId: string;
  items: { skuId: string; quantity: number; price: number }[];
}

/** The body after the contract's normalization: trimmed, prices rounded half-up, in request order. */
export interface OrderRequest {
  userId: string;
  items: OrderItem[];
}

export type Normalized = { ok: true; request: OrderRequest } | { ok: false; errors: FieldError[] };

/**
 * Trims and rounds, and applies the rules the schema cannot express on raw text: the TRIMMED
 * userId and skuIds fit their columns (a 400, never the original's 500 from the database).
 */
export function normalizeOrderRequest(body: OrderRequestBody): Normalized {
  const errors: FieldError[] = [];
  const userId = body.userId.trim();
  if (userId.length > USER_ID_MAX_LENGTH) {
    errors.push({ field: 'userId', message: `must be at most ${USER_ID_MAX_LENGTH} characters` });
  }
  const items = body.items.map((item, i) => {
    const skuId = item.skuId.trim();
    if (skuId.length > SKU_MAX_LENGTH) {
      errors.push({ field: `items[${i}].skuId`, message: `must be at most ${SKU_MAX_LENGTH} characters` });
    }
    // JSON.parse reads 1e400 as Infinity, and the schema's `number` takes it (it was a 500).
    if (!Number.isFinite(item.price)) {
      errors.push({ field: `items[${i}].price`, message: 'must be a finite number' });
      return { skuId, quantity: item.quantity, price: roundMoney(0) };
    }
    return { skuId, quantity: item.quantity, price: roundMoney(item.price) };
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, request: { userId, items } };
}

export type IdempotencyKeyCheck = { ok: true; key: string } | { ok: false; message: string };

/** §2.1 step 2: trimmed; blank → 400 (the original: 500); longer than the column → 400. */
export function checkIdempotencyKey(raw: string): IdempotencyKeyCheck {
  const key = raw.trim();
  if (key === '') return { ok: false, message: 'Idempotency-Key must not be blank' };
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    return { ok: false, message: `Idempotency-Key must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters` };
  }
  return { ok: true, key };
}

/**
 * The request fingerprint an Idempotency-Key remembers: SHA-256 (hex) of the normalized body —
 * trimmed userId, then every item's trimmed skuId, quantity and rounded price, in request
 * order. Whitespace, key order, unknown fields and 19.9 vs 19.90 do not change it; a different
 * item, quantity, price or order of items does. The CLIENT's prices are hashed even when the
 * catalog sets the price: a replay must not depend on the catalog's current state.
 */
export function fingerprintOf(request: OrderRequest): string {
  const canonical = JSON.stringify([request.userId, request.items.map((i) => [i.skuId, i.quantity, i.price])]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

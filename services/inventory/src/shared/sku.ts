import { AppError } from '@ecom/platform';
import { SKU_MAX_LENGTH } from './schemas.js';

/** SKU ids are trimmed (http-api.md §3.1–3.3); blank or longer than the column → 400. */
export function normalizeSkuId(raw: string, field: string): string {
  const skuId = raw.trim();
  if (skuId === '') throw invalid(field, 'must not be blank');
  if (skuId.length > SKU_MAX_LENGTH) throw invalid(field, `must be at most ${SKU_MAX_LENGTH} characters`);
  return skuId;
}

function invalid(field: string, message: string): AppError {
  return new AppError('bad_request', 'VALIDATION_FAILED', `${field} ${message}`, { errors: [{ field, message }] });
}

/** Reads only trim and refuse blank: a longer id simply has no row (404). */
export function trimSkuId(raw: string, field: string): string {
  const skuId = raw.trim();
  if (skuId === '') throw invalid(field, 'must not be blank');
  return skuId;
}

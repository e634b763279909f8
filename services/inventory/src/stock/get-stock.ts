import type { Queryable, Versioned } from '@ecom/platform';
import { findStock } from './repository.js';
import { type StockResponse, toStockResponse } from './stock.js';
import type { StockCache } from './stock-cache.js';

/** Reads one SKU's row with its version; undefined when there is none. */
export type LoadStock = (skuId: string) => Promise<Versioned<StockResponse> | undefined>;

/**
 * `GET /api/stocks/{skuId}` (http-api.md §3.2): cache first, then the database. A missing row
 * is not cached. The loader is a parameter so a test can hold a read between the database and
 * the cache write (the read-miss/invalidate race).
 */
export async function getStock(deps: { cache: StockCache; load: LoadStock }, skuId: string) {
  return deps.cache.read(skuId, () => deps.load(skuId));
}

/** The database half of the read: the row and its version. */
export function stockLoader(db: Queryable): LoadStock {
  return async (skuId) => {
    const row = await findStock(db, skuId);
    return row ? { value: toStockResponse(row), version: row.version } : undefined;
  };
}

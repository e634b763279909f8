import type { Queryable } from '@ecom/platform';
import { upsertStock } from './repository.js';
import { type StockResponse, toStockResponse } from './stock.js';
import type { StockCache } from './stock-cache.js';

/**
 * `POST /api/stocks` (http-api.md §3.1). The statement commits first; only then is the new value
 * written to the cache (never from inside a transaction), with its version, so a slower
 * concurrent writer of an older value cannot replace it.
 */
export async function setStockLevel(
  deps: { db: Queryable; cache: StockCache; clock: () => Date },
  skuId: string,
  availableQty: number,
): Promise<StockResponse> {
  const row = await upsertStock(deps.db, skuId, availableQty, deps.clock());
  const stock = toStockResponse(row);
  await deps.cache.put(skuId, { value: stock, version: row.version });
  return stock;
}

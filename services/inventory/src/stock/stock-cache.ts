import { createVersionedCache, type VersionedCache, type VersionedStore } from '@ecom/platform';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { StockResponse, StockVersion } from './stock.js';

export type StockCache = VersionedCache<StockResponse>;

/**
 * The stock read cache of data-model.md §5 on the kernel's versioned cache: key
 * `<prefix><skuId>`, value `{"skuId","availableQty","reservedQty","updatedAt","version"}`
 * (the StockResponse shape plus the row version; readers ignore unknown members), and the
 * five `inventory_stock_cache_*_total` counters of operations.md §4.3.
 */
export function createStockCache(opts: {
  store: VersionedStore | undefined;
  keyPrefix: string;
  ttlSeconds: number;
  registry: Registry;
  logger?: Logger;
}): StockCache {
  return createVersionedCache<StockResponse>({
    store: opts.store,
    keyPrefix: opts.keyPrefix,
    ttlSeconds: opts.ttlSeconds,
    metricPrefix: 'inventory_stock_cache',
    what: 'stock read',
    registry: opts.registry,
    logger: opts.logger,
    encode: (s) => ({
      skuId: s.skuId,
      availableQty: s.availableQty,
      reservedQty: s.reservedQty,
      updatedAt: s.updatedAt,
    }),
    decode: decodeStock,
  });
}

/** A cached entry is used only if it has every StockResponse member with the right type. */
export function decodeStock(json: Record<string, unknown>): StockResponse | undefined {
  const { skuId, availableQty, reservedQty, updatedAt } = json;
  if (typeof skuId !== 'string' || typeof updatedAt !== 'string') return undefined;
  if (!Number.isInteger(availableQty) || !Number.isInteger(reservedQty)) return undefined;
  return { skuId, availableQty: availableQty as number, reservedQty: reservedQty as number, updatedAt };
}

/** After a commit that changed these SKUs: one invalidation (eviction) per SKU. */
export async function invalidateStocks(cache: StockCache, changed: readonly StockVersion[]): Promise<void> {
  await Promise.all(changed.map((c) => cache.invalidate(c.skuId, c.version)));
}

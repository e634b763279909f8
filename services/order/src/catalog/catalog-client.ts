/**
 * The HTTP client of catalog-service (`GET /api/catalog/products/{skuId}`, http-api.md §6.2),
 * with a short-lived, bounded, in-process cache. A lookup never hangs past `timeoutMs`, and any
 * answer that is not 200-with-a-product or 404 means the catalog is unavailable (the caller
 * answers 503; nothing is written).
 */

export type CatalogProduct =
  | { kind: 'found'; skuId: string; price: number; active: boolean }
  | { kind: 'not_found'; skuId: string };

export class CatalogUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogUnavailableError';
  }
}

export type CatalogLookupResult = 'cache_hit' | 'found' | 'not_found' | 'unavailable';

export interface CatalogClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** 0 turns the cache off. */
  cacheTtlMs: number;
  cacheMaxEntries: number;
  /** Parallel requests per lookup call. */
  concurrency?: number;
  now?: () => number;
  onLookup?: (result: CatalogLookupResult) => void;
}

export interface CatalogClient {
  /** One entry per distinct SKU; throws CatalogUnavailableError when any lookup fails. */
  lookup(skuIds: readonly string[]): Promise<Map<string, CatalogProduct>>;
}

interface CacheEntry {
  expiresAt: number;
  /** Concurrent lookups of one SKU share one request (single flight). */
  value: Promise<CatalogProduct>;
}

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function createCatalogClient(options: CatalogClientOptions): CatalogClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const concurrency = options.concurrency ?? 8;
  const cache = new Map<string, CacheEntry>();

  const fetchProduct = async (skuId: string): Promise<CatalogProduct> => {
    // `.` and `..` are dot segments: URL normalization would turn /products/.. into another
    // path (a 400 or 404 from a different route, once reported as "catalog unavailable"). No
    // client can address such a product, so none exists.
    if (skuId === '.' || skuId === '..') return { kind: 'not_found', skuId };
    // Not Unicode (an unpaired surrogate): no URL can carry it, no product has it. The kernel
    // refuses such JSON already; this keeps an encoding error from passing for an outage.
    if (UNPAIRED_SURROGATE.test(skuId)) return { kind: 'not_found', skuId };
    let res: Response;
    try {
      res = await fetch(`${base}/api/catalog/products/${encodeURIComponent(skuId)}`, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (err) {
      throw new CatalogUnavailableError(`catalog request for ${skuId} failed: ${(err as Error).message}`);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return { kind: 'not_found', skuId };
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new CatalogUnavailableError(`catalog answered ${res.status} for ${skuId}`);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      throw new CatalogUnavailableError(`catalog sent invalid JSON for ${skuId}: ${(err as Error).message}`);
    }
    const product = body as { price?: unknown; active?: unknown };
    if (
      typeof product !== 'object' ||
      product === null ||
      typeof product.price !== 'number' ||
      !Number.isFinite(product.price) ||
      product.price <= 0 ||
      typeof product.active !== 'boolean'
    ) {
      throw new CatalogUnavailableError(`catalog sent an unusable product for ${skuId}`);
    }
    return { kind: 'found', skuId, price: product.price, active: product.active };
  };

  const lookupOne = (skuId: string): Promise<CatalogProduct> => {
    const t = now();
    const cached = cache.get(skuId);
    if (cached && cached.expiresAt > t) {
      options.onLookup?.('cache_hit');
      return cached.value;
    }
    const value = fetchProduct(skuId).then(
      (product) => {
        options.onLookup?.(product.kind);
        return product;
      },
      (err: unknown) => {
        options.onLookup?.('unavailable');
        // Failures are never cached: the next request asks again.
        if (cache.get(skuId)?.value === value) cache.delete(skuId);
        throw err;
      },
    );
    if (options.cacheTtlMs > 0) {
      cache.delete(skuId); // re-insert at the end: the Map's order is the eviction order
      cache.set(skuId, { expiresAt: t + options.cacheTtlMs, value });
      while (cache.size > options.cacheMaxEntries) {
        const oldest = cache.keys().next().value;
        if (oldest === undefined) break;
        cache.delete(oldest);
      }
    }
    return value;
  };

  return {
    async lookup(skuIds) {
      const distinct = [...new Set(skuIds)];
      const results = new Map<string, CatalogProduct>();
      let next = 0;
      let failure: unknown;
      const worker = async () => {
        while (next < distinct.length && failure === undefined) {
          const skuId = distinct[next++]!;
          try {
            results.set(skuId, await lookupOne(skuId));
          } catch (err) {
            failure ??= err;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, distinct.length) }, worker));
      if (failure !== undefined) throw failure;
      return results;
    },
  };
}

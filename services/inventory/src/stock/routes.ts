import { AppError, ErrorResponse, type HttpApp, type Queryable } from '@ecom/platform';
import { Type } from 'typebox';
import { normalizeSkuId, trimSkuId } from '../shared/sku.js';
import { getStock, type LoadStock } from './get-stock.js';
import { StockInput, StockResponse } from './stock.js';
import type { StockCache } from './stock-cache.js';
import { setStockLevel } from './upsert-stock.js';

const tags = ['stock'];

export function registerStockRoutes(
  app: HttpApp,
  deps: { db: Queryable; cache: StockCache; load: LoadStock; clock: () => Date },
): void {
  app.post(
    '/api/stocks',
    {
      schema: {
        tags,
        summary: 'Create or overwrite the available quantity of a SKU (reservedQty is untouched)',
        body: StockInput,
        response: { 200: StockResponse, 400: ErrorResponse },
      },
    },
    async (request) => setStockLevel(deps, normalizeSkuId(request.body.skuId, 'skuId'), request.body.availableQty),
  );

  // Registered after the literal /api/stocks/release-events* routes; find-my-way also prefers
  // static segments, so a SKU named `release-events` is never read here (http-api.md §3.8).
  app.get(
    '/api/stocks/:skuId',
    {
      schema: {
        tags,
        summary: 'Read the stock of a SKU (served from the stock cache when enabled)',
        params: Type.Object({ skuId: Type.String({ description: 'trimmed; blank → 400' }) }),
        response: { 200: StockResponse, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const skuId = trimSkuId(request.params.skuId, 'skuId');
      const stock = await getStock(deps, skuId);
      if (!stock) throw new AppError('not_found', 'STOCK_NOT_FOUND', `no stock for SKU ${skuId}`);
      return stock;
    },
  );
}

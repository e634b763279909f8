import { isoMillis } from '@ecom/platform';
import { type Static, Type } from 'typebox';
import { INT_MAX } from '../shared/schemas.js';

/** Table shape (`sku_stocks`). `version` grows by one with every change of the row. */
export interface StockRow {
  sku_id: string;
  available_qty: number;
  reserved_qty: number;
  updated_at: Date;
  version: number;
}

/** `POST /api/stocks` body (http-api.md §3.1). availableQty is required (recommended fix: a missing one used to zero the stock). */
export const StockInput = Type.Object({
  skuId: Type.String({ pattern: '\\S', description: 'not blank; trimmed; at most 64 characters' }),
  availableQty: Type.Integer({ minimum: 0, maximum: INT_MAX, description: 'absolute available quantity, ≥ 0' }),
});
export type StockInput = Static<typeof StockInput>;

export const StockResponse = Type.Object({
  skuId: Type.String(),
  availableQty: Type.Integer(),
  reservedQty: Type.Integer(),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type StockResponse = Static<typeof StockResponse>;

export function toStockResponse(row: StockRow): StockResponse {
  return {
    skuId: row.sku_id,
    availableQty: row.available_qty,
    reservedQty: row.reserved_qty,
    updatedAt: isoMillis(row.updated_at),
  };
}

/** A SKU whose row a committed statement changed, and the version it now has (for cache invalidation). */
export interface StockVersion {
  skuId: string;
  version: number;
}

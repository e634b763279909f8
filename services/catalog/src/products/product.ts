import { type Static, Type } from 'typebox';

/** Table shape (`products`). */
export interface ProductRow {
  sku_id: string;
  name: string;
  description: string;
  /** NUMERIC as exact decimal text. */
  price: string;
  active: boolean;
  updated_at: Date;
}

export const SKU_MAX_LENGTH = 64;

export const SkuParams = Type.Object({
  skuId: Type.String({ minLength: 1, maxLength: SKU_MAX_LENGTH, description: 'Product SKU, used as sent' }),
});

/** `PUT` body (http-api.md §6.1). Unknown fields are ignored. */
export const ProductInput = Type.Object({
  name: Type.String({ pattern: '\\S', maxLength: 1000, description: 'not blank; stored as sent' }),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
  price: Type.Number({ exclusiveMinimum: 0, maximum: 1e12, description: 'strictly > 0; stored as sent' }),
  active: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
});
export type ProductInput = Static<typeof ProductInput>;

export const ProductResponse = Type.Object({
  skuId: Type.String(),
  name: Type.String(),
  description: Type.String(),
  price: Type.Number(),
  active: Type.Boolean(),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type ProductResponse = Static<typeof ProductResponse>;

/** The domain shape stored for a PUT: defaults applied as the contract says. */
export function productFromInput(skuId: string, input: ProductInput, now: Date): ProductRow {
  return {
    sku_id: skuId,
    name: input.name,
    description: input.description ?? '',
    price: String(input.price),
    active: input.active ?? true,
    updated_at: now,
  };
}

export function toResponse(row: ProductRow): ProductResponse {
  return {
    skuId: row.sku_id,
    name: row.name,
    description: row.description,
    price: Number(row.price),
    active: row.active,
    updatedAt: row.updated_at.toISOString(),
  };
}

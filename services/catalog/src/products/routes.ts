import { AppError, ErrorResponse, type HttpApp, type Queryable } from '@ecom/platform';
import { Type } from 'typebox';
import { ProductInput, ProductResponse, productFromInput, SkuParams, toResponse } from './product.js';
import { findProduct, listProducts, upsertProduct } from './repository.js';

const tags = ['catalog'];
// Spring's StringToBooleanConverter, which the original's `?active=` goes through.
const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true,
  on: true,
  yes: true,
  '1': true,
  false: false,
  off: false,
  no: false,
  '0': false,
};

export function parseActiveFilter(raw: string | undefined): boolean | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const word = raw.trim().toLowerCase();
  // Own keys only: `constructor` or `__proto__` must not find Object.prototype's (a 500 once).
  const value = Object.hasOwn(BOOLEAN_WORDS, word) ? BOOLEAN_WORDS[word] : undefined;
  if (value === undefined) {
    throw new AppError('bad_request', 'INVALID_QUERY_PARAMETER', `active must be true or false, got "${raw}"`, {
      errors: [{ field: 'active', message: 'must be a boolean (true/false, yes/no, on/off, 1/0)' }],
    });
  }
  return value;
}

export function registerProductRoutes(app: HttpApp, db: Queryable, clock: () => Date): void {
  app.put(
    '/api/catalog/products/:skuId',
    {
      schema: {
        tags,
        summary: 'Create or replace a product (full replace)',
        params: SkuParams,
        body: ProductInput,
        response: { 200: ProductResponse, 400: ErrorResponse },
      },
    },
    async (request) =>
      toResponse(await upsertProduct(db, productFromInput(request.params.skuId, request.body, clock()))),
  );

  app.get(
    '/api/catalog/products/:skuId',
    {
      schema: {
        tags,
        summary: 'Read one product',
        params: SkuParams,
        response: { 200: ProductResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const row = await findProduct(db, request.params.skuId);
      if (!row) throw new AppError('not_found', 'PRODUCT_NOT_FOUND', `product ${request.params.skuId} not found`);
      return toResponse(row);
    },
  );

  app.get(
    '/api/catalog/products',
    {
      schema: {
        tags,
        summary: 'List products sorted by skuId, optionally only active or inactive ones',
        querystring: Type.Object({
          active: Type.Optional(
            Type.String({ description: 'true/false (also yes/no, on/off, 1/0); absent = all products' }),
          ),
        }),
        response: { 200: Type.Array(ProductResponse), 400: ErrorResponse },
      },
    },
    async (request) => (await listProducts(db, parseActiveFilter(request.query.active))).map(toResponse),
  );
}

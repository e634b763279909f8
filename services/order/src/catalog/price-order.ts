import { AppError } from '@ecom/platform';
import type { CatalogValidation } from '../config.js';
import type { OrderItem } from '../orders/order.js';
import { assertNever } from '../shared/assert-never.js';
import { type CatalogClient, CatalogUnavailableError } from './catalog-client.js';
import { type PricingProblem, priceFromCatalog } from './price-items.js';

/** Sets the unit prices of an order's items; throws AppError 422 / 503. */
export type PriceOrder = (items: readonly OrderItem[]) => Promise<OrderItem[]>;

/** Seconds a client should wait before retrying when the catalog cannot be asked. */
export const CATALOG_RETRY_AFTER_SECONDS = 5;

/**
 * `ORDER_CATALOG_VALIDATION` (http-api.md §2.1): `enforce` asks the catalog (unknown or inactive
 * SKU → 422 naming it; unit prices from the catalog; catalog unreachable, slow or 5xx → 503 with
 * Retry-After — before any write); `off` trusts the client's prices, as the original did.
 */
export function createPriceOrder(validation: CatalogValidation, catalog: CatalogClient): PriceOrder {
  switch (validation) {
    case 'off':
      return async (items) => [...items];
    case 'enforce':
      return async (items) => {
        let products: Awaited<ReturnType<CatalogClient['lookup']>>;
        try {
          products = await catalog.lookup(items.map((i) => i.skuId));
        } catch (err) {
          if (!(err instanceof CatalogUnavailableError)) throw err;
          throw new AppError('unavailable', 'CATALOG_UNAVAILABLE', 'the product catalog is unavailable; retry later', {
            headers: { 'Retry-After': String(CATALOG_RETRY_AFTER_SECONDS) },
          });
        }
        const pricing = priceFromCatalog(items, products);
        if (pricing.ok) return pricing.items;
        const first = pricing.problems[0]!;
        throw new AppError(
          'unprocessable',
          CODES[first.problem],
          pricing.problems.map((p) => `SKU "${p.skuId}" ${PHRASES[p.problem]}`).join('; '),
          {
            errors: pricing.problems.map((p) => ({
              field: `items[${items.findIndex((i) => i.skuId === p.skuId)}].skuId`,
              message: `${p.skuId} ${PHRASES[p.problem]}`,
            })),
          },
        );
      };
    default:
      return assertNever(validation);
  }
}

const CODES: Record<PricingProblem, string> = {
  NOT_FOUND: 'PRODUCT_NOT_FOUND',
  INACTIVE: 'PRODUCT_INACTIVE',
  PRICE_INVALID: 'PRODUCT_PRICE_INVALID',
};

const PHRASES: Record<PricingProblem, string> = {
  NOT_FOUND: 'is not in the catalog',
  INACTIVE: 'is not active in the catalog',
  PRICE_INVALID: 'has a catalog price below 0.01',
};

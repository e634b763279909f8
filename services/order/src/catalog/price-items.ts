import type { OrderItem } from '../orders/order.js';
import { type Money, roundMoney } from '../shared/money.js';
import type { CatalogProduct } from './catalog-client.js';

export type PricingProblem = 'NOT_FOUND' | 'INACTIVE' | 'PRICE_INVALID';

export type Pricing =
  | { ok: true; items: OrderItem[] }
  | { ok: false; problems: { skuId: string; problem: PricingProblem }[] };

/**
 * `ORDER_CATALOG_VALIDATION=enforce` (http-api.md §2.1): every SKU must exist and be active, and
 * the unit price is the CATALOG's, rounded half-up to 2 decimals — server-authoritative. The
 * client's price is ignored (it still had to pass validation and still counts in the
 * idempotency fingerprint). Items keep their request order and are not merged.
 */
export function priceFromCatalog(items: readonly OrderItem[], products: ReadonlyMap<string, CatalogProduct>): Pricing {
  const problems: { skuId: string; problem: PricingProblem }[] = [];
  const priced: OrderItem[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const product = products.get(item.skuId);
    const problem = problemOf(product);
    if (problem) {
      if (!seen.has(item.skuId)) problems.push({ skuId: item.skuId, problem });
      seen.add(item.skuId);
      continue;
    }
    priced.push({ ...item, price: catalogPrice(product as Extract<CatalogProduct, { kind: 'found' }>) });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, items: priced };
}

function problemOf(product: CatalogProduct | undefined): PricingProblem | undefined {
  if (!product || product.kind === 'not_found') return 'NOT_FOUND';
  if (!product.active) return 'INACTIVE';
  // The catalog stores prices unrounded; one that rounds to 0.00 cannot be sold (price ≥ 0.01).
  if (catalogPrice(product) === '0.00') return 'PRICE_INVALID';
  return undefined;
}

function catalogPrice(product: Extract<CatalogProduct, { kind: 'found' }>): Money {
  return roundMoney(product.price);
}

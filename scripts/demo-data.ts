/**
 * Demo data for the embedded walkthrough: a small catalog and its stock, so that the README's
 * first order works straight after `npm start`. Written through the services' own HTTP routes
 * (in-process inject, no network) and only where nothing exists yet, so a persisted DATA_DIR
 * keeps whatever the user did since.
 */
import type { Service } from '@ecom/platform';

export const DEMO_PRODUCTS = [
  { skuId: 'SKU-001', name: 'Coffee mug', description: 'Stoneware, 350 ml', price: 19.9, stock: 100 },
  { skuId: 'SKU-002', name: 'Espresso beans', description: '1 kg, medium roast', price: 8.5, stock: 100 },
  { skuId: 'SKU-003', name: 'Pour-over kettle', description: 'Gooseneck, 1 l', price: 49.0, stock: 25 },
  { skuId: 'SKU-004', name: 'Grinder', description: 'Burr grinder, 40 settings', price: 1499.0, stock: 10 },
  { skuId: 'SKU-005', name: 'Paper filters', description: 'Pack of 100', price: 4.25, stock: 0 },
] as const;

export async function seedDemoData(
  services: readonly Service<unknown>[],
): Promise<{ products: number; stocks: number }> {
  const byName = new Map(services.map((s) => [s.name, s]));
  const catalog = byName.get('catalog-service');
  const inventory = byName.get('inventory-service');
  let products = 0;
  let stocks = 0;
  for (const p of DEMO_PRODUCTS) {
    if (catalog) {
      const existing = await catalog.app.inject({ method: 'GET', url: `/api/catalog/products/${p.skuId}` });
      if (existing.statusCode === 404) {
        const res = await catalog.app.inject({
          method: 'PUT',
          url: `/api/catalog/products/${p.skuId}`,
          payload: { name: p.name, description: p.description, price: p.price, active: true },
        });
        if (res.statusCode !== 200) throw new Error(`seeding ${p.skuId} in the catalog: ${res.statusCode} ${res.body}`);
        products++;
      }
    }
    if (inventory) {
      const existing = await inventory.app.inject({ method: 'GET', url: `/api/stocks/${p.skuId}` });
      if (existing.statusCode === 404) {
        const res = await inventory.app.inject({
          method: 'POST',
          url: '/api/stocks',
          payload: { skuId: p.skuId, availableQty: p.stock },
        });
        if (res.statusCode !== 200) throw new Error(`seeding stock of ${p.skuId}: ${res.statusCode} ${res.body}`);
        stocks++;
      }
    }
  }
  return { products, stocks };
}

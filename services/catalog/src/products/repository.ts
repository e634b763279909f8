import type { Queryable } from '@ecom/platform';
import type { ProductRow } from './product.js';

const COLUMNS = 'sku_id, name, description, price, active, updated_at';

/** Full replace: one statement, so two concurrent PUTs of one SKU never fail or merge. */
export async function upsertProduct(db: Queryable, p: ProductRow): Promise<ProductRow> {
  const [row] = await db.query<ProductRow>(
    `INSERT INTO products (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (sku_id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
       price = EXCLUDED.price, active = EXCLUDED.active, updated_at = EXCLUDED.updated_at
     RETURNING ${COLUMNS}`,
    [p.sku_id, p.name, p.description, p.price, p.active, p.updated_at],
  );
  if (!row) throw new Error('upsert returned no row');
  return row;
}

export async function findProduct(db: Queryable, skuId: string): Promise<ProductRow | undefined> {
  const [row] = await db.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE sku_id = $1`, [skuId]);
  return row;
}

/** Sorted by sku_id in simple string (byte) order, as the original's TreeMap-free sort does. */
export async function listProducts(db: Queryable, active: boolean | undefined): Promise<ProductRow[]> {
  return active === undefined
    ? db.query<ProductRow>(`SELECT ${COLUMNS} FROM products ORDER BY sku_id COLLATE "C"`)
    : db.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE active = $1 ORDER BY sku_id COLLATE "C"`, [active]);
}

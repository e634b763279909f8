/**
 * The floor for catalog-get: the least a Node server must do to answer
 * `GET /api/catalog/products/{skuId}` with the same body from the same table — Fastify 5 with
 * no logger, no hooks, no plugins; the same route schema the service declares (params
 * validation and a response schema, which Fastify compiles to fast-json-stringify); the same
 * primary-key SELECT through a node-postgres Pool of the same size; the same JSON shape.
 * Env: FLOOR_DB_URL, FLOOR_DB_POOL_SIZE (default 10), SERVER_PORT, SERVER_HOST.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { guardChild, requireEnv } from '../lib/child-guard.js';

interface ProductRow {
  sku_id: string;
  name: string;
  description: string;
  price: string;
  active: boolean;
  updated_at: Date;
}

const SQL = 'SELECT sku_id, name, description, price, active, updated_at FROM products WHERE sku_id = $1';

const params = {
  type: 'object',
  properties: { skuId: { type: 'string', minLength: 1, maxLength: 64 } },
  required: ['skuId'],
} as const;

const product = {
  type: 'object',
  properties: {
    skuId: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    price: { type: 'number' },
    active: { type: 'boolean' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['skuId', 'name', 'description', 'price', 'active', 'updatedAt'],
} as const;

const pool = new pg.Pool({
  connectionString: requireEnv('FLOOR_DB_URL'),
  max: Number(process.env.FLOOR_DB_POOL_SIZE ?? 10),
  idleTimeoutMillis: 30_000,
});
pool.on('error', () => undefined); // an idle connection lost: the next query reconnects

const app = Fastify({ logger: false });

app.get<{ Params: { skuId: string } }>(
  '/api/catalog/products/:skuId',
  { schema: { params, response: { 200: product } } },
  async (request, reply) => {
    const { rows } = await pool.query<ProductRow>(SQL, [request.params.skuId]);
    const row = rows[0];
    if (!row) return reply.code(404).send({ status: 404, error: 'Not Found' });
    return {
      skuId: row.sku_id,
      name: row.name,
      description: row.description,
      price: Number(row.price),
      active: row.active,
      updatedAt: row.updated_at.toISOString(),
    };
  },
);

await app.listen({ port: Number(requireEnv('SERVER_PORT')), host: process.env.SERVER_HOST ?? '127.0.0.1' });
guardChild(async () => {
  await app.close();
  await pool.end();
});

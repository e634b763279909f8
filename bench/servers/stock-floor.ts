/**
 * The floor for stock-cache-hit: the least a Node server must do to answer a cache hit of
 * `GET /api/stocks/{skuId}` with the same body — Fastify 5 with no logger, no hooks, no plugins;
 * the same route schema the service declares (params, and the StockResponse response schema that
 * Fastify compiles to fast-json-stringify); ONE ioredis GET of the same key
 * (`<prefix><skuId>`), JSON.parse, the four members of the answer; 404 when the key is missing.
 * No version check, no tombstones, no counters, no database fallback.
 * Env: FLOOR_REDIS_HOST (127.0.0.1), FLOOR_REDIS_PORT (6379), FLOOR_KEY_PREFIX, SERVER_PORT, SERVER_HOST.
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { guardChild, requireEnv } from '../lib/child-guard.js';

const prefix = requireEnv('FLOOR_KEY_PREFIX');
const redis = new Redis({
  host: process.env.FLOOR_REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.FLOOR_REDIS_PORT ?? 6379),
  connectionName: 'bench-stock-floor',
});
redis.on('error', () => undefined);
await redis.ping();

const params = {
  type: 'object',
  properties: { skuId: { type: 'string' } },
  required: ['skuId'],
} as const;
const stock = {
  type: 'object',
  properties: {
    skuId: { type: 'string' },
    availableQty: { type: 'integer' },
    reservedQty: { type: 'integer' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['skuId', 'availableQty', 'reservedQty', 'updatedAt'],
} as const;

const app = Fastify({ logger: false });
app.get<{ Params: { skuId: string } }>(
  '/api/stocks/:skuId',
  { schema: { params, response: { 200: stock } } },
  async (request, reply) => {
    const raw = await redis.get(prefix + request.params.skuId);
    if (raw === null) return reply.code(404).send({ status: 404, error: 'Not Found' });
    const v = JSON.parse(raw) as { skuId: string; availableQty: number; reservedQty: number; updatedAt: string };
    return { skuId: v.skuId, availableQty: v.availableQty, reservedQty: v.reservedQty, updatedAt: v.updatedAt };
  },
);

await app.listen({ port: Number(requireEnv('SERVER_PORT')), host: process.env.SERVER_HOST ?? '127.0.0.1' });
guardChild(async () => {
  await app.close();
  redis.disconnect();
});

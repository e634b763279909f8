/**
 * A stand-in catalog-service for order-create (the order service caches lookups for 5 s, so the
 * catalog sees a handful of requests per run): `GET /api/catalog/products/{skuId}` answers 200
 * with the catalog's product JSON for `BENCH-SKU-<n>` (price 10 + n, active), 404 otherwise.
 * `GET /lookups` answers how many product lookups it served. Env: SERVER_PORT, SERVER_HOST.
 */
import { createServer } from 'node:http';
import { guardChild, requireEnv } from '../lib/child-guard.js';

let lookups = 0;
const updatedAt = new Date().toISOString();
const server = createServer((req, res) => {
  if (req.url === '/lookups') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ lookups }));
  }
  const match = /^\/api\/catalog\/products\/BENCH-SKU-(\d+)$/.exec(req.url ?? '');
  lookups++;
  if (!match) {
    res.writeHead(404, { 'content-type': 'application/json' });
    return res.end('{"status":404,"error":"Not Found"}');
  }
  const n = Number(match[1]);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      skuId: `BENCH-SKU-${match[1]}`,
      name: `Bench product ${n}`,
      description: 'order-create benchmark product',
      price: 10 + n,
      active: true,
      updatedAt,
    }),
  );
});
await new Promise<void>((resolve) =>
  server.listen(Number(requireEnv('SERVER_PORT')), process.env.SERVER_HOST ?? '127.0.0.1', resolve),
);
guardChild(() => new Promise<void>((resolve) => server.close(() => resolve())));

import { createServer, type Server } from 'node:http';

/**
 * A stand-in catalog-service on 127.0.0.1 that a test controls: `GET /api/catalog/products/{sku}`
 * answers 200 for products put here, 404 otherwise. SKUs with these prefixes misbehave:
 *   ERR500-  → 500            RESET-   → the socket is destroyed (like an unreachable host)
 *   SLOW-    → answers after 5 s (beyond the client timeout)   BADJSON- → 200 with a non-JSON body
 */
export interface FakeCatalog {
  url: string;
  put(skuId: string, price: number, active?: boolean): void;
  /** Requests seen for one SKU. */
  requests(skuId: string): number;
  close(): Promise<void>;
}

export async function startFakeCatalog(): Promise<FakeCatalog> {
  const products = new Map<string, { price: number; active: boolean }>();
  const seen = new Map<string, number>();
  const slow = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const match = /^\/api\/catalog\/products\/([^/?]+)$/.exec(req.url ?? '');
    const sku = match ? decodeURIComponent(match[1]!) : '';
    seen.set(sku, (seen.get(sku) ?? 0) + 1);
    if (sku.startsWith('RESET-')) return req.socket.destroy();
    if (sku.startsWith('ERR500-')) {
      res.writeHead(500, { 'content-type': 'application/json' });
      return res.end('{"status":500}');
    }
    if (sku.startsWith('BADJSON-')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('<html>');
    }
    if (sku.startsWith('SLOW-')) {
      const t = setTimeout(() => {
        slow.delete(t);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ skuId: sku, price: 1, active: true }));
      }, 5000);
      slow.add(t);
      return;
    }
    const product = products.get(sku);
    if (!product) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"status":404}');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        skuId: sku,
        name: sku,
        description: '',
        price: product.price,
        active: product.active,
        updatedAt: new Date().toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('fake catalog has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    put: (skuId, price, active = true) => products.set(skuId, { price, active }),
    requests: (skuId) => seen.get(skuId) ?? 0,
    close: () =>
      new Promise((resolve) => {
        for (const t of slow) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

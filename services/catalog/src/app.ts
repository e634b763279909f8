import { fileURLToPath } from 'node:url';
import type { ServiceModule } from '@ecom/platform';
import { registerProductRoutes } from './products/routes.js';

/** catalog-service (spec http-api.md §6): the product catalog, persisted in PostgreSQL. */
export const catalogService: ServiceModule = {
  name: 'catalog-service',
  defaultPort: 8085,
  version: '0.1.0',
  description: 'Product catalog: create/replace, read and list products.',
  database: {
    envPrefix: 'CATALOG',
    schema: 'catalog',
    migrationsDir: fileURLToPath(new URL('../migrations', import.meta.url)),
  },
  register(app, { db }) {
    registerProductRoutes(app, db, () => new Date());
  },
};

/**
 * The measured side: catalog-service exactly as it ships, started through the platform kernel
 * (`createService` → config, logger, pg pool, migrations, Fastify app with trace id, metrics,
 * error mapping, actuator, OpenAPI → the catalog routes). Configured only through env:
 * CATALOG_DB_URL, CATALOG_DB_POOL_SIZE, SERVER_PORT, SERVER_HOST, LOG_LEVEL.
 */
import { catalogService } from '@ecom/catalog-service';
import { createService } from '@ecom/platform';
import { guardChild } from '../lib/child-guard.js';

const service = await createService(catalogService, { env: process.env });
await service.listen();
guardChild(() => service.stop());

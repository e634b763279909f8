/**
 * The measured side of order-create, stock-cache-hit, release-cursor and csv-export: one service
 * exactly as it ships, started through the platform kernel (`createService` → config, logger, pg
 * pool, migrations, messaging runtime, Fastify app with trace id, metrics, error mapping,
 * actuator, OpenAPI → the service's routes and consumers), alone in this process. Which service:
 * BENCH_SERVICE (a short name of scripts/services.ts: order, inventory, …). Everything else is
 * the service's own env (`<PREFIX>_DB_URL`, RABBITMQ_URL, REDIS_HOST, SERVER_PORT, LOG_LEVEL, …).
 */
import { createService } from '@ecom/platform';
import { SERVICES } from '../../scripts/services.js';
import { guardChild, requireEnv } from '../lib/child-guard.js';

const name = requireEnv('BENCH_SERVICE');
const load = SERVICES[name];
if (!load) {
  console.error(`BENCH_SERVICE: unknown service "${name}"; known: ${Object.keys(SERVICES).join(', ')}`);
  process.exit(2);
}
const service = await createService(await load(), { env: process.env });
await service.listen();
guardChild(() => service.stop());

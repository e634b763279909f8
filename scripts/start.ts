/**
 * `npm start`: runs the platform's services in ONE process on their spec ports.
 * Nothing set → embedded everything (PGlite shared by all services, one schema each).
 * `SERVICES=auth,catalog` runs a subset. Each dependency switches to the real server when its
 * variables are set (README "Configuration"). To scale, run one service per process instead:
 * `SERVICES=catalog npm start` (or the service's own `main.ts`) with the real servers.
 */
import type { Service } from '@ecom/platform';
import { embeddedDataDir, prewarmPgliteHost } from '@ecom/platform/embedded';
import { DATABASE_PREFIX, SERVICES } from './services.js';

const started = Date.now();
const requested = (process.env.SERVICES?.trim() || Object.keys(SERVICES).join(','))
  .split(',')
  .map((s) => s.trim().replace(/-service$/, ''))
  .filter(Boolean);
const unknown = requested.filter((name) => !SERVICES[name]);
if (unknown.length > 0) {
  console.error(`SERVICES: unknown service(s) ${unknown.join(', ')}; known: ${Object.keys(SERVICES).join(', ')}`);
  process.exit(2);
}

// SERVER_PORT is per process (the ECS task sets it); with several services in one process each
// keeps its spec port, so it only applies when exactly one service runs. PORT_OFFSET shifts
// every spec port (a second stack beside a running one, or a test).
const env = { ...process.env };
if (requested.length > 1) delete env.SERVER_PORT;
const portOffset = Number(env.PORT_OFFSET ?? 0);
if (!Number.isInteger(portOffset) || portOffset < 0 || portOffset > 50_000) {
  console.error(`PORT_OFFSET: must be an integer from 0 to 50000, got "${env.PORT_OFFSET}"`);
  process.exit(2);
}

// A service without its <PREFIX>_DB_URL runs on the embedded database: start opening it now, so
// its copy and WASM compilation overlap loading the kernel and the services (about 2 s) rather
// than following them. Everything heavy is imported only after this line.
const embedded = requested.some((name) => {
  const prefix = DATABASE_PREFIX[name];
  return prefix !== undefined && !env[`${prefix}_DB_URL`]?.trim();
});
if (embedded) prewarmPgliteHost(embeddedDataDir(env.DATA_DIR?.trim() || undefined));
const { createService, serviceLogger, stopOnSignals } = await import('@ecom/platform');
const { seedDemoData } = await import('./demo-data.js');

const log = serviceLogger('platform', {
  level: env.LOG_LEVEL ?? 'info',
  format: env.LOG_FORMAT === 'pretty' ? 'pretty' : 'json',
});
// With shifted ports, the services of this process must find each other on the shifted ports too.
if (portOffset > 0) {
  env.AUTH_JWKS_URI ??= `http://localhost:${8084 + portOffset}/.well-known/jwks.json`;
  env.CATALOG_SERVICE_URL ??= `http://localhost:${8085 + portOffset}`;
  env.ORDER_SERVICE_URL ??= `http://localhost:${8081 + portOffset}`;
}

// Demo data (README walkthrough): on by default when the catalog runs embedded, off with
// SEED_DEMO_DATA=false; never overwrites what exists. The demo stack also declines payments
// above 1000 unless PAYMENT_DECLINE_ABOVE_AMOUNT says otherwise, so both saga paths can be tried.
const seedDemo = (env.SEED_DEMO_DATA ?? (env.CATALOG_DB_URL ? 'false' : 'true')).toLowerCase() === 'true';
if (seedDemo && env.PAYMENT_DECLINE_ABOVE_AMOUNT === undefined) env.PAYMENT_DECLINE_ABOVE_AMOUNT = '1000';

const services: Service<unknown>[] = [];
try {
  // One after another: they share the embedded PGlite, and boot logs stay readable.
  for (const name of requested) {
    const module = await SERVICES[name]!();
    const serviceEnv = portOffset > 0 ? { ...env, SERVER_PORT: String(module.defaultPort + portOffset) } : env;
    const service = await createService(module, { env: serviceEnv });
    services.push(service);
    await service.listen();
  }
} catch (err) {
  log.fatal({ err }, 'startup failed');
  await Promise.allSettled(services.map((s) => s.stop()));
  process.exit(1);
}
stopOnSignals(services, log);

if (seedDemo) {
  try {
    log.info(await seedDemoData(services), 'demo data seeded (SEED_DEMO_DATA=false turns it off)');
  } catch (err) {
    log.warn({ err }, 'demo data not seeded');
  }
}
log.info(
  {
    services: services.map((s) => s.name),
    startupMs: Date.now() - started,
    rssMb: Math.round(process.memoryUsage().rss / 1e6),
  },
  'platform ready',
);

/**
 * The whole platform for a black-box test: six services started the way `npm start` does
 * (createService, one process), either on the real servers — their own databases, a RabbitMQ
 * namespace and a Redis key prefix, so stacks never meet — or embedded (PGlite schemas and the
 * in-process broker). Tests talk to it over HTTP and AMQP only; the database handles are for
 * the invariant checker.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { deleteNamespacedTopology, dropDatabase, TEST_AMQP_URL, TEST_PG_ADMIN_URL } from '@ecom/platform/testing';
import { SERVICES } from '../../scripts/services.js';
import { createService, type Database, type Service, type Transport } from './platform.js';

export type ServiceName = 'auth' | 'catalog' | 'order' | 'inventory' | 'payment' | 'notification';
export const ALL: readonly ServiceName[] = ['auth', 'catalog', 'inventory', 'payment', 'notification', 'order'];
export type StackMode = 'real' | 'embedded';

export interface Stack {
  mode: StackMode;
  ns: string;
  urls: Record<ServiceName, string>;
  services: Record<ServiceName, Service<unknown>>;
  db(name: 'order' | 'inventory' | 'payment' | 'notification' | 'catalog'): Database;
  /** Any service's broker port (they share the broker). */
  transport: Transport;
  /** The namespaced name of a spec exchange or queue. */
  name(specName: string): string;
  /** Starts the services held back with `deferred` (events published meanwhile must wait for them). */
  startDeferred(): Promise<void>;
  close(): Promise<void>;
}

const RETRY_TTL_MS = 300;

/**
 * A port held open until its service is about to listen: the six are reserved up front (every
 * service's env names the others' URLs), but a port released early could be handed to another
 * test file's listener while the services boot one after the other.
 */
async function reservePort(): Promise<{ port: number; release(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      let released: Promise<void> | undefined;
      resolve({
        port,
        release: () => (released ??= new Promise<void>((done) => srv.close(() => done()))),
      });
    });
  });
}

export async function startStack(
  mode: StackMode,
  opts: {
    startOrder?: readonly ServiceName[];
    /** Not started until startDeferred(). */
    deferred?: readonly ServiceName[];
    env?: Record<string, string>;
    per?: Partial<Record<ServiceName, Record<string, string>>>;
  } = {},
): Promise<Stack> {
  const ns = `e2e${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const reservations = Object.fromEntries(await Promise.all(ALL.map(async (n) => [n, await reservePort()]))) as Record<
    ServiceName,
    Awaited<ReturnType<typeof reservePort>>
  >;
  const ports = Object.fromEntries(ALL.map((n) => [n, reservations[n].port])) as Record<ServiceName, number>;
  const releaseAll = () => Promise.all(ALL.map((n) => reservations[n].release()));
  const urls = Object.fromEntries(ALL.map((n) => [n, `http://127.0.0.1:${ports[n]}`])) as Record<ServiceName, string>;
  const databases: string[] = [];
  const common: Record<string, string> = {
    SERVER_HOST: '127.0.0.1',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
    MESSAGING_NAMESPACE: `${ns}.`,
    APP_OUTBOX_POLL_INTERVAL_MS: '200',
    APP_MESSAGING_RETRY_TTL_MS: String(RETRY_TTL_MS),
    AUTH_JWKS_URI: `${urls.auth}/.well-known/jwks.json`,
    CATALOG_SERVICE_URL: urls.catalog,
    ORDER_SERVICE_URL: urls.order,
    APP_CACHE_STOCK_KEY_PREFIX: `${ns}:inventory:stock:`,
    // Six services share one process (and, embedded, one serialized database): on a loaded
    // test machine a 2 s catalog lookup can time out without anything being wrong.
    ORDER_CATALOG_TIMEOUT_MS: '10000',
    ...(mode === 'real' ? { RABBITMQ_URL: TEST_AMQP_URL, REDIS_HOST: '127.0.0.1' } : {}),
    ...opts.env,
  };
  const services: Partial<Record<ServiceName, Service<unknown>>> = {};
  const started: Service<unknown>[] = [];
  const startOne = async (name: ServiceName) => {
    const env: Record<string, string> = { ...common, SERVER_PORT: String(ports[name]), ...opts.per?.[name] };
    if (mode === 'real' && name !== 'auth') {
      const db = `${ns}_${name}`;
      const url = new URL(TEST_PG_ADMIN_URL);
      url.pathname = `/${db}`;
      env[`${name.toUpperCase()}_DB_URL`] = url.toString();
      databases.push(db);
    }
    const module = await SERVICES[name]!();
    const service = await createService(module, { env, schema: `${name}_${ns}` });
    await reservations[name].release();
    await service.listen();
    services[name] = service;
    started.push(service);
  };
  const deferred = new Set(opts.deferred ?? []);
  try {
    for (const name of opts.startOrder ?? ALL) if (!deferred.has(name)) await startOne(name);
  } catch (err) {
    await Promise.allSettled(started.reverse().map((s) => s.stop()));
    await releaseAll();
    throw err;
  }
  const all = services as Record<ServiceName, Service<unknown>>;
  return {
    mode,
    ns,
    urls,
    services: all,
    db: (name) => all[name].deps.db,
    get transport() {
      return (all.order ?? all.inventory ?? all.payment ?? all.notification).deps.transport;
    },
    name: (spec) => `${ns}.${spec}`,
    async startDeferred() {
      for (const name of opts.startOrder ?? ALL) if (deferred.has(name)) await startOne(name);
      deferred.clear();
    },
    async close() {
      await Promise.allSettled(started.reverse().map((s) => s.stop()));
      await releaseAll(); // services never started (deferred)
      if (mode === 'real') {
        await Promise.allSettled(databases.map((d) => dropDatabase(d)));
        await deleteNamespacedTopology(TEST_AMQP_URL, `${ns}.`).catch(() => undefined);
      }
    },
  };
}

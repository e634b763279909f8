import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createBearerVerifierFromConfig, readBearerConfig } from './auth/config.js';
import { type CommonConfig, readCommonConfig, readDatabaseConfig } from './config/common.js';
import { type Env, EnvReader } from './config/env.js';
import type { Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { acquirePgliteHost, embeddedDataDir } from './db/pglite.js';
import { openPostgres } from './db/postgres.js';
import type { HealthIndicator } from './health.js';
import { registerActuator } from './http/actuator.js';
import { buildHttpApp, type HttpApp } from './http/app.js';
import { createRegistry } from './http/metrics.js';
import { gitCommit } from './info.js';
import { serviceLogger } from './logger.js';
import type { ConsumerDefinition } from './messaging/consumer.js';
import { registerDlqRoutes } from './messaging/dlq-routes.js';
import type { Outbox } from './messaging/outbox.js';
import {
  createMessagingRuntime,
  type MessagingDefinition,
  type MessagingRuntime,
  readMessagingConfig,
} from './messaging/runtime.js';
import type { Transport } from './messaging/transport.js';
import { registerServiceTelemetry, shutdownTelemetry } from './telemetry/context.js';

/** The kernel's own tables (outbox, consumed_messages, DLQ audit), applied before the service's. */
const MESSAGING_MIGRATIONS = fileURLToPath(new URL('../migrations', import.meta.url));

/** What a service is: its name, port, storage and the explicit list of its routes. */
export interface ServiceModule<C = unknown> {
  /** `catalog-service`: the metric label `application`, the log field `service`, the OTel service name. */
  name: string;
  defaultPort: number;
  version: string;
  description: string;
  /** Service-specific settings, read once at boot; throw ConfigError naming the variable. */
  readConfig?: (env: EnvReader, common: CommonConfig) => C;
  /** A service with state: `<envPrefix>_DB_URL` selects PostgreSQL, else PGlite schema `schema`. */
  database?: { envPrefix: string; schema: string; migrationsDir: string };
  /** Events: what the service consumes and whether it publishes (needs `database`). */
  messaging?: MessagingDefinition;
  /** Adds routes, indicators and close hooks. Called once, before the app is frozen. */
  register(app: HttpApp, deps: ServiceDeps<C>): void | Promise<void>;
}

export interface ServiceDeps<C> {
  config: C;
  common: CommonConfig;
  env: EnvReader;
  /** The service's database; only for modules that declare `database`. */
  db: Database;
  logger: Logger;
  registry: Registry;
  /** The transactional outbox; only for modules that declare `messaging`. */
  outbox: Outbox;
  /** The broker port; only for modules that declare `messaging`. */
  transport: Transport;
  /**
   * Adds a consumer whose handler needs something register() creates (a cache, a client).
   * Static consumers can be listed in `messaging.consumers` instead.
   */
  addConsumer(def: ConsumerDefinition): void;
  addHealthIndicator(indicator: HealthIndicator): void;
  /** Runs at shutdown after HTTP has drained, in reverse order of registration. */
  onClose(fn: () => Promise<void> | void): void;
}

export interface CreateServiceOptions {
  env?: Env;
  /** Tests isolate themselves with their own PGlite schema. */
  schema?: string;
}

export interface Service<C = unknown> {
  readonly name: string;
  readonly app: HttpApp;
  readonly deps: ServiceDeps<C>;
  /** Starts listening on the configured host and port; resolves with the base URL. */
  listen(): Promise<string>;
  /** Graceful: readiness DOWN → drain delay → in-flight requests finish → close hooks → storage. */
  stop(): Promise<void>;
}

/**
 * The one way every service starts: config → logger → storage (+ migrations) → HTTP app with
 * the platform endpoints → the service's own routes. The app is returned ready for `inject()`
 * (tests) or `listen()` (main).
 */
export async function createService<C>(
  module: ServiceModule<C>,
  options: CreateServiceOptions = {},
): Promise<Service<C>> {
  const env = new EnvReader(options.env ?? process.env);
  // The OTel service.name of what this service does (one process may run six; telemetry/README.md).
  registerServiceTelemetry(module.name, { version: module.version });
  const common = readCommonConfig(env, module.defaultPort);
  const config = module.readConfig ? module.readConfig(env, common) : (undefined as C);
  const logger = serviceLogger(module.name, { level: common.logLevel, format: common.logFormat });
  const registry = createRegistry(module.name);
  const indicators: HealthIndicator[] = [];
  const modes: Record<string, string> = {};
  let ready = false;
  // Everything opened is closed in reverse order — at shutdown, and also when boot fails halfway
  // (a bad key file or a refused topology must not leave a pool or a connection behind).
  const resources: (() => Promise<void> | void)[] = [];
  const unwind = async () => {
    for (const close of resources.splice(0).reverse()) {
      await Promise.resolve()
        .then(close)
        .catch((err) => logger.warn({ err }, 'close failed'));
    }
  };

  let db: Database | undefined;
  let messaging: MessagingRuntime | undefined;
  let app: HttpApp | undefined;
  const deps: ServiceDeps<C> = {
    config,
    common,
    env,
    get db(): Database {
      if (!db) throw new Error(`${module.name} declares no database`);
      return db;
    },
    logger,
    registry,
    get outbox(): Outbox {
      if (!messaging) throw new Error(`${module.name} declares no messaging`);
      return messaging.outbox;
    },
    get transport(): Transport {
      if (!messaging) throw new Error(`${module.name} declares no messaging`);
      return messaging.transport;
    },
    addConsumer: (def) => {
      if (!messaging) throw new Error(`${module.name} declares no messaging`);
      messaging.addConsumer(def);
    },
    addHealthIndicator: (i) => {
      indicators.push(i);
      modes[i.name] = i.mode;
    },
    onClose: (fn) => resources.push(fn),
  };

  try {
    if (module.database) {
      const dbConfig = readDatabaseConfig(env, module.database.envPrefix, common.dataDir);
      if (dbConfig.mode === 'postgres') {
        db = await openPostgres({
          target: dbConfig.target,
          maxConnections: dbConfig.maxConnections,
          applicationName: module.name,
          logger,
        });
        const pool = db;
        resources.push(() => pool.close());
      } else {
        const host = await acquirePgliteHost(embeddedDataDir(dbConfig.dataDir));
        resources.push(() => host.release());
        db = await host.database(options.schema ?? module.database.schema);
      }
      modes.database = `${db.kind} (${db.description})`;
      const database = db;
      indicators.push({
        name: 'db',
        critical: true,
        mode: db.kind,
        check: () => database.ping(common.healthTimeoutMs),
      });
      await migrate(
        db,
        [
          ...(module.messaging ? [{ dir: MESSAGING_MIGRATIONS, prefix: 'platform/' }] : []),
          { dir: module.database.migrationsDir },
        ],
        logger,
      );
    }

    if (module.messaging) {
      if (!db) throw new Error(`${module.name}: messaging needs a database (outbox, consumed_messages)`);
      messaging = await createMessagingRuntime({
        name: module.name,
        definition: module.messaging,
        config: readMessagingConfig(env),
        db,
        logger,
        registry,
      });
      const runtime = messaging;
      resources.push(() => runtime.stop());
      indicators.push(messaging.indicator);
      modes.broker = messaging.mode;
    }

    app = await buildHttpApp({
      serviceName: module.name,
      version: module.version,
      description: module.description,
      logger,
      registry,
      bodyLimitBytes: common.bodyLimitBytes,
    });
    registerServiceTelemetry(module.name, { version: module.version, server: app.server });
    registerActuator(app, {
      registry,
      indicators: () => indicators,
      isReady: () => ready,
      healthTimeoutMs: common.healthTimeoutMs,
      info: () => ({
        app: { name: module.name, description: module.description },
        build: { name: module.name, version: module.version },
        ...(gitCommit(env.env) ? { git: { commit: gitCommit(env.env) } } : {}),
        dependencies: modes,
      }),
    });

    await module.register(app, deps);
    if (messaging?.hasConsumers()) {
      const { verifier } = createBearerVerifierFromConfig(readBearerConfig(env), { logger });
      registerDlqRoutes(app, {
        transport: messaging.transport,
        db: deps.db,
        queues: messaging.dlqQueues(),
        verifier,
        adminRole: env.string('AUTH_REQUIRED_ADMIN_ROLE', 'admin'),
      });
    }
    await app.ready();
    await messaging?.start();
  } catch (err) {
    await app?.close().catch(() => undefined);
    await unwind();
    throw err;
  }
  const http = app;
  ready = true; // started; traffic reaches it once listen() binds (or through inject() in tests)

  let stopping: Promise<void> | undefined;
  return {
    name: module.name,
    app: http,
    deps,
    async listen() {
      const address = await http.listen({ port: common.port, host: common.host });
      logger.info({ address, dependencies: modes }, `${module.name} ready`);
      return address.replace('0.0.0.0', '127.0.0.1');
    },
    stop() {
      stopping ??= (async () => {
        ready = false; // readiness answers 503 from here on
        if (common.shutdownDrainDelayMs > 0) await sleep(common.shutdownDrainDelayMs);
        const hardStop = setTimeout(() => http.server.closeAllConnections(), common.shutdownTimeoutMs);
        // server.close() drops the sockets that are idle NOW; a keep-alive socket whose request
        // finishes later would linger until its timeout, so keep sweeping until close resolves.
        const sweep = setInterval(() => http.server.closeIdleConnections(), 50);
        try {
          await http.close(); // waits for in-flight requests
        } finally {
          clearTimeout(hardStop);
          clearInterval(sweep);
        }
        await unwind(); // close hooks, then consumers and relays, then storage
        logger.info(`${module.name} stopped`);
      })();
      return stopping;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs services until SIGTERM/SIGINT, then stops them all gracefully (readiness first).
 * A second signal exits at once.
 */
export function stopOnSignals(services: readonly Service<unknown>[], logger?: Logger): void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(130);
    signalled = true;
    logger?.info({ signal }, 'shutting down');
    Promise.allSettled(services.map((s) => s.stop())).then(async (results) => {
      const failed = results.some((r) => r.status === 'rejected');
      await shutdownTelemetry(); // the last spans (bounded wait; a no-op when tracing is off)
      process.exit(failed ? 1 : 0);
    });
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}

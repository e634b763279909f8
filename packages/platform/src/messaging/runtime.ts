import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigError, type EnvReader } from '../config/env.js';
import type { Database } from '../db/database.js';
import type { HealthIndicator } from '../health.js';
import { createAmqpTransport } from './amqp-transport.js';
import { type ConsumerDefinition, startConsumer } from './consumer.js';
import { createInProcessTransport } from './in-process-transport.js';
import { createOutbox, type Outbox, type OutboxRelay, startOutboxRelay } from './outbox.js';
import { fallbackExchanges, fallbackTopology, mergeTopologies } from './pipeline-topology.js';
import { consumerQueues, eventsExchangeName, platformTopology, type ServiceName } from './topology.js';
import type { Subscription, Transport } from './transport.js';

/** What a service declares about its events (ServiceModule.messaging). */
export interface MessagingDefinition {
  service: ServiceName;
  /** Runs the outbox relay (the service writes events). */
  publishes: boolean;
  consumers: ConsumerDefinition[];
}

export interface MessagingConfig {
  /** amqp://… when RabbitMQ is configured; undefined → the in-process transport. */
  amqpUrl: string | undefined;
  retryTtlMs: number;
  maxRetries: number;
  prefetch: number;
  /** Cap on the deliveries one batching consumer handles per transaction; 0 turns batching off. Undefined: each consumer's own. */
  consumerBatchMax: number | undefined;
  pollIntervalMs: number;
  batchSize: number;
  relays: number;
  retentionMs: number;
  /** Prefix for every exchange and queue: isolated tests on a shared broker. Empty in production. */
  namespace: string;
}

/**
 * operations.md §1.0/§1.2: RABBITMQ_URL, or RABBITMQ_HOST with PORT/USER/PASSWORD (defaults
 * 5672/cloud/cloud, vhost /); neither → in-process. Spring's relaxed-binding spellings accepted.
 */
export function readMessagingConfig(env: EnvReader): MessagingConfig {
  const url = env.optionalString('RABBITMQ_URL');
  const host = env.optionalString('RABBITMQ_HOST');
  let amqpUrl: string | undefined;
  if (url) {
    if (!/^amqps?:\/\//.test(url)) throw new ConfigError('RABBITMQ_URL: must be an amqp:// or amqps:// URL');
    amqpUrl = url;
  } else if (host) {
    const user = encodeURIComponent(env.string('RABBITMQ_USER', 'cloud'));
    const password = encodeURIComponent(env.string('RABBITMQ_PASSWORD', 'cloud'));
    amqpUrl = `amqp://${user}:${password}@${host}:${env.port('RABBITMQ_PORT', 5672)}`;
  }
  return {
    amqpUrl,
    retryTtlMs: env.int(['APP_MESSAGING_RETRY_TTL_MS', 'APP_MESSAGING_RETRYTTLMS'], 10_000, {
      min: 1,
      max: 86_400_000,
    }),
    maxRetries: env.int(['APP_MESSAGING_MAX_RETRIES', 'APP_MESSAGING_MAXRETRIES'], 3, { min: 0, max: 100 }),
    prefetch: env.int('MESSAGING_PREFETCH', 40, { min: 1, max: 1000 }),
    consumerBatchMax: env.optionalString('MESSAGING_CONSUMER_BATCH_MAX')
      ? env.int('MESSAGING_CONSUMER_BATCH_MAX', 0, { min: 0, max: 1000 })
      : undefined,
    pollIntervalMs: env.int(['APP_OUTBOX_POLL_INTERVAL_MS', 'APP_OUTBOX_POLLINTERVALMS'], 2000, {
      min: 10,
      max: 3_600_000,
    }),
    batchSize: env.int(['APP_OUTBOX_BATCH_SIZE', 'APP_OUTBOX_BATCHSIZE'], 50, { min: 1, max: 10_000 }),
    relays: env.int('OUTBOX_RELAYS', 1, { min: 0, max: 16 }),
    retentionMs: env.int('OUTBOX_RETENTION_HOURS', 24, { min: 0, max: 24 * 365 }) * 3_600_000,
    namespace: env.string('MESSAGING_NAMESPACE', ''),
  };
}

// The in-process transport exists once per process: the embedded stack's services talk through it.
let inProcess: { transport: Transport; refs: number } | undefined;

function acquireInProcess(logger: Logger): Transport {
  inProcess ??= { transport: createInProcessTransport({ logger }), refs: 0 };
  inProcess.refs++;
  return inProcess.transport;
}

async function releaseInProcess(): Promise<void> {
  if (!inProcess || --inProcess.refs > 0) return;
  const { transport } = inProcess;
  inProcess = undefined;
  await transport.close();
}

export interface MessagingRuntime {
  transport: Transport;
  outbox: Outbox;
  relays: OutboxRelay[];
  indicator: HealthIndicator;
  mode: string;
  /** Adds a consumer built at register() time (it may need what register() created). */
  addConsumer(def: ConsumerDefinition): void;
  /** Spec name → real name of the DLQ of every queue this service consumes. */
  dlqQueues(): Record<string, string>;
  hasConsumers(): boolean;
  /** Starts relays and consumers (after the HTTP app is built). */
  start(): Promise<void>;
  /** Consumers first (in-flight handlers finish), then relays, then the connection. */
  stop(): Promise<void>;
}

export async function createMessagingRuntime(opts: {
  name: string;
  definition: MessagingDefinition;
  config: MessagingConfig;
  db: Database;
  logger: Logger;
  registry: Registry;
}): Promise<MessagingRuntime> {
  const { definition, config, db, logger } = opts;
  const transport = config.amqpUrl
    ? await createAmqpTransport({ url: config.amqpUrl, logger, connectionName: opts.name })
    : acquireInProcess(logger);
  const ns = config.namespace;
  const queues = consumerQueues({ namespace: ns });
  // The WHOLE topology, by every service: a publisher that starts first never drops an event.
  await transport.declare(
    mergeTopologies(
      platformTopology({ namespace: ns, retryTtlMs: config.retryTtlMs }),
      fallbackTopology(Object.values(queues), config.retryTtlMs, ns),
    ),
  );
  const outbox = createOutbox(db);
  const consumers = [...definition.consumers];
  const queuesOf = (def: ConsumerDefinition) => {
    const q = queues[def.queue];
    if (!q) throw new Error(`${def.queue} is not a consumed queue of the topology`);
    return q;
  };
  consumers.forEach(queuesOf); // fail at boot on a typo, not at start()
  const relays: OutboxRelay[] = [];
  const subscriptions: Subscription[] = [];
  return {
    transport,
    outbox,
    relays,
    addConsumer(def) {
      queuesOf(def);
      consumers.push(def);
    },
    dlqQueues() {
      const out: Record<string, string> = {};
      for (const def of consumers) {
        const q = queuesOf(def);
        out[`${def.queue}.dlq`] = q.dlq?.queue ?? `${q.queue}.dlq`;
      }
      return out;
    },
    hasConsumers: () => consumers.length > 0,
    mode: transport.kind === 'amqp' ? `amqp (${redact(config.amqpUrl!)})` : 'in-process',
    indicator: {
      name: 'rabbit',
      critical: true,
      mode: transport.kind,
      check: async () => {
        if (!transport.isHealthy()) throw new Error('broker connection is down');
      },
    },
    async start() {
      if (definition.publishes) {
        for (let i = 0; i < config.relays; i++) {
          relays.push(
            await startOutboxRelay({
              db,
              transport,
              logger,
              registry: opts.registry,
              exchange: eventsExchangeName(ns),
              pollIntervalMs: config.pollIntervalMs,
              batchSize: config.batchSize,
              retentionMs: config.retentionMs,
              serviceName: opts.name,
            }),
          );
        }
      }
      for (const def of consumers) {
        const q = queuesOf(def);
        subscriptions.push(
          await startConsumer({
            definition: def,
            queues: q,
            fallback: fallbackExchanges(q, ns),
            db,
            transport,
            outbox,
            logger,
            registry: opts.registry,
            maxRetries: config.maxRetries,
            prefetch: config.prefetch,
            batchMax: config.consumerBatchMax,
            serviceName: opts.name,
          }),
        );
      }
    },
    async stop() {
      await Promise.allSettled(subscriptions.map((s) => s.cancel()));
      await Promise.allSettled(relays.map((r) => r.stop()));
      if (transport.kind === 'amqp') await transport.close();
      else await releaseInProcess();
    },
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

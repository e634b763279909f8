/**
 * The measured side of consumer-pipeline (and the consumer of publish-to-handled-latency): the
 * kernel's consumer pipeline exactly as the runtime starts it — `startConsumer` with the kernel's
 * `openPostgres` pool, `createAmqpTransport`, `createOutbox`, logger, registry, the namespaced
 * `q.inventory.order-created` queues and fallback exchanges, `maxRetries` and `prefetch` from the
 * service env (`readMessagingConfig`: RABBITMQ_URL, MESSAGING_NAMESPACE, MESSAGING_PREFETCH, …).
 * (`startConsumer` is what `createMessagingRuntime().start()` calls; it is not exported from the
 * package, so it is imported from its source file.) Env also: BENCH_DB_URL, BENCH_DB_POOL_SIZE
 * (10), LOG_LEVEL (warn), BENCH_HANDLER = `noop` (default) | `latency`.
 *
 * Handlers: `noop` does nothing (the pipeline alone: decode, validate, dedupe INSERT, COMMIT, ack).
 * `latency` records, per event, the index the writer put in it, when the handler ran and when the
 * transaction had committed (after-commit hook), as epoch ms.
 *
 * Calls (IPC):
 * - `{ op: 'drain', expected }`: starts the consumer, waits until `messaging_consumed_total`
 *   (all outcomes) reaches `expected` (polled every 2 ms), cancels it, reports.
 * - `{ op: 'start' }`: starts the consumer and leaves it running.
 * - `{ op: 'consumed' }`: deliveries settled so far, by outcome.
 * - `{ op: 'records' }`: the latency handler's records, flat [index, handledAt, committedAt, …].
 */
import type { EventOf } from '@ecom/contracts';
import {
  type ConsumerDefinition,
  consumerQueues,
  createAmqpTransport,
  createOutbox,
  createRegistry,
  EnvReader,
  openPostgres,
  parseDatabaseUrl,
  readMessagingConfig,
  type Subscription,
  serviceLogger,
} from '@ecom/platform';
import type { Counter } from 'prom-client';
import { startConsumer } from '../../packages/platform/src/messaging/consumer.js';
import { fallbackExchanges } from '../../packages/platform/src/messaging/pipeline-topology.js';
import { guardChild, requireEnv, serveCalls, signalReady } from '../lib/child-guard.js';
import type { DrainRun } from '../lib/drain.js';
import { benchIndexOf, epochMs, SPEC_QUEUE } from '../lib/messaging.js';

const NAME = 'bench-consumer';
const env = new EnvReader(process.env);
const config = readMessagingConfig(env);
if (!config.amqpUrl) throw new Error('RABBITMQ_URL is required');
const poolSize = Number(process.env.BENCH_DB_POOL_SIZE ?? 10);
const handlerKind = process.env.BENCH_HANDLER ?? 'noop';
const logger = serviceLogger(NAME, { level: process.env.LOG_LEVEL ?? 'warn', format: 'json' });
const registry = createRegistry(NAME);
const db = await openPostgres({
  target: parseDatabaseUrl(requireEnv('BENCH_DB_URL')),
  maxConnections: poolSize,
  applicationName: NAME,
  logger,
});
await Promise.all(Array.from({ length: poolSize }, () => db.query('SELECT 1')));
const transport = await createAmqpTransport({ url: config.amqpUrl, logger, connectionName: NAME });
const outbox = createOutbox(db);
const queues = consumerQueues({ namespace: config.namespace })[SPEC_QUEUE];
if (!queues) throw new Error(`${SPEC_QUEUE} is not a consumed queue`);

/** [index, handledAt, committedAt] per event, flat (epoch ms). */
const records: number[] = [];

const definition: ConsumerDefinition<'OrderCreated'> = {
  queue: SPEC_QUEUE,
  consumer: 'inventory.order-created',
  accept: ['OrderCreated'],
  handle:
    handlerKind === 'latency'
      ? async (event: EventOf<'OrderCreated'>, ctx) => {
          const index = benchIndexOf(event);
          const handledAt = epochMs();
          ctx.afterCommit(() => {
            records.push(index, handledAt, epochMs());
          });
        }
      : async () => {},
};

let subscription: Subscription | undefined;
const start = async (): Promise<Subscription> => {
  subscription = await startConsumer({
    definition: definition as unknown as ConsumerDefinition,
    queues,
    fallback: fallbackExchanges(queues, config.namespace),
    db,
    transport,
    outbox,
    logger,
    registry,
    maxRetries: config.maxRetries,
    prefetch: config.prefetch,
  });
  return subscription;
};
const consumed = async (): Promise<Record<string, number>> => {
  const counter = registry.getSingleMetric('messaging_consumed_total') as Counter | undefined;
  const out: Record<string, number> = {};
  for (const v of counter ? (await counter.get()).values : []) out[String(v.labels.outcome)] = v.value;
  return out;
};
const total = (c: Record<string, number>) => Object.values(c).reduce((s, v) => s + v, 0);

serveCalls(async (request) => {
  const r = request as
    | { op: 'drain'; expected: number; timeoutMs?: number }
    | { op: 'start' }
    | { op: 'consumed' }
    | { op: 'records' };
  if (r.op === 'consumed') return consumed();
  if (r.op === 'records') return records;
  if (subscription) throw new Error('consumer already running');
  if (r.op === 'start') {
    await start();
    return null;
  }
  const quarters = [0.25, 0.5, 0.75, 1].map((q) => Math.ceil(r.expected * q));
  const quartersMs: number[] = [];
  const t0 = performance.now();
  const sub = await start();
  const deadline = t0 + (r.timeoutMs ?? 300_000);
  let n = 0;
  for (;;) {
    n = total(await consumed());
    const now = performance.now();
    while (quartersMs.length < quarters.length && n >= quarters[quartersMs.length]!) quartersMs.push(now - t0);
    if (n >= r.expected) break;
    if (now > deadline) throw new Error(`consumer settled ${n} of ${r.expected} within ${r.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const elapsedMs = performance.now() - t0;
  await sub.cancel();
  subscription = undefined;
  return {
    items: n,
    elapsedMs,
    quartersMs,
    extra: { prefetch: config.prefetch, poolSize, outcomes: await consumed() },
  } satisfies DrainRun;
});

guardChild(async () => {
  await subscription?.cancel();
  await transport.close();
  await db.close();
});
signalReady();

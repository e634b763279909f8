import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { fallbackTopology, mergeTopologies } from '../messaging/pipeline-topology.js';
import { consumerQueues, DEFAULT_RETRY_TTL_MS, platformTopology } from '../messaging/topology.js';
import type { Delivery, Transport } from '../messaging/transport.js';
import { type CreateServiceOptions, createService, type Service, type ServiceModule } from '../service.js';

/** The real servers on this machine (and in CI); override with TEST_PG_URL. */
export const TEST_PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export type DbMode = 'postgres' | 'pglite';
/** Every storage test runs on both: real PostgreSQL and the embedded PGlite. */
export const DB_MODES: readonly DbMode[] = ['postgres', 'pglite'];

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

export interface TestService<C> {
  service: Service<C>;
  /** Base URL when started with listen: true. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a service for a test, isolated: on postgres a fresh database (dropped on close), on
 * pglite a fresh schema in the process's one PGlite instance. Port 0 on 127.0.0.1.
 */
export async function startTestService<C>(
  module: ServiceModule<C>,
  mode: DbMode,
  opts: { env?: Record<string, string>; listen?: boolean } = {},
): Promise<TestService<C>> {
  const env: Record<string, string> = { SERVER_PORT: '0', SERVER_HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...opts.env };
  const dbName = uniqueName('test');
  const create: CreateServiceOptions = { env };
  const prefix = module.database?.envPrefix;
  if (prefix && mode === 'postgres') {
    const url = new URL(TEST_PG_ADMIN_URL);
    url.pathname = `/${dbName}`;
    env[`${prefix}_DB_URL`] ??= url.toString();
  } else if (prefix) {
    create.schema = dbName;
  }
  const service = await createService(module, create);
  const url = opts.listen ? await service.listen() : '';
  return {
    service,
    url,
    async close() {
      await service.stop();
      if (prefix && mode === 'postgres' && env[`${prefix}_DB_URL`]?.endsWith(`/${dbName}`)) await dropDatabase(dbName);
    },
  };
}

export async function dropDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Polls until fn returns a truthy value or the deadline passes (then throws with the last error). */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  { timeoutMs = 10_000, intervalMs = 50 } = {},
): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Exclude<T, undefined | null | false | 0 | ''>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`waitFor timed out after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export { type OtlpReceiver, type ReceivedSpan, SPAN_KIND, startOtlpReceiver } from './otlp-receiver.js';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/** Deletes every exchange and queue of a namespaced topology on the real broker (test cleanup). */
export async function deleteAmqpTopology(
  url: string,
  topology: import('../messaging/transport.js').Topology,
): Promise<void> {
  const { default: amqp } = await import('amqplib');
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    for (const q of topology.queues) await ch.deleteQueue(q.name);
    for (const e of topology.exchanges) await ch.deleteExchange(e.name);
    await ch.close();
  } finally {
    await conn.close();
  }
}

/**
 * Deletes everything a service started with MESSAGING_NAMESPACE = `namespace` declares on the real
 * broker — the whole platform topology plus the fallback retry/DLQ routes of every consumed queue
 * (each service declares all of it) — and `extraQueues`, names inside the namespace (`'probe'` is
 * `<namespace>probe`). Deletion goes by name only, so the retry TTL the service ran with is irrelevant.
 */
export async function deleteNamespacedTopology(
  url: string,
  namespace: string,
  options: { extraQueues?: readonly string[] } = {},
): Promise<void> {
  await deleteAmqpTopology(
    url,
    mergeTopologies(
      platformTopology({ namespace }),
      fallbackTopology(Object.values(consumerQueues({ namespace })), DEFAULT_RETRY_TTL_MS, namespace),
      {
        exchanges: [],
        queues: (options.extraQueues ?? []).map((name) => ({ name: namespace + name, arguments: {} })),
        bindings: [],
      },
    ),
  );
}
/**
 * A test's view of what is published in a namespace: the queue `<namespace>probe`, bound to
 * `<namespace>ecom.events` by each key (default `#`, everything); every delivery is acked and
 * collected in the returned array (and handed to `onDelivery`, when given). On the real broker
 * `deleteNamespacedTopology(url, namespace, { extraQueues: ['probe'] })` removes it.
 */
export async function attachProbe(
  transport: Transport,
  namespace: string,
  options: { bindingKeys?: readonly string[]; onDelivery?: (delivery: Delivery) => void } = {},
): Promise<Delivery[]> {
  const queue = `${namespace}probe`;
  const seen: Delivery[] = [];
  await transport.declare({
    exchanges: [],
    queues: [{ name: queue, arguments: {} }],
    bindings: (options.bindingKeys ?? ['#']).map((bindingKey) => ({
      exchange: `${namespace}ecom.events`,
      queue,
      bindingKey,
    })),
  });
  await transport.consume(
    queue,
    async (delivery) => {
      seen.push(delivery);
      options.onDelivery?.(delivery);
      return { kind: 'ack' };
    },
    { prefetch: 200 },
  );
  return seen;
}

export { startTestIssuer, type TestIssuer } from './token-issuer.js';

/**
 * A RabbitMQ namespace for scenarios that run a whole service (or stack) against the real broker:
 * the service declares its topology itself at boot (platform + fallback retry/DLQ routes, under
 * MESSAGING_NAMESPACE); the bench only purges and, at the end, deletes all of it.
 */
import { consumerQueues, fallbackTopology, mergeTopologies, platformTopology, type Topology } from '@ecom/platform';
import amqp from 'amqplib';
import type { Cleanup } from './lifecycle.js';
import { BENCH_AMQP_URL, benchNamespace, deleteTopology } from './messaging.js';

/** What a service with MESSAGING_NAMESPACE = ns and the given retry TTL declares. */
export function serviceTopology(ns: string, retryTtlMs = 10_000): Topology {
  return mergeTopologies(
    platformTopology({ namespace: ns, retryTtlMs }),
    fallbackTopology(Object.values(consumerQueues({ namespace: ns })), retryTtlMs, ns),
  );
}

/** A fresh `bench_<hex>.` namespace whose exchanges and queues are deleted with the run's cleanup. */
export function serviceNamespace(cleanup: Cleanup, log: (m: string) => void, retryTtlMs = 10_000): string {
  const ns = benchNamespace();
  cleanup.defer(`delete the ${ns}* exchanges and queues`, async () => {
    const t = serviceTopology(ns, retryTtlMs);
    await deleteTopology(BENCH_AMQP_URL, t);
    log(`deleted ${t.queues.length} queues and ${t.exchanges.length} exchanges ${ns}*`);
  });
  return ns;
}

/** Purges these queues (missing ones are fine); returns how many messages were dropped. */
export async function purgeQueues(names: readonly string[]): Promise<number> {
  const conn = await amqp.connect(BENCH_AMQP_URL, { timeout: 5000 });
  let dropped = 0;
  try {
    for (const q of names) {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      dropped += (await ch.purgeQueue(q).catch(() => ({ messageCount: 0 }))).messageCount;
      await ch.close().catch(() => undefined);
    }
  } finally {
    await conn.close().catch(() => undefined);
  }
  return dropped;
}

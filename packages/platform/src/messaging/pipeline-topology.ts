import type { ConsumerQueues } from './topology.js';
import type { Topology } from './transport.js';

/**
 * Additive topology for the consumed queues that have no broker DLX in the spec
 * (q.order.inventory-result, q.order.payment-result, q.notification.payment-result). Their
 * arguments cannot change (RabbitMQ refuses a re-declaration), so instead of the original's
 * "requeue forever" or "discard", the pipeline publishes retries to `<queue>.retry` (TTL, then
 * dead-lettered through the default exchange straight back to `<queue>` — no fan-out) and
 * exhausted or poison messages to `<queue>.dlq`, through `<service>.retry.exchange` /
 * `<service>.dlq.exchange`. New names only; nothing the spec declares is touched.
 */
export function fallbackExchanges(
  queues: ConsumerQueues,
  namespace = '',
): { retryExchange: string; dlqExchange: string } {
  return {
    retryExchange: `${namespace}${queues.service}.retry.exchange`,
    dlqExchange: `${namespace}${queues.service}.dlq.exchange`,
  };
}

export function fallbackTopology(all: readonly ConsumerQueues[], retryTtlMs: number, namespace = ''): Topology {
  const topology: Topology = { exchanges: [], queues: [], bindings: [] };
  const seen = new Set<string>();
  for (const q of all) {
    if (q.retry && q.dlq) continue; // the spec's own retry/DLQ route exists
    const { retryExchange, dlqExchange } = fallbackExchanges(q, namespace);
    for (const name of [retryExchange, dlqExchange]) {
      if (!seen.has(name)) topology.exchanges.push({ name, type: 'direct' });
      seen.add(name);
    }
    topology.queues.push(
      {
        name: `${q.queue}.retry`,
        arguments: { 'x-message-ttl': retryTtlMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q.queue },
      },
      { name: `${q.queue}.dlq`, arguments: {} },
    );
    topology.bindings.push(
      { exchange: retryExchange, queue: `${q.queue}.retry`, bindingKey: `${q.queue}.retry` },
      { exchange: dlqExchange, queue: `${q.queue}.dlq`, bindingKey: `${q.queue}.dlq` },
    );
  }
  return topology;
}

export function mergeTopologies(...parts: Topology[]): Topology {
  return {
    exchanges: parts.flatMap((p) => p.exchanges),
    queues: parts.flatMap((p) => p.queues),
    bindings: parts.flatMap((p) => p.bindings),
  };
}

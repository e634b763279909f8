import type { BindingSpec, ExchangeSpec, QueueSpec, Topology } from './transport.js';

/**
 * The RabbitMQ topology of spec/messaging-topology.md §1–3, written as the spec's own tables.
 * Names and argument values are exact: RabbitMQ refuses a re-declaration with different
 * arguments (PRECONDITION_FAILED), so this file is the only place they are spelled.
 */

export const DEFAULT_RETRY_TTL_MS = 10_000;
export const EVENTS_EXCHANGE = 'ecom.events';

export type ServiceName = 'order' | 'inventory' | 'payment' | 'notification';

export interface TopologyOptions {
  /** Prefix for every exchange and queue name (isolated tests on a shared broker). Default ''. */
  namespace?: string;
  /** The retry queues' x-message-ttl in ms. Default 10000 (spec §4 `retry-ttl-ms`). */
  retryTtlMs?: number;
}

type Owned<T> = T & { owner: ServiceName | 'all' };

/** §1 */
const EXCHANGES: Owned<ExchangeSpec>[] = [
  { name: 'ecom.events', type: 'topic', owner: 'all' },
  { name: 'inventory.retry.exchange', type: 'direct', owner: 'inventory' },
  { name: 'inventory.dlq.exchange', type: 'direct', owner: 'inventory' },
  { name: 'payment.retry.exchange', type: 'direct', owner: 'payment' },
  { name: 'payment.dlq.exchange', type: 'direct', owner: 'payment' },
];

/** §2 — `ttl` is the only parameter. */
function queues(ttl: number): Owned<QueueSpec>[] {
  const main = (owner: ServiceName, name: string): Owned<QueueSpec> => ({
    name,
    owner,
    arguments: { 'x-dead-letter-exchange': `${owner}.retry.exchange`, 'x-dead-letter-routing-key': `${name}.retry` },
  });
  const retry = (owner: ServiceName, name: string, backTo: string): Owned<QueueSpec> => ({
    name,
    owner,
    arguments: { 'x-message-ttl': ttl, 'x-dead-letter-exchange': 'ecom.events', 'x-dead-letter-routing-key': backTo },
  });
  const plain = (owner: ServiceName, name: string): Owned<QueueSpec> => ({ name, owner, arguments: {} });
  return [
    main('inventory', 'q.inventory.order-created'),
    retry('inventory', 'q.inventory.order-created.retry', 'order.created'),
    plain('inventory', 'q.inventory.order-created.dlq'),
    main('inventory', 'q.inventory.release-requested'),
    retry('inventory', 'q.inventory.release-requested.retry', 'inventory.release.requested'),
    plain('inventory', 'q.inventory.release-requested.dlq'),
    main('payment', 'q.payment.inventory-reserved'),
    retry('payment', 'q.payment.inventory-reserved.retry', 'inventory.reserved'),
    plain('payment', 'q.payment.inventory-reserved.dlq'),
    plain('order', 'q.order.inventory-result'),
    plain('order', 'q.order.payment-result'),
    plain('notification', 'q.notification.payment-result'),
  ];
}

/** §3 — the owner is the owner of the destination queue. */
const BINDINGS: Owned<BindingSpec>[] = [
  { exchange: 'ecom.events', queue: 'q.inventory.order-created', bindingKey: 'order.created', owner: 'inventory' },
  {
    exchange: 'ecom.events',
    queue: 'q.inventory.release-requested',
    bindingKey: 'inventory.release.requested',
    owner: 'inventory',
  },
  {
    exchange: 'ecom.events',
    queue: 'q.payment.inventory-reserved',
    bindingKey: 'inventory.reserved',
    owner: 'payment',
  },
  { exchange: 'ecom.events', queue: 'q.order.inventory-result', bindingKey: 'inventory.*', owner: 'order' },
  { exchange: 'ecom.events', queue: 'q.order.payment-result', bindingKey: 'payment.*', owner: 'order' },
  { exchange: 'ecom.events', queue: 'q.notification.payment-result', bindingKey: 'payment.*', owner: 'notification' },
  ...(['q.inventory.order-created', 'q.inventory.release-requested'] as const).flatMap((q) => [
    {
      exchange: 'inventory.retry.exchange',
      queue: `${q}.retry`,
      bindingKey: `${q}.retry`,
      owner: 'inventory' as const,
    },
    { exchange: 'inventory.dlq.exchange', queue: `${q}.dlq`, bindingKey: `${q}.dlq`, owner: 'inventory' as const },
  ]),
  {
    exchange: 'payment.retry.exchange',
    queue: 'q.payment.inventory-reserved.retry',
    bindingKey: 'q.payment.inventory-reserved.retry',
    owner: 'payment',
  },
  {
    exchange: 'payment.dlq.exchange',
    queue: 'q.payment.inventory-reserved.dlq',
    bindingKey: 'q.payment.inventory-reserved.dlq',
    owner: 'payment',
  },
];

function resolveOptions(opts: TopologyOptions = {}): { ns: string; ttl: number } {
  const ttl = opts.retryTtlMs ?? DEFAULT_RETRY_TTL_MS;
  // A fractional TTL would be encoded as an AMQP double, which RabbitMQ rejects for x-message-ttl.
  if (!Number.isSafeInteger(ttl) || ttl < 0)
    throw new RangeError(`retryTtlMs must be a non-negative integer, got ${ttl}`);
  return { ns: opts.namespace ?? '', ttl };
}

/**
 * Prefixes every exchange and queue name. A binding key or x-dead-letter-routing-key that *names
 * a queue* (the retry/DLQ keys) gets the prefix too; event routing keys (order.created,
 * inventory.*) do not — so a namespaced copy routes exactly like the real one.
 */
function build(ns: string, ttl: number, keep: (owner: ServiceName | 'all') => boolean): Topology {
  const all = queues(ttl);
  const queueNames = new Set(all.map((q) => q.name));
  const key = (k: string) => (queueNames.has(k) ? ns + k : k);
  return {
    exchanges: EXCHANGES.filter((e) => keep(e.owner)).map((e) => ({ name: ns + e.name, type: e.type })),
    queues: all
      .filter((q) => keep(q.owner))
      .map((q) => {
        const args: Record<string, string | number> = { ...q.arguments };
        const dlx = args['x-dead-letter-exchange'];
        const dlk = args['x-dead-letter-routing-key'];
        if (typeof dlx === 'string') args['x-dead-letter-exchange'] = ns + dlx;
        if (typeof dlk === 'string') args['x-dead-letter-routing-key'] = key(dlk);
        return { name: ns + q.name, arguments: args };
      }),
    bindings: BINDINGS.filter((b) => keep(b.owner)).map((b) => ({
      exchange: ns + b.exchange,
      queue: ns + b.queue,
      bindingKey: key(b.bindingKey),
    })),
  };
}

/**
 * The WHOLE topology (5 exchanges, 12 queues, 12 bindings). Every service declares all of it at
 * startup (spec §3 recommendation): a publisher that starts before the consuming service would
 * otherwise publish into an exchange with no binding, and without `mandatory` lose the message.
 */
export function platformTopology(opts?: TopologyOptions): Topology {
  const { ns, ttl } = resolveOptions(opts);
  return build(ns, ttl, () => true);
}

/** Only what one service owns per spec §6, plus ecom.events (the original's behaviour). */
export function ownedTopology(service: ServiceName, opts?: TopologyOptions): Topology {
  const { ns, ttl } = resolveOptions(opts);
  return build(ns, ttl, (owner) => owner === 'all' || owner === service);
}

export function eventsExchangeName(namespace = ''): string {
  return namespace + EVENTS_EXCHANGE;
}

/** Everything a consumer pipeline needs to know about one consumed queue (names namespaced). */
export interface ConsumerQueues {
  service: ServiceName;
  /** The spec's (un-namespaced) main queue name: a stable key for metrics and logs. */
  specQueue: string;
  queue: string;
  /** Where reject() parks a message until the TTL returns it; null = no DLX (q.order.*, q.notification.*). */
  retry: { exchange: string; queue: string } | null;
  /** Where the pipeline publishes an exhausted or poison copy (spec §4.3); routing key = queue name. */
  dlq: { exchange: string; queue: string } | null;
}

/** The six consumed queues (spec §2 "Consumed by"), keyed by the spec's queue name. */
export function consumerQueues(opts?: TopologyOptions): Record<string, ConsumerQueues> {
  const { ns } = resolveOptions(opts);
  const out: Record<string, ConsumerQueues> = {};
  for (const b of BINDINGS.filter((x) => x.exchange === EVENTS_EXCHANGE)) {
    const service = b.owner as ServiceName;
    const hasDlx = service === 'inventory' || service === 'payment';
    out[b.queue] = {
      service,
      specQueue: b.queue,
      queue: ns + b.queue,
      retry: hasDlx ? { exchange: `${ns}${service}.retry.exchange`, queue: `${ns}${b.queue}.retry` } : null,
      dlq: hasDlx ? { exchange: `${ns}${service}.dlq.exchange`, queue: `${ns}${b.queue}.dlq` } : null,
    };
  }
  return out;
}

/** The queues one service consumes (spec §6 "Consumes"). */
export function consumerQueuesOf(service: ServiceName, opts?: TopologyOptions): ConsumerQueues[] {
  return Object.values(consumerQueues(opts)).filter((c) => c.service === service);
}

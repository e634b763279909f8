import { withDeath } from './headers.js';
import { consoleLogger, type MessagingLogger } from './logger.js';
import { runHandler } from './run-handler.js';
import { topicMatches } from './topic-match.js';
import {
  type ConsumeOptions,
  type Delivery,
  type DeliveryHandler,
  type Headers,
  type OutgoingMessage,
  PublishError,
  type Settlement,
  type Subscription,
  type Topology,
  type Transport,
} from './transport.js';

/**
 * The embedded twin of RabbitMQ: same observable semantics as the AMQP transport for what the
 * platform uses (topic/direct routing, FIFO queues, prefetch, manual settlement, DLX, per-queue
 * TTL, x-death, mandatory). What it does not reproduce is listed in README.md.
 */

interface Stored {
  body: Buffer;
  exchange: string;
  routingKey: string;
  messageId: string | undefined;
  headers: Headers;
  contentType: string | undefined;
  redelivered: boolean;
  /** Epoch ms; set when the message enters a queue with x-message-ttl (kept across requeues). */
  expiresAt: number | undefined;
}

interface QueueState {
  name: string;
  args: Record<string, string | number>;
  ready: Stored[];
  consumers: ConsumerState[];
  nextConsumer: number;
  expiryTimer: NodeJS.Timeout | undefined;
  pumpScheduled: boolean;
}

interface ConsumerState {
  handler: DeliveryHandler;
  prefetch: number;
  unsettled: number;
  active: boolean;
  inFlight: Set<Promise<void>>;
}

interface ExchangeState {
  type: 'topic' | 'direct';
  bindings: { queue: string; key: string }[];
}

export interface InProcessTransportOptions {
  logger?: MessagingLogger;
}

export function createInProcessTransport(opts: InProcessTransportOptions = {}): Transport {
  const logger = opts.logger ?? consoleLogger;
  const exchanges = new Map<string, ExchangeState>();
  const queues = new Map<string, QueueState>();
  const consumers = new Set<ConsumerState>();
  let closed = false;

  function ensureOpen(): void {
    if (closed) throw new Error('in-process transport is closed');
  }

  function mustQueue(name: string): QueueState {
    const q = queues.get(name);
    // Same text as RabbitMQ's 404, so callers and tests can match either transport.
    if (!q) throw new Error(`NOT_FOUND - no queue '${name}' in vhost '/'`);
    return q;
  }

  function toDelivery(m: Stored): Delivery {
    // Copies: a consumer must not be able to mutate what another queue (or a redelivery) sees.
    return {
      body: Buffer.from(m.body),
      exchange: m.exchange,
      routingKey: m.routingKey,
      messageId: m.messageId,
      headers: structuredClone(m.headers),
      contentType: m.contentType,
      redelivered: m.redelivered,
    };
  }

  /** Returns how many queues received the message (0 = unroutable). */
  function route(exchange: string, routingKey: string, m: Stored): number {
    let targets: string[];
    if (exchange === '') {
      // The AMQP default exchange: routing key = queue name.
      targets = queues.has(routingKey) ? [routingKey] : [];
    } else {
      const ex = exchanges.get(exchange);
      if (!ex) return 0;
      const match =
        ex.type === 'topic' ? (key: string) => topicMatches(key, routingKey) : (key: string) => key === routingKey;
      // A queue bound twice with matching keys still gets one copy, as on RabbitMQ.
      targets = [...new Set(ex.bindings.filter((b) => match(b.key)).map((b) => b.queue))];
    }
    for (const name of targets) {
      const q = queues.get(name);
      if (q) enqueue(q, m);
    }
    return targets.length;
  }

  function enqueue(q: QueueState, m: Stored): void {
    const ttl = q.args['x-message-ttl'];
    q.ready.push({ ...m, redelivered: false, expiresAt: typeof ttl === 'number' ? Date.now() + ttl : undefined });
    schedulePump(q);
    scheduleExpiry(q);
  }

  function deadLetter(q: QueueState, m: Stored, reason: 'rejected' | 'expired'): void {
    const dlx = q.args['x-dead-letter-exchange'];
    if (typeof dlx !== 'string') {
      // RabbitMQ discards it silently; we at least say so.
      logger.warn(
        { queue: q.name, reason, messageId: m.messageId },
        'message discarded: queue has no dead-letter exchange',
      );
      return;
    }
    const dlk = q.args['x-dead-letter-routing-key'];
    const routingKey = typeof dlk === 'string' ? dlk : m.routingKey;
    const headers = withDeath(m.headers, {
      queue: q.name,
      reason,
      exchange: m.exchange,
      routingKey: m.routingKey,
      timeSeconds: Math.floor(Date.now() / 1000),
    });
    const next: Stored = { ...m, exchange: dlx, routingKey, headers, redelivered: false, expiresAt: undefined };
    if (route(dlx, routingKey, next) === 0) {
      logger.warn(
        { queue: q.name, dlx, routingKey, messageId: m.messageId },
        'dead-lettered message discarded: the DLX routes it nowhere',
      );
    }
  }

  function expireHead(q: QueueState): void {
    // Like RabbitMQ, only the head is checked: with one TTL per queue the head expires first.
    const now = Date.now();
    for (let head = q.ready[0]; head?.expiresAt !== undefined && head.expiresAt <= now; head = q.ready[0]) {
      q.ready.shift();
      deadLetter(q, head, 'expired');
    }
  }

  function scheduleExpiry(q: QueueState): void {
    if (q.expiryTimer) clearTimeout(q.expiryTimer);
    q.expiryTimer = undefined;
    const at = q.ready[0]?.expiresAt;
    if (at === undefined || closed) return;
    q.expiryTimer = setTimeout(
      () => {
        q.expiryTimer = undefined;
        expireHead(q);
        scheduleExpiry(q);
      },
      Math.max(0, at - Date.now()),
    );
    q.expiryTimer.unref();
  }

  function schedulePump(q: QueueState): void {
    if (q.pumpScheduled || closed) return;
    q.pumpScheduled = true;
    // Deferred so a handler that publishes never re-enters dispatch on its own stack.
    setImmediate(() => {
      q.pumpScheduled = false;
      pump(q);
    });
  }

  function pump(q: QueueState): void {
    if (closed) return;
    for (;;) {
      expireHead(q);
      const m = q.ready[0];
      const c = m && pickConsumer(q);
      if (!m || !c) break;
      q.ready.shift();
      deliver(q, c, m);
    }
    scheduleExpiry(q);
  }

  /** Round-robin over consumers that still have prefetch room. */
  function pickConsumer(q: QueueState): ConsumerState | undefined {
    for (let i = 0; i < q.consumers.length; i++) {
      const idx = (q.nextConsumer + i) % q.consumers.length;
      const c = q.consumers[idx];
      if (c?.active && c.unsettled < c.prefetch) {
        q.nextConsumer = idx + 1;
        return c;
      }
    }
    return undefined;
  }

  function deliver(q: QueueState, c: ConsumerState, m: Stored): void {
    c.unsettled++;
    const done = runHandler(c.handler, toDelivery(m), q.name, logger).then((s) => {
      c.unsettled--;
      settle(q, m, s);
      schedulePump(q);
    });
    c.inFlight.add(done);
    void done.finally(() => c.inFlight.delete(done));
  }

  function settle(q: QueueState, m: Stored, s: Settlement): void {
    if (closed) return;
    switch (s.kind) {
      case 'ack':
        return;
      case 'reject':
        deadLetter(q, m, 'rejected');
        return;
      case 'requeue':
        // Back at the head, flagged as a redelivery; its TTL clock keeps running.
        q.ready.unshift({ ...m, redelivered: true });
        schedulePump(q);
        scheduleExpiry(q);
        return;
      default: {
        const never: never = s;
        throw new Error(`unknown settlement ${JSON.stringify(never)}`);
      }
    }
  }

  function checkDeclare(t: Topology): void {
    for (const e of t.exchanges) {
      const have = exchanges.get(e.name);
      if (have && have.type !== e.type) {
        throw new Error(
          `PRECONDITION_FAILED - inequivalent arg 'type' for exchange '${e.name}': received '${e.type}' but current is '${have.type}'`,
        );
      }
    }
    for (const q of t.queues) {
      const ttl = q.arguments['x-message-ttl'];
      if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 0)) {
        throw new Error(`PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue '${q.name}'`);
      }
      const have = queues.get(q.name);
      if (!have) continue;
      // RabbitMQ compares argument by argument; a missing one differs from a present one.
      for (const k of new Set([...Object.keys(have.args), ...Object.keys(q.arguments)])) {
        if (have.args[k] !== q.arguments[k]) {
          throw new Error(
            `PRECONDITION_FAILED - inequivalent arg '${k}' for queue '${q.name}': received ${String(q.arguments[k] ?? 'none')} but current is ${String(have.args[k] ?? 'none')}`,
          );
        }
      }
    }
    const exchangeNames = new Set([...exchanges.keys(), ...t.exchanges.map((e) => e.name)]);
    const queueNames = new Set([...queues.keys(), ...t.queues.map((q) => q.name)]);
    for (const b of t.bindings) {
      if (!exchangeNames.has(b.exchange)) throw new Error(`NOT_FOUND - no exchange '${b.exchange}' in vhost '/'`);
      if (!queueNames.has(b.queue)) throw new Error(`NOT_FOUND - no queue '${b.queue}' in vhost '/'`);
    }
  }

  return {
    kind: 'in-process',

    async declare(t: Topology): Promise<void> {
      ensureOpen();
      checkDeclare(t); // all-or-nothing: nothing is created when any part conflicts
      for (const e of t.exchanges) if (!exchanges.has(e.name)) exchanges.set(e.name, { type: e.type, bindings: [] });
      for (const q of t.queues) {
        if (queues.has(q.name)) continue;
        queues.set(q.name, {
          name: q.name,
          args: { ...q.arguments },
          ready: [],
          consumers: [],
          nextConsumer: 0,
          expiryTimer: undefined,
          pumpScheduled: false,
        });
      }
      for (const b of t.bindings) {
        const ex = exchanges.get(b.exchange);
        if (ex && !ex.bindings.some((x) => x.queue === b.queue && x.key === b.bindingKey)) {
          ex.bindings.push({ queue: b.queue, key: b.bindingKey });
        }
      }
    },

    async publish(m: OutgoingMessage): Promise<void> {
      if (closed) throw new PublishError('in-process transport is closed', 'closed');
      if (m.exchange !== '' && !exchanges.has(m.exchange)) {
        throw new PublishError(`unroutable: no exchange '${m.exchange}'`, 'unroutable');
      }
      const stored: Stored = {
        body: Buffer.from(m.body), // the publisher may reuse its buffer after publish() returns
        exchange: m.exchange,
        routingKey: m.routingKey,
        messageId: m.messageId,
        headers: structuredClone(m.headers ?? {}),
        contentType: m.contentType,
        redelivered: false,
        expiresAt: undefined,
      };
      if (route(m.exchange, m.routingKey, stored) === 0) {
        throw new PublishError(`unroutable: '${m.exchange}' has no binding for '${m.routingKey}'`, 'unroutable');
      }
    },

    async consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
      ensureOpen();
      const q = mustQueue(queue);
      // prefetch 0 means "unlimited", as in AMQP basic.qos.
      const c: ConsumerState = {
        handler,
        prefetch: options.prefetch > 0 ? options.prefetch : Number.POSITIVE_INFINITY,
        unsettled: 0,
        active: true,
        inFlight: new Set(),
      };
      q.consumers.push(c);
      consumers.add(c);
      schedulePump(q);
      return {
        async cancel() {
          if (c.active) {
            c.active = false;
            q.consumers = q.consumers.filter((x) => x !== c);
            consumers.delete(c);
          }
          await Promise.allSettled([...c.inFlight]);
        },
      };
    },

    async get(queue: string) {
      ensureOpen();
      const q = mustQueue(queue);
      expireHead(q);
      const m = q.ready.shift();
      if (!m) return null;
      scheduleExpiry(q);
      let settled = false;
      return {
        delivery: toDelivery(m),
        async settle(s: Settlement) {
          if (settled) throw new Error('delivery already settled');
          settled = true;
          settle(q, m, s);
        },
      };
    },

    async queueDepth(queue: string): Promise<number> {
      ensureOpen();
      const q = mustQueue(queue);
      expireHead(q);
      return q.ready.length;
    },

    isHealthy: () => !closed,

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const q of queues.values()) {
        if (q.expiryTimer) clearTimeout(q.expiryTimer);
        q.expiryTimer = undefined;
      }
      const inFlight = [...consumers].flatMap((c) => [...c.inFlight]);
      for (const c of consumers) c.active = false;
      consumers.clear();
      await Promise.allSettled(inFlight);
    },
  };
}

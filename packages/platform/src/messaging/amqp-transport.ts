import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { type ConfirmPublisher, createConfirmPublisher } from './amqp-publisher.js';
import { type AmqpSubscription, applySettlement, createAmqpSubscription, toDelivery } from './amqp-subscription.js';
import { coalesceMuxWrites } from './amqp-write-coalescing.js';
import { type BackoffOptions, backoffDelayMs, DEFAULT_BACKOFF } from './backoff.js';
import { consoleLogger, type MessagingLogger } from './logger.js';
import {
  type ConsumeOptions,
  type DeliveryHandler,
  type OutgoingMessage,
  PublishError,
  type Settlement,
  type Subscription,
  type Topology,
  type Transport,
} from './transport.js';

export interface AmqpTransportOptions {
  /** amqp://user:pass@host:port/vhost */
  url: string;
  logger?: MessagingLogger;
  /** Shown by `rabbitmqctl list_connections user_provided_name` (client property connection_name). */
  connectionName?: string;
  /** AMQP heartbeat: a silently dead TCP peer is detected after about twice this. Default 10 s. */
  heartbeatSeconds?: number;
  /** Reconnect back-off. Default 100 ms doubling to a 5 s cap, jittered. */
  reconnect?: Partial<BackoffOptions>;
}

export interface AmqpTransport extends Transport {
  readonly kind: 'amqp';
  readonly connectionName: string;
  /** Milliseconds the last reconnect took, from losing the connection to resumed subscriptions. */
  readonly lastReconnectMs: number | null;
  /** Test hook: destroys the TCP socket under the connection, as a network drop would. */
  dropConnectionForTest(): void;
}

/**
 * RabbitMQ transport. Connection ownership rule: one connection; one confirm channel for
 * publishing; one channel per subscription; a short-lived channel per declare()/queueDepth()/
 * get() so a channel-level error (PRECONDITION_FAILED, NOT_FOUND) can only fail that call.
 *
 * Reconnect is our own loop, not amqplib 2.x `recovery`: that option only re-opens the
 * *connection* and runs a setup callback — channels, consumers and confirm state are not
 * restored, channel operations silently wait while disconnected (we must fail publish() fast),
 * and a failing setup (e.g. a conflicting declare) is retried forever. See README.md.
 */
export async function createAmqpTransport(opts: AmqpTransportOptions): Promise<AmqpTransport> {
  const logger = opts.logger ?? consoleLogger;
  const connectionName = opts.connectionName ?? `ecom-${randomUUID().slice(0, 8)}`;
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...opts.reconnect };
  const url = withHeartbeat(opts.url, opts.heartbeatSeconds ?? 10);

  let model: ChannelModel | null = null;
  /** Connected, publish channel open, topologies re-declared, subscriptions resumed. */
  let ready = false;
  let publisher: ConfirmPublisher | null = null;
  let publisherOpening: Promise<ConfirmPublisher> | null = null;
  let blocked = false;
  let closing = false;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let reconnectAttempt = 0;
  let lostAt = 0;
  let lastReconnectMs: number | null = null;
  const declared = new Map<string, Topology>();
  const subscriptions = new Set<AmqpSubscription>();
  const getChannels = new Set<Channel>();

  async function connect(): Promise<ChannelModel> {
    // noDelay: amqplib leaves Nagle's algorithm on, so a small frame written while an earlier one
    // is unacknowledged waits for the broker's delayed ACK (~40 ms on Linux): publishes, confirms
    // and acks of a quiet hop stalled for tens of ms each (bench saga-throughput latency).
    const m = await amqp.connect(url, {
      clientProperties: { connection_name: connectionName },
      timeout: 5000,
      noDelay: true,
    });
    // One writev per multiplexer pass instead of one write per frame (amqp-write-coalescing.ts).
    if (!coalesceMuxWrites(m))
      logger.warn({ connectionName }, 'amqplib internals changed: frames are written one by one');
    m.on('error', (err: Error) => logger.warn({ err, connectionName }, 'AMQP connection error'));
    m.on('blocked', (reason: string) => {
      blocked = true;
      logger.warn({ reason, connectionName }, 'broker blocked publishing (resource alarm)');
    });
    m.on('unblocked', () => {
      blocked = false;
    });
    m.on('close', (err?: Error) => onConnectionLost(m, err));
    return m;
  }

  function onConnectionLost(m: ChannelModel, err?: Error): void {
    if (model !== m) return;
    model = null;
    publisher = null;
    ready = false;
    blocked = false;
    for (const s of subscriptions) s.detach();
    getChannels.clear(); // the broker requeues whatever was fetched on them
    if (closing) return;
    lostAt = Date.now();
    logger.warn({ err, connectionName }, 'AMQP connection lost; reconnecting');
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closing || reconnectTimer) return;
    const delay = backoffDelayMs(++reconnectAttempt, backoff);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      establish().then(
        () => {
          reconnectAttempt = 0;
          lastReconnectMs = Date.now() - lostAt;
          logger.info({ connectionName, reconnectMs: lastReconnectMs }, 'AMQP connection restored');
        },
        (err: unknown) => {
          logger.warn({ err, attempt: reconnectAttempt, connectionName }, 'AMQP reconnect attempt failed');
          scheduleReconnect();
        },
      );
    }, delay);
  }

  /** Connect, open the publish channel, re-declare, resume subscriptions; then we are ready. */
  async function establish(): Promise<void> {
    const m = await connect();
    if (closing) {
      await m.close().catch(() => {});
      return;
    }
    model = m;
    try {
      publisher = await openPublisher(m);
    } catch (err) {
      if (model === m) model = null; // not a "loss": the caller decides whether to retry
      await m.close().catch(() => {});
      throw err;
    }
    // Queues may have been lost with the broker (or deleted meanwhile): declare again before
    // consuming. A conflict here is not transient, so it is logged rather than retried.
    for (const t of declared.values()) {
      await declareOn(m, t).catch((err: unknown) =>
        logger.error({ err, connectionName }, 're-declare after reconnect failed'),
      );
    }
    if (model !== m) throw new Error('connection lost during setup');
    await Promise.all([...subscriptions].map((s) => s.resume()));
    if (model !== m) throw new Error('connection lost during setup');
    ready = true;
  }

  async function openPublisher(m: ChannelModel): Promise<ConfirmPublisher> {
    const ch = await m.createConfirmChannel();
    const p = createConfirmPublisher(ch, () => {
      if (publisher === p) publisher = null; // re-opened lazily by the next publish()
    });
    return p;
  }

  async function currentPublisher(): Promise<ConfirmPublisher> {
    const m = model;
    if (!m) throw new PublishError('not connected to the broker', 'closed');
    if (publisher?.open) return publisher;
    // The publish channel died on its own (e.g. a 404 on a missing exchange): open a new one.
    publisherOpening ??= openPublisher(m)
      .then((p) => {
        if (model === m) publisher = p;
        return p;
      })
      .finally(() => {
        publisherOpening = null;
      });
    try {
      return await publisherOpening;
    } catch (err) {
      throw new PublishError(`could not open a publish channel: ${(err as Error).message}`, 'closed');
    }
  }

  /** Runs fn on a throwaway channel; a channel-level error rejects fn, nothing else. */
  async function withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T> {
    const m = model;
    if (!m) throw new Error('not connected to the broker');
    const ch = await m.createChannel();
    // Without a listener the channel's 'error' event would be thrown inside amqplib's frame loop.
    ch.on('error', (err: Error) => logger.debug({ err }, 'short-lived channel closed by the broker'));
    try {
      return await fn(ch);
    } finally {
      await ch.close().catch(() => {});
    }
  }

  async function declareOn(m: ChannelModel, t: Topology): Promise<void> {
    const ch = await m.createChannel();
    ch.on('error', (err: Error) => logger.debug({ err }, 'declare channel closed by the broker'));
    try {
      for (const e of t.exchanges)
        await ch.assertExchange(e.name, e.type, { durable: true, autoDelete: false, internal: false });
      for (const q of t.queues) {
        await ch.assertQueue(q.name, {
          durable: true,
          exclusive: false,
          autoDelete: false,
          arguments: { ...q.arguments },
        });
      }
      for (const b of t.bindings) await ch.bindQueue(b.queue, b.exchange, b.bindingKey);
    } finally {
      await ch.close().catch(() => {});
    }
  }

  await establish(); // the first connection is not retried: a bad URL fails startup loudly

  const transport: AmqpTransport = {
    kind: 'amqp',
    connectionName,
    get lastReconnectMs() {
      return lastReconnectMs;
    },

    async declare(t: Topology): Promise<void> {
      const m = model;
      if (!m) throw new Error('not connected to the broker');
      await declareOn(m, t);
      declared.set(JSON.stringify(t), t);
    },

    async publish(message: OutgoingMessage): Promise<void> {
      if (closing) throw new PublishError('transport is closed', 'closed');
      // Fail fast instead of queueing in memory: the outbox keeps the row and tries again.
      if (blocked) throw new PublishError('broker is blocking publishers (resource alarm)', 'closed');
      const p = await currentPublisher();
      await p.publish(message);
    },

    async consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
      if (closing) throw new Error('transport is closed');
      const sub = createAmqpSubscription({
        queue,
        handler,
        prefetch: options.prefetch,
        logger,
        currentModel: () => model,
      });
      subscriptions.add(sub);
      try {
        await sub.start(); // while disconnected this resolves and the reconnect starts it
      } catch (err) {
        subscriptions.delete(sub);
        await sub.stop();
        throw err;
      }
      return {
        async cancel() {
          subscriptions.delete(sub);
          await sub.stop();
        },
      };
    },

    async get(queue: string) {
      const m = model;
      if (!m) throw new Error('not connected to the broker');
      // A channel per get: the message stays unacked on it until settled, and returns to the
      // queue if the transport closes first. A 404 closes only this channel.
      const ch = await m.createChannel();
      ch.on('error', (err: Error) => logger.debug({ err, queue }, 'get channel closed by the broker'));
      let msg: Awaited<ReturnType<Channel['get']>>;
      try {
        msg = await ch.get(queue, { noAck: false });
      } catch (err) {
        await ch.close().catch(() => {});
        throw err;
      }
      if (msg === false) {
        await ch.close().catch(() => {});
        return null;
      }
      const got = msg;
      getChannels.add(ch);
      let settled = false;
      return {
        delivery: toDelivery(got),
        async settle(s: Settlement) {
          if (settled) throw new Error('delivery already settled');
          settled = true;
          if (!getChannels.has(ch))
            throw new Error('connection lost before settle; the broker has requeued the message');
          applySettlement(ch, got, s);
          getChannels.delete(ch);
          await ch.close().catch(() => {});
        },
      };
    },

    async queueDepth(queue: string): Promise<number> {
      return withChannel(async (ch) => (await ch.checkQueue(queue)).messageCount);
    },

    isHealthy: () => !closing && ready && !blocked,

    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      await Promise.allSettled([...subscriptions].map((s) => s.stop()));
      subscriptions.clear();
      const m = model;
      model = null;
      publisher = null;
      ready = false;
      getChannels.clear();
      if (m) await m.close().catch(() => {});
    },

    dropConnectionForTest(): void {
      // ChannelModel.connection is amqplib's Connection; its `stream` is the net.Socket.
      const conn = model?.connection as unknown as { stream?: { destroy(err?: Error): void } } | undefined;
      conn?.stream?.destroy(new Error('simulated network drop'));
    },
  };
  return transport;
}

function withHeartbeat(url: string, seconds: number): string {
  const u = new URL(url);
  if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
  return u.toString();
}

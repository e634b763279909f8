import type { Channel, ChannelModel, ConsumeMessage, Message } from 'amqplib';
import { backoffDelayMs } from './backoff.js';
import { normalizeHeaders } from './headers.js';
import type { MessagingLogger } from './logger.js';
import { runHandler } from './run-handler.js';
import type { Delivery, DeliveryHandler, Settlement } from './transport.js';

export function toDelivery(msg: Message): Delivery {
  return {
    body: msg.content,
    exchange: msg.fields.exchange,
    routingKey: msg.fields.routingKey,
    messageId: msg.properties.messageId as string | undefined,
    headers: normalizeHeaders(msg.properties.headers),
    contentType: msg.properties.contentType as string | undefined,
    redelivered: msg.fields.redelivered,
  };
}

/** ack / reject(requeue=false) / reject(requeue=true), on the channel the message came from. */
export function applySettlement(channel: Channel, msg: Message, s: Settlement): void {
  switch (s.kind) {
    case 'ack':
      channel.ack(msg);
      return;
    case 'reject':
      channel.reject(msg, false);
      return;
    case 'requeue':
      channel.reject(msg, true);
      return;
    default: {
      const never: never = s;
      throw new Error(`unknown settlement ${JSON.stringify(never)}`);
    }
  }
}

export interface AmqpSubscription {
  /** Opens a channel and starts consuming on the current connection; rejects if that fails. */
  start(): Promise<void>;
  /** Like start(), but a failure schedules another attempt instead of rejecting (reconnects). */
  resume(): Promise<void>;
  /** The connection is gone: forget the channel (its delivery tags are now meaningless). */
  detach(): void;
  /** basic.cancel, let in-flight handlers settle, close the channel. */
  stop(): Promise<void>;
}

/**
 * One consumer on its own channel, so prefetch is per consumer and a channel error (e.g. the
 * queue was deleted) takes down only this subscription — which then resubscribes by itself.
 */
export function createAmqpSubscription(args: {
  queue: string;
  handler: DeliveryHandler;
  prefetch: number;
  logger: MessagingLogger;
  currentModel: () => ChannelModel | null;
}): AmqpSubscription {
  const { queue, handler, prefetch, logger, currentModel } = args;
  let channel: Channel | null = null;
  let consumerTag: string | null = null;
  let starting: Promise<void> | null = null;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryAttempt = 0;
  const inFlight = new Set<Promise<void>>();

  async function open(model: ChannelModel): Promise<void> {
    const ch = await model.createChannel();
    ch.on('error', (err: Error) => logger.warn({ err, queue }, 'consumer channel error'));
    ch.on('close', () => {
      if (channel !== ch) return;
      channel = null;
      consumerTag = null;
      scheduleRetry();
    });
    channel = ch;
    await ch.prefetch(prefetch);
    const ok = await ch.consume(queue, (msg) => onMessage(ch, msg), { noAck: false });
    consumerTag = ok.consumerTag;
    retryAttempt = 0;
  }

  function start(): Promise<void> {
    if (stopped || channel || starting) return starting ?? Promise.resolve();
    const model = currentModel();
    if (!model) return Promise.resolve(); // the reconnect will resume() us
    starting = open(model).finally(() => {
      starting = null;
    });
    return starting;
  }

  function scheduleRetry(): void {
    // No connection: the transport's reconnect resumes every subscription itself.
    if (stopped || retryTimer || !currentModel()) return;
    const delay = backoffDelayMs(++retryAttempt);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void resume();
    }, delay);
    retryTimer.unref();
  }

  function resume(): Promise<void> {
    return start().catch((err: unknown) => {
      logger.warn({ err, queue }, 'resubscribe failed; retrying');
      scheduleRetry();
    });
  }

  function onMessage(ch: Channel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // basic.cancel from the broker (queue deleted or failed over): drop the channel, retry.
      logger.warn({ queue }, 'consumer cancelled by the broker; resubscribing');
      if (channel === ch) {
        channel = null;
        consumerTag = null;
        ch.close().catch(() => {});
        scheduleRetry();
      }
      return;
    }
    if (stopped) {
      // Arrived between cancel() and cancel-ok: hand it back untouched.
      safely(() => ch.reject(msg, true));
      return;
    }
    const done = runHandler(handler, toDelivery(msg), queue, logger).then((s) => {
      if (channel !== ch) {
        // The channel died while the handler ran; a settlement on another channel would be a
        // protocol error. The broker has already put the message back and will redeliver it.
        logger.debug({ queue, messageId: msg.properties.messageId }, 'settlement dropped: channel gone');
        return;
      }
      safely(() => applySettlement(ch, msg, s));
    });
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  }

  function safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      logger.warn({ err, queue }, 'settlement failed (channel closing)');
    }
  }

  return {
    start,
    resume,
    detach() {
      channel = null;
      consumerTag = null;
      // The channel 'close' that preceded the connection's may have scheduled a retry; the
      // transport's reconnect resumes us instead.
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
    },
    async stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      await starting?.catch(() => {});
      const ch = channel;
      if (ch && consumerTag) await ch.cancel(consumerTag).catch(() => {});
      await Promise.allSettled([...inFlight]);
      channel = null;
      if (ch) await ch.close().catch(() => {});
    },
  };
}

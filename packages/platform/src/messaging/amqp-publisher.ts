import type { ConfirmChannel, Message } from 'amqplib';
import { type OutgoingMessage, PublishError } from './transport.js';

export interface ConfirmPublisher {
  publish(m: OutgoingMessage): Promise<void>;
  readonly open: boolean;
  close(): Promise<void>;
}

/**
 * Publishing on one confirm channel with `mandatory`.
 *
 * Broker quirk: an unroutable mandatory message is first *returned* (basic.return) and then
 * *acked* — the ack alone says nothing about routing. basic.return carries no delivery tag, so
 * we correlate by content: RabbitMQ handles a channel's publishes in order and always sends a
 * message's return before its ack, so when the ack for publish P arrives, P's return (if any) is
 * already in `returned`. Two in-flight messages identical in exchange, key, id and body route
 * identically, so matching the first equal one is exact.
 */
export function createConfirmPublisher(channel: ConfirmChannel, onClosed: () => void): ConfirmPublisher {
  let open = true;
  let closeError: (Error & { code?: number }) | undefined;
  const returned: Message[] = [];

  channel.on('return', (m: Message) => returned.push(m));
  // Fires before the 'close' that fails the unconfirmed callbacks, so they can see the cause.
  channel.on('error', (err: Error & { code?: number }) => {
    closeError = err;
  });
  channel.on('close', () => {
    open = false;
    returned.length = 0;
    onClosed();
  });

  function takeReturn(m: OutgoingMessage): Message | undefined {
    const i = returned.findIndex(
      (r) =>
        r.fields.exchange === m.exchange &&
        r.fields.routingKey === m.routingKey &&
        r.properties.messageId === m.messageId &&
        r.content.equals(m.body),
    );
    return i >= 0 ? returned.splice(i, 1)[0] : undefined;
  }

  function failure(m: OutgoingMessage, err: Error): PublishError {
    if (err.message === 'message nacked')
      return new PublishError(`broker nacked the message to '${m.exchange}'`, 'nacked');
    // Publishing to a missing exchange makes RabbitMQ close the channel with 404: nothing can route it.
    if (closeError?.code === 404 && closeError.message.includes(`'${m.exchange}'`)) {
      return new PublishError(`unroutable: ${closeError.message}`, 'unroutable');
    }
    return new PublishError(
      `publish channel closed before the confirm (${closeError?.message ?? err.message})`,
      'closed',
    );
  }

  return {
    get open() {
      return open;
    },

    publish(m: OutgoingMessage): Promise<void> {
      if (!open) return Promise.reject(new PublishError('publish channel is closed', 'closed'));
      return new Promise<void>((resolve, reject) => {
        const onConfirm = (err: unknown) => {
          if (err) return reject(failure(m, err instanceof Error ? err : new Error(String(err))));
          const r = takeReturn(m);
          if (r) {
            // basic.return fields carry replyCode/replyText, which amqplib's types omit.
            const f = r.fields as unknown as { replyCode?: number; replyText?: string };
            return reject(
              new PublishError(
                `unroutable: ${f.replyCode} ${f.replyText} ('${m.exchange}' / '${m.routingKey}')`,
                'unroutable',
              ),
            );
          }
          resolve();
        };
        try {
          // The boolean result is write-buffer back-pressure; the confirm is what we wait for.
          channel.publish(
            m.exchange,
            m.routingKey,
            m.body,
            {
              mandatory: true,
              persistent: true,
              messageId: m.messageId,
              headers: m.headers ?? {},
              contentType: m.contentType,
              contentEncoding: m.contentEncoding,
            },
            onConfirm,
          );
        } catch (err) {
          // IllegalOperationError when the channel closed under us, RangeError for oversized headers.
          reject(
            err instanceof RangeError ? err : new PublishError(`publish failed: ${(err as Error).message}`, 'closed'),
          );
        }
      });
    },

    async close() {
      if (!open) return;
      open = false;
      await channel.close().catch(() => {});
    },
  };
}

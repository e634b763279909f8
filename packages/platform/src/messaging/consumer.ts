import { randomUUID } from 'node:crypto';
import {
  type AnyEvent,
  createEvent,
  type EventData,
  type EventOf,
  type EventType,
  parseEnvelope,
  reactionContext,
} from '@ecom/contracts';
import { context } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { type Database, type Queryable, writeAtCommit } from '../db/database.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { deathCount } from './headers.js';
import type { Outbox } from './outbox.js';
import type { ConsumerQueues } from './topology.js';
import { recordOutcome, startProcessSpan } from './tracing.js';
import type { Delivery, Headers, Settlement, Subscription, Transport } from './transport.js';

/** What a handler gets besides the event: the open transaction and a way to emit reactions. */
export interface HandlerContext {
  /** The pipeline's transaction: the dedupe row, the handler's writes and its events commit together. */
  tx: Queryable;
  /** Writes a reaction event to the outbox in this transaction, trace_id and identity copied (events.md §5). */
  emit<T extends EventType>(type: T, data: EventData<T>): Promise<void>;
  messageId: string;
  logger: Logger;
  /**
   * Runs `fn` after the transaction has COMMITTED (never after a rollback or for a duplicate),
   * before the ack: for side effects that must not see uncommitted state, such as cache
   * invalidation. A failing `fn` is logged; it does not undo or retry the message.
   */
  afterCommit(fn: () => Promise<void> | void): void;
}

/** A business handler: a plain function of the event and the transaction. It never sees a channel. */
export type EventHandler<T extends EventType> = (event: EventOf<T>, ctx: HandlerContext) => Promise<void>;

export interface ConsumerDefinition<T extends EventType = EventType> {
  /** The spec's queue name (`q.inventory.order-created`). */
  queue: string;
  /** The dedupe name stored in consumed_messages.consumer (events.md §6.0). */
  consumer: string;
  /** Event types this queue carries; anything else is poison. */
  accept: readonly T[];
  handle: EventHandler<T>;
}

/** Thrown by a handler for a message that can never succeed: dead-lettered at once, not retried. */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

export interface ConsumerOptions {
  definition: ConsumerDefinition;
  queues: ConsumerQueues;
  /** For queues without a broker DLX (q.order.*, q.notification.*): our additive retry/DLQ route. */
  fallback: { retryExchange: string; dlqExchange: string };
  db: Database;
  transport: Transport;
  outbox: Outbox;
  logger: Logger;
  registry: Registry;
  /** Retries before the DLQ (spec default 3: at most 4 attempts). */
  maxRetries: number;
  prefetch: number;
  /** Pause while the database is down: the outage's age so far, within [base, max]; attempts are NOT consumed. */
  outageBackoffBaseMs?: number;
  outageBackoffMaxMs?: number;
  /** The consuming service: the OTel service.name of its spans (telemetry/README.md). */
  serviceName?: string;
}

type Outcome = 'handled' | 'duplicate' | 'retried' | 'dead_lettered' | 'poison' | 'requeued';

/**
 * The consumer pipeline (design §3 step 4): decode + validate (poison → DLQ at once) → ONE
 * transaction { handler; its outbox rows; the consumed_messages row } → commit → ack. The
 * dedupe row is written with the COMMIT, so a duplicate is found there (unique violation:
 * rolled back, nothing of it kept) or by the lookup every failure gets → ack, counted
 * `duplicate`. It costs a duplicate its handler's work; it saves every message a round trip.
 * Any other failure is classified:
 *  - the database is unreachable → requeue after a growing pause, attempts NOT consumed (an
 *    outage must neither flood the DLQ nor spin);
 *  - PermanentError → DLQ now;
 *  - anything else → the retry route (TTL queue), and after `maxRetries` → DLQ with the reason.
 * Each delivery runs inside a `process <queue>` span that continues the message's traceparent, so
 * the handler's outbox rows (and their publishes) stay in the same trace (messaging/tracing.ts).
 */
export async function startConsumer(opts: ConsumerOptions): Promise<Subscription> {
  const { definition: def, queues, db, transport, outbox, maxRetries } = opts;
  const metrics = consumerMetrics(opts.registry);
  const label = { queue: queues.specQueue };
  const baseMs = opts.outageBackoffBaseMs ?? 500;
  const maxMs = opts.outageBackoffMaxMs ?? 10_000;
  // When the current outage began (null = healthy). Pausing for about as long as the outage has
  // lasted doubles the wait each round without letting many in-flight messages compound it.
  let outageSince: number | null = null;

  const count = (outcome: Outcome, failure?: string) => {
    metrics.consumed.inc({ ...label, outcome });
    recordOutcome(outcome, failure);
  };

  const handle = async (delivery: Delivery): Promise<Settlement> => {
    const started = performance.now();
    const traced = startProcessSpan(delivery, {
      queue: queues.specQueue,
      consumer: def.consumer,
      transport,
      service: opts.serviceName,
    });
    try {
      return traced
        ? await context.with(traced.ctx, processDelivery, undefined, delivery)
        : await processDelivery(delivery);
    } finally {
      metrics.seconds.observe(label, (performance.now() - started) / 1000);
      traced?.span.end();
    }
  };

  const processDelivery = async (delivery: Delivery): Promise<Settlement> => {
    const parsed = parseEnvelope(delivery.body, def.accept);
    if (!parsed.ok) return deadLetter(delivery, `POISON:${parsed.reason}`, 0, 'poison');
    const event = parsed.event as AnyEvent;
    const messageId = messageKey(delivery, event);
    if (messageId.length > 128)
      return deadLetter(delivery, 'POISON:message_id longer than 128 characters', 0, 'poison');
    const log = opts.logger.child({
      trace_id: event.trace_id,
      message_id: messageId,
      event_type: event.event_type,
      queue: queues.specQueue,
    });
    const committed: (() => Promise<void> | void)[] = [];
    try {
      await db.transaction(async (tx) => {
        committed.length = 0;
        // The dedupe row travels with the COMMIT (no round trip of its own), first of the
        // deferred writes: a pair already stored fails the commit on the unique index — also
        // when the first copy is still in flight, whose commit it then waits for — and nothing
        // the handler did survives; the catch below recognises the duplicate.
        await writeAtCommit(
          tx,
          'INSERT INTO consumed_messages (id, message_id, consumer, processed_at) VALUES ($1, $2, $3, $4)',
          [randomUUID(), messageId, def.consumer, new Date()],
        );
        const ctx: HandlerContext = {
          tx,
          messageId,
          logger: log,
          emit: async (type, data) => outbox.add(tx, createEvent(type, data, reactionContext(event))),
          afterCommit: (fn) => committed.push(fn),
        };
        await def.handle(event as never, ctx);
      });
      outageSince = null;
      for (const fn of committed) {
        await Promise.resolve()
          .then(fn)
          .catch((err) => log.warn({ err: (err as Error).message }, 'after-commit hook failed'));
      }
      count('handled');
      return { kind: 'ack' };
    } catch (err) {
      // Whatever failed — the dedupe row's unique index, or a handler that met the state its
      // first copy left behind — a stored pair means this message's effects are committed.
      if (!isDatabaseUnavailable(err) && (await alreadyConsumed(messageId))) {
        outageSince = null;
        count('duplicate');
        log.debug('duplicate delivery acknowledged');
        return { kind: 'ack' };
      }
      return onFailure(delivery, err as Error, log);
    }
  };

  /** Whether (message key, consumer) is stored: its first copy committed. Unknown (false) when the lookup fails. */
  const alreadyConsumed = async (messageId: string): Promise<boolean> => {
    try {
      const rows = await db.query('SELECT 1 FROM consumed_messages WHERE message_id = $1 AND consumer = $2', [
        messageId,
        def.consumer,
      ]);
      return rows.length > 0;
    } catch {
      return false;
    }
  };

  const onFailure = async (delivery: Delivery, err: Error, log: Logger): Promise<Settlement> => {
    if (err instanceof PermanentError)
      return deadLetter(delivery, `PERMANENT:${err.message}`, attemptsSoFar(delivery), 'dead_lettered');
    if (isDatabaseUnavailable(err) || (await databaseIsDown())) {
      outageSince ??= Date.now();
      const pause = Math.min(Math.max(baseMs, Date.now() - outageSince), maxMs);
      log.warn(
        { err: err.message, pauseMs: pause },
        'database unavailable; message requeued without consuming an attempt',
      );
      await sleep(pause); // holds the prefetch slot: the consumer slows down instead of spinning
      count('requeued', err.message);
      return { kind: 'requeue' };
    }
    const retries = attemptsSoFar(delivery);
    if (retries >= maxRetries) {
      log.error({ err: err.message, retries }, 'retries exhausted; dead-lettering');
      return deadLetter(delivery, `RETRY_EXHAUSTED:${err.message || err.name}`, retries, 'dead_lettered');
    }
    log.warn({ err: err.message, retry: retries + 1, maxRetries }, 'handler failed; retrying after the TTL');
    metrics.retried.inc(label);
    count('retried', err.message || err.name);
    if (queues.retry) return { kind: 'reject' }; // the broker parks it in the TTL queue (spec §4.2)
    // No broker DLX on this queue: publish the copy to our TTL queue ourselves, then ack.
    try {
      await transport.publish({
        exchange: opts.fallback.retryExchange,
        routingKey: `${queues.queue}.retry`,
        body: delivery.body,
        messageId: delivery.messageId,
        contentType: 'application/json',
        contentEncoding: 'UTF-8',
        headers: { ...carried(delivery), 'x-retry-count': retries + 1 },
      });
      return { kind: 'ack' };
    } catch {
      await sleep(baseMs);
      return { kind: 'requeue' };
    }
  };

  /** spec §4.1: x-death count for the main queue; honour x-retry-count too (max of both). */
  const attemptsSoFar = (delivery: Delivery): number => {
    const header = delivery.headers['x-retry-count'];
    const explicit = typeof header === 'number' ? header : Number.parseInt(String(header ?? '0'), 10) || 0;
    return Math.max(deathCount(delivery.headers, queues.queue), explicit);
  };

  const deadLetter = async (
    delivery: Delivery,
    reason: string,
    retries: number,
    outcome: Outcome,
  ): Promise<Settlement> => {
    const target = queues.dlq ?? { exchange: opts.fallback.dlqExchange, queue: `${queues.queue}.dlq` };
    try {
      await transport.publish({
        exchange: target.exchange,
        routingKey: target.queue,
        body: delivery.body,
        messageId: delivery.messageId,
        contentType: 'application/json',
        contentEncoding: 'UTF-8',
        headers: {
          ...pick(delivery.headers, ['x-trace-id', 'x-event-type']),
          'x-dlq-reason': reason.slice(0, 300),
          'x-retry-count': retries,
          'x-original-exchange': String(delivery.headers['x-original-exchange'] ?? delivery.exchange),
          'x-original-routing-key': String(delivery.headers['x-original-routing-key'] ?? delivery.routingKey),
          'x-source-queue': queues.queue,
          'x-consumer': def.consumer,
          'x-failed-at': new Date().toISOString(),
        },
      });
    } catch (err) {
      // The DLQ copy did not land: keep the message (never lose it), try again later.
      opts.logger.error({ err: (err as Error).message, queue: queues.specQueue }, 'DLQ publish failed; requeueing');
      await sleep(baseMs);
      return { kind: 'requeue' };
    }
    metrics.dlq.inc(label);
    count(outcome, reason);
    opts.logger.warn(
      { queue: queues.specQueue, message_id: delivery.messageId, reason: reason.slice(0, 300) },
      'message dead-lettered',
    );
    return { kind: 'ack' };
  };

  const databaseIsDown = async (): Promise<boolean> => {
    try {
      await db.ping(2000);
      return false;
    } catch {
      return true;
    }
  };

  return transport.consume(queues.queue, handle, { prefetch: opts.prefetch });
}

/** events.md §6.0: message_id when present and not blank, else event_id. */
function messageKey(delivery: Delivery, event: AnyEvent): string {
  const id = delivery.messageId?.trim();
  return id || event.event_id;
}

/** Headers a retry copy keeps: observation headers plus where it first came from. */
function carried(delivery: Delivery): Headers {
  return {
    ...pick(delivery.headers, ['x-trace-id', 'x-event-type', 'x-event-id', 'traceparent']),
    'x-original-exchange': String(delivery.headers['x-original-exchange'] ?? delivery.exchange),
    'x-original-routing-key': String(delivery.headers['x-original-routing-key'] ?? delivery.routingKey),
  };
}

function pick(headers: Headers, names: readonly string[]): Headers {
  const out: Headers = {};
  for (const n of names) if (headers[n] !== undefined && headers[n] !== null) out[n] = headers[n];
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function consumerMetrics(registry: Registry) {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    consumed: get(
      'messaging_consumed_total',
      () =>
        new Counter({
          name: 'messaging_consumed_total',
          help: 'Deliveries by queue and outcome (handled, duplicate, retried, dead_lettered, poison, requeued)',
          labelNames: ['queue', 'outcome'],
          registers: [registry],
        }),
    ),
    retried: get(
      'messaging_retry_total',
      () =>
        new Counter({
          name: 'messaging_retry_total',
          help: 'Deliveries sent to the retry route',
          labelNames: ['queue'],
          registers: [registry],
        }),
    ),
    dlq: get(
      'messaging_dlq_published_total',
      () =>
        new Counter({
          name: 'messaging_dlq_published_total',
          help: 'Copies published to a DLQ',
          labelNames: ['queue'],
          registers: [registry],
        }),
    ),
    seconds: get(
      'messaging_handling_seconds',
      () =>
        new Histogram({
          name: 'messaging_handling_seconds',
          help: 'Time from delivery to settlement',
          labelNames: ['queue'],
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers: [registry],
        }),
    ),
  };
}

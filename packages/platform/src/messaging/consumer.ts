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
import { type Context, context } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { coalescing, type Database, type Queryable, writeAtCommit } from '../db/database.js';
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
  /**
   * Opt-in batching: deliveries that queue up while this consumer's transactions are busy
   * (at most ceil(prefetch / max) at once) are handled together, up to `max`, in ONE
   * transaction, each with its own dedupe row, and acked after its COMMIT. A delivery that
   * finds a transaction slot free starts at once, alone: a quiet queue pays no latency for it.
   * On PostgreSQL the handlers run side by side on a coalescing `tx` (`coalescing`: the
   * statements they issue in the same turn travel in one message), so N deliveries cost about
   * the round trips of one. Handlers start in `key` order, so a handler that locks one row (its
   * key's) takes it in the same order as every other batch: batches cannot deadlock. Two
   * deliveries with the same key never share a transaction (the second would not see what the
   * first writes with the COMMIT): the repeat waits for the next one. Any failure rolls the
   * whole batch back and replays its deliveries one by one through the ordinary path
   * (duplicate, retry, DLQ — exactly as without batching). MESSAGING_CONSUMER_BATCH_MAX
   * overrides `max` (0: off).
   */
  batch?: {
    max: number;
    key?: (event: EventOf<T>) => string;
    /**
     * A batch's handler, instead of running `handle` for each delivery: all of them at once, in
     * arrival order, each with its own context (its `emit`, `afterCommit`, logger; `ctx.tx` is
     * `tx`), for a consumer that must see the whole batch to lock and decide correctly (one
     * lock statement for every row, decisions that build on each other).
     */
    handleBatch?: (entries: readonly { event: EventOf<T>; ctx: HandlerContext }[], tx: Queryable) => Promise<void>;
  };
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
  /** Overrides the definition's `batch.max`; 0 turns batching off (MESSAGING_CONSUMER_BATCH_MAX). */
  batchMax?: number;
  /** Pause while the database is down: the outage's age so far, within [base, max]; attempts are NOT consumed. */
  outageBackoffBaseMs?: number;
  outageBackoffMaxMs?: number;
  /** The consuming service: the OTel service.name of its spans (telemetry/README.md). */
  serviceName?: string;
}

type Outcome = 'handled' | 'duplicate' | 'retried' | 'dead_lettered' | 'poison' | 'requeued';

/** One validated delivery on its way through the pipeline. */
interface Item {
  delivery: Delivery;
  event: AnyEvent;
  messageId: string;
  log: Logger;
  /** The delivery's trace context (its `process` span), for its handler inside a batch. */
  trace: Context;
  /** Its after-commit hooks (HandlerContext.afterCommit). */
  committed: (() => Promise<void> | void)[];
}

/** The first item of each key, in arrival order, and the items repeating a key before them. */
function firstPerKey(items: readonly Item[], keys: ReadonlyMap<Item, string>): [Item[], Item[]] {
  const seen = new Set<string>();
  const first: Item[] = [];
  const repeats: Item[] = [];
  for (const item of items) {
    const k = keys.get(item) as string;
    (seen.has(k) ? repeats : first).push(item);
    seen.add(k);
  }
  return [first, repeats];
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Runs items through `run` in batches: at most `slots` batches at once, each taking up to `max` of
 * the items waiting. An item arriving while a slot is free starts at once (alone, when nothing else
 * waits): batching costs a quiet queue no latency; batches form only while the slots are busy.
 */
export function createBatcher<I, R>(
  run: (items: I[]) => Promise<R[]>,
  opts: { max: number; slots: number },
): { submit(item: I): Promise<R> } {
  const waiting: { item: I; resolve(r: R): void; reject(err: unknown): void }[] = [];
  let busy = 0;
  const pump = () => {
    while (busy < opts.slots && waiting.length > 0) {
      const batch = waiting.splice(0, opts.max);
      busy++;
      run(batch.map((w) => w.item))
        .then(
          (results) => {
            for (const [i, w] of batch.entries()) w.resolve(results[i] as R);
          },
          (err) => {
            for (const w of batch) w.reject(err);
          },
        )
        .finally(() => {
          busy--;
          pump();
        });
    }
  };
  return {
    submit: (item) =>
      new Promise<R>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        pump();
      }),
  };
}

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
    const item: Item = { delivery, event, messageId, log, trace: context.active(), committed: [] };
    return batcher ? batcher.submit(item) : processAlone(item);
  };

  /** One delivery in its own transaction: the ordinary path, and every batch's fallback. */
  const processAlone = async (item: Item): Promise<Settlement> => {
    try {
      await db.transaction(async (tx) => {
        await handleIn(tx, item);
      });
    } catch (err) {
      // Whatever failed — the dedupe row's unique index, or a handler that met the state its
      // first copy left behind — a stored pair means this message's effects are committed.
      if (!isDatabaseUnavailable(err) && (await alreadyConsumed(item.messageId))) {
        outageSince = null;
        count('duplicate');
        item.log.debug('duplicate delivery acknowledged');
        return { kind: 'ack' };
      }
      return onFailure(item.delivery, err as Error, item.log);
    }
    return afterCommit(item);
  };

  /** The dedupe row and the handler of one delivery, inside `tx`, in the delivery's trace context. */
  const handleIn = async (tx: Queryable, item: Item): Promise<void> => {
    const ctx = await contextFor(tx, item);
    await context.with(item.trace, () => def.handle(item.event as never, ctx));
  };

  /** One delivery's dedupe row (deferred to the COMMIT) and its HandlerContext on `tx`. */
  const contextFor = async (tx: Queryable, item: Item): Promise<HandlerContext> => {
    item.committed.length = 0;
    // The dedupe row travels with the COMMIT (no round trip of its own), first of the
    // deferred writes: a pair already stored fails the commit on the unique index — also
    // when the first copy is still in flight, whose commit it then waits for — and nothing
    // the handler did survives; the catch of processAlone recognises the duplicate.
    await writeAtCommit(
      tx,
      'INSERT INTO consumed_messages (id, message_id, consumer, processed_at) VALUES ($1, $2, $3, $4)',
      [randomUUID(), item.messageId, def.consumer, new Date()],
    );
    return {
      tx,
      messageId: item.messageId,
      logger: item.log,
      // In the delivery's trace context: the outbox row keeps its traceparent (also from a batch handler).
      emit: (type, data) =>
        context.with(item.trace, () => outbox.add(tx, createEvent(type, data, reactionContext(item.event)))),
      afterCommit: (fn) => item.committed.push(fn),
    };
  };

  /** Committed: the after-commit hooks, then the ack. */
  const afterCommit = async (item: Item): Promise<Settlement> => {
    outageSince = null;
    for (const fn of item.committed) {
      await Promise.resolve()
        .then(fn)
        .catch((err) => item.log.warn({ err: (err as Error).message }, 'after-commit hook failed'));
    }
    count('handled');
    return { kind: 'ack' };
  };

  /**
   * Several deliveries, one transaction: their handlers run side by side on a coalescing `tx`
   * (statements issued in the same turn go in one message), started in key order. Two of the same
   * key never share a transaction: a handler reads its row under the lock, and what the first
   * one wrote with the COMMIT would be invisible to the second — the repeats go in the next
   * batch, after this one committed. Any failure → each again alone (processAlone).
   */
  const processBatch = async (items: Item[]): Promise<Settlement[]> => {
    if (items.length === 1) return [await processAlone(items[0] as Item)];
    const key = def.batch?.key as ((event: AnyEvent) => string) | undefined;
    const keys = key ? new Map(items.map((item) => [item, key(item.event)])) : undefined;
    if (keys) {
      const [first, repeats] = firstPerKey(items, keys);
      if (repeats.length > 0) {
        const settled = new Map<Item, Settlement>();
        for (const part of [first, repeats]) {
          for (const [i, r] of (await processBatch(part)).entries()) settled.set(part[i] as Item, r);
        }
        return items.map((item) => settled.get(item) as Settlement);
      }
    }
    const ordered = keys ? [...items].sort((a, b) => compareKeys(keys.get(a) as string, keys.get(b) as string)) : items;
    const handleBatch = def.batch?.handleBatch;
    try {
      await db.transaction(async (tx) => {
        if (handleBatch) {
          const entries = [];
          for (const item of items) entries.push({ event: item.event as never, ctx: await contextFor(tx, item) });
          await handleBatch(entries, tx);
          return;
        }
        const shared = coalescing(tx);
        if (shared === tx) {
          // Nothing to coalesce (PGlite: one in-process backend): one after another.
          for (const item of ordered) await handleIn(tx, item);
          return;
        }
        // Settled, not raced: the transaction must not end while a handler can still use it.
        const settled = await Promise.allSettled(ordered.map((item) => handleIn(shared, item)));
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      });
    } catch {
      metrics.batchReplays.inc(label);
      return Promise.all(items.map((item) => context.with(item.trace, () => processAlone(item))));
    }
    metrics.batchSize.observe(label, items.length);
    return Promise.all(items.map(afterCommit));
  };

  const batchMax = def.batch ? (opts.batchMax ?? def.batch.max) : 0;
  const batcher =
    batchMax > 1
      ? createBatcher(processBatch, { max: batchMax, slots: Math.max(1, Math.ceil(opts.prefetch / batchMax)) })
      : undefined;

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
    batchSize: get(
      'messaging_batch_size',
      () =>
        new Histogram({
          name: 'messaging_batch_size',
          help: 'Deliveries per committed batch transaction (consumers that batch; a lone delivery is not counted)',
          labelNames: ['queue'],
          buckets: [2, 3, 4, 6, 8, 12, 16, 24, 32, 50],
          registers: [registry],
        }),
    ),
    batchReplays: get(
      'messaging_batch_replays_total',
      () =>
        new Counter({
          name: 'messaging_batch_replays_total',
          help: 'Batches rolled back and replayed one delivery at a time',
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

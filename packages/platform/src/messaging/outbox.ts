import { randomBytes } from 'node:crypto';
import { type AnyEvent, assertValidEvent, routingKeyOf } from '@ecom/contracts';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type Database, type Queryable, queryEach, writeAtCommit } from '../db/database.js';
import { activeTraceparent } from '../telemetry/context.js';
import { recordRelayRun, storableTraceparent, tracedPublish } from './tracing.js';
import type { Headers, OutgoingMessage, Transport } from './transport.js';

/** LISTEN/NOTIFY channel the writer pings after commit and the relay waits on. */
const OUTBOX_CHANNEL = 'ecom_outbox';

/**
 * The writing half of the transactional outbox: the event row rides in the caller's
 * transaction, so it exists if and only if the state change committed. Row id = event_id =
 * AMQP message_id (spec data-model.md §2 recommendation), so a re-publish after a crash is the
 * same message and is deduplicated downstream. The row also keeps the writer's W3C traceparent
 * (the active request or delivery, when tracing is on): the relay publishes in that trace.
 */
export interface Outbox {
  add(tx: Queryable, event: AnyEvent): Promise<void>;
  /**
   * For a caller that writes its state change AND the event in ONE auto-committed statement
   * (data-modifying CTEs: one round trip, no BEGIN/COMMIT): the event's outbox row, validated,
   * as columns with their values and SQL types, to embed as
   * `INSERT INTO outbox_events (<columns>) SELECT <$n::type …> …`. The statement is its own
   * transaction, so the row still exists if and only if the state change committed. Call
   * `committed()` once the statement has succeeded, to wake the relay.
   */
  row(event: AnyEvent): OutboxRowValues;
  /** Wakes the relay after a commit that wrote rows through `row()`. */
  committed(): void;
}

export interface OutboxRowValues {
  readonly table: 'outbox_events';
  readonly columns: readonly { name: string; value: unknown; type: string }[];
}

export function createOutbox(db: Database): Outbox {
  const channel = db.channel(OUTBOX_CHANNEL);
  // One function per outbox, so a transaction that adds several rows wakes the relay once.
  const wakeRelay = (): void => db.notify(OUTBOX_CHANNEL);
  const row = (event: AnyEvent): OutboxRowValues => {
    assertValidEvent(event); // never write an event a consumer would dead-letter
    return {
      table: 'outbox_events',
      columns: [
        { name: 'id', value: event.event_id, type: 'uuid' },
        { name: 'event_type', value: event.event_type, type: 'varchar' },
        { name: 'routing_key', value: routingKeyOf(event.event_type), type: 'varchar' },
        { name: 'payload', value: JSON.stringify(event), type: 'text' },
        { name: 'status', value: 'PENDING', type: 'varchar' },
        { name: 'created_at', value: new Date(), type: 'timestamptz' },
        { name: 'traceparent', value: storableTraceparent(activeTraceparent()), type: 'text' },
      ],
    };
  };
  return {
    row,
    committed: wakeRelay,
    async add(tx, event) {
      const { columns } = row(event);
      const insert = `INSERT INTO outbox_events (${columns.map((c) => c.name).join(', ')})
         VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
      const values = columns.map((c) => c.value);
      // Nobody reads the row inside the writing transaction: on a kernel transaction it is
      // written with the COMMIT (one round trip fewer; a failure still fails the transaction).
      await writeAtCommit(tx, insert, values);
      // Wake the relay once the row is committed — AFTER the commit, not with a NOTIFY inside
      // the transaction: PostgreSQL holds a database-wide lock from a notifying transaction's
      // pre-commit until its commit is flushed, which made every outbox-writing commit of the
      // database go one at a time (no group commit; bench/README.md "the outbox NOTIFY
      // serialises commits"). Not durable: a wake-up lost to a crash costs one poll interval.
      if (tx.afterCommit) tx.afterCommit(wakeRelay);
      // No transaction hook (auto-commit, or a caller's own wrapper): the in-transaction NOTIFY,
      // still delivered at COMMIT only and dropped on rollback.
      else await tx.query('SELECT pg_notify($1, $2)', [channel, '']);
    },
  };
}

/**
 * W3C traceparent derived from the envelope trace_id (spec events.md §7.1): one trace id
 * from the order's creation through every hop. A fresh random span id, never all zeros.
 */
export function traceparentFor(traceId: string | null | undefined): string | undefined {
  const hex = traceId?.trim().toLowerCase().replaceAll('-', '');
  if (!hex || !/^[0-9a-f]{32}$/.test(hex) || /^0+$/.test(hex)) return undefined;
  let span = randomBytes(8).toString('hex');
  while (/^0+$/.test(span)) span = randomBytes(8).toString('hex');
  return `00-${hex}-${span}-01`;
}

/** AMQP properties and headers of spec events.md §7.1, plus x-event-id (recommended). */
export function eventMessage(
  exchange: string,
  row: { id: string; routing_key: string; event_type: string; payload: string },
): OutgoingMessage {
  let traceId: string | undefined;
  try {
    traceId = (JSON.parse(row.payload) as { trace_id?: string | null }).trace_id?.trim() || undefined;
  } catch {
    traceId = undefined; // payloads are validated on write; this is only defence in depth
  }
  const headers: Headers = { 'x-event-type': row.event_type, 'x-event-id': row.id };
  if (traceId) headers['x-trace-id'] = traceId;
  const traceparent = traceparentFor(traceId);
  if (traceparent) headers.traceparent = traceparent;
  return {
    exchange,
    routingKey: row.routing_key,
    body: Buffer.from(row.payload, 'utf8'),
    messageId: row.id,
    contentType: 'application/json',
    contentEncoding: 'UTF-8',
    headers,
  };
}

/** The relay's claim: due PENDING rows, oldest first, each claimed by one relay ($1 = batch size). */
export const OUTBOX_CLAIM_SQL = `SELECT id, event_type, routing_key, payload, attempts, traceparent FROM outbox_events
  WHERE status = 'PENDING' AND (next_attempt_at IS NULL OR next_attempt_at <= now())
  ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`;

export interface RelayOptions {
  db: Database;
  transport: Transport;
  logger: Logger;
  registry: Registry;
  exchange: string;
  /** Poll fallback when no NOTIFY arrives (spec default 2000 ms). */
  pollIntervalMs: number;
  batchSize: number;
  /** SENT rows older than this are deleted. */
  retentionMs: number;
  /** Back-off for a failing row: min(base × 2^attempts, max). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** The service whose relay this is: the OTel service.name of its spans (telemetry/README.md). */
  serviceName?: string;
}

export interface OutboxRelay {
  /** One claim-publish-mark cycle; resolves with the number of rows claimed. */
  runOnce(): Promise<number>;
  /** Wake the loop now (tests; the LISTEN handler does this in production). */
  wake(): void;
  stop(): Promise<void>;
}

interface OutboxRow {
  id: string;
  event_type: string;
  routing_key: string;
  payload: string;
  attempts: number;
  traceparent: string | null;
}

/**
 * The publishing half. Each cycle, in ONE transaction: claim up to `batchSize` due PENDING rows
 * oldest first with FOR UPDATE SKIP LOCKED (any number of relays may run: each row is claimed
 * by one), publish them with confirms + mandatory, mark the confirmed ones SENT and give the
 * failed ones attempts+1, last_error and a back-off — except when the broker connection itself
 * was lost: then the rows only get last_error, and the relay waits for the transport to
 * reconnect before claiming again (an outage is not the rows' fault and must not delay them by
 * a back-off that grew while it lasted). A relay that dies before COMMIT leaves its
 * rows PENDING: they are published again with the same message_id and deduplicated downstream.
 */
export async function startOutboxRelay(opts: RelayOptions): Promise<OutboxRelay> {
  const { db, transport, logger } = opts;
  const baseMs = opts.retryBaseMs ?? 1000;
  const maxMs = opts.retryMaxMs ?? 60_000;
  const metrics = relayMetrics(opts.registry, db);
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;
  let lastPurge = 0;
  /** Set by a cycle whose publishes failed because the broker connection was lost. */
  let brokerOutage = false;

  const runOnce = async (): Promise<number> =>
    db.transaction(async (tx) => {
      const startedAt = Date.now();
      // An index scan of idx_outbox_pending_created_at_id, never a bitmap scan: the index still
      // holds the entries of rows already SENT until VACUUM, and only an index scan marks them
      // dead as it passes them (migrations/V3__outbox_claim_index.sql).
      // The SENT mark's COMMIT need not wait for its WAL flush: a mark lost to a crash only means
      // the rows are published again, with the same message_id, and deduplicated downstream —
      // the relay's contract already. Both settings go in one message with the BEGIN and the
      // claim (queryEach): a cycle is two round trips, claim and COMMIT.
      const [, , claimed] = await queryEach(tx, [
        { text: 'SET LOCAL enable_bitmapscan = off' },
        { text: 'SET LOCAL synchronous_commit = off' },
        { text: OUTBOX_CLAIM_SQL, params: [opts.batchSize] },
      ]);
      const rows = (claimed ?? []) as unknown as OutboxRow[];
      if (rows.length === 0) return 0;
      // One channel publishes in order; confirms are awaited together. Each publish is a span in
      // the trace of the request (or delivery) that wrote the row (messaging/tracing.ts).
      const results = await Promise.allSettled(
        rows.map((r) => {
          const message = eventMessage(opts.exchange, r);
          const traceId = message.headers?.['x-trace-id'];
          return tracedPublish(transport, message, {
            traceparent: r.traceparent,
            envelopeTraceId: typeof traceId === 'string' ? traceId : undefined,
            eventType: r.event_type,
            service: opts.serviceName,
          });
        }),
      );
      // The broker connection went away under the batch: the failures are the outage's, not the
      // rows'. They keep their attempts and stay due, so they go out as soon as the broker is
      // back instead of after a back-off that grew through the outage (up to retryMaxMs).
      const outage = !transport.isHealthy();
      if (outage) brokerOutage = true;
      const sent: string[] = [];
      for (const [i, result] of results.entries()) {
        const row = rows[i]!;
        if (result.status === 'fulfilled') {
          sent.push(row.id);
          continue;
        }
        const error = String((result.reason as Error)?.message ?? result.reason).slice(0, 500);
        if (outage) {
          metrics.failures.inc();
          await tx.execute('UPDATE outbox_events SET last_error = $2 WHERE id = $1', [row.id, error]);
          continue;
        }
        const delay = Math.min(baseMs * 2 ** row.attempts, maxMs);
        await tx.execute(
          `UPDATE outbox_events SET attempts = attempts + 1, last_error = $2,
             next_attempt_at = now() + ($3::int * interval '1 millisecond') WHERE id = $1`,
          [row.id, error, delay],
        );
        metrics.failures.inc();
        logger.warn(
          { event_id: row.id, event_type: row.event_type, attempts: row.attempts + 1, error },
          'outbox publish failed',
        );
      }
      if (sent.length > 0) {
        // With the COMMIT, in one message (writeAtCommit).
        await writeAtCommit(
          tx,
          `UPDATE outbox_events SET status = 'SENT', sent_at = now(), last_error = NULL WHERE id = ANY($1::uuid[])`,
          [sent],
        );
        metrics.published.inc(sent.length);
      }
      recordRelayRun(
        startedAt,
        opts.serviceName,
        results.map((r) => (r.status === 'fulfilled' ? r.value : undefined)),
        { 'ecom.outbox.claimed': rows.length, 'ecom.outbox.published': sent.length },
      );
      return rows.length;
    });

  const purge = async () => {
    if (Date.now() - lastPurge < 60_000) return;
    lastPurge = Date.now();
    const { rowCount } = await db.execute(
      `DELETE FROM outbox_events WHERE id IN (
         SELECT id FROM outbox_events WHERE status = 'SENT' AND sent_at < now() - ($1::bigint * interval '1 millisecond') LIMIT 1000)`,
      [opts.retentionMs],
    );
    if (rowCount > 0) logger.debug({ rows: rowCount }, 'purged sent outbox rows');
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (pendingWake || stopped) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  const wake = () => {
    pendingWake = true;
    wakeUp?.();
  };
  const listener = await db.listen(OUTBOX_CHANNEL, wake).catch((err) => {
    logger.warn({ err: (err as Error).message }, 'outbox LISTEN unavailable; polling only');
    return undefined;
  });

  let failures = 0;
  let waitingForBroker = false;
  const loop = (async () => {
    while (!stopped) {
      pendingWake = false;
      // While the broker is unreachable, claiming rows would only fail them: wait for the
      // transport's own reconnect, looking again every poll interval (at most 500 ms). A plain
      // timer, not sleep(): NOTIFYs must not turn this wait into a busy loop.
      if (brokerOutage || !transport.isHealthy()) {
        brokerOutage = false;
        if (!waitingForBroker) logger.warn('broker unavailable; outbox relay waits for the reconnect');
        waitingForBroker = true;
        await new Promise((resolve) => setTimeout(resolve, Math.min(opts.pollIntervalMs, 500)));
        continue;
      }
      if (waitingForBroker) logger.info('broker available again; outbox relay resumes');
      waitingForBroker = false;
      try {
        const claimed = await runOnce();
        failures = 0;
        await purge();
        if (claimed === opts.batchSize) continue; // more may be waiting: no sleep
      } catch (err) {
        // The database is unreachable (or similar): back off, never spin.
        failures++;
        logger.warn({ err: (err as Error).message, failures }, 'outbox relay cycle failed');
        await sleep(Math.min(baseMs * 2 ** Math.min(failures, 6), maxMs));
        continue;
      }
      await sleep(opts.pollIntervalMs);
    }
  })();

  return {
    runOnce,
    wake,
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
      await listener?.close();
    },
  };
}

function relayMetrics(registry: Registry, db: Database) {
  // Gauges read the table at scrape time; a failed read keeps the last value (never fails the scrape).
  let last = { pending: 0, oldestSeconds: 0 };
  const read = async () => {
    try {
      const [row] = await db.query<{ pending: number; oldest: number | null }>(
        `SELECT count(*)::int AS pending, EXTRACT(EPOCH FROM (now() - min(created_at)))::float8 AS oldest
           FROM outbox_events WHERE status = 'PENDING'`,
      );
      last = { pending: row?.pending ?? 0, oldestSeconds: row?.oldest ?? 0 };
    } catch {
      /* keep the previous values */
    }
    return last;
  };
  const existing = registry.getSingleMetric('outbox_published_total');
  if (existing) {
    return {
      published: existing as Counter,
      failures: registry.getSingleMetric('outbox_publish_failures_total') as Counter,
    };
  }
  new Gauge({
    name: 'outbox_pending_events',
    help: 'Outbox rows not yet published',
    registers: [registry],
    async collect() {
      this.set((await read()).pending);
    },
  });
  new Gauge({
    name: 'outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest unpublished outbox row (0 when none)',
    registers: [registry],
    async collect() {
      this.set((await read()).oldestSeconds);
    },
  });
  return {
    published: new Counter({
      name: 'outbox_published_total',
      help: 'Outbox rows published and confirmed',
      registers: [registry],
    }),
    failures: new Counter({
      name: 'outbox_publish_failures_total',
      help: 'Outbox publish attempts that failed',
      registers: [registry],
    }),
  };
}

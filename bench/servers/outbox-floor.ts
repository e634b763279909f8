/**
 * The floor of outbox-relay: the least a Node process must do to put the same messages on the
 * broker with the same guarantees — raw amqplib, one confirm channel, the same exchange and
 * routing key, `persistent` + `mandatory`, the same bodies, message ids, headers and properties
 * (built before the clock starts with the kernel's own `eventMessage`, from the same rows in the
 * same order). It publishes `window` messages, awaits their confirms, and repeats: the relay's
 * in-flight window (its batch), with nothing in between.
 * Env: BENCH_DB_URL (to read the rows, untimed), BENCH_AMQP_URL, BENCH_NAMESPACE, BENCH_SEED_TABLE.
 */
import { eventMessage, eventsExchangeName, type OutgoingMessage } from '@ecom/platform';
import amqp from 'amqplib';
import pg from 'pg';
import { guardChild, requireEnv, serveCalls, signalReady } from '../lib/child-guard.js';
import type { DrainRun } from '../lib/drain.js';

const exchange = eventsExchangeName(process.env.BENCH_NAMESPACE ?? '');
const table = requireEnv('BENCH_SEED_TABLE');
if (!/^[a-z_]+$/.test(table)) throw new Error(`bad table name ${table}`);

const client = new pg.Client({ connectionString: requireEnv('BENCH_DB_URL') });
await client.connect();
const { rows } = await client.query<{ id: string; event_type: string; routing_key: string; payload: string }>(
  `SELECT id, event_type, routing_key, payload FROM ${table} ORDER BY created_at, id`,
);
await client.end();
const messages: OutgoingMessage[] = rows.map((r) => eventMessage(exchange, r));

// Same heartbeat as the kernel's transport (it adds ?heartbeat=10).
const url = new URL(requireEnv('BENCH_AMQP_URL'));
if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', '10');
const conn = await amqp.connect(url.toString(), { clientProperties: { connection_name: 'bench-outbox-floor' } });
const channel = await conn.createConfirmChannel();
let returned = 0;
channel.on('return', () => returned++);

function publishWindow(batch: readonly OutgoingMessage[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = batch.length;
    const confirmed = (err: unknown) => {
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      if (--left === 0) resolve();
    };
    for (const m of batch) {
      channel.publish(
        m.exchange,
        m.routingKey,
        m.body,
        {
          mandatory: true,
          persistent: true,
          messageId: m.messageId,
          headers: m.headers,
          contentType: m.contentType,
          contentEncoding: m.contentEncoding,
        },
        confirmed,
      );
    }
  });
}

serveCalls(async (request) => {
  const { window } = request as { op: 'drain'; window: number };
  const n = messages.length;
  const quarters = [0.25, 0.5, 0.75, 1].map((q) => Math.ceil(n * q));
  const quartersMs: number[] = [];
  returned = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i += window) {
    await publishWindow(messages.slice(i, i + window));
    const done = Math.min(n, i + window);
    while (quartersMs.length < quarters.length && done >= quarters[quartersMs.length]!)
      quartersMs.push(performance.now() - t0);
  }
  const elapsedMs = performance.now() - t0;
  return { items: n, elapsedMs, quartersMs, extra: { window, returned } } satisfies DrainRun;
});

guardChild(async () => {
  await channel.close().catch(() => undefined);
  await conn.close().catch(() => undefined);
});
signalReady();

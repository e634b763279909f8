/**
 * The contenders of outbox-write: `BENCH_WRITES` transactions, each writing one OrderCreated
 * outbox row, from `concurrency` workers over a pool of BENCH_DB_POOL_SIZE connections. The events
 * are built (and validated) before the clock starts, the same for every contender.
 *
 * BENCH_WRITER selects what a transaction is:
 * - `kernel`: `db.transaction(tx => createOutbox(db).add(tx, event))` through the kernel's
 *   `openPostgres`: BEGIN; INSERT INTO outbox_events …; SELECT pg_notify('ecom_outbox', ''); COMMIT.
 * - `floor`: the same INSERT (text, parameters) in BEGIN … COMMIT on a plain node-postgres Pool,
 *   without the pg_notify.
 * - `after-commit`: the same INSERT in a kernel `db.transaction`, then a wake-up NOTIFY sent AFTER
 *   the commit, coalesced, `synchronous_commit = off` (lib/outbox-sketch.ts): a sketch of the
 *   kernel change suggested in bench/README.md, measured next to the other two.
 * Env: BENCH_DB_URL, BENCH_DB_POOL_SIZE (10), BENCH_WRITES, BENCH_WRITER.
 */
import { routingKeyOf } from '@ecom/contracts';
import { createOutbox, openPostgres, parseDatabaseUrl } from '@ecom/platform';
import pg from 'pg';
import { guardChild, requireEnv, serveCalls, signalReady } from '../lib/child-guard.js';
import type { DrainRun } from '../lib/drain.js';
import { orderCreated } from '../lib/messaging.js';
import { type AfterCommitOutbox, afterCommitOutbox, OUTBOX_INSERT } from '../lib/outbox-sketch.js';

const url = requireEnv('BENCH_DB_URL');
const poolSize = Number(process.env.BENCH_DB_POOL_SIZE ?? 10);
const writes = Number(requireEnv('BENCH_WRITES'));
const kind = requireEnv('BENCH_WRITER');
if (!['kernel', 'floor', 'after-commit'].includes(kind)) throw new Error(`BENCH_WRITER=${kind}?`);
const events = Array.from({ length: writes }, (_, i) => orderCreated(i));

let write: (i: number) => Promise<void>;
let close: () => Promise<void>;
let sketch: AfterCommitOutbox | undefined;

if (kind === 'floor') {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: 30_000 });
  pool.on('error', () => undefined);
  await Promise.all(Array.from({ length: poolSize }, () => pool.query('SELECT 1')));
  write = async (i) => {
    const event = events[i]!;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(OUTBOX_INSERT, [
        event.event_id,
        event.event_type,
        routingKeyOf(event.event_type),
        JSON.stringify(event),
        new Date(),
      ]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  };
  close = () => pool.end();
} else {
  const db = await openPostgres({ target: parseDatabaseUrl(url), maxConnections: poolSize, applicationName: kind });
  await Promise.all(Array.from({ length: poolSize }, () => db.query('SELECT 1')));
  if (kind === 'kernel') {
    const outbox = createOutbox(db);
    write = (i) => db.transaction((tx) => outbox.add(tx, events[i]!));
  } else {
    const s = afterCommitOutbox(db);
    sketch = s;
    write = (i) => s.write(events[i]!);
  }
  close = async () => {
    await sketch?.idle();
    await db.close();
  };
}

serveCalls(async (request) => {
  const { concurrency } = request as { op: 'drain'; concurrency: number };
  const quarters = [0.25, 0.5, 0.75, 1].map((q) => Math.ceil(writes * q));
  const quartersMs: number[] = [];
  let next = 0;
  let done = 0;
  const wakesBefore = sketch?.wakes ?? 0;
  const t0 = performance.now();
  const worker = async () => {
    for (let i = next++; i < writes; i = next++) {
      await write(i);
      done++;
      while (quartersMs.length < quarters.length && done >= quarters[quartersMs.length]!)
        quartersMs.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  return {
    items: done,
    elapsedMs,
    quartersMs,
    extra: { writer: kind, concurrency, poolSize, ...(sketch ? { wakes: sketch.wakes - wakesBefore } : {}) },
  } satisfies DrainRun;
});

guardChild(() => close());
signalReady();

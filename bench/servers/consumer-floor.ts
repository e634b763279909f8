/**
 * The floor of consumer-pipeline: the one thing a consumer must do per message to be exactly-once
 * is commit its dedupe row, so the floor is the rate of single-INSERT Postgres transactions —
 * `BEGIN; INSERT INTO consumed_messages … ON CONFLICT DO NOTHING RETURNING id; COMMIT` (the
 * kernel's statement, text and parameters) through a node-postgres Pool of the same size, with
 * as many concurrent workers as the consumer's prefetch. No broker, no decoding, no logger, no
 * metrics. Env: BENCH_DB_URL, BENCH_DB_POOL_SIZE (10).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { guardChild, requireEnv, serveCalls, signalReady } from '../lib/child-guard.js';
import type { DrainRun } from '../lib/drain.js';

const INSERT = `INSERT INTO consumed_messages (id, message_id, consumer, processed_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (message_id, consumer) DO NOTHING RETURNING id`;

const poolSize = Number(process.env.BENCH_DB_POOL_SIZE ?? 10);
const pool = new pg.Pool({ connectionString: requireEnv('BENCH_DB_URL'), max: poolSize, idleTimeoutMillis: 30_000 });
pool.on('error', () => undefined);
await Promise.all(Array.from({ length: poolSize }, () => pool.query('SELECT 1')));

serveCalls(async (request) => {
  const { messageIds, concurrency, consumer } = request as {
    op: 'drain';
    messageIds: string[];
    concurrency: number;
    consumer: string;
  };
  const n = messageIds.length;
  const quarters = [0.25, 0.5, 0.75, 1].map((q) => Math.ceil(n * q));
  const quartersMs: number[] = [];
  let next = 0;
  let done = 0;
  let inserted = 0;
  const t0 = performance.now();
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const res = await client.query(INSERT, [randomUUID(), messageIds[i], consumer, new Date()]);
        await client.query('COMMIT');
        inserted += res.rowCount ?? 0;
      } finally {
        client.release();
      }
      done++;
      while (quartersMs.length < quarters.length && done >= quarters[quartersMs.length]!)
        quartersMs.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  return { items: done, elapsedMs, quartersMs, extra: { concurrency, poolSize, inserted } } satisfies DrainRun;
});

guardChild(() => pool.end());
signalReady();

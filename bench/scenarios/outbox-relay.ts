/**
 * outbox-relay: how fast one kernel outbox relay drains a backlog of PENDING rows to RabbitMQ,
 * as a ratio of the broker's own limit for the same messages (raw amqplib confirm-channel
 * publishing with the same in-flight window). See bench/README.md.
 */
import { createOutbox, type Database } from '@ecom/platform';
import { startServer } from '../lib/child-server.js';
import type { BenchConfig } from '../lib/config.js';
import { type DrainContender, drainRatio, measureDrains, summarizeDrains } from '../lib/drain.js';
import { BENCH_AMQP_URL, type BenchBroker, orderCreated, setUpBroker, setUpDatabase } from '../lib/messaging.js';
import {
  DRAIN_HEADER,
  drainMedianRow,
  drainRatioRow,
  drainRows,
  ensureProfileDir,
  profileFileFor,
  writeScenarioReport,
} from '../lib/report.js';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { formatTable } from '../lib/stats.js';

const NAME = 'outbox-relay';
const RELAY_ENTRY = new URL('../servers/outbox-relay.ts', import.meta.url).pathname;
const FLOOR_ENTRY = new URL('../servers/outbox-floor.ts', import.meta.url).pathname;
/** The goal: the relay drains at least this share of the floor's rate (at the default batch, 50). */
const GOAL_RATIO = 0.6;
const SEED_TABLE = 'bench_outbox_seed';
const FILL_TX_ROWS = 500;
const FILL_CONCURRENCY = 4;

/** N rows through the kernel's own writer (createOutbox().add: INSERT + pg_notify), 500 per transaction. */
async function fillOutbox(db: Database, n: number): Promise<void> {
  const outbox = createOutbox(db);
  let next = 0;
  const worker = async () => {
    for (let from = next; from < n; from = next) {
      next += FILL_TX_ROWS;
      await db.transaction(async (tx) => {
        for (let i = from; i < Math.min(n, from + FILL_TX_ROWS); i++) await outbox.add(tx, orderCreated(i));
      });
    }
  };
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, worker));
}

async function waitForDepth(broker: BenchBroker, expected: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const depth = await broker.admin.depth(broker.queue);
    if (depth === expected || Date.now() > deadline) return depth;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function run(ctx: ScenarioContext): Promise<void> {
  const { config, cleanup, log } = ctx;
  const n = config.messages;
  const startedAt = new Date().toISOString();
  const broker = await setUpBroker(cleanup, log);
  const database = await setUpDatabase(cleanup, log, FILL_CONCURRENCY);
  const { db } = database;
  log(`database ${database.name}, namespace ${broker.namespace}: filling ${n} outbox rows (createOutbox().add)`);
  const fillStart = Date.now();
  await fillOutbox(db, n);
  await db.exec(`CREATE TABLE ${SEED_TABLE} AS SELECT * FROM outbox_events`);
  const [{ pending } = { pending: 0 }] = await db.query<{ pending: number }>(
    `SELECT count(*)::int AS pending FROM outbox_events WHERE status = 'PENDING'`,
  );
  if (pending !== n) throw new Error(`filled ${pending} PENDING rows, expected ${n}`);
  log(`filled ${n} rows in ${Date.now() - fillStart} ms`);

  /** Every relay round starts from the same N PENDING rows, freshly vacuumed, and an empty queue. */
  const resetRows = async () => {
    await db.exec(`TRUNCATE outbox_events; INSERT INTO outbox_events SELECT * FROM ${SEED_TABLE}`);
    await db.exec('VACUUM ANALYZE outbox_events');
  };
  const settle = async () => {
    await broker.admin.purge(broker.queue);
    await db.exec('CHECKPOINT'); // so a checkpoint does not land in one contender's window more than another's
  };
  const childEnv = {
    BENCH_DB_URL: database.url,
    BENCH_DB_POOL_SIZE: String(config.poolSize),
    BENCH_AMQP_URL,
    BENCH_NAMESPACE: broker.namespace,
    BENCH_SEED_TABLE: SEED_TABLE,
    RABBITMQ_URL: BENCH_AMQP_URL,
    MESSAGING_NAMESPACE: broker.namespace,
    LOG_LEVEL: 'warn',
  };
  const timeoutMs = Math.max(120_000, n * 10);
  // Informational only: several relays on SKIP LOCKED (the runtime's OUTBOX_RELAYS); the goal is for one.
  const relays = Number(process.env.BENCH_OUTBOX_RELAYS ?? 1);
  if (!Number.isInteger(relays) || relays < 1 || relays > 16) throw new Error('BENCH_OUTBOX_RELAYS must be 1..16');
  if (relays !== 1) log(`NOTE: ${relays} relays per relay contender (BENCH_OUTBOX_RELAYS): not the one-relay goal`);
  const verifyQueue = async (label: string) => {
    const depth = await waitForDepth(broker, n);
    if (depth !== n) throw new Error(`${label}: the queue holds ${depth} messages, expected ${n}`);
  };

  const contenders: DrainContender[] = config.relayBatches.flatMap((batch): DrainContender[] => [
    {
      label: `floor/${batch}`,
      prepare: settle,
      start: async (round) => {
        const s = await startServer({
          name: `outbox-floor/${batch}#${round}`,
          entry: FLOOR_ENTRY,
          env: childEnv,
          readiness: { ipc: true },
        });
        cleanup.defer(`stop ${s.name}`, () => s.stop().then(() => undefined));
        return s;
      },
      run: (child) => child.call({ op: 'drain', window: batch }, timeoutMs),
      verify: async (r) => {
        if (r.extra?.returned !== 0) throw new Error(`floor: ${String(r.extra?.returned)} messages were returned`);
        await verifyQueue(`floor/${batch}`);
      },
      profileFile: profileFileFor(config, NAME, 'floor', `floor-${batch}`),
    },
    {
      label: `relay/${batch}`,
      prepare: async () => {
        // Checkpoint FIRST, then write the rows: as in production, the relay updates rows written
        // since the last checkpoint, so its UPDATE does not pay a full-page image per page.
        await settle();
        await resetRows();
      },
      start: async (round) => {
        const s = await startServer({
          name: `outbox-relay/${batch}#${round}`,
          entry: RELAY_ENTRY,
          env: { ...childEnv, APP_OUTBOX_BATCH_SIZE: String(batch), OUTBOX_RELAYS: String(relays) },
          readiness: { ipc: true },
        });
        cleanup.defer(`stop ${s.name}`, () => s.stop().then(() => undefined));
        return s;
      },
      run: (child) => child.call({ op: 'drain', expected: n, timeoutMs }, timeoutMs + 10_000),
      verify: async (r) => {
        if (r.extra?.failures !== 0) throw new Error(`relay: ${String(r.extra?.failures)} publish failures`);
        const [row] = await db.query<{ pending: number; sent: number }>(
          `SELECT count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
                  count(*) FILTER (WHERE status = 'SENT')::int AS sent FROM outbox_events`,
        );
        if (row?.pending !== 0 || row.sent !== n)
          throw new Error(`relay/${batch}: ${row?.pending} rows PENDING and ${row?.sent} SENT, expected 0 and ${n}`);
        await verifyQueue(`relay/${batch}`);
      },
      profileFile: profileFileFor(config, NAME, 'service', `relay-${batch}`),
    },
  ]);

  await ensureProfileDir(config);
  log(
    `measuring: ${config.rounds} rounds × (${contenders.map((c) => c.label).join(', ')}), ${n} rows each, relay DB pool ${config.poolSize}`,
  );
  const results = await measureDrains({ contenders, rounds: config.rounds, pauseMs: config.pauseMs, log });
  await broker.admin.purge(broker.queue);

  const perBatch = config.relayBatches.map((batch) => {
    const floor = summarizeDrains(results, `floor/${batch}`);
    const relay = summarizeDrains(results, `relay/${batch}`);
    const ratio = drainRatio(results, `floor/${batch}`, `relay/${batch}`);
    return { batch, floor, relay, ratio, met: ratio.rate >= GOAL_RATIO };
  });

  console.log(
    `\n${NAME}: one kernel outbox relay draining ${n} PENDING rows to RabbitMQ vs raw amqplib confirm-channel publishing of the same messages with the same in-flight window; rows/s${config.cpuProf !== 'off' ? ' — PROFILED RUN' : ''}\n`,
  );
  const rows: (string | number)[][] = drainRows(results);
  for (const b of perBatch) {
    rows.push(
      drainMedianRow(`floor/${b.batch}`, b.floor),
      drainMedianRow(`relay/${b.batch}`, b.relay),
      drainRatioRow(`batch ${b.batch}`, b.ratio),
    );
  }
  console.log(formatTable(DRAIN_HEADER, rows));
  for (const b of perBatch) {
    console.log(
      `\nbatch ${b.batch}: relay/floor = ${b.ratio.rate.toFixed(3)} (goal ≥ ${GOAL_RATIO}: ${b.met ? 'MET' : 'NOT MET'}); per round ${b.ratio.perRound.join(', ')}; node CPU per row relay/floor ${b.ratio.childCpuPerItem.toFixed(3)}; CPU-bound projection ${b.ratio.cpuBoundRate.toFixed(3)}`,
    );
  }
  // Where a cycle goes: the relay's phases (timed around the kernel's own calls) next to the
  // floor's time per window of the same size.
  console.log(
    `\nms per cycle. relay: one claim-publish-mark transaction, timed around the kernel's calls (issue = eventMessage + transport.publish per row; confirm wait = from the last publish call until every confirm is in). floor: one window, issue and confirm wait together.\n`,
  );
  const phaseRows = results.map((r) => {
    const x = r.extra ?? {};
    if (r.label.startsWith('floor/')) {
      const windows = Math.ceil(r.items / Number(x.window));
      const perWindow = r.elapsedMs / windows;
      return [String(r.round), r.label, windows, Number(x.window), '', '', 'with →', perWindow, '', '', perWindow];
    }
    const m = (x.msPerCycle ?? {}) as Record<string, number>;
    const keys = ['begin', 'claim', 'issue', 'confirm', 'mark', 'commit'];
    const total = keys.reduce((sum, k) => sum + (m[k] ?? 0), 0);
    return [
      String(r.round),
      r.label,
      Number(x.cycles),
      Number(x.rowsPerCycle),
      ...keys.map((k) => m[k] ?? Number.NaN),
      total,
    ];
  });
  console.log(
    formatTable(
      [
        'round',
        'contender',
        'cycles',
        'rows/cycle',
        'begin',
        'claim',
        'issue',
        'confirm wait',
        'mark SENT',
        'commit',
        'total',
      ],
      phaseRows,
    ),
  );
  await writeScenarioReport(
    ctx,
    scenario,
    { startedAt, results, profiledField: true },
    {
      config: {
        rows: n,
        batches: config.relayBatches,
        rounds: config.rounds,
        relayDbPoolSize: config.poolSize,
        relays,
        pauseMs: config.pauseMs,
        fill: { rowsPerTransaction: FILL_TX_ROWS, concurrentTransactions: FILL_CONCURRENCY },
        cpuProf: config.cpuProf,
      },
      rounds: results,
      perBatch,
      goal: { rateRatioAtLeast: GOAL_RATIO, atBatch: config.relayBatches[0], met: perBatch[0]?.met ?? false },
    },
  );
}

export const scenario: Scenario = {
  name: NAME,
  description:
    'One kernel outbox relay (startOutboxRelay, batch 50 and 200) draining N PENDING rows to RabbitMQ vs raw amqplib confirm-channel publishing of the same messages, same window.',
  budgetMs: (c: BenchConfig) =>
    180_000 + c.rounds * c.relayBatches.length * 2 * (60_000 + Math.max(120_000, c.messages * 10)),
  run,
};

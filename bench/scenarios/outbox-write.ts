/**
 * outbox-write (diagnostic): how many outbox-writing transactions per second the kernel's
 * `createOutbox().add` allows, as a ratio of the same INSERT in a transaction without its
 * in-transaction `pg_notify`. Found while building publish-to-handled-latency, whose writer could
 * not keep up; see bench/README.md ("The outbox NOTIFY serialises commits").
 */
import pg from 'pg';
import { startServer } from '../lib/child-server.js';
import type { BenchConfig } from '../lib/config.js';
import { type DrainContender, type DrainRun, drainRatio, measureDrains, summarizeDrains } from '../lib/drain.js';
import { setUpDatabase } from '../lib/messaging.js';
import {
  DRAIN_HEADER,
  drainMedianRow,
  drainRatioRow,
  drainRows,
  profileFileFor,
  writeScenarioReport,
} from '../lib/report.js';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { formatTable } from '../lib/stats.js';

const NAME = 'outbox-write';
const ENTRY = new URL('../servers/outbox-writer.ts', import.meta.url).pathname;

const writesOf = (c: BenchConfig) => Math.max(500, Math.ceil(c.messages / 4));

/**
 * What the bench database's active backends wait on (pg_stat_activity, every 20 ms): the evidence
 * for where a contender's transactions spend their time. `cpu` = active, not waiting.
 */
async function sampleWaits(url: string): Promise<{ top(): Record<string, number>; stop(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  const counts = new Map<string, number>();
  let samples = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    client
      .query<{ w: string; n: number }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'cpu') AS w, count(*)::int AS n
           FROM pg_stat_activity
          WHERE datname = current_database() AND state NOT IN ('idle') AND pid <> pg_backend_pid()
            AND backend_type = 'client backend' AND query NOT LIKE 'LISTEN%'
          GROUP BY 1`,
      )
      .then(
        ({ rows }) => {
          samples++;
          for (const r of rows) counts.set(r.w, (counts.get(r.w) ?? 0) + r.n);
        },
        () => undefined,
      )
      .finally(() => {
        busy = false;
      });
  }, 20);
  return {
    /** Average number of backends in each state per sample, largest first. */
    top: () =>
      Object.fromEntries(
        [...counts.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 6)
          .map(([w, n]) => [w, Math.round((n / Math.max(1, samples)) * 100) / 100]),
      ),
    async stop() {
      clearInterval(timer);
      while (busy) await new Promise((r) => setTimeout(r, 5));
      await client.end().catch(() => undefined);
    },
  };
}

async function run(ctx: ScenarioContext): Promise<void> {
  const { config, cleanup, log } = ctx;
  const startedAt = new Date().toISOString();
  const n = writesOf(config);
  const database = await setUpDatabase(cleanup, log, 2);

  // A LISTENer on the channel, as the relay is in production (PostgreSQL then also has to deliver).
  const listener = new pg.Client({ connectionString: database.url });
  listener.on('error', () => undefined);
  await listener.connect();
  cleanup.defer('close the LISTEN connection', () => listener.end().catch(() => undefined));
  let notifications = 0;
  listener.on('notification', () => notifications++);
  await listener.query('LISTEN ecom_outbox');

  const contender = (kind: 'floor' | 'kernel' | 'after-commit'): DrainContender => {
    let before = 0;
    return {
      label: kind,
      prepare: async () => {
        await database.db.exec('TRUNCATE outbox_events');
        await database.db.exec('CHECKPOINT');
        before = notifications;
      },
      start: async (round) => {
        const s = await startServer({
          name: `outbox-writer/${kind}#${round}`,
          entry: ENTRY,
          env: {
            BENCH_DB_URL: database.url,
            BENCH_DB_POOL_SIZE: String(config.poolSize),
            BENCH_WRITES: String(n),
            BENCH_WRITER: kind,
          },
          readiness: { ipc: true },
        });
        cleanup.defer(`stop ${s.name}`, () => s.stop().then(() => undefined));
        return s;
      },
      run: async (child) => {
        const waits = await sampleWaits(database.url);
        try {
          const r = await child.call<DrainRun>({ op: 'drain', concurrency: config.connections }, 300_000);
          r.extra = { ...r.extra, waitEvents: waits.top() };
          return r;
        } finally {
          await waits.stop();
        }
      },
      verify: async (r) => {
        const [row] = await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_events');
        if (row?.n !== n) throw new Error(`${kind}: ${row?.n} outbox rows, expected ${n}`);
        await new Promise((resolve) => setTimeout(resolve, 200)); // late notifications
        const heard = notifications - before;
        if (kind !== 'floor' && heard === 0) throw new Error(`${kind}: the listener heard no NOTIFY`);
        if (r.extra) r.extra.notificationsHeard = heard; // the same object the round result holds
      },
      profileFile: profileFileFor(config, NAME, kind === 'floor' ? 'floor' : 'service', kind),
    };
  };
  const contenders = [contender('floor'), contender('kernel'), contender('after-commit')];

  log(
    `database ${database.name}: ${config.rounds} rounds × (floor, kernel, after-commit), ${n} one-row transactions each, ${config.connections} concurrent, pool ${config.poolSize}`,
  );
  const results = await measureDrains({ contenders, rounds: config.rounds, pauseMs: config.pauseMs, log });
  const medians = Object.fromEntries(contenders.map((c) => [c.label, summarizeDrains(results, c.label)]));
  const kernel = drainRatio(results, 'floor', 'kernel');
  const after = drainRatio(results, 'floor', 'after-commit');

  console.log(
    `\n${NAME}: one-row outbox transactions per second, ${config.connections} concurrent writers, pool ${config.poolSize}, a LISTENer on ecom_outbox\n`,
  );
  console.log(
    formatTable(DRAIN_HEADER, [
      ...drainRows(results),
      ...contenders.map((c) => drainMedianRow(c.label, medians[c.label]!)),
      drainRatioRow('kernel/floor', kernel),
      drainRatioRow('after/floor', after),
    ]),
  );
  console.log(
    `\nkernel createOutbox().add / floor = ${kernel.rate.toFixed(3)} (per round ${kernel.perRound.join(', ')}); after-commit wake-up sketch / floor = ${after.rate.toFixed(3)} (per round ${after.perRound.join(', ')})`,
  );
  console.log('\nwhat the active backends waited on (average backends per 20 ms sample; cpu = running):');
  for (const r of results)
    console.log(`  round ${r.round} ${r.label.padEnd(12)} ${JSON.stringify(r.extra?.waitEvents ?? {})}`);
  await writeScenarioReport(
    ctx,
    scenario,
    { startedAt, results, profiledField: true },
    {
      config: {
        writes: n,
        concurrency: config.connections,
        poolSize: config.poolSize,
        rounds: config.rounds,
        cpuProf: config.cpuProf,
      },
      rounds: results,
      medians,
      ratios: { kernel, afterCommit: after },
    },
  );
}

export const scenario: Scenario = {
  name: NAME,
  description:
    'Diagnostic: one-row outbox transactions/s through createOutbox().add (INSERT + in-transaction pg_notify) vs the same INSERT without it, and vs an after-commit coalesced wake-up.',
  budgetMs: (c: BenchConfig) => 60_000 + c.rounds * 3 * (60_000 + Math.max(60_000, writesOf(c) * 20)),
  run,
};

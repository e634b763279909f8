/**
 * Shared by release-cursor and csv-export: a bench database migrated by inventory-service itself
 * (one start, so the table and its indexes are exactly the service's), release events seeded with
 * SQL `generate_series` straight into its `inventory_release_events`, and the environments of
 * the service and of the floor (servers/release-floor.ts).
 */
import { type ChildServer, startServer } from './child-server.js';
import type { BenchConfig } from './config.js';
import type { Cleanup } from './lifecycle.js';
import { benchDatabaseName, databaseUrl, dropDatabase, queryDatabase } from './pg-admin.js';
import { profileFileFor } from './report.js';
import type { ScenarioContext } from './scenario.js';

export const KERNEL_SERVICE_ENTRY = new URL('../servers/kernel-service.ts', import.meta.url).pathname;
export const RELEASE_FLOOR_ENTRY = new URL('../servers/release-floor.ts', import.meta.url).pathname;
/** inventory-service's default INVENTORY_EXPORT_PAGE_SIZE; the floor pages the same way. */
export const EXPORT_PAGE_SIZE = 500;

export interface ReleaseDatabase {
  name: string;
  url: string;
  serviceEnv: Record<string, string>;
  floorEnv: Record<string, string>;
}

/** Creates and migrates the database through inventory-service, registers its drop. */
export async function releaseDatabase(
  config: BenchConfig,
  cleanup: Cleanup,
  log: (m: string) => void,
): Promise<ReleaseDatabase> {
  const name = benchDatabaseName();
  const url = databaseUrl(name);
  cleanup.defer(`drop database ${name}`, async () => {
    await dropDatabase(name);
    log(`dropped database ${name}`);
  });
  const serviceEnv = {
    BENCH_SERVICE: 'inventory',
    INVENTORY_DB_URL: url,
    INVENTORY_DB_POOL_SIZE: String(config.poolSize),
    INVENTORY_EXPORT_PAGE_SIZE: String(EXPORT_PAGE_SIZE),
    // The release-audit routes never touch the stock cache: no Redis in this process.
    INVENTORY_STOCK_CACHE_ENABLED: 'false',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
  const floorEnv = {
    FLOOR_DB_URL: url,
    FLOOR_DB_POOL_SIZE: String(config.poolSize),
    FLOOR_EXPORT_PAGE_SIZE: String(EXPORT_PAGE_SIZE),
  };
  log(`database ${name}: starting inventory-service once to migrate`);
  const setup = await startServer({
    name: 'inventory-service#setup',
    entry: KERNEL_SERVICE_ENTRY,
    env: serviceEnv,
    readiness: { http: '/actuator/health/readiness' },
  });
  await setup.stop();
  return { name, url, serviceEnv, floorEnv };
}

/**
 * `count` release events in chunks (progress logged): random UUIDs, two reasons, `created_at` at
 * millisecond precision (as the service writes it), two rows per instant so the keyset's `id`
 * tie-break matters, spread over about a month before 2026-11-01. Then VACUUM ANALYZE.
 */
export async function seedReleaseEvents(database: string, count: number, log: (m: string) => void): Promise<void> {
  const chunk = 20_000;
  const t0 = Date.now();
  for (let from = 0; from < count; from += chunk) {
    const to = Math.min(count, from + chunk) - 1;
    await queryDatabase(
      database,
      `INSERT INTO inventory_release_events (id, order_id, reservation_id, reason, created_at)
       SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(),
              CASE WHEN i % 3 = 0 THEN 'SAGA_TIMEOUT' ELSE 'PAYMENT_FAILED' END,
              date_trunc('milliseconds', TIMESTAMPTZ '2026-11-01 00:00:00+00' - (i / 2) * INTERVAL '12961 ms')
         FROM generate_series($1::int, $2::int) AS i`,
      [from, to],
    );
    log(`  seeded ${to + 1} / ${count} release events (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  await queryDatabase(database, 'VACUUM ANALYZE inventory_release_events');
  const [row] = await queryDatabase<{ n: number }>(database, 'SELECT count(*)::int AS n FROM inventory_release_events');
  if (row?.n !== count) throw new Error(`seeded ${row?.n} release events, expected ${count}`);
  log(`seeded ${count} release events in ${((Date.now() - t0) / 1000).toFixed(1)} s (VACUUM ANALYZE done)`);
}

export type ReleaseContender = 'floor' | 'service';

/** A fresh child of one contender: the floor (servers/release-floor.ts) or inventory-service. */
function startReleaseServer(db: ReleaseDatabase, label: ReleaseContender, round: number): Promise<ChildServer> {
  return label === 'floor'
    ? startServer({
        name: `release-floor#${round}`,
        entry: RELEASE_FLOOR_ENTRY,
        env: db.floorEnv,
        readiness: { port: true },
      })
    : startServer({
        name: `inventory-service#${round}`,
        entry: KERNEL_SERVICE_ENTRY,
        env: db.serviceEnv,
        readiness: { http: '/actuator/health/readiness' },
      });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * `config.rounds` × (floor, service), alternated: each in a fresh child (config.pauseMs between
 * two), `measure`d, then stopped. `profile` is the round's CPU profile file when this run
 * profiles that kind (the measurement starts and stops the profiler itself).
 */
export async function alternateReleaseServers<R>(
  ctx: ScenarioContext,
  scenario: string,
  db: ReleaseDatabase,
  measure: (s: ChildServer, m: { label: ReleaseContender; round: number; profile: string | undefined }) => Promise<R>,
): Promise<R[]> {
  const { config, cleanup } = ctx;
  const results: R[] = [];
  for (let round = 1; round <= config.rounds; round++) {
    for (const label of ['floor', 'service'] as const) {
      if (results.length > 0) await sleep(config.pauseMs);
      const s = await startReleaseServer(db, label, round);
      cleanup.defer(`stop ${s.name}`, () => s.stop().then(() => undefined));
      try {
        const profile = profileFileFor(config, scenario, label, label)?.(round);
        results.push(await measure(s, { label, round, profile }));
      } finally {
        await s.stop();
      }
    }
  }
  return results;
}

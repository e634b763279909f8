/**
 * Prepared statements and PostgreSQL's generic plans (db/postgres.ts `refreshPlans`): a plan
 * chosen while a table was nearly empty must not outlive the table's growth. The case measured
 * in the saga bench: the relay's SENT update on the kernel's outbox table. PostgreSQL only.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dropDatabase, TEST_PG_ADMIN_URL, uniqueName } from '../testing/index.js';
import type { Database } from './database.js';
import { migrate } from './migrate.js';
import { openPostgres } from './postgres.js';
import { parseDatabaseUrl } from './url.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));
/** The relay's statement (messaging/outbox.ts), for ids that do not exist: it changes nothing. */
const MARK_SENT = `UPDATE outbox_events SET status = 'SENT', sent_at = now(), last_error = NULL WHERE id = ANY($1::uuid[])`;

/**
 * How the statement read the table this time: the backend's scan counters right before and
 * right after it, on the same connection (the `xact` view also holds the backend's counts not
 * flushed yet, hence the difference).
 */
async function scanOfMarkSent(db: Database): Promise<'seq' | 'index'> {
  return db.transaction(async (tx) => {
    const counters = async () =>
      (
        await tx.query<{ seq: number; idx: number }>(
          `SELECT seq_scan::int AS seq, coalesce(idx_scan, 0)::int AS idx FROM pg_stat_xact_user_tables WHERE relname = 'outbox_events'`,
        )
      )[0] ?? { seq: 0, idx: 0 };
    const before = await counters();
    await tx.execute(MARK_SENT, [[randomUUID()]]);
    const after = await counters();
    const seq = after.seq - before.seq;
    const idx = after.idx - before.idx;
    assert.equal(seq + idx, 1, `one scan expected, got seq ${seq} idx ${idx}`);
    return seq === 1 ? 'seq' : 'index';
  });
}

describe('prepared statements: cached plans are refreshed as tables grow (PostgreSQL)', () => {
  const names: string[] = [];
  after(() => Promise.all(names.map((n) => dropDatabase(n))));

  /**
   * A fresh database with the kernel's tables and one connection; the relay's statement run ten
   * times on an empty outbox (PostgreSQL settles on a generic plan after five), then 10,000 rows.
   */
  async function grownAfterPlanning(planRefreshMs: number): Promise<Database> {
    const name = uniqueName('planrefresh');
    names.push(name);
    const url = new URL(TEST_PG_ADMIN_URL);
    url.pathname = `/${name}`;
    const db = await openPostgres({ target: parseDatabaseUrl(url.toString()), maxConnections: 1, planRefreshMs });
    await migrate(db, [{ dir: MIGRATIONS, prefix: 'platform/' }]);
    for (let i = 0; i < 10; i++) await db.execute(MARK_SENT, [[randomUUID(), randomUUID(), randomUUID()]]);
    await db.exec(`INSERT INTO outbox_events (id, event_type, routing_key, payload, status, created_at, sent_at)
      SELECT gen_random_uuid(), 'OrderCreated', 'order.created', repeat('x', 600), 'SENT', now(), now()
      FROM generate_series(1, 10000)`);
    return db;
  }

  test('without a refresh, the generic plan made on the empty table stays a sequential scan over 10,000 rows (the trap)', async () => {
    const db = await grownAfterPlanning(0);
    try {
      assert.equal(await scanOfMarkSent(db), 'seq');
      assert.equal(await scanOfMarkSent(db), 'seq');
    } finally {
      await db.close();
    }
  });

  test('with a refresh due, the next checkout plans again: an index scan, and the statement stays prepared', async () => {
    const db = await grownAfterPlanning(200);
    try {
      await new Promise((resolve) => setTimeout(resolve, 250));
      assert.equal(await scanOfMarkSent(db), 'index');
      assert.equal(await scanOfMarkSent(db), 'index');
      const [prepared] = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1',
        [MARK_SENT],
      );
      assert.equal(prepared?.n, 1);
    } finally {
      await db.close();
    }
  });
});

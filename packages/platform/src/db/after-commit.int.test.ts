/**
 * The transaction `afterCommit` hook and `Database.notify`, on PostgreSQL and on PGlite: the
 * outbox wakes its relay through them after COMMIT instead of NOTIFYing inside the business
 * transaction (messaging/outbox.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DB_MODES, type DbMode, dropDatabase, TEST_PG_ADMIN_URL, uniqueName, waitFor } from '../testing/index.js';
import type { Database } from './database.js';
import { acquirePgliteHost } from './pglite.js';
import { openPostgres } from './postgres.js';
import { parseDatabaseUrl } from './url.js';

/** Two Database objects on the same data: two processes, as far as listeners are concerned. */
async function openTwo(mode: DbMode): Promise<{ a: Database; b: Database; close(): Promise<void> }> {
  const name = uniqueName('aftercommit');
  if (mode === 'postgres') {
    const url = new URL(TEST_PG_ADMIN_URL);
    url.pathname = `/${name}`;
    const target = parseDatabaseUrl(url.toString());
    const a = await openPostgres({ target, maxConnections: 4 });
    const b = await openPostgres({ target, maxConnections: 4 });
    return {
      a,
      b,
      async close() {
        await Promise.all([a.close(), b.close()]);
        await dropDatabase(name);
      },
    };
  }
  const host = await acquirePgliteHost();
  return { a: await host.database(name), b: await host.database(name), close: () => host.release() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const mode of DB_MODES) {
  describe(`afterCommit and notify on ${mode}`, () => {
    let dbs: Awaited<ReturnType<typeof openTwo>>;
    before(async () => {
      dbs = await openTwo(mode);
      await dbs.a.exec('CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY)');
    });
    after(() => dbs.close());

    test('a hook runs once after COMMIT, when the row is visible to everyone; never after a rollback', async () => {
      const { a, b } = dbs;
      const seen: number[] = [];
      let visibleAtHook: Promise<number> | undefined;
      const hook = () => {
        seen.push(1);
        visibleAtHook = b.query<{ n: number }>('SELECT count(*) AS n FROM t WHERE id = 1').then((r) => r[0]!.n);
      };
      await a.transaction(async (tx) => {
        assert.ok(tx.afterCommit, 'a transaction offers afterCommit');
        await tx.execute('INSERT INTO t (id) VALUES (1)');
        tx.afterCommit(hook);
        tx.afterCommit(hook); // the same function twice runs once
        assert.deepEqual(seen, [], 'not before COMMIT');
      });
      assert.deepEqual(seen, [1]);
      assert.equal(await visibleAtHook, 1, 'the committed row is visible from another connection in the hook');

      const ranAfterRollback: number[] = [];
      await assert.rejects(
        a.transaction(async (tx) => {
          await tx.execute('INSERT INTO t (id) VALUES (2)');
          tx.afterCommit?.(() => ranAfterRollback.push(2));
          throw new Error('roll back');
        }),
        /roll back/,
      );
      // A failing COMMIT-time check (here a duplicate key) is a rollback too.
      await assert.rejects(
        a.transaction(async (tx) => {
          tx.afterCommit?.(() => ranAfterRollback.push(3));
          await tx.execute('INSERT INTO t (id) VALUES (1)');
        }),
      );
      assert.deepEqual(ranAfterRollback, []);
      assert.equal('afterCommit' in a, false, 'outside a transaction there is no hook (auto-commit)');
    });

    test('a hook that throws does not turn a committed transaction into an error', async () => {
      const { a } = dbs;
      const result = await a.transaction(async (tx) => {
        await tx.execute('INSERT INTO t (id) VALUES (10)');
        tx.afterCommit?.(() => {
          throw new Error('hook failed');
        });
        return 'done';
      });
      assert.equal(result, 'done');
    });

    test("notify calls this object's listeners directly and sends no NOTIFY; without them, another object's LISTEN hears it", async () => {
      const { a, b } = dbs;
      const channel = uniqueName('wake');
      const local: number[] = [];
      const remote: number[] = [];
      const localListener = await a.listen(channel, () => local.push(1));
      const remoteListener = await b.listen(channel, () => remote.push(1));
      try {
        a.notify(channel);
        assert.deepEqual(local, [1], 'called synchronously, no round trip');
        await sleep(300);
        assert.deepEqual(remote, [], 'no NOTIFY went out while a listener of this object exists');

        await localListener.close();
        a.notify(channel);
        await waitFor(() => remote.length >= 1, { timeoutMs: 5000 });
        assert.deepEqual(local, [1], 'a closed listener is not called');

        // Coalesced: a burst sends one NOTIFY, plus one more for the calls made while it was in flight.
        remote.length = 0;
        for (let i = 0; i < 200; i++) a.notify(channel);
        await waitFor(() => remote.length >= 1, { timeoutMs: 5000 });
        await sleep(300);
        assert.ok(remote.length <= 2, `200 notifies in a burst → at most 2 NOTIFYs, got ${remote.length}`);
      } finally {
        await localListener.close();
        await remoteListener.close();
      }
    });
  });
}

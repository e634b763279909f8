/**
 * `Database.transaction` on PostgreSQL and PGlite. On PostgreSQL `BEGIN` travels with the first
 * statement (db/postgres.ts lazyBegin, parameters inlined by inline-params.ts): what is stored,
 * returned and rolled back must be exactly what the bound-parameter path gives, whatever the
 * values; and the round trips must really be fewer.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { DB_MODES, type DbMode, dropDatabase, TEST_PG_ADMIN_URL, uniqueName } from '../testing/index.js';
import { coalescing, type Database, queryEach } from './database.js';
import { acquirePgliteHost } from './pglite.js';
import { openPostgres } from './postgres.js';
import { parseDatabaseUrl } from './url.js';

async function open(mode: DbMode): Promise<{ db: Database; url: string; close(): Promise<void> }> {
  const name = uniqueName('tx');
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  if (mode === 'postgres') {
    const db = await openPostgres({ target: parseDatabaseUrl(url.toString()), maxConnections: 2 });
    return {
      db,
      url: url.toString(),
      async close() {
        await db.close();
        await dropDatabase(name);
      },
    };
  }
  const host = await acquirePgliteHost();
  return { db: await host.database(name), url: url.toString(), close: () => host.release() };
}

const HOSTILE = [
  "it's",
  "'); DROP TABLE kv; --",
  'back\\slash \\x00 \\n',
  '$1 $2 $$ $x$',
  '日本語 🚀 \u202e rtl',
  '',
  ' ',
  '"double" quotes',
  '/* not a comment */ -- nor this',
];

const INSERT = `INSERT INTO kv (id, v, n, flag, at) VALUES ($1, $2, $3, $4, $5) RETURNING id, v, n, flag, at`;

/** A transaction's own messages: without the one-time PREPAREs a connection sends after it (postgres.ts). */
const own = (sent: string[]) => sent.filter((t) => !t.startsWith('PREPARE '));

/** The texts node-postgres sent (one per round trip) while `fn` ran. */
async function sentDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const original = pg.Client.prototype.query;
  const sent: string[] = [];
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0];
    sent.push(typeof first === 'string' ? first : String((first as { text?: string }).text));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return sent;
}

for (const mode of DB_MODES) {
  describe(`Database.transaction on ${mode}`, () => {
    let h: Awaited<ReturnType<typeof open>>;
    before(async () => {
      h = await open(mode);
      await h.db.exec(
        `CREATE TABLE kv (id uuid PRIMARY KEY, v text, n numeric, flag boolean, at timestamptz, CONSTRAINT v_not_boom CHECK (v IS DISTINCT FROM 'boom'))`,
      );
    });
    after(() => h.close());

    test('hostile strings, numbers, booleans, nulls and dates as the first statement: stored and returned exactly', async () => {
      const at = new Date('2026-11-27T15:40:00.123Z');
      for (const [i, v] of HOSTILE.entries()) {
        const id = randomUUID();
        const returned = await h.db.transaction((tx) =>
          tx.query<{ id: string; v: string; n: string; flag: boolean; at: Date }>(INSERT, [
            id,
            v,
            i + 0.5,
            i % 2 === 0,
            at,
          ]),
        );
        assert.deepEqual(returned, [{ id, v, n: String(i + 0.5), flag: i % 2 === 0, at }]);
        const [stored] = await h.db.query<{ v: string; n: string; flag: boolean; at: Date }>(
          'SELECT v, n, flag, at FROM kv WHERE id = $1',
          [id],
        );
        assert.deepEqual(stored, { v, n: String(i + 0.5), flag: i % 2 === 0, at });
      }
      const id = randomUUID();
      await h.db.transaction((tx) => tx.execute(INSERT, [id, null, undefined, null, null]));
      const [nulls] = await h.db.query('SELECT v, n, flag, at FROM kv WHERE id = $1', [id]);
      assert.deepEqual(nulls, { v: null, n: null, flag: null, at: null });
    });

    test('values that cannot be inlined (arrays, NUL) still work as the first statement', async () => {
      const ids = [randomUUID(), randomUUID()];
      await h.db.exec(`INSERT INTO kv (id, v) VALUES ('${ids[0]}', 'a'), ('${ids[1]}', 'b')`);
      const rows = await h.db.transaction((tx) =>
        tx.query<{ v: string }>('SELECT v FROM kv WHERE id = ANY($1::uuid[]) ORDER BY v', [ids]),
      );
      assert.deepEqual(
        rows.map((r) => r.v),
        ['a', 'b'],
      );
      await assert.rejects(h.db.transaction((tx) => tx.execute(INSERT, [randomUUID(), 'a\0b', 1, true, null])));
    });

    test('a failing first statement rolls back; a failure after it undoes it; the connection stays usable', async () => {
      const before = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM kv');
      await assert.rejects(
        h.db.transaction((tx) => tx.execute(INSERT, [randomUUID(), 'boom', 1, true, null])),
        /v_not_boom/,
      );
      await assert.rejects(
        h.db.transaction(async (tx) => {
          await tx.execute(INSERT, [randomUUID(), 'kept?', 1, true, null]);
          await tx.execute(INSERT, [randomUUID(), 'boom', 1, true, null]);
        }),
        /v_not_boom/,
      );
      await assert.rejects(
        h.db.transaction(async (tx) => {
          await tx.execute(INSERT, [randomUUID(), 'kept?', 1, true, null]);
          throw new Error('handler failed');
        }),
        /handler failed/,
      );
      assert.deepEqual(await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM kv'), before);
      // Both pooled connections answer normally afterwards.
      await Promise.all([1, 2].map(() => h.db.transaction((tx) => tx.query('SELECT 1 AS one'))));
    });

    test('exec as the first statement; an empty transaction commits nothing and still runs its hooks', async () => {
      const id = randomUUID();
      await h.db.transaction(async (tx) => {
        await tx.exec(`SET LOCAL statement_timeout = '5s'; INSERT INTO kv (id, v) VALUES ('${id}', 'exec')`);
        await tx.execute('UPDATE kv SET n = $2 WHERE id = $1', [id, 7]);
      });
      assert.deepEqual(await h.db.query('SELECT v, n FROM kv WHERE id = $1', [id]), [{ v: 'exec', n: '7' }]);
      let hooked = 0;
      const value = await h.db.transaction(async (tx) => {
        tx.afterCommit?.(() => {
          hooked++;
        });
        return 'nothing ran';
      });
      assert.equal(value, 'nothing ran');
      assert.equal(hooked, 1);
    });

    test('deferred writes run at COMMIT, in order, in the transaction; a failing one undoes everything', async () => {
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      const seenInside = await h.db.transaction(async (tx) => {
        tx.defer?.(`${INSERT} -- a trailing comment must not swallow what follows`, [a, 'deferred 1', 1, true, null]);
        tx.defer?.('UPDATE kv SET n = n + 1 WHERE id = ANY($1::uuid[])', [[a]]); // an array: bound, not inlined
        tx.defer?.("UPDATE kv SET v = v || ' then 2' WHERE id = $1", [a]);
        return (await tx.query('SELECT 1 FROM kv WHERE id = $1', [a])).length;
      });
      assert.equal(seenInside, 0, 'not written before COMMIT');
      assert.deepEqual(await h.db.query('SELECT v, n FROM kv WHERE id = $1', [a]), [
        { v: 'deferred 1 then 2', n: '2' },
      ]);

      await assert.rejects(
        h.db.transaction(async (tx) => {
          await tx.execute(INSERT, [b, 'direct', 1, true, null]);
          tx.defer?.(INSERT, [c, 'deferred ok', 1, true, null]);
          tx.defer?.(INSERT, [randomUUID(), 'boom', 1, true, null]);
        }),
        /v_not_boom/,
      );
      assert.deepEqual(await h.db.query('SELECT id FROM kv WHERE id = ANY($1::uuid[])', [[b, c]]), []);
    });

    test("queryEach: independent statements, each one's rows in order; a failing one undoes the transaction", async () => {
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      await h.db.exec(`INSERT INTO kv (id, v, n) VALUES ('${a}', 'x', 1), ('${b}', 'y''s', 2)`);
      const [locked, one, none] = await h.db.transaction((tx) =>
        queryEach(tx, [
          { text: 'SELECT id, v FROM kv WHERE id = ANY($1::uuid[]) ORDER BY v FOR UPDATE', params: [[a, b]] },
          { text: 'SELECT n FROM kv WHERE id = $1 -- a comment', params: [b] },
          { text: 'SELECT v FROM kv WHERE v = $1', params: ["it's; -- not there"] },
        ]),
      );
      assert.deepEqual(locked, [
        { id: a, v: 'x' },
        { id: b, v: "y's" },
      ]);
      assert.deepEqual(one, [{ n: '2' }]);
      assert.deepEqual(none, []);

      await assert.rejects(
        h.db.transaction(async (tx) => {
          await tx.execute(INSERT, [c, 'written first', 1, true, null]);
          await queryEach(tx, [
            { text: 'SELECT 1 AS one' },
            { text: INSERT, params: [randomUUID(), 'boom', 1, true, null] },
          ]);
        }),
        /v_not_boom/,
      );
      assert.deepEqual(await h.db.query('SELECT id FROM kv WHERE id = $1', [c]), []);
    });

    if (mode === 'postgres') {
      test('round trips: queryEach is one message (with BEGIN when first); uninlinable values go one by one', async () => {
        const a = randomUUID();
        await h.db.exec(`INSERT INTO kv (id, v) VALUES ('${a}', 'batched')`);
        let rows: unknown[] = [];
        const sent = await sentDuring(async () => {
          rows = await h.db.transaction((tx) =>
            queryEach(tx, [
              { text: 'SELECT v FROM kv WHERE id = ANY($1::uuid[]) FOR UPDATE', params: [[a]] },
              { text: 'SELECT count(*)::int AS n FROM kv WHERE id = $1', params: [a] },
            ]),
          );
        });
        assert.deepEqual(rows, [[{ v: 'batched' }], [{ n: 1 }]]);
        assert.equal(own(sent).length, 2, sent.join(' | '));
        assert.match(
          sent[0]!,
          /^BEGIN\n;\nSELECT v FROM kv WHERE id = ANY\('\{"[0-9a-f-]{36}"\}'::uuid\[\]\) FOR UPDATE\n;\nSELECT count/,
        );
        assert.equal(sent[1], 'COMMIT');
        // New texts went inlined; the connection prepared them after the transaction, once.
        assert.deepEqual(
          sent.slice(2).map((t) => t.replace(/ecom_\d+/, 'ecom_n')),
          [
            'PREPARE ecom_n AS SELECT v FROM kv WHERE id = ANY($1::uuid[]) FOR UPDATE',
            'PREPARE ecom_n AS SELECT count(*)::int AS n FROM kv WHERE id = $1',
          ],
        );

        const bound = await sentDuring(() =>
          h.db
            .transaction((tx) =>
              queryEach(tx, [
                { text: 'SELECT v FROM kv WHERE id = $1', params: [a] },
                { text: 'SELECT v FROM kv WHERE v = $1', params: ['nul\0inside'] },
              ]),
            )
            .catch((err: Error) => err),
        );
        // PostgreSQL refuses NUL in text either way; what matters is that it was bound, not inlined.
        assert.ok(!bound.some((t) => t.includes('nul')), bound.join(' | '));
      });

      test('coalescing: handlers side by side send what they issue in one turn as ONE message; each gets its own result', async () => {
        const ids = [randomUUID(), randomUUID(), randomUUID()];
        for (const [i, id] of ids.entries())
          await h.db.exec(`INSERT INTO kv (id, v, n) VALUES ('${id}', 'c${i}', ${i})`);
        let results: unknown[] = [];
        const sent = await sentDuring(async () => {
          results = await h.db.transaction(async (tx) => {
            const shared = coalescing(tx);
            // Three "handlers": lock and read one row each, then write it (two statements apiece).
            return Promise.all(
              ids.map(async (id) => {
                const [row] = await shared.query<{ v: string }>('SELECT v FROM kv WHERE id = $1 FOR UPDATE', [id]);
                const { rowCount } = await shared.execute('UPDATE kv SET v = $2 WHERE id = $1', [id, `${row?.v}!`]);
                return [row?.v, rowCount];
              }),
            );
          });
        });
        assert.deepEqual(results, [
          ['c0', 1],
          ['c1', 1],
          ['c2', 1],
        ]);
        // BEGIN + three locks, then three updates, then COMMIT: 3 messages for 6 statements.
        assert.equal(own(sent).length, 3, own(sent).join(' | '));
        assert.equal(own(sent)[0]?.match(/FOR UPDATE/g)?.length, 3);
        assert.equal(own(sent)[1]?.match(/UPDATE kv SET/g)?.length, 3);
        const after = await h.db.query<{ v: string }>('SELECT v FROM kv WHERE id = ANY($1::uuid[]) ORDER BY n', [ids]);
        assert.deepEqual(
          after.map((r) => r.v),
          ['c0!', 'c1!', 'c2!'],
        );
      });

      test('coalescing: one failing statement fails every statement of its message, and nothing commits', async () => {
        const [a, b] = [randomUUID(), randomUUID()];
        const outcomes = await h.db
          .transaction(async (tx) => {
            const shared = coalescing(tx);
            const settled = await Promise.allSettled([
              shared.execute('INSERT INTO kv (id, v) VALUES ($1, $2)', [a, 'fine']),
              shared.execute('INSERT INTO kv (id, v) VALUES ($1, $2)', [b, 'boom']),
            ]);
            throw Object.assign(new Error('rolled back'), { settled });
          })
          .catch((err: Error & { settled: PromiseSettledResult<unknown>[] }) => err.settled);
        assert.deepEqual(
          outcomes.map((o) => o.status),
          ['rejected', 'rejected'],
        );
        assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /v_not_boom/);
        assert.deepEqual(await h.db.query('SELECT id FROM kv WHERE id = ANY($1::uuid[])', [[a, b]]), []);
      });

      test('once a connection has a text prepared, it runs as EXECUTE of it: hostile values and arrays exact', async () => {
        // One connection, so every transaction below meets what the ones before it prepared.
        const solo = await openPostgres({ target: parseDatabaseUrl(h.url), maxConnections: 1 });
        try {
          const text =
            'INSERT INTO kv (id, v, n, flag, at) SELECT $1, $2, $3, $4, $5 WHERE cardinality($6::text[]) = 4 RETURNING id, v, n, flag, at';
          const at = new Date('2026-11-27T15:40:00.123Z');
          const rounds: string[][] = [];
          for (const [i, v] of HOSTILE.entries()) {
            const id = randomUUID();
            let returned: unknown[] = [];
            rounds.push(
              await sentDuring(async () => {
                returned = await solo.transaction(async (tx) => {
                  tx.defer?.("UPDATE kv SET v = v || '' WHERE id = ANY($1::uuid[])", [[id]]);
                  return tx.query(text, [id, v, i + 0.5, i % 2 === 0, at, [v, 'x"y', 'back\\slash', null]]);
                });
              }),
            );
            assert.deepEqual(returned, [{ id, v, n: String(i + 0.5), flag: i % 2 === 0, at }]);
            assert.deepEqual(await h.db.query('SELECT v FROM kv WHERE id = $1', [id]), [{ v }]);
          }
          assert.equal(rounds[0]!.filter((t) => t.startsWith('PREPARE ')).length, 2, rounds[0]!.join(' | '));
          for (const round of rounds.slice(1)) {
            assert.equal(round.length, 2, round.join(' | '));
            assert.match(round[0]!, /^BEGIN;\nEXECUTE ecom_\d+\('[0-9a-f-]{36}', /);
            assert.match(round[1]!, /^EXECUTE ecom_\d+\('\{"[0-9a-f-]{36}"\}'\)\n;\nCOMMIT$/);
          }
        } finally {
          await solo.close();
        }
      });

      test('round trips: BEGIN goes with the first statement (2 for a one-statement transaction, was 3)', async () => {
        const sent = await sentDuring(async () => {
          await h.db.transaction((tx) => tx.execute(INSERT, [randomUUID(), 'counted', 1, true, new Date()]));
          await h.db.transaction(async (tx) => {
            await tx.execute(INSERT, [randomUUID(), 'counted', 1, true, new Date()]);
            await tx.execute(INSERT, [randomUUID(), 'counted', 2, false, null]);
          });
        });
        const mine = own(sent);
        assert.equal(mine.length, 2 + 3, sent.join(' | '));
        // Inlined, or — on a connection that has it prepared already — EXECUTE with the same literals.
        assert.match(
          mine[0]!,
          /^BEGIN;\n(INSERT INTO kv .* VALUES \(|EXECUTE ecom_\d+\()'[0-9a-f-]{36}', 'counted', '1', 'true', '/,
        );
        assert.equal(mine[1], 'COMMIT');
        assert.match(mine[2]!, /^BEGIN;\n(INSERT|EXECUTE)/);
        assert.equal(mine[3], INSERT, 'the second statement is bound (and prepared) as usual');
        assert.equal(mine[4], 'COMMIT');
      });

      test('round trips: deferred writes go with the COMMIT — a transaction of deferred writes only is one message', async () => {
        const [a, b] = [randomUUID(), randomUUID()];
        const sent = await sentDuring(() =>
          h.db.transaction(async (tx) => {
            tx.defer?.(INSERT, [a, 'only deferred', 1, true, null]);
            tx.defer?.(INSERT, [b, "it's deferred", 2, false, new Date()]);
          }),
        );
        assert.equal(own(sent).length, 1, sent.join(' | '));
        assert.match(
          sent[0]!,
          /^BEGIN\n;\n(INSERT INTO kv|EXECUTE ecom_\d+)[^;]*'only deferred'[^;]*\n;\n(INSERT INTO kv|EXECUTE ecom_\d+)[^;]*'it''s deferred'.*\n;\nCOMMIT$/s,
        );
        assert.equal((await h.db.query('SELECT 1 FROM kv WHERE id = ANY($1::uuid[])', [[a, b]])).length, 2);
      });
    }
  });
}

import pg from 'pg';
import type { Logger } from 'pino';
import { type Database, type Queryable, TYPE_OIDS } from './database.js';
import { inlineLiterals, inlineParams } from './inline-params.js';
import { describeTarget, type PgTarget } from './url.js';
import { afterCommitHooks, createWakeups } from './wakeups.js';

// Rows look the same on both drivers: int8 (count(*)) as a JS number, numeric as its exact
// decimal text (money is never a binary float), timestamptz as Date (the driver default).
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === TYPE_OIDS.int8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export interface PostgresOptions {
  target: PgTarget;
  /** Pool size per process. */
  maxConnections?: number;
  /**
   * How long a query may wait for a pooled connection (queueing behind busy ones included)
   * before it fails as unavailable. Long enough to absorb a burst that serializes on a row
   * lock; readiness does not wait for it (health checks have their own, shorter timeout).
   */
  connectTimeoutMs?: number;
  /** Server-side cap per statement; protects the pool from runaway queries. */
  statementTimeoutMs?: number;
  applicationName?: string;
  logger?: Logger;
  /**
   * How often each connection drops its cached query plans (`DISCARD PLANS`), at its next
   * checkout; 0 = never. Default 60,000 ms. See `refreshPlans`.
   */
  planRefreshMs?: number;
}

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  await ensureDatabaseExists(options);
  const pool = new pg.Pool(poolConfig(options, options.target.database, options.maxConnections ?? 10));
  // An idle client that loses its connection emits 'error' on the pool; without a listener
  // node would crash the process. The next query simply gets a fresh connection.
  pool.on('error', (err) => options.logger?.warn({ err: err.message }, 'idle postgres connection lost'));
  refreshPlans(pool, options.planRefreshMs ?? DEFAULT_PLAN_REFRESH_MS);
  return postgresDatabase(
    pool,
    describeTarget(options.target),
    () => new pg.Client(poolConfig(options, options.target.database, 1)),
  );
}

const DEFAULT_PLAN_REFRESH_MS = 60_000;

/**
 * Prepared statements (below) let PostgreSQL switch a statement to a GENERIC plan after five
 * executions, and keep that plan for the life of the connection until the table's statistics
 * change (ANALYZE, usually by autovacuum). A generic plan chosen while a table was nearly empty —
 * every fresh database — is a sequential scan, and it stays one as the table grows: measured in
 * the saga bench, the relay's `UPDATE outbox_events … WHERE id = ANY($1)` read the whole table
 * (260 buffers per call after 10,000 rows instead of ~12) on a server with autovacuum off, and a
 * server whose autovacuum lags behind a burst does the same in between. So each connection
 * drops its cached plans once per `intervalMs`: queued as the first command of a checkout, it
 * costs one round trip per connection per interval, and the statements stay prepared (parse and
 * analysis are still saved); the next execution plans again with today's table sizes.
 */
function refreshPlans(pool: pg.Pool, intervalMs: number): void {
  if (!(intervalMs > 0)) return;
  const refreshedAt = new WeakMap<pg.PoolClient, number>();
  pool.on('connect', (client) => refreshedAt.set(client, Date.now()));
  pool.on('acquire', (client) => {
    const now = Date.now();
    if (now - (refreshedAt.get(client) ?? now) < intervalMs) return;
    refreshedAt.set(client, now);
    // pg runs a client's queries in order, so this one goes before the caller's first. A failure
    // means the connection is broken, which the caller's own query reports.
    client.query('DISCARD PLANS').catch(() => undefined);
  });
}

function poolConfig(options: PostgresOptions, database: string, max: number): pg.PoolConfig {
  const { target } = options;
  return {
    host: target.host,
    port: target.port,
    database,
    user: target.user,
    password: target.password,
    max,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
    application_name: options.applicationName,
    ssl: target.options.sslmode && target.options.sslmode !== 'disable' ? { rejectUnauthorized: false } : undefined,
    types,
  };
}

/**
 * Parameterized statements are PREPARED: each distinct text gets a name, and each connection
 * parses and plans it once, then only binds and executes it. An unnamed statement is parsed and
 * planned again on every call, which was a large share of PostgreSQL's CPU per order (the order
 * CTE has 29 parameters). The services' statements are fixed texts (lists go in as arrays), so
 * the set of names stays small; past `MAX_PREPARED` distinct texts the rest run unnamed, so a
 * caller that builds texts dynamically can never grow every connection's cache without bound.
 */
const MAX_PREPARED = 500;

function statementNamer(): (text: string) => string | undefined {
  const names = new Map<string, string>();
  return (text) => {
    let name = names.get(text);
    if (name === undefined && names.size < MAX_PREPARED) {
      name = `ecom_${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  };
}

interface Naming {
  nameOf(text: string): string | undefined;
  /** Texts PostgreSQL refused to PREPARE (they still run inlined or bound). */
  unpreparable: Set<string>;
}

/** What a statement becomes inside a multi-statement simple-protocol message on one connection. */
interface Simple {
  /** The statement as SQL text for the message; undefined when it must be bound instead. */
  sql(text: string, params?: readonly unknown[]): string | undefined;
  /** After the transaction: PREPARE on this connection what went inlined (once per connection and text). */
  prepareInlined(): Promise<void>;
}

/**
 * A statement that travels in a simple-protocol message (with BEGIN, with COMMIT, or batched)
 * is, on a connection where its text is already PREPARED (by node-postgres for the bound path,
 * or by us), `EXECUTE ecom_n('…', …)`: the cached plan, no parse, no planning — measured in the
 * saga, planning alone was ~550 µs of PostgreSQL per order while these statements went as text.
 * Where it is not prepared yet it goes inlined (inline-params.ts), and after the transaction the
 * connection prepares it — one round trip, outside any transaction, once per connection and text;
 * node-postgres is told (its per-connection map of parsed statements, pg 8), so its own bound
 * path neither parses it again nor collides with the name. The arguments are the same literals
 * inlining would write, coerced to the types PostgreSQL inferred at PREPARE, as bound text is.
 */
function simpleStatements(client: pg.PoolClient, naming: Naming): Simple {
  const parsed = (client as unknown as { connection?: { parsedStatements?: Record<string, string> } }).connection
    ?.parsedStatements;
  const pending = new Map<string, string>();
  return {
    sql(text, params) {
      if (!params || params.length === 0) return text;
      const name = naming.nameOf(text);
      if (name && parsed?.[name] === text) {
        const literals = inlineLiterals(text, params);
        return literals && `EXECUTE ${name}(${literals.join(', ')})`;
      }
      const sql = inlineParams(text, params);
      if (sql !== undefined && name && parsed && !naming.unpreparable.has(text)) pending.set(name, text);
      return sql;
    },
    async prepareInlined() {
      for (const [name, text] of pending) {
        if (parsed?.[name] !== undefined) continue;
        try {
          await client.query(`PREPARE ${name} AS ${text}`);
          if (parsed) parsed[name] = text;
        } catch {
          naming.unpreparable.add(text); // e.g. a statement PREPARE does not take; it keeps working inlined
        }
      }
    },
  };
}

interface LazyBegin {
  /** One statement, with BEGIN in front when it is the transaction's first. */
  raw(text: string, params?: readonly unknown[]): Promise<pg.QueryResult>;
  begun(): boolean;
  markBegun(): void;
}

/**
 * `BEGIN` sent with the transaction's first statement, in one simple-protocol message (one round
 * trip instead of two; every consumer transaction starts like this, and on this kind of machine
 * socket writes dominated the saga's profile — bench/README.md "Session 3"). A first statement
 * with parameters goes with them inlined as literals (inline-params.ts) or as EXECUTE of its
 * prepared form (simpleStatements) — or, when neither is certain, after its own `BEGIN` as
 * before. Statements after the first are bound and prepared as usual.
 */
function lazyBegin(client: pg.PoolClient, nameOf: (text: string) => string | undefined, simple: Simple): LazyBegin {
  let begun = false;
  const bound = (text: string, params?: readonly unknown[]) => runBound(client, nameOf, text, params);
  return {
    begun: () => begun,
    markBegun: () => {
      begun = true;
    },
    async raw(text, params) {
      if (begun) return bound(text, params);
      begun = true;
      const sql = simple.sql(text, params);
      if (sql === undefined) {
        await client.query('BEGIN');
        return bound(text, params);
      }
      const results = (await client.query(`BEGIN;\n${sql}`)) as unknown as pg.QueryResult | pg.QueryResult[];
      // One result per statement; the statement itself may hold several (exec()), the last one is ours.
      return Array.isArray(results) ? results[results.length - 1]! : results;
    },
  };
}

interface Deferred {
  text: string;
  params?: readonly unknown[] | undefined;
}

/**
 * Statements in one simple-protocol message when every one can be rendered (inlined or EXECUTE)
 * — with BEGIN in front when nothing ran before — so PostgreSQL runs them back to back, each on
 * its own snapshot as separate statements would. Otherwise one by one, bound. A failing
 * statement makes PostgreSQL skip the rest; the transaction is then rolled back by the caller.
 * Used by `tx.batch`.
 */
async function sendTogether(
  client: pg.PoolClient,
  lazy: LazyBegin,
  simple: Simple,
  statements: readonly Deferred[],
): Promise<pg.QueryResult[]> {
  const inlined = statements.map((s) => simple.sql(s.text, s.params));
  if (statements.length < 2 || !inlined.every((sql): sql is string => sql !== undefined)) {
    const out: pg.QueryResult[] = [];
    for (const s of statements) out.push(await lazy.raw(s.text, s.params));
    return out;
  }
  const begin = lazy.begun() ? [] : ['BEGIN'];
  lazy.markBegun(); // from here on a failure must be rolled back
  const results = (await client.query([...begin, ...inlined].join('\n;\n'))) as unknown as pg.QueryResult[];
  const mine = Array.isArray(results) ? results.slice(begin.length) : [results];
  if (mine.length !== statements.length)
    throw new Error(`batch of ${statements.length} statements returned ${mine.length} results: one statement per text`);
  return mine;
}

/**
 * COMMIT, with the deferred writes (`tx.defer`) in the same simple-protocol message when all of
 * them can be rendered — and BEGIN too when nothing ran before: a transaction that only defers is
 * one round trip. Statements are separated by a line break before the semicolon, so a text that
 * ends in a `--` comment cannot swallow the next one. If one fails, PostgreSQL skips the rest of
 * the message, COMMIT included, and the caller rolls back. Otherwise they run one by one, bound,
 * before a plain COMMIT. Nothing ran and nothing deferred: nothing to send.
 */
async function commit(
  client: pg.PoolClient,
  lazy: LazyBegin,
  simple: Simple,
  deferred: readonly Deferred[],
): Promise<void> {
  if (deferred.length === 0) {
    if (lazy.begun()) await client.query('COMMIT');
    return;
  }
  const inlined = deferred.map((d) => simple.sql(d.text, d.params));
  if (inlined.every((sql): sql is string => sql !== undefined)) {
    const begin = lazy.begun() ? [] : ['BEGIN'];
    lazy.markBegun(); // from here on a failure must be rolled back
    await client.query([...begin, ...inlined, 'COMMIT'].join('\n;\n'));
    return;
  }
  for (const d of deferred) await lazy.raw(d.text, d.params);
  await client.query('COMMIT');
}

/** A statement with parameters is bound and prepared under its name; one without goes as simple protocol (several statements allowed). */
function runBound(
  client: pg.Pool | pg.PoolClient,
  nameOf: (text: string) => string | undefined,
  text: string,
  params?: readonly unknown[],
): Promise<pg.QueryResult> {
  return (
    params && params.length > 0
      ? client.query({ name: nameOf(text), text, values: params as unknown[] })
      : client.query(text)
  ) as Promise<pg.QueryResult>;
}

/** query / execute / exec over one way of running a statement. */
function queryableOf(run: (text: string, params?: readonly unknown[]) => Promise<pg.QueryResult>): Queryable {
  return {
    async query<R>(text: string, params?: readonly unknown[]) {
      return (await run(text, params)).rows as R[];
    },
    async execute(text: string, params?: readonly unknown[]) {
      return { rowCount: (await run(text, params)).rowCount ?? 0 };
    },
    async exec(sql: string) {
      await run(sql);
    },
  };
}

export function postgresDatabase(pool: pg.Pool, description: string, newClient: () => pg.Client): Database {
  const nameOf = statementNamer();
  const naming: Naming = { nameOf, unpreparable: new Set() };
  const base = queryableOf((text, params) => runBound(pool, nameOf, text, params));
  // A NOTIFY-only transaction still writes a commit record: asynchronous commit keeps it from
  // waiting for (and holding the notify queue's lock across) a WAL flush.
  const wakeups = createWakeups((name) =>
    pool.query(`BEGIN; SET LOCAL synchronous_commit = off; NOTIFY ${quoteIdent(name)}; COMMIT`),
  );
  return {
    kind: 'postgres',
    description,
    query: base.query,
    execute: base.execute,
    exec: base.exec,
    async transaction(fn) {
      const client = await pool.connect();
      // A checked-out client has no pool listener: without ours, a connection dropped mid
      // transaction would be an uncaught 'error' event and take the process down.
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      const hooks = afterCommitHooks();
      let result: Awaited<ReturnType<typeof fn>>;
      const simple = simpleStatements(client, naming);
      const lazy = lazyBegin(client, nameOf, simple);
      const deferred: Deferred[] = [];
      try {
        result = await fn({
          ...queryableOf(lazy.raw),
          afterCommit: hooks.add,
          defer: (text, params) => {
            deferred.push({ text, params });
          },
          batch: async (statements) =>
            (await sendTogether(client, lazy, simple, statements)).map((r) => ({
              rows: r.rows as Record<string, unknown>[],
              rowCount: r.rowCount ?? 0,
            })),
        });
        await commit(client, lazy, simple, deferred);
        if (!broken) await simple.prepareInlined();
      } catch (err) {
        if (!broken && lazy.begun()) await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken); // a broken connection is destroyed, not returned to the pool
      }
      hooks.run(); // committed, and the connection is back in the pool
      return result;
    },
    channel: (name) => name,
    async listen(name, onNotify) {
      const remote = await listenWithReconnect(newClient, name, onNotify);
      const unregister = wakeups.register(name, onNotify);
      return {
        async close() {
          unregister();
          await remote.close();
        },
      };
    },
    notify: wakeups.notify,
    async ping(timeoutMs) {
      await withTimeout(pool.query('SELECT 1'), timeoutMs, 'database ping');
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * "When a database named in a URL does not exist and the role may create it, the service
 * creates it at startup" (operations.md §1.0). Two replicas racing here is fine: the loser
 * gets duplicate_database and moves on.
 */
async function ensureDatabaseExists(options: PostgresOptions): Promise<void> {
  const probe = new pg.Client(poolConfig(options, options.target.database, 1));
  try {
    await probe.connect();
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err; // invalid_catalog_name
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new pg.Client(poolConfig(options, 'postgres', 1));
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(options.target.database)}`);
    options.logger?.info({ database: options.target.database }, 'created database');
  } catch (err) {
    // duplicate_database, or the unique index when both CREATEs ran at the same moment
    if (!['42P04', '23505'].includes((err as { code?: string }).code ?? '')) throw err;
  } finally {
    await admin.end();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * LISTEN on a dedicated connection (a pooled one would be handed to someone else). When the
 * connection drops it reconnects with back-off and fires onNotify once, because anything
 * notified meanwhile was lost; pollers keep working without it.
 */
async function listenWithReconnect(
  newClient: () => pg.Client,
  channel: string,
  onNotify: () => void,
): Promise<{ close(): Promise<void> }> {
  let closed = false;
  let client: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let delayMs = 100;
  const connect = async (): Promise<void> => {
    const c = newClient();
    c.on('notification', (msg) => msg.channel === channel && onNotify());
    c.on('error', () => undefined); // 'end' follows and drives the reconnect
    c.on('end', schedule);
    await c.connect();
    await c.query(`LISTEN ${quoteIdent(channel)}`);
    client = c;
    delayMs = 100;
  };
  // One pending reconnect at most: a failed connect can also emit 'end'.
  function schedule(): void {
    if (closed) return;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(reconnect, delayMs);
    delayMs = Math.min(delayMs * 2, 5000);
  }
  function reconnect(): void {
    if (closed) return;
    connect().then(onNotify, schedule);
  }
  await connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      await client?.end().catch(() => undefined);
    },
  };
}

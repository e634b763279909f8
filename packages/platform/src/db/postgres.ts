import pg from 'pg';
import type { Logger } from 'pino';
import { type Database, type Queryable, TYPE_OIDS } from './database.js';
import { describeTarget, type PgTarget } from './url.js';

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
  /** How long to wait for a connection before failing (fast readiness failure when the DB is gone). */
  connectTimeoutMs?: number;
  /** Server-side cap per statement; protects the pool from runaway queries. */
  statementTimeoutMs?: number;
  applicationName?: string;
  logger?: Logger;
}

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  await ensureDatabaseExists(options);
  const pool = new pg.Pool(poolConfig(options, options.target.database, options.maxConnections ?? 10));
  // An idle client that loses its connection emits 'error' on the pool; without a listener
  // node would crash the process. The next query simply gets a fresh connection.
  pool.on('error', (err) => options.logger?.warn({ err: err.message }, 'idle postgres connection lost'));
  return postgresDatabase(pool, describeTarget(options.target));
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
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
    application_name: options.applicationName,
    ssl: target.options.sslmode && target.options.sslmode !== 'disable' ? { rejectUnauthorized: false } : undefined,
    types,
  };
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(text: string, params?: readonly unknown[]) {
      const res = await client.query(text, params as unknown[] | undefined);
      return res.rows as R[];
    },
    async execute(text: string, params?: readonly unknown[]) {
      const res = await client.query(text, params as unknown[] | undefined);
      return { rowCount: res.rowCount ?? 0 };
    },
    async exec(sql: string) {
      await client.query(sql); // no parameters → simple protocol → several statements allowed
    },
  };
}

export function postgresDatabase(pool: pg.Pool, description: string): Database {
  const base = wrap(pool);
  return {
    kind: 'postgres',
    description,
    query: base.query,
    execute: base.execute,
    exec: base.exec,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
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

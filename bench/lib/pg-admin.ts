import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server benchmarks run against; override with BENCH_PG_URL (any database on it; used for admin). */
export const BENCH_PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** `bench_<12 hex>`: fresh per run, easy to spot (and drop) if a run was SIGKILLed. */
export function benchDatabaseName(): string {
  return `bench_${randomBytes(6).toString('hex')}`;
}

/** The admin URL pointed at another database on the same server. */
export function databaseUrl(database: string): string {
  const url = new URL(BENCH_PG_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BENCH_PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function dropDatabase(name: string): Promise<void> {
  if (!/^bench_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to drop "${name}": not a bench database`);
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export async function postgresVersion(): Promise<string> {
  return withAdmin(async (c) => (await c.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v ?? 'unknown');
}

/** One query on a bench database (checks, counts); opens and closes its own connection. */
export async function queryDatabase<R extends pg.QueryResultRow>(
  database: string,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl(database), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

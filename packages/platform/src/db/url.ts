/**
 * Database URLs as the original's deployments write them: JDBC (`jdbc:postgresql://h:p/db`)
 * or a plain `postgres://` URL. User and password come from the URL, else from
 * `<SERVICE>_DB_USER` / `<SERVICE>_DB_PASSWORD` (spec operations.md §1.0).
 */
export interface PgTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** Query parameters other than user/password (for example sslmode), passed through. */
  options: Record<string, string>;
}

export function parseDatabaseUrl(raw: string, fallback: { user?: string; password?: string } = {}): PgTarget {
  const text = raw.trim().replace(/^jdbc:/i, '');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`not a database URL: expected jdbc:postgresql://host:port/db or postgres://…, got "${raw}"`);
  }
  if (!['postgres:', 'postgresql:'].includes(url.protocol)) {
    throw new Error(`unsupported database URL scheme "${url.protocol}" (expected postgresql)`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new Error(`database URL "${raw}" names no database`);
  const options: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (k !== 'user' && k !== 'password') options[k] = v;
  return {
    host: url.hostname || 'localhost',
    port: url.port ? Number(url.port) : 5432,
    database,
    user: decodeURIComponent(url.username) || url.searchParams.get('user') || fallback.user || 'cloud',
    password: decodeURIComponent(url.password) || url.searchParams.get('password') || fallback.password || 'cloud',
    options,
  };
}

/** For logs: host, port and database, never the password. */
export function describeTarget(t: PgTarget): string {
  return `postgresql://${t.user}@${t.host}:${t.port}/${t.database}`;
}

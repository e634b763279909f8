/**
 * The Database port. Services see only this: PostgreSQL (node-postgres pool) and PGlite both
 * implement it, so repositories and use-cases never know which one runs underneath.
 * Repository functions take a `Queryable` — the database itself or an open transaction — so the
 * transaction boundary stays visible in the use-case (design principle 9).
 */
export interface Queryable {
  /** One parameterized statement ($1, $2 …). Returns the rows. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Like query, plus the number of rows an INSERT/UPDATE/DELETE touched. */
  execute(text: string, params?: readonly unknown[]): Promise<{ rowCount: number }>;
  /** Several statements in one string, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Where the data lives, for logs and /actuator/info (never contains a password). */
  readonly description: string;
  /**
   * Runs fn in one transaction: COMMIT when it resolves, ROLLBACK when it throws (the error is
   * rethrown). Nested calls are not supported; pass the `tx` down instead.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * The name a NOTIFY must use so that this database's listeners (and only they) hear it:
   * PostgreSQL scopes channels per database already; the shared PGlite adds the schema.
   */
  channel(name: string): string;
  /**
   * LISTEN on `channel(name)`; `onNotify` also fires after a reconnect, since notifications
   * sent while disconnected are lost (callers treat it as "go and look").
   */
  listen(name: string, onNotify: () => void): Promise<{ close(): Promise<void> }>;
  /** Cheap round trip for health checks; rejects when the database cannot answer. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Shared by both drivers so rows look the same whichever runs: see parsers in each driver. */
export const TYPE_OIDS = {
  int8: 20,
  numeric: 1700,
  timestamptz: 1184,
  timestamp: 1114,
} as const;

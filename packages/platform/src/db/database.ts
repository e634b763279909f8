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
  /**
   * Present only on the `tx` that `Database.transaction` hands out: runs `fn` once the
   * transaction has COMMITTED (never after a rollback), after the commit round trip returned.
   * The same function registered twice in one transaction runs once. Errors thrown by `fn` are
   * swallowed: the transaction's outcome is already decided.
   */
  afterCommit?(fn: () => void): void;
  /**
   * Present only on the `tx` that `Database.transaction` hands out: a write whose result the
   * caller does not need (an outbox row, a status mark), run at COMMIT time, in the order
   * deferred, inside the transaction — on PostgreSQL in the same message as the COMMIT when its
   * parameters can be inlined (one round trip fewer per deferred write). An error in it fails
   * the transaction: nothing commits and `transaction()` rejects with it.
   */
  defer?(text: string, params?: readonly unknown[]): void;
  /**
   * Present only on the `tx` of a PostgreSQL `Database.transaction`: statements that do not need
   * each other's results, run in order in ONE message (one round trip) when all their parameters
   * can be inlined, else one by one. Each one's rows, in order. Every text is exactly one
   * statement. Use `queryEach` rather than calling it directly.
   */
  batch?(statements: readonly Statement[]): Promise<StatementResult[]>;
}

/** One statement's outcome in a `batch`: its rows, and the rows an INSERT/UPDATE/DELETE touched. */
export interface StatementResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/** A statement and its parameters, for `queryEach`. */
export interface Statement {
  text: string;
  params?: readonly unknown[];
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
  /**
   * A wake-up for the listeners of `name`, fire-and-forget and NOT durable (a lost one must
   * only cost a poll interval). Listeners registered on this very Database object (this
   * process) are called directly, with no round trip; only when there are none is a NOTIFY sent,
   * in its own short asynchronous-commit transaction, coalesced to one in flight per name. Never
   * call it inside a business transaction's critical path: see messaging/outbox.ts for why the
   * outbox wakes its relay after COMMIT instead of NOTIFYing inside the transaction.
   */
  notify(name: string): void;
  /** Cheap round trip for health checks; rejects when the database cannot answer. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A write whose result nobody needs inside the transaction: deferred to the COMMIT on a kernel
 * transaction (`tx.defer`, one round trip fewer on PostgreSQL), executed now anywhere else. Its
 * failure fails the transaction either way. Never for a write a later statement of the same
 * transaction reads.
 */
export async function writeAtCommit(tx: Queryable, text: string, params?: readonly unknown[]): Promise<void> {
  if (tx.defer) tx.defer(text, params);
  else await tx.execute(text, params);
}

/**
 * Several independent statements (no one needs another's result), each one's rows in order: in
 * one round trip on a kernel transaction over PostgreSQL (`tx.batch`), one by one anywhere else.
 * A reader that locks rows and a reader that must see what those locks protect go in that
 * order: each statement still runs on its own snapshot, after the one before it has finished.
 */
export async function queryEach(tx: Queryable, statements: readonly Statement[]): Promise<Record<string, unknown>[][]> {
  if (tx.batch) return (await tx.batch(statements)).map((r) => r.rows);
  const out: Record<string, unknown>[][] = [];
  for (const s of statements) out.push(await tx.query(s.text, s.params));
  return out;
}

/**
 * The `tx` for handlers that run side by side in one transaction (the consumer's batches): the
 * statements they issue in the same turn of the event loop travel together in ONE message
 * (`tx.batch`, in the order issued), each caller getting its own result. N handlers that each
 * lock a row, then write, cost two round trips instead of 2N. If one of them fails, PostgreSQL
 * skips the rest of that message: every statement in it rejects, and the transaction must roll
 * back (the caller's job). Without `batch` (PGlite) it is `tx` itself.
 */
export function coalescing(tx: Queryable): Queryable {
  const batch = tx.batch?.bind(tx);
  if (!batch) return tx;
  let waiting: { statement: Statement; resolve(r: StatementResult): void; reject(err: unknown): void }[] = [];
  const flush = () => {
    const sent = waiting;
    waiting = [];
    batch(sent.map((w) => w.statement)).then(
      (results) => {
        for (const [i, w] of sent.entries()) w.resolve(results[i] as StatementResult);
      },
      (err) => {
        for (const w of sent) w.reject(err);
      },
    );
  };
  const enqueue = (text: string, params?: readonly unknown[]) =>
    new Promise<StatementResult>((resolve, reject) => {
      // After this turn's microtasks: every handler resumed by the last result has issued its next statement.
      if (waiting.length === 0) setImmediate(flush);
      waiting.push({ statement: { text, params }, resolve, reject });
    });
  return {
    ...tx,
    query: async <R>(text: string, params?: readonly unknown[]) => (await enqueue(text, params)).rows as R[],
    execute: async (text, params) => ({ rowCount: (await enqueue(text, params)).rowCount }),
  };
}

/** Shared by both drivers so rows look the same whichever runs: see parsers in each driver. */
export const TYPE_OIDS = {
  int8: 20,
  numeric: 1700,
  timestamptz: 1184,
  timestamp: 1114,
} as const;

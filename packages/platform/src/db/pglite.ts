import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { templateDir, templateExists } from '../../scripts/pglite-template.mjs';
import { type Database, type Queryable, TYPE_OIDS } from './database.js';
import { quoteIdent, withTimeout } from './postgres.js';
import { afterCommitHooks, createWakeups } from './wakeups.js';

/**
 * Embedded PostgreSQL (PGlite, real Postgres compiled to WASM) for the zero-setup default.
 *
 * Cost model (stack.md, measured here): a fresh initdb grows the WASM heap to ~750 MB that is
 * never returned and takes 4–7 s, while opening an existing data directory costs ~270 MB and
 * under a second. So initdb runs ONCE per install into a template data directory (see
 * scripts/pglite-template.mjs); every embedded start copies the template and opens the copy.
 * One instance serves the whole process: each service gets its own schema, never its own instance.
 */

// Same relative path from src/db and dist/db.
const TEMPLATE_SCRIPT = fileURLToPath(new URL('../../scripts/pglite-template.mjs', import.meta.url));

export interface PgliteHost {
  readonly pglite: PGlite;
  readonly dataDir: string;
  readonly ephemeral: boolean;
  /** One Database per service schema, all on this instance. */
  database(schema: string): Promise<Database>;
  release(): Promise<void>;
}

let shared: { key: string; host: Promise<PgliteHost>; refs: number } | undefined;

/**
 * The process-wide instance. `dataDir` undefined → a throwaway copy of the template, deleted at
 * close (the "in memory" mode of operations.md §1.0, without paying for initdb every start).
 */
export async function acquirePgliteHost(dataDir?: string): Promise<PgliteHost> {
  const key = dataDir ?? '<ephemeral>';
  if (shared && shared.key !== key) {
    throw new Error(`one embedded PGlite per process: already open at ${shared.key}, asked for ${key}`);
  }
  if (!shared) shared = { key, host: openHost(dataDir), refs: 0 };
  shared.refs++;
  return shared.host;
}

/** Where the shared instance keeps its data under `DATA_DIR`; undefined = a throwaway copy. */
export function embeddedDataDir(dataDir: string | undefined): string | undefined {
  return dataDir ? join(dataDir, 'pglite') : undefined;
}

/**
 * Starts opening the process-wide instance in the background, before anyone asks for it:
 * `npm start` calls it first thing, so the template copy (libuv's thread pool) and PGlite's
 * WASM compilation overlap loading the rest of the code (~2 s) instead of following it. The
 * first `acquirePgliteHost` with the same `dataDir` takes it over; a failed prewarm is
 * forgotten, and that acquire opens the instance again (and reports the error).
 */
export function prewarmPgliteHost(dataDir?: string): void {
  if (shared) return;
  const host = openHost(dataDir);
  const entry = { key: dataDir ?? '<ephemeral>', host, refs: 0 };
  shared = entry;
  host.catch(() => {
    if (shared === entry) shared = undefined;
  });
}

async function openHost(dataDir: string | undefined): Promise<PgliteHost> {
  const template = await ensureTemplate();
  const ephemeral = dataDir === undefined;
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'ecom-pglite-'));
  if (ephemeral || !existsSync(join(dir, 'PG_VERSION'))) {
    mkdirSync(dir, { recursive: true });
    await cp(template, dir, { recursive: true }); // off the main thread: see prewarmPgliteHost
  }
  const pglite = await PGlite.create({
    dataDir: dir,
    // The same row shapes as node-postgres (see postgres.ts): int8 as number, numeric as text.
    parsers: { [TYPE_OIDS.int8]: (v: string) => Number(v), [TYPE_OIDS.numeric]: (v: string) => v },
  });
  const host: PgliteHost = {
    pglite,
    dataDir: dir,
    ephemeral,
    async database(schema) {
      await pglite.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      return pgliteDatabase(pglite, schema, dir);
    },
    async release() {
      if (!shared || --shared.refs > 0) return;
      shared = undefined;
      await pglite.close();
      if (ephemeral) rmSync(dir, { recursive: true, force: true });
    },
  };
  return host;
}

/**
 * PGlite is one Postgres backend: every caller shares one session, so a session-level
 * `SET search_path` would leak between services. Instead every unit of work is a transaction
 * that starts with `SET LOCAL search_path` — PGlite serializes transactions anyway, so this
 * costs one tiny statement and makes the schema isolation impossible to forget.
 */
function pgliteDatabase(pglite: PGlite, schema: string, dataDir: string): Database {
  const setPath = `SET LOCAL search_path TO ${quoteIdent(schema)}, public`;
  const inSchema = async <T>(fn: (tx: Transaction) => Promise<T>): Promise<T> =>
    pglite.transaction(async (tx) => {
      await tx.exec(setPath);
      return fn(tx);
    });
  // One instance, one session: a NOTIFY costs what any statement costs, but listeners of this
  // schema in this process (the relay) are still called directly.
  const wakeups = createWakeups((name) => pglite.query(`NOTIFY ${quoteIdent(`${name}_${schema}`)}`));
  const wrapTx = (tx: Transaction): Queryable => ({
    async query<R>(text: string, params?: readonly unknown[]) {
      return (await tx.query<R>(text, params as unknown[] | undefined)).rows;
    },
    async execute(text: string, params?: readonly unknown[]) {
      return { rowCount: (await tx.query(text, params as unknown[] | undefined)).affectedRows ?? 0 };
    },
    async exec(sql: string) {
      await tx.exec(sql);
    },
  });
  return {
    kind: 'pglite',
    description: `pglite:${dataDir}#${schema}`,
    query: (text, params) => inSchema((tx) => wrapTx(tx).query(text, params)),
    execute: (text, params) => inSchema((tx) => wrapTx(tx).execute(text, params)),
    async transaction(fn) {
      const hooks = afterCommitHooks();
      const result = await inSchema(async (tx) => {
        const queryable = wrapTx(tx);
        const deferred: [string, readonly unknown[] | undefined][] = [];
        const value = await fn({
          ...queryable,
          afterCommit: hooks.add,
          defer: (text, params) => deferred.push([text, params]),
          // No `batch`: one in-process backend has no round trips to save; queryEach runs them in turn.
        });
        for (const [text, params] of deferred) await queryable.execute(text, params);
        return value;
      });
      hooks.run(); // pglite.transaction resolved: committed
      return result;
    },
    exec: (sql) => inSchema((tx) => wrapTx(tx).exec(sql)),
    channel: (name) => `${name}_${schema}`,
    async listen(name, onNotify) {
      const unsubscribe = await pglite.listen(`${name}_${schema}`, () => onNotify());
      const unregister = wakeups.register(name, onNotify);
      return {
        async close() {
          unregister();
          await unsubscribe();
        },
      };
    },
    notify: wakeups.notify,
    async ping(timeoutMs) {
      await withTimeout(pglite.query('SELECT 1'), timeoutMs, 'pglite ping');
    },
    // The instance is shared; PgliteHost.release() closes it when the last user is done.
    async close() {},
  };
}

/**
 * The template is built by scripts/pglite-template.mjs — at `npm ci` (postinstall) or, if it is
 * missing, here in a short-lived child process so that initdb's heap dies with the child.
 */
async function ensureTemplate(): Promise<string> {
  const dir = templateDir();
  if (templateExists(dir)) return dir;
  await new Promise<void>((resolve, reject) => {
    const proc = fork(TEMPLATE_SCRIPT, [], {
      stdio: 'inherit',
      execArgv: [],
      env: { ...process.env, ECOM_TEMPLATE_QUIET: '1', ECOM_TEMPLATE_STRICT: '1' },
    });
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pglite initdb exited with ${code}`))));
  });
  if (!templateExists(dir)) throw new Error(`pglite template missing at ${dir} after initdb`);
  return dir;
}

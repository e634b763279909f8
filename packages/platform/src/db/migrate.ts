import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type RunnableMigration, Umzug, type UmzugStorage } from 'umzug';
import type { Database, Queryable } from './database.js';

/**
 * Forward-only SQL migrations, applied at boot with Umzug. All pending files run in ONE
 * transaction under an advisory lock, so two replicas booting together never apply a file
 * twice and a failing file leaves the schema exactly as it was.
 * Files: `<folder>/V<n>__<name>.sql`, applied in version order; the history lives in
 * `schema_migrations` (name, applied_at) in the service's own database or schema.
 */
export interface MigrationSource {
  dir: string;
  /** Keeps names unique in one history table: the kernel's files are recorded as `platform/V1__…`. */
  prefix?: string;
}

export async function migrate(
  db: Database,
  sources: string | readonly MigrationSource[],
  logger?: Logger,
): Promise<string[]> {
  const list = typeof sources === 'string' ? [{ dir: sources }] : sources;
  const files = list.flatMap((s) => listMigrations(s.dir).map((f) => ({ ...f, name: `${s.prefix ?? ''}${f.name}` })));
  return db.transaction(async (tx) => {
    // One lock per database (PGlite: per schema), whatever the sources.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [db.channel('ecom:migrate')]);
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR(255) PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const umzug = new Umzug<Queryable>({
      migrations: files.map(
        (f): RunnableMigration<Queryable> => ({
          name: f.name,
          path: f.path,
          up: async ({ context }) => context.exec(readFileSync(f.path, 'utf8')),
        }),
      ),
      context: tx,
      storage: tableStorage,
      logger: undefined,
    });
    const applied = await umzug.up();
    const names = applied.map((m) => m.name);
    if (names.length > 0) logger?.info({ migrations: names }, 'applied migrations');
    return names;
  });
}

const tableStorage: UmzugStorage<Queryable> = {
  async executed({ context }) {
    const rows = await context.query<{ name: string }>('SELECT name FROM schema_migrations');
    return rows.map((r) => r.name);
  },
  async logMigration({ name, context }) {
    await context.execute('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
  },
  async unlogMigration() {
    throw new Error('migrations are forward-only');
  },
};

/** `V2__x.sql` sorts after `V10__y.sql` as text, so order by the numeric version. */
export function listMigrations(folder: string): { name: string; path: string; version: number }[] {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => {
      const m = /^V(\d+)__[\w-]+\.sql$/.exec(f);
      if (!m) throw new Error(`migration file ${f} does not match V<n>__<name>.sql`);
      return { name: f, path: join(folder, f), version: Number(m[1]) };
    })
    .sort((a, b) => a.version - b.version);
}

/**
 * The state of every service database, to prove that a run changed nothing: for each table of
 * the service's schema, its row count and an MD5 over all its rows (as text, sorted).
 */
import type { Stack } from '../e2e/stack.js';

export const STATEFUL = ['catalog', 'order', 'inventory', 'payment', 'notification'] as const;

/** `service.table` → `count:md5`. */
export type DbSnapshot = Record<string, string>;

export async function snapshotDatabases(stack: Stack): Promise<DbSnapshot> {
  const out: DbSnapshot = {};
  for (const service of STATEFUL) {
    const db = stack.db(service);
    const tables = await db.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    for (const { name } of tables) {
      const quoted = `"${name.replaceAll('"', '""')}"`;
      const [row] = await db.query<{ n: number; h: string | null }>(
        `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM ${quoted} t`,
      );
      out[`${service}.${name}`] = `${row?.n}:${row?.h}`;
    }
  }
  return out;
}

/** The tables whose snapshot differs, with both values. */
export function diffSnapshots(before: DbSnapshot, after: DbSnapshot): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => before[k] !== after[k]).map((k) => `${k}: ${before[k]} → ${after[k]}`);
}

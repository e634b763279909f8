/**
 * Where the database sessions of a bench database spend their time, by sampling
 * `pg_stat_activity` (every `everyMs`, on one admin connection) during a measured window: each
 * sample counts every session of the database by what it is doing — waiting on a lock (e.g.
 * `Lock:object`, the notify-queue lock a transaction with NOTIFY takes at commit), on WAL I/O
 * (`IO:WALSync`), on the client (`Client:ClientRead`: the server waits for the next statement),
 * running (`active`), or idle in a transaction. Cheap (one small query per sample), and the
 * clearest evidence of what a transaction waits for.
 */
import pg from 'pg';
import { BENCH_PG_ADMIN_URL } from './pg-admin.js';

export interface WaitProfile {
  samples: number;
  /** Session-samples per state, most frequent first, e.g. { 'Lock:object': 412, 'active': 80 }. */
  states: Record<string, number>;
  /** The most frequent statements seen waiting on a lock or running (first 70 characters). */
  topQueries: { query: string; state: string; count: number }[];
}

export function sampleWaits(database: string, everyMs = 20): { stop(): Promise<WaitProfile> } {
  const client = new pg.Client({ connectionString: BENCH_PG_ADMIN_URL, application_name: 'bench-wait-sampler' });
  client.on('error', () => undefined);
  const states = new Map<string, number>();
  const queries = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    await client.connect();
    while (!stopped) {
      const { rows } = await client.query<{
        state: string | null;
        wtype: string | null;
        wevent: string | null;
        q: string;
      }>(
        `SELECT state, wait_event_type AS wtype, wait_event AS wevent, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS q
           FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        [database],
      );
      samples++;
      for (const r of rows) {
        const key =
          r.state === 'idle'
            ? 'idle'
            : r.wtype && !(r.wtype === 'Client' && r.state === 'idle in transaction')
              ? `${r.wtype}:${r.wevent}${r.state === 'idle in transaction' ? ' (in tx)' : ''}`
              : (r.state ?? 'unknown');
        states.set(key, (states.get(key) ?? 0) + 1);
        if (r.state === 'active') {
          const qk = `${key}\u0000${r.q}`;
          queries.set(qk, (queries.get(qk) ?? 0) + 1);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })().catch(() => undefined);
  return {
    async stop() {
      stopped = true;
      await loop;
      await client.end().catch(() => undefined);
      return {
        samples,
        states: Object.fromEntries([...states].sort((a, b) => b[1] - a[1])),
        topQueries: [...queries]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .map(([k, count]) => {
            const [state, query] = k.split('\u0000') as [string, string];
            return { state, query, count };
          }),
      };
    },
  };
}

/** `Lock:object 41%, IO:WALSync 12%, …` — shares of all non-idle session-samples. */
export function formatWaits(w: WaitProfile, top = 6): string {
  const busy = Object.entries(w.states).filter(([k]) => k !== 'idle');
  const total = busy.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return 'no busy sessions sampled';
  return busy
    .slice(0, top)
    .map(([k, n]) => `${k} ${Math.round((n / total) * 100)}%`)
    .join(', ');
}

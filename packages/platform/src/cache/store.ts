/**
 * The Cache port: a key → JSON-text store whose entries carry a `version`, so that a stale
 * write can never replace a newer one. Redis and the in-process map implement it with the
 * same observable semantics (the rules live in `entry.ts`; Redis runs them as Lua scripts).
 *
 * Why versions and tombstones rather than SET + DEL: a reader that loaded a value from the
 * database just BEFORE a write, and stores it just AFTER the writer's DEL, would put the old
 * value back for a whole TTL. Here the writer leaves a tombstone carrying the new version, and a
 * store refuses any value older than what the key already holds.
 */
export interface VersionedStore {
  readonly kind: 'redis' | 'in-process';
  /** Where it points, for logs and /actuator/info (never a password). */
  readonly description: string;
  /** The raw text under `key`, or null when there is none. */
  get(key: string): Promise<string | null>;
  /**
   * Stores `value` (a JSON object with a numeric `version` member equal to `version`) for
   * `ttlSeconds`, unless the key holds a value or tombstone with a HIGHER version.
   * Resolves true when it stored it.
   */
  setIfNotOlder(key: string, value: string, version: number, ttlSeconds: number): Promise<boolean>;
  /**
   * Replaces the entry with a tombstone for `version` (lives `ttlSeconds`), unless the key
   * already holds something at least that new (a newer value is still correct; keep it).
   */
  invalidate(key: string, version: number, ttlSeconds: number): Promise<void>;
  /** Deletes `key` only if it still holds exactly `value` (repairs an undecodable entry without racing a writer). */
  deleteIfEquals(key: string, value: string): Promise<boolean>;
  /** Rejects when the store cannot answer (health check). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

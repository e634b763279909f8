/**
 * The entry rules both stores share (the Redis Lua scripts in `redis-store.ts` mirror them).
 * An entry is JSON text: a value `{…, "version": n}` or a tombstone `{"version": n, "tombstone": true}`.
 * Text that is not such an object (another writer's format) has no version: anything replaces it.
 */

/** The version an entry holds, or undefined for text without a numeric `version`. */
export function versionOf(raw: string | null | undefined): number | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const version = (parsed as { version?: unknown }).version;
      if (typeof version === 'number' && Number.isFinite(version)) return version;
    }
  } catch {
    // not JSON: no version
  }
  return undefined;
}

export function tombstoneText(version: number): string {
  return JSON.stringify({ version, tombstone: true });
}

/** setIfNotOlder: refuse only when the key holds a strictly newer version. */
export function maySet(current: string | null, version: number): boolean {
  const held = versionOf(current);
  return held === undefined || held <= version;
}

/** invalidate: keep whatever is at least as new (a value of that version is the committed one). */
export function mayTombstone(current: string | null, version: number): boolean {
  const held = versionOf(current);
  return held === undefined || held < version;
}

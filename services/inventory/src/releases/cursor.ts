import { isUuid } from '../shared/schemas.js';

/** Where a keyset page ends: the last item's createdAt (epoch ms, exact: stored at ms precision) and id. */
export interface CursorPosition {
  createdAtMillis: number;
  id: string;
}

/** base64url without padding of `<createdAtEpochMillis>:<releaseId>` (http-api.md §3.5). */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${position.createdAtMillis}:${position.id}`, 'utf8').toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
// Years 0001–9999: every row's createdAt is inside, and PostgreSQL's timestamptz refuses
// instants far outside (a cursor at -8.64e15 ms was a 500).
const MIN_CURSOR_MS = -62_135_596_800_000; // 0001-01-01T00:00:00Z
const MAX_CURSOR_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/** undefined when the cursor is malformed (→ 400): bad alphabet, not two parts, bad millis or id. */
export function decodeCursor(cursor: string): CursorPosition | undefined {
  if (!BASE64URL.test(cursor)) return undefined;
  const body = cursor.replace(/=+$/, '');
  if (body.length % 4 === 1) return undefined; // no base64 text has this length
  const text = Buffer.from(body, 'base64url').toString('utf8');
  const parts = text.split(':');
  if (parts.length !== 2) return undefined;
  const [millisText, id] = parts as [string, string];
  if (!/^-?\d{1,16}$/.test(millisText) || !isUuid(id)) return undefined;
  const createdAtMillis = Number(millisText);
  if (createdAtMillis < MIN_CURSOR_MS || createdAtMillis > MAX_CURSOR_MS) return undefined;
  return { createdAtMillis, id: id.toLowerCase() };
}

/**
 * ISO-8601 date-time WITH an offset (http-api.md §1.3), as Java's ISO_OFFSET_DATE_TIME reads it:
 * seconds and a 1–9 digit fraction optional, `Z` or `±HH:MM[:SS]`, case-insensitive `T`/`Z`.
 * Kept exact to the nanosecond (BigInt) so `from`/`to` bounds and the `from > to` check never
 * round across a row's timestamp.
 */
export interface Instant {
  epochNanos: bigint;
  /** Smallest whole microsecond ≥ the instant (inclusive lower bound on a µs column). */
  ceilMicros: bigint;
  /** Largest whole microsecond ≤ the instant (inclusive upper bound). */
  floorMicros: bigint;
}

const PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2})(?::(\d{2}))?)$/i;

export function parseInstant(text: string): Instant | undefined {
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetSeconds = 0;
  if (!m[8]) {
    const [oh, om, os] = [m[10], m[11], m[12] ?? '0'].map(Number) as [number, number, number];
    if (oh > 18 || om > 59 || os > 59 || oh * 3600 + om * 60 + os > 18 * 3600) return undefined;
    offsetSeconds = (m[9] === '-' ? -1 : 1) * (oh * 3600 + om * 60 + os);
  }
  const epochSeconds = BigInt(utcMillis(year, month - 1, day, hour, minute, second) / 1000 - offsetSeconds);
  const fractionNanos = BigInt((m[7] ?? '').padEnd(9, '0'));
  const epochNanos = epochSeconds * 1_000_000_000n + fractionNanos;
  return { epochNanos, ceilMicros: ceilDiv(epochNanos, 1000n), floorMicros: floorDiv(epochNanos, 1000n) };
}

function daysIn(year: number, month: number): number {
  return new Date(utcMillis(year, month, 0, 0, 0, 0)).getUTCDate();
}

/** Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not. */
function utcMillis(year: number, monthIndex: number, day: number, h: number, m: number, s: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  date.setUTCHours(h, m, s, 0);
  return date.getTime();
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

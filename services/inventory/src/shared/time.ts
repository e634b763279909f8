/**
 * How java.time.Instant#toString prints a millisecond-precision instant: no fraction when it is
 * zero, else three digits (`2026-02-11T10:00:00Z`, `2026-02-11T10:00:00.120Z`). The CSV export
 * follows the original's format exactly (http-api.md §3.6 example).
 */
export function instantText(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

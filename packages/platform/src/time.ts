/** ISO-8601 UTC with exactly three fractional digits and `Z` — what the spec says writers SHOULD emit. */
export function isoMillis(date: Date): string {
  return date.toISOString();
}

import { pipeline, Readable, type Transform } from 'node:stream';
import { csvRecord, csvStringifier } from './csv.js';
import type { CursorPosition } from './cursor.js';
import type { ReleaseEventRow } from './release-event.js';

/** Reads at most `limit` rows strictly after `after` in (created_at DESC, id DESC) order. */
export type FetchReleasePage = (after: CursorPosition | undefined, limit: number) => Promise<ReleaseEventRow[]>;

/**
 * The CSV export (http-api.md §3.6) as a stream: the rows are read page by page with a keyset
 * (never OFFSET, never the whole result), and the next page is read only when the consumer has
 * taken the previous one (stream back-pressure), so memory stays at about one page whatever
 * `limit` is. The first page is read before returning, so a database failure is still a clean
 * error response rather than a truncated download.
 */
export async function exportReleaseEvents(
  fetchPage: FetchReleasePage,
  opts: { limit: number; pageSize: number },
): Promise<Transform> {
  let requested = Math.min(opts.pageSize, opts.limit);
  const first = await fetchPage(undefined, requested);
  async function* rows(): AsyncGenerator<string[]> {
    let page = first;
    let remaining = opts.limit;
    for (;;) {
      for (const row of page) yield csvRecord(row);
      remaining -= page.length;
      const last = page.at(-1);
      // A short page is the last one; so is reaching the limit.
      if (!last || page.length < requested || remaining <= 0) return;
      requested = Math.min(opts.pageSize, remaining);
      page = await fetchPage({ createdAtMillis: last.created_at.getTime(), id: last.id }, requested);
    }
  }
  const csv = csvStringifier();
  // An error while paging destroys the CSV stream; the HTTP layer then aborts the response.
  pipeline(Readable.from(rows(), { highWaterMark: 16 }), csv, () => undefined);
  return csv;
}

import { Readable } from 'node:stream';
import { csvPage } from './csv.js';
import type { CursorPosition } from './cursor.js';
import type { ReleaseEventRow } from './release-event.js';

/** Reads at most `limit` rows strictly after `after` in (created_at DESC, id DESC) order. */
export type FetchReleasePage = (after: CursorPosition | undefined, limit: number) => Promise<ReleaseEventRow[]>;

/**
 * The CSV export (http-api.md §3.6) as a stream: the rows are read page by page with a keyset
 * (never OFFSET, never the whole result), and each page is stringified into ONE string and
 * pushed as one chunk (the header goes with the first page), so the response gets one write
 * per page rather than one per row. The next page is read only when the consumer has taken
 * the previous one (stream back-pressure, high-water mark of one chunk), so memory stays at
 * about one page whatever `limit` is. The first page is read before returning, so a database
 * failure is still a clean error response rather than a truncated download.
 */
export async function exportReleaseEvents(
  fetchPage: FetchReleasePage,
  opts: { limit: number; pageSize: number },
): Promise<Readable> {
  let requested = Math.min(opts.pageSize, opts.limit);
  const first = await fetchPage(undefined, requested);
  async function* pages(): AsyncGenerator<string> {
    let page = first;
    let remaining = opts.limit;
    let header = true;
    for (;;) {
      yield csvPage(page, { header });
      header = false;
      remaining -= page.length;
      const last = page.at(-1);
      // A short page is the last one; so is reaching the limit.
      if (!last || page.length < requested || remaining <= 0) return;
      requested = Math.min(opts.pageSize, remaining);
      page = await fetchPage({ createdAtMillis: last.created_at.getTime(), id: last.id }, requested);
      // An empty page after a full one ends the export without an empty chunk.
      if (page.length === 0) return;
    }
  }
  // An error while paging destroys this stream; the HTTP layer then aborts the response.
  return Readable.from(pages(), { highWaterMark: 1 });
}

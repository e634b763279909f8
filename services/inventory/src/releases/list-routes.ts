import { ErrorResponse, type HttpApp, type Queryable } from '@ecom/platform';
import { Type } from 'typebox';
import { INT_MAX } from '../shared/schemas.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { badQuery, FilterQuery, parseFilters } from './filters.js';
import { ReleaseEvent, toReleaseEvent } from './release-event.js';
import { countReleaseEvents, pageReleaseEvents, releaseEventsAfter } from './repository.js';

const tags = ['release-audit'];
const DEFAULT_SIZE = 20;
const MAX_SIZE = 100;
// Range violations are 400 here (the original answered 500, http-api.md §1.5).
const Size = Type.Integer({ minimum: 1, maximum: MAX_SIZE, description: `page size, 1–${MAX_SIZE} (default 20)` });

const OffsetPage = Type.Object({
  items: Type.Array(ReleaseEvent),
  page: Type.Integer(),
  size: Type.Integer(),
  totalElements: Type.Integer(),
  totalPages: Type.Integer(),
  hasNext: Type.Boolean(),
});

const CursorPage = Type.Object({
  items: Type.Array(ReleaseEvent),
  size: Type.Integer(),
  hasMore: Type.Boolean(),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export function registerReleaseListRoutes(app: HttpApp, deps: { db: Queryable }): void {
  app.get(
    '/api/stocks/release-events',
    {
      schema: {
        tags,
        summary: 'Release audit, offset pagination, newest first (createdAt DESC, releaseId DESC)',
        querystring: Type.Object({
          ...FilterQuery,
          page: Type.Integer({ minimum: 0, maximum: INT_MAX, default: 0, description: 'page index, ≥ 0' }),
          size: { ...Size, default: DEFAULT_SIZE },
        }),
        response: { 200: OffsetPage, 400: ErrorResponse },
      },
    },
    async (request) => {
      const filters = parseFilters(request.query);
      const { page, size } = request.query;
      const totalElements = await countReleaseEvents(deps.db, filters);
      const rows = totalElements > page * size ? await pageReleaseEvents(deps.db, filters, size, page * size) : [];
      const totalPages = Math.ceil(totalElements / size);
      return { items: rows.map(toReleaseEvent), page, size, totalElements, totalPages, hasNext: page + 1 < totalPages };
    },
  );

  app.get(
    '/api/stocks/release-events/cursor',
    {
      schema: {
        tags,
        summary: 'Release audit, cursor (keyset) pagination, newest first',
        querystring: Type.Object({
          ...FilterQuery,
          size: Type.Optional(Size),
          limit: Type.Optional(Type.String({ description: 'alias of size (size wins when both are given)' })),
          after: Type.Optional(Type.String({ description: "the previous page's nextCursor; blank = first page" })),
          cursor: Type.Optional(Type.String({ description: 'alias of after (after wins when both are given)' })),
        }),
        response: { 200: CursorPage, 400: ErrorResponse },
      },
    },
    async (request) => {
      const { query } = request;
      const filters = parseFilters(query);
      const size = query.size ?? parseLimitAlias(query.limit);
      const cursorText = nonBlank(query.after) ?? nonBlank(query.cursor);
      const after = cursorText === undefined ? undefined : decodeCursor(cursorText);
      if (cursorText !== undefined && !after) {
        throw badQuery([{ field: query.after?.trim() ? 'after' : 'cursor', message: 'is not a valid cursor' }]);
      }
      // size + 1 rows: the extra one only tells whether another page exists (no COUNT query).
      const rows = await releaseEventsAfter(deps.db, filters, after, size + 1);
      const hasMore = rows.length > size;
      const items = rows.slice(0, size);
      const last = items.at(-1);
      return {
        items: items.map(toReleaseEvent),
        size,
        hasMore,
        nextCursor: hasMore && last ? encodeCursor({ createdAtMillis: last.created_at.getTime(), id: last.id }) : null,
      };
    },
  );
}

function nonBlank(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** `limit` is validated only when it is the one in use (the original names win when both are given). */
function parseLimitAlias(raw: string | undefined): number {
  const text = nonBlank(raw);
  if (text === undefined) return DEFAULT_SIZE;
  const n = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= MAX_SIZE)) throw badQuery([{ field: 'limit', message: `must be an integer 1–${MAX_SIZE}` }]);
  return n;
}

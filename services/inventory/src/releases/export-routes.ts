import type { HttpApp, Queryable } from '@ecom/platform';
import { Type } from 'typebox';
import { acceptsCsv } from './accept.js';
import { exportReleaseEvents } from './export-release-events.js';
import { FilterQuery, parseFilters } from './filters.js';
import { releaseEventsAfter } from './repository.js';

export const CSV_CONTENT_TYPE = 'text/csv;charset=UTF-8';

export function registerReleaseExportRoute(app: HttpApp, deps: { db: Queryable; pageSize: number }): void {
  app.get(
    '/api/stocks/release-events/export',
    {
      // Content negotiation comes before parameter checks, as in the original (Spring maps the
      // `produces` condition first): a JSON-only client gets 406 whatever its query.
      onRequest: async (request) => {
        if (!acceptsCsv(request.headers.accept)) {
          throw Object.assign(new Error('this endpoint produces only text/csv'), {
            statusCode: 406,
            code: 'NOT_ACCEPTABLE',
          });
        }
      },
      schema: {
        tags: ['release-audit'],
        summary: 'Release audit as CSV (text/csv), newest first, at most `limit` rows',
        produces: ['text/csv'],
        querystring: Type.Object({
          ...FilterQuery,
          limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000, description: 'rows, 1–10000' }),
        }),
        description:
          'Answers text/csv;charset=UTF-8 (header release_id,order_id,reservation_id,reason,created_at). ' +
          '400 for bad filters or limit, 406 when Accept excludes text/csv.',
      },
    },
    async (request, reply) => {
      const filters = parseFilters(request.query);
      const csv = await exportReleaseEvents((after, limit) => releaseEventsAfter(deps.db, filters, after, limit), {
        limit: request.query.limit,
        pageSize: deps.pageSize,
      });
      reply
        .header('content-type', CSV_CONTENT_TYPE)
        .header('content-disposition', 'attachment; filename="inventory-release-events.csv"');
      return reply.send(csv);
    },
  );
}

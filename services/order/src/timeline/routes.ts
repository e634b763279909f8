import { AppError, type Database, ErrorResponse, type HttpApp } from '@ecom/platform';
import { type Static, Type } from 'typebox';
import { mayRead, type ReadPolicy, readDescription, readerOf } from '../orders/read-access.js';
import { findOrderRow } from '../orders/repository.js';
import { OrderIdParams, OrderStatusSchema } from '../shared/http-schemas.js';
import { listTimeline } from './repository.js';
import type { TimelineEntry } from './timeline-entry.js';

const Status = OrderStatusSchema;

const TimelineResponse = Type.Object({
  orderId: Type.String({ format: 'uuid' }),
  status: Status,
  entries: Type.Array(
    Type.Object({
      at: Type.String({ format: 'date-time', description: 'millisecond precision' }),
      from: Type.Union([Status, Type.Null()], { description: 'null for the creation' }),
      to: Status,
      cause: Type.String({ description: 'HTTP, DEADLINE, or the consumed event type' }),
      messageId: Type.Union([Type.String(), Type.Null()], { description: "the consumed message's dedupe key" }),
      reason: Type.Union([Type.String(), Type.Null()]),
      ignored: Type.Boolean({ description: 'true: the event changed nothing (see note)' }),
      note: Type.Union([Type.Literal('AUDIT_ONLY'), Type.Literal('NOT_APPLICABLE'), Type.Literal('LATE'), Type.Null()]),
      emitted: Type.Union([Type.String(), Type.Null()], { description: 'event written by the same transaction' }),
    }),
    { description: 'Oldest first' },
  ),
});
type TimelineResponse = Static<typeof TimelineResponse>;

/** `GET /api/orders/{orderId}/timeline`: every status change and every ignored result, in order. */
export function registerTimelineRoute(app: HttpApp, deps: { db: Database; read: ReadPolicy }): void {
  app.get(
    '/api/orders/:orderId/timeline',
    {
      schema: {
        tags: ['orders'],
        summary: "The order's history: status changes and ignored events, oldest first",
        description: readDescription(deps.read),
        ...(deps.read.access === 'owner' ? { security: [{ bearerAuth: [] }] } : {}),
        params: OrderIdParams,
        response: { 200: TimelineResponse, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request): Promise<TimelineResponse> => {
      const principal = await readerOf(deps.read, request);
      const order = await findOrderRow(deps.db, request.params.orderId);
      if (!order || !mayRead(deps.read.access, order.user_id, principal, deps.read.adminRole)) {
        throw new AppError('not_found', 'ORDER_NOT_FOUND', `order ${request.params.orderId} not found`);
      }
      const entries = await listTimeline(deps.db, order.id);
      return { orderId: order.id, status: order.status, entries: entries.map(toEntry) };
    },
  );
}

function toEntry(e: TimelineEntry): TimelineResponse['entries'][number] {
  return {
    at: e.at.toISOString(),
    from: e.from,
    to: e.to,
    cause: e.cause,
    messageId: e.messageId,
    reason: e.reason,
    ignored: e.ignored,
    note: e.note,
    emitted: e.emitted,
  };
}

import { randomUUID } from 'node:crypto';
import { type Database, ErrorResponse, type HttpApp } from '@ecom/platform';
import { Type } from 'typebox';
import type { NotificationMetrics } from './metrics.js';
import { NotificationEventResponse, toResponse } from './notification.js';
import { dropBlankValues, filterOf, NotificationQuery } from './query.js';
import { recordSyntheticFailure } from './record-synthetic-failure.js';
import { listNotifications } from './repository.js';

const tags = ['notifications'];
/** http-api.md §7.2. Unknown fields are ignored; the reason is stored as sent. */
const SyntheticFailureInput = Type.Object({
  orderId: Type.String({ format: 'uuid' }),
  paymentId: Type.String({ format: 'uuid' }),
  reason: Type.String({ pattern: '\\S', maxLength: 1000, description: 'not blank' }),
});

export function registerNotificationRoutes(
  app: HttpApp,
  deps: { db: Database; capacity: number; metrics: NotificationMetrics; clock: () => Date },
): void {
  app.get(
    '/api/notifications/events',
    {
      schema: {
        tags,
        summary: 'Stored payment results, newest first (receivedAt desc)',
        querystring: NotificationQuery,
        response: { 200: Type.Array(NotificationEventResponse), 400: ErrorResponse },
      },
      preValidation: async (request) => dropBlankValues(request.query as Record<string, unknown>),
    },
    async (request) => (await listNotifications(deps.db, filterOf(request.query), deps.capacity)).map(toResponse),
  );

  app.post(
    '/api/notifications/events/synthetic-failure',
    {
      schema: {
        tags,
        summary: 'Demo helper: store a fake PaymentFailed notification (nothing is published)',
        body: SyntheticFailureInput,
        response: { 200: NotificationEventResponse, 400: ErrorResponse },
      },
    },
    async (request) => {
      const { notification, outcome } = await recordSyntheticFailure(deps.db, request.body, {
        clock: deps.clock,
        newId: randomUUID,
        capacity: deps.capacity,
      });
      deps.metrics.record('synthetic', notification.eventType, outcome);
      return toResponse(notification);
    },
  );
}

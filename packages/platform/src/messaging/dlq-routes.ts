import { Type } from 'typebox';
import type { BearerVerifier } from '../auth/bearer.js';
import { principalOf, requireBearer } from '../auth/require-bearer.js';
import type { Database } from '../db/database.js';
import type { HttpApp } from '../http/app.js';
import { AppError } from '../http/errors.js';
import { discardDlq, dlqAudit, listDlq, replayDlq } from './dlq.js';
import type { Transport } from './transport.js';

export interface DlqRoutesOptions {
  transport: Transport;
  db: Database;
  /** Spec DLQ name (`q.inventory.order-created.dlq`) → the queue's real (maybe namespaced) name. */
  queues: Record<string, string>;
  verifier: BearerVerifier;
  adminRole: string;
}

const tags = ['dlq operations'];
const security = [{ bearerAuth: [] }];
const DlqParams = Type.Object({ queue: Type.String({ minLength: 1, maxLength: 200 }) });
const DlqMessageSchema = Type.Object({
  messageId: Type.Union([Type.String(), Type.Null()]),
  eventType: Type.Union([Type.String(), Type.Null()]),
  traceId: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  retryCount: Type.Union([Type.Number(), Type.Null()]),
  sourceQueue: Type.Union([Type.String(), Type.Null()]),
  originalRoutingKey: Type.Union([Type.String(), Type.Null()]),
  failedAt: Type.Union([Type.String(), Type.Null()]),
  body: Type.String(),
});

/**
 * Operator endpoints for this service's dead-letter queues (admin role): list with reason and
 * attempts, replay one or all to their source queue, discard one with a reason. Every action
 * is written to `dlq_audit`, returned by GET /admin/dlq/audit.
 */
export function registerDlqRoutes(app: HttpApp, opts: DlqRoutesOptions): void {
  const guard = requireBearer(opts.verifier, { requiredRole: opts.adminRole });
  const actual = (queue: string): string => {
    // Own keys only: `toString` or `__proto__` must not resolve to Object.prototype (a 500 once).
    const name = Object.hasOwn(opts.queues, queue) ? opts.queues[queue] : undefined;
    if (!name) throw new AppError('not_found', 'DLQ_NOT_FOUND', `${queue} is not a dead-letter queue of this service`);
    return name;
  };
  const actor = (request: object) => principalOf(request)?.subject ?? 'unknown';

  app.get(
    '/admin/dlq',
    { preHandler: guard, schema: { tags, security, summary: "This service's DLQs and their depth" } },
    async () => ({
      queues: await Promise.all(
        Object.entries(opts.queues).map(async ([queue, name]) => ({
          queue,
          depth: await opts.transport.queueDepth(name),
        })),
      ),
    }),
  );

  app.get(
    '/admin/dlq/audit',
    {
      preHandler: guard,
      schema: {
        tags,
        security,
        summary: 'The newest DLQ operator actions',
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }),
      },
    },
    async (request) => dlqAudit(opts.db, request.query.limit),
  );

  app.get(
    '/admin/dlq/:queue/messages',
    {
      preHandler: guard,
      schema: {
        tags,
        security,
        summary: 'Browse dead-lettered messages (they stay in the queue)',
        params: DlqParams,
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }),
        response: { 200: Type.Array(DlqMessageSchema) },
      },
    },
    async (request) => listDlq(opts.transport, actual(request.params.queue), request.query.limit),
  );

  app.post(
    '/admin/dlq/:queue/replay',
    {
      preHandler: guard,
      schema: {
        tags,
        security,
        summary: 'Send one message (by messageId) or all of them back to their source queue',
        params: DlqParams,
        body: Type.Object({
          messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          reason: Type.Optional(Type.String({ maxLength: 500 })),
        }),
      },
    },
    async (request) => {
      const replayed = await replayDlq(opts.transport, opts.db, actual(request.params.queue), {
        messageId: request.body.messageId,
        reason: request.body.reason,
        actor: actor(request),
      });
      if (request.body.messageId !== undefined && replayed === 0) {
        throw new AppError(
          'not_found',
          'DLQ_MESSAGE_NOT_FOUND',
          `no message ${request.body.messageId} in ${request.params.queue}`,
        );
      }
      return { replayed };
    },
  );

  app.post(
    '/admin/dlq/:queue/discard',
    {
      preHandler: guard,
      schema: {
        tags,
        security,
        summary: 'Drop one dead-lettered message, with the reason recorded',
        params: DlqParams,
        body: Type.Object({
          messageId: Type.String({ minLength: 1, maxLength: 128 }),
          reason: Type.String({ pattern: '\\S', maxLength: 500 }),
        }),
      },
    },
    async (request) => {
      const discarded = await discardDlq(opts.transport, opts.db, actual(request.params.queue), {
        messageId: request.body.messageId,
        reason: request.body.reason,
        actor: actor(request),
      });
      if (discarded === 0) {
        throw new AppError(
          'not_found',
          'DLQ_MESSAGE_NOT_FOUND',
          `no message ${request.body.messageId} in ${request.params.queue}`,
        );
      }
      return { discarded };
    },
  );
}

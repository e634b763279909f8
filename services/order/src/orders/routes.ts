import { randomUUID } from 'node:crypto';
import {
  AppError,
  assertRole,
  authenticate,
  type BearerVerifier,
  type Database,
  ErrorResponse,
  type HttpApp,
  type Outbox,
} from '@ecom/platform';
import { Type } from 'typebox';
import type { PriceOrder } from '../catalog/price-order.js';
import { OrderIdParams } from '../shared/http-schemas.js';
import type { OrderMetrics } from '../shared/metrics.js';
import { activeSpanTraceId, envelopeTraceId } from './envelope-trace-id.js';
import { checkIdempotencyKey, fingerprintOf, normalizeOrderRequest } from './order-request.js';
import { OrderResponse, serializeOrderResponse, toOrderResponse } from './order-response.js';
import { type PlaceOrderDeps, type PlaceOrderResult, placeOrder } from './place-order.js';
import { mayRead, type ReadPolicy, readDescription, readerOf } from './read-access.js';
import { findOrder } from './repository.js';

const tags = ['orders'];
/** A custom serializer bypasses Fastify's JSON default, content type included: set it. */
const JSON_UTF8 = 'application/json; charset=utf-8';

/** http-api.md §2.1. Raw lengths are generous; the trimmed values are checked against the columns. */
const OrderBody = Type.Object({
  userId: Type.String({ pattern: '\\S', maxLength: 1000, description: 'not blank; trimmed; ≤ 64; = token subject' }),
  items: Type.Array(
    Type.Object({
      skuId: Type.String({ pattern: '\\S', maxLength: 1000, description: 'not blank; trimmed; ≤ 64' }),
      quantity: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
      price: Type.Number({
        minimum: 0.01,
        description: 'unit price ≥ 0.01, rounded half-up to 2 decimals; ignored when the catalog sets prices',
      }),
    }),
    { minItems: 1, maxItems: 1000 },
  ),
});

const CreateHeaders = Type.Object({
  'idempotency-key': Type.String({
    description: 'Client-chosen key, scoped to the user; trimmed, not blank, ≤ 128 characters',
  }),
});

export interface OrderRouteDeps {
  db: Database;
  outbox: Outbox;
  verifier: BearerVerifier;
  /** `AUTH_REQUIRED_ORDER_ROLE`; '' = off. */
  requiredRole: string;
  read: ReadPolicy;
  priceOrder: PriceOrder;
  clock: () => Date;
  idempotencyTtlSeconds: number;
  metrics: OrderMetrics;
}

export function registerOrderRoutes(app: HttpApp, deps: OrderRouteDeps): void {
  const placeDeps: PlaceOrderDeps = {
    db: deps.db,
    outbox: deps.outbox,
    priceOrder: deps.priceOrder,
    clock: deps.clock,
    newId: randomUUID,
    idempotencyTtlSeconds: deps.idempotencyTtlSeconds,
  };

  app.post(
    '/api/orders',
    {
      schema: {
        tags,
        summary: 'Create an order (idempotent per user and Idempotency-Key)',
        description:
          'Checks in this order: body and headers (400), blank Idempotency-Key (400), bearer token (401), ' +
          'userId = token subject (400), required role (403). Then a known key replays the stored order ' +
          '(200, reused, Idempotent-Replayed: true), the same key with another body is 422, and otherwise ' +
          'the order is created (201). Unknown or inactive SKUs are 422; an unreachable catalog is 503.',
        security: [{ bearerAuth: [] }],
        headers: CreateHeaders,
        body: OrderBody,
        response: {
          201: OrderResponse,
          200: {
            ...OrderResponse,
            description: 'Replay of a known Idempotency-Key (header Idempotent-Replayed: true)',
          },
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
          422: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      // Step 1 (framework) has run. Its remaining rule: trimmed values must fit their columns.
      const normalized = normalizeOrderRequest(request.body);
      if (!normalized.ok) {
        throw new AppError(
          'bad_request',
          'VALIDATION_FAILED',
          normalized.errors.map((e) => `${e.field} ${e.message}`).join('; '),
          { errors: normalized.errors },
        );
      }
      // Step 2: blank (or over-long) Idempotency-Key.
      const key = checkIdempotencyKey(request.headers['idempotency-key']);
      if (!key.ok) {
        throw new AppError('bad_request', 'IDEMPOTENCY_KEY_INVALID', key.message, {
          errors: [{ field: 'Idempotency-Key', message: key.message }],
        });
      }
      // Steps 3–4: 401.
      const principal = await authenticate(deps.verifier, request);
      // Step 5: 400 before the role's 403.
      const { request: order } = normalized;
      if (order.userId !== principal.subject) {
        throw new AppError('bad_request', 'USER_ID_MISMATCH', 'userId must equal the token subject', {
          errors: [{ field: 'userId', message: 'must equal the token subject' }],
        });
      }
      // Step 6: 403. No database access has happened before this line.
      assertRole(principal, deps.requiredRole);

      let result: PlaceOrderResult;
      try {
        result = await placeOrder(placeDeps, {
          request: order,
          fingerprint: fingerprintOf(order),
          idempotencyKey: key.key,
          buyer: { userId: order.userId, roles: principal.roles },
          // request.id is the correlation value (X-Trace-Id, or the UUID made for the response).
          traceId: envelopeTraceId(activeSpanTraceId(), request.id, randomUUID),
        });
      } catch (err) {
        if (err instanceof AppError && err.code === 'IDEMPOTENCY_KEY_REUSED') deps.metrics.idempotencyMismatches.inc();
        throw err;
      }
      if (result.kind === 'created') {
        deps.metrics.ordersCreated.inc();
        return reply
          .code(201)
          .type(JSON_UTF8)
          .serializer(serializeOrderResponse)
          .send(toOrderResponse(result.order, false));
      }
      deps.metrics.idempotentReplays.inc();
      return reply
        .code(200)
        .header('Idempotent-Replayed', 'true')
        .type(JSON_UTF8)
        .serializer(serializeOrderResponse)
        .send(toOrderResponse(result.order, true));
    },
  );

  app.get(
    '/api/orders/:orderId',
    {
      schema: {
        tags,
        summary: 'Read an order with its current status',
        description: readDescription(deps.read),
        ...(deps.read.access === 'owner' ? { security: [{ bearerAuth: [] }] } : {}),
        params: OrderIdParams,
        response: { 200: OrderResponse, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      const principal = await readerOf(deps.read, request);
      const order = await findOrder(deps.db, request.params.orderId);
      // Someone else's order is "not found": its existence is not disclosed either.
      if (!order || !mayRead(deps.read.access, order.userId, principal, deps.read.adminRole)) {
        throw new AppError('not_found', 'ORDER_NOT_FOUND', `order ${request.params.orderId} not found`);
      }
      return reply.type(JSON_UTF8).serializer(serializeOrderResponse).send(toOrderResponse(order, false));
    },
  );
}

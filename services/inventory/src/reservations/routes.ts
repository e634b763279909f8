import {
  AppError,
  type BearerVerifier,
  type Database,
  ErrorResponse,
  type HttpApp,
  requireBearer,
} from '@ecom/platform';
import { normalizeSkuId } from '../shared/sku.js';
import type { StockCache } from '../stock/stock-cache.js';
import { aggregateItems, oversizedItem } from './decide-reservation.js';
import { placeReservation } from './place-reservation.js';
import { ReservationRequest, ReservationResponse, toReservationResponse } from './reservation.js';

export function registerReservationRoutes(
  app: HttpApp,
  deps: { db: Database; cache: StockCache; clock: () => Date; verifier: BearerVerifier; adminRole: string },
): void {
  app.post(
    '/api/stocks/reservations',
    {
      // Protected as http-api.md §3.3 recommends: in the original anyone could pre-create a
      // reservation for any order id and the real OrderCreated would then reuse it. onRequest,
      // so 401/403 come before any body validation (an anonymous caller learns nothing).
      onRequest: requireBearer(deps.verifier, { requiredRole: deps.adminRole }),
      schema: {
        tags: ['reservations'],
        summary: 'Reserve stock for an order directly (admin; idempotent per order; publishes no event)',
        security: [{ bearerAuth: [] }],
        body: ReservationRequest,
        response: {
          200: ReservationResponse,
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
        },
      },
    },
    async (request) => {
      const items = request.body.items.map((item, i) => ({
        skuId: normalizeSkuId(item.skuId, `items[${i}].skuId`),
        quantity: item.quantity,
      }));
      const tooBig = oversizedItem(aggregateItems(items));
      if (tooBig) {
        throw new AppError(
          'bad_request',
          'VALIDATION_FAILED',
          `items: total quantity of ${tooBig.skuId} is too large`,
          {
            errors: [{ field: 'items', message: `total quantity of ${tooBig.skuId} exceeds ${2 ** 31 - 1}` }],
          },
        );
      }
      const reservation = await placeReservation(deps, { orderId: request.body.orderId.toLowerCase(), items });
      return toReservationResponse(reservation);
    },
  );
}

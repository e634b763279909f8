import { type Static, Type } from 'typebox';
import { MoneyNumber, OrderStatusSchema } from '../shared/http-schemas.js';
import { isCanonicalMoney, type Money } from '../shared/money.js';
import type { Order } from './order.js';

/** `OrderResponse` (http-api.md §2.1), the body of 201, 200 (replay) and GET. */
export const OrderResponse = Type.Object({
  orderId: Type.String({ format: 'uuid' }),
  userId: Type.String(),
  status: OrderStatusSchema,
  totalAmount: MoneyNumber,
  createdAt: Type.String({ format: 'date-time' }),
  reused: Type.Boolean({ description: 'true only when an existing Idempotency-Key matched (status 200)' }),
  items: Type.Array(Type.Object({ skuId: Type.String(), quantity: Type.Integer({ minimum: 1 }), price: MoneyNumber }), {
    description: 'In request order; items of one SKU are not merged',
  }),
});
export type OrderResponse = Static<typeof OrderResponse>;

export function toOrderResponse(order: Order, reused: boolean): OrderResponse {
  return {
    orderId: order.id,
    userId: order.userId,
    status: order.status,
    totalAmount: order.totalAmount,
    createdAt: order.createdAt.toISOString(),
    reused,
    items: order.items.map((i) => ({ skuId: i.skuId, quantity: i.quantity, price: i.price })),
  };
}

/**
 * Writes money with exactly two decimals, as the original does (`"totalAmount":39.80`): the
 * spec says writers SHOULD, and JSON.stringify cannot (a number has no trailing zeros). Every
 * string goes through JSON.stringify; money is spliced in only after a strict `\d+\.\d{2}`
 * check, so no value can break out of the document.
 */
export function serializeOrderResponse(r: OrderResponse): string {
  const s = JSON.stringify;
  const items = r.items
    .map((i) => `{"skuId":${s(i.skuId)},"quantity":${s(i.quantity)},"price":${money(i.price)}}`)
    .join(',');
  return (
    `{"orderId":${s(r.orderId)},"userId":${s(r.userId)},"status":${s(r.status)},` +
    `"totalAmount":${money(r.totalAmount)},"createdAt":${s(r.createdAt)},"reused":${s(r.reused)},"items":[${items}]}`
  );
}

function money(m: Money): string {
  if (!isCanonicalMoney(m)) throw new Error(`not a canonical amount: ${String(m)}`);
  return m;
}

import { Type } from 'typebox';
import type { Money } from './money.js';

/**
 * A JSON number on the wire (two decimals, e.g. 39.80), held as exact `Money` text in the code:
 * routes that carry money write their bodies with a serializer that splices the text in as a
 * number literal (see `serializeOrderResponse`).
 */
export const MoneyNumber = Type.Unsafe<Money>(
  Type.Number({ description: 'Amount with two decimals, rounded half-up (e.g. 39.80)', examples: [39.8] }),
);

export const OrderIdParams = Type.Object({
  orderId: Type.String({ format: 'uuid', description: 'Order id (UUID)' }),
});

export const OrderStatusSchema = Type.Union([
  Type.Literal('NEW'),
  Type.Literal('RESERVED'),
  Type.Literal('CONFIRMED'),
  Type.Literal('FAILED'),
]);

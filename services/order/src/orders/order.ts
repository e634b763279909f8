import type { Money } from '../shared/money.js';

export const ORDER_STATUSES = ['NEW', 'RESERVED', 'CONFIRMED', 'FAILED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderItem {
  skuId: string;
  quantity: number;
  /** Unit price, rounded half-up to 2 decimals. */
  price: Money;
}

/** The domain shape of an order (the response adds `reused`). */
export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  totalAmount: Money;
  createdAt: Date;
  /** In request order; duplicates of one SKU are separate items (never merged). */
  items: OrderItem[];
}

/** Who placed the order, as the envelope's `identity` carries it (events.md §5). */
export interface Buyer {
  userId: string;
  roles: readonly string[];
}

/** `orders` table shape (NUMERIC as exact text, TIMESTAMPTZ as Date). */
export interface OrderRow {
  id: string;
  user_id: string;
  total_amount: string;
  status: OrderStatus;
  created_at: Date;
  trace_id: string | null;
  /** JSONB read as text (`identity_roles::text`), so both drivers return the same thing. */
  identity_roles: string | null;
  status_reason: string | null;
  status_cause: string | null;
}

export interface OrderItemRow {
  order_id: string;
  sku_id: string;
  quantity: number;
  price: string;
  line_no: number;
}

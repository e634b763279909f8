/** Table shape (`payment_records`, data-model.md §4). */
export interface PaymentRecordRow {
  id: string;
  order_id: string;
  status: string;
  reason: string | null;
  created_at: Date;
}

/** The domain shape: the stored, final outcome of one order's payment. */
export type PaymentRecord =
  | { id: string; orderId: string; status: 'SUCCEEDED'; reason: null; createdAt: Date }
  | { id: string; orderId: string; status: 'FAILED'; reason: string; createdAt: Date };

/** Row → domain. The CHECK constraints make any other shape impossible; a violation is a bug, so it throws. */
export function toPaymentRecord(row: PaymentRecordRow): PaymentRecord {
  const base = { id: row.id, orderId: row.order_id, createdAt: row.created_at };
  if (row.status === 'SUCCEEDED' && row.reason === null) return { ...base, status: 'SUCCEEDED', reason: null };
  if (row.status === 'FAILED' && row.reason !== null) return { ...base, status: 'FAILED', reason: row.reason };
  throw new Error(`payment_records ${row.id}: inconsistent status ${row.status} / reason ${row.reason}`);
}

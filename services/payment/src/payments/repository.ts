import type { Queryable } from '@ecom/platform';
import { type PaymentRecord, type PaymentRecordRow, toPaymentRecord } from './payment-record.js';

const COLUMNS = 'id, order_id, status, reason, created_at';

export async function findPaymentByOrder(db: Queryable, orderId: string): Promise<PaymentRecord | undefined> {
  const [row] = await db.query<PaymentRecordRow>(`SELECT ${COLUMNS} FROM payment_records WHERE order_id = $1`, [
    orderId,
  ]);
  return row ? toPaymentRecord(row) : undefined;
}

/**
 * Inserts the order's payment unless one exists (insert-on-conflict, never check-then-insert):
 * returns the new record, or undefined when another transaction stored one first. A concurrent
 * insert for the same order waits on the unique index until that transaction ends.
 */
export async function insertPaymentIfAbsent(db: Queryable, record: PaymentRecord): Promise<PaymentRecord | undefined> {
  const [row] = await db.query<PaymentRecordRow>(
    `INSERT INTO payment_records (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (order_id) DO NOTHING RETURNING ${COLUMNS}`,
    [record.id, record.orderId, record.status, record.reason, record.createdAt],
  );
  return row ? toPaymentRecord(row) : undefined;
}

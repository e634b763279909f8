import { type Queryable, type Statement, writeAtCommit } from '@ecom/platform';
import type { StockRow, StockVersion } from './stock.js';

const COLUMNS = 'sku_id, available_qty, reserved_qty, updated_at, version';

/**
 * http-api.md §3.1: create with reserved 0, or SET available only. One statement, so it takes
 * the row lock itself: a concurrent reservation is either fully before or fully after it, and
 * reserved_qty (owned by reservations) is never written here.
 */
export async function upsertStock(db: Queryable, skuId: string, availableQty: number, now: Date): Promise<StockRow> {
  const [row] = await db.query<StockRow>(
    `INSERT INTO sku_stocks (sku_id, available_qty, reserved_qty, updated_at, version) VALUES ($1, $2, 0, $3, 1)
     ON CONFLICT (sku_id) DO UPDATE SET available_qty = EXCLUDED.available_qty, updated_at = EXCLUDED.updated_at,
       version = sku_stocks.version + 1
     RETURNING ${COLUMNS}`,
    [skuId, availableQty, now],
  );
  if (!row) throw new Error('stock upsert returned no row');
  return row;
}

export async function findStock(db: Queryable, skuId: string): Promise<StockRow | undefined> {
  const [row] = await db.query<StockRow>(`SELECT ${COLUMNS} FROM sku_stocks WHERE sku_id = $1`, [skuId]);
  return row;
}

/**
 * Locks the rows of these SKUs until the transaction ends. Always in sku_id order (every
 * caller locks through here), so two transactions over overlapping SKUs can never deadlock.
 */
export async function lockStocks(tx: Queryable, skuIds: readonly string[]): Promise<StockRow[]> {
  if (skuIds.length === 0) return [];
  const { text, params } = lockStocksStatement(skuIds);
  return tx.query<StockRow>(text, params);
}

/** lockStocks as a statement, to send with others in one round trip (`queryEach`). */
export function lockStocksStatement(skuIds: readonly string[]): Statement {
  return {
    text: `SELECT ${COLUMNS} FROM sku_stocks WHERE sku_id = ANY($1::varchar[]) ORDER BY sku_id FOR UPDATE`,
    params: [skuIds],
  };
}

export interface StockMove {
  skuId: string;
  /** Added to available_qty (negative to reserve). */
  availableDelta: number;
  /** Added to reserved_qty (negative to release). */
  reservedDelta: number;
}

/**
 * Applies relative moves to rows the caller has locked. Relative (`available_qty + delta`), never
 * absolute values computed in JS, and the CHECK constraints refuse any negative result: even a
 * caller bug cannot oversell. Returns each row's new version.
 */
export async function moveStock(tx: Queryable, moves: readonly StockMove[], now: Date): Promise<StockVersion[]> {
  if (moves.length === 0) return [];
  const rows = await tx.query<{ sku_id: string; version: number }>(
    `${MOVE} RETURNING s.sku_id, s.version`,
    moveParams(moves, now),
  );
  if (rows.length !== moves.length) throw new Error(`stock move touched ${rows.length} of ${moves.length} rows`);
  return rows.map((r) => ({ skuId: r.sku_id, version: r.version }));
}

/**
 * moveStock for rows this transaction locked with lockStocks (all of them, every move's SKU):
 * nobody else can change them before our COMMIT, so their next versions are known now, and the
 * UPDATE goes with the COMMIT (`writeAtCommit`, no round trip of its own). The CHECK constraints
 * still stand behind it: a negative result fails the COMMIT and nothing is kept.
 */
export async function moveLockedStock(
  tx: Queryable,
  moves: readonly StockMove[],
  locked: readonly StockRow[],
  now: Date,
): Promise<StockVersion[]> {
  if (moves.length === 0) return [];
  const versions = new Map(locked.map((row) => [row.sku_id, row.version]));
  const changed = moves.map((m) => {
    const version = versions.get(m.skuId);
    if (version === undefined) throw new Error(`stock row ${m.skuId} is not locked by this transaction`);
    return { skuId: m.skuId, version: version + 1 };
  });
  await writeAtCommit(tx, MOVE, moveParams(moves, now));
  return changed;
}

const MOVE = `UPDATE sku_stocks s SET available_qty = s.available_qty + m.available_delta,
       reserved_qty = s.reserved_qty + m.reserved_delta, updated_at = $4, version = s.version + 1
     FROM unnest($1::varchar[], $2::int[], $3::int[]) AS m(sku_id, available_delta, reserved_delta)
     WHERE s.sku_id = m.sku_id`;

function moveParams(moves: readonly StockMove[], now: Date): unknown[] {
  return [moves.map((m) => m.skuId), moves.map((m) => m.availableDelta), moves.map((m) => m.reservedDelta), now];
}

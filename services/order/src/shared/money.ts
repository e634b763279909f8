import { createRequire } from 'node:module';
import type { Decimal as DecimalClass } from 'decimal.js';

// decimal.js ships an ESM build with only a default export but one .d.ts written for CommonJS,
// so under NodeNext the typed default import and the runtime value disagree. Loading the
// CommonJS build (module.exports = Decimal) makes types and runtime the same class.
const Decimal: typeof DecimalClass = createRequire(import.meta.url)('decimal.js');

/**
 * Money is computed with decimal.js, never binary floating point (spec README "Money"), and
 * carried as its canonical text with exactly two decimals ("39.80"): the form PostgreSQL's
 * NUMERIC(12,2) returns, the form the HTTP response writes (see `serializeOrderResponse`), and
 * exact. The brand keeps an unrounded string from passing for money.
 */
export type Money = string & { readonly __money: unique symbol };

const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

/** NUMERIC(12,2): the largest amount the orders table can hold (http-api.md §2.1 "Amount rules"). */
export const MAX_AMOUNT = '9999999999.99' as Money;
const MAX = new D(MAX_AMOUNT);

const CANONICAL = /^\d+\.\d{2}$/;

/**
 * Half-up to 2 decimals. A JS number goes through its shortest round-trip text first (what
 * decimal.js does with a number), so 1.005 — stored in binary as 1.00499999… — rounds to 1.01,
 * as the original's BigDecimal(String) does.
 */
export function roundMoney(value: number | string): Money {
  const d = new D(value);
  if (!d.isFinite()) throw new RangeError(`not a finite amount: ${value}`);
  return d.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2) as Money;
}

/** Σ(price × quantity), half-up to 2 decimals (exact: prices are already 2-decimal values). */
export function totalOf(items: readonly { price: Money; quantity: number }[]): Money {
  const sum = items.reduce((acc, i) => acc.plus(new D(i.price).times(i.quantity)), new D(0));
  return sum.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2) as Money;
}

export function exceedsMaximum(amount: Money): boolean {
  return new D(amount).greaterThan(MAX);
}

/** A NUMERIC read from the database (text), normalized to the canonical two decimals. */
export function moneyFromDb(text: string): Money {
  return CANONICAL.test(text) ? (text as Money) : roundMoney(text);
}

/**
 * For JSON writers that only take numbers (event payloads go through JSON.stringify in the
 * kernel's outbox): the nearest double of the exact 2-decimal value, so 39.80 is written 39.8.
 */
export function moneyToNumber(amount: Money): number {
  return Number(amount);
}

/** The text may be spliced into JSON as a number literal (serializer guard). */
export function isCanonicalMoney(text: string): text is Money {
  return CANONICAL.test(text);
}

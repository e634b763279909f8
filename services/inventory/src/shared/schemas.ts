/** sku_stocks.sku_id is VARCHAR(64): longer values are refused with 400 before reaching SQL. */
export const SKU_MAX_LENGTH = 64;

/** Dashed 8-4-4-4-12 hex, any case (written back lowercase). Stricter than ajv's `uuid` format, which also takes `urn:uuid:`. */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const UUID_RE = new RegExp(UUID_PATTERN);

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/** Java int range: quantities and page indexes beyond it were never valid input. */
export const INT_MAX = 2_147_483_647;

/** The payment mock modes of spec http-api.md §4.1. */
export const MOCK_MODES = ['SUCCESS', 'FAIL', 'HASHED'] as const;
export type MockMode = (typeof MOCK_MODES)[number];

export const DEFAULT_MOCK_MODE: MockMode = 'SUCCESS';

/**
 * §4.1 "Parsing: trimmed, case-insensitive. An unknown value falls back to SUCCESS." — so an
 * unknown value is NOT a boot error (the original starts with it); the caller logs a warning.
 */
export function parseMockMode(raw: string | undefined): { mode: MockMode; known: boolean } {
  if (raw === undefined || raw.trim() === '') return { mode: DEFAULT_MOCK_MODE, known: true };
  const wanted = raw.trim().toUpperCase();
  const mode = MOCK_MODES.find((m) => m === wanted);
  return mode ? { mode, known: true } : { mode: DEFAULT_MOCK_MODE, known: false };
}

/** Indices (in the 32 hex digits without dashes) whose low bits decide HASHED (§4.1). */
const HASHED_DIGITS = [7, 15, 23, 31] as const;
const HEX32 = /^[0-9a-f]{32}$/;

/**
 * HASHED, exactly as §4.1 states it: the XOR of the low bits of hex digits 7, 15, 23 and 31 of
 * the order id; 0 → success. This is the parity of Java's `UUID.hashCode()` (bit 0 XOR bit 32 of
 * `msb ^ lsb`), so an order gets the same outcome as on the original. Case-insensitive.
 * Throws RangeError for anything that is not a UUID (the envelope was validated before this).
 */
export function hashedSucceeds(orderId: string): boolean {
  const hex = orderId.replaceAll('-', '').toLowerCase();
  if (orderId.length !== 36 || !HEX32.test(hex)) throw new RangeError(`not a UUID: ${orderId.slice(0, 40)}`);
  let parity = 0;
  for (const i of HASHED_DIGITS) parity ^= Number.parseInt(hex.charAt(i), 16) & 1;
  return parity === 0;
}

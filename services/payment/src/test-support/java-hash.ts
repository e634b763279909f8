/**
 * Test oracle for HASHED, written from the spec's BACKGROUND sentence (http-api.md §4.1) and not
 * from the digit rule the implementation uses: Java's `UUID.hashCode()` is
 * `(int)(h >>> 32) ^ (int)h` with `h = msb ^ lsb`, and HASHED succeeds when it is even.
 */
export function javaUuidHashCode(uuid: string): number {
  const hex = uuid.replaceAll('-', '');
  const msb = BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`));
  const lsb = BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`));
  const h = BigInt.asUintN(64, msb ^ lsb);
  return Number(BigInt.asIntN(32, (h >> 32n) ^ BigInt.asUintN(32, h)));
}

export const javaHashSaysSuccess = (uuid: string): boolean => javaUuidHashCode(uuid) % 2 === 0;

/** The spec's own examples with the outcome it states for each. */
export const SPEC_HASHED_EXAMPLES: readonly [string, 'success' | 'fail'][] = [
  ['00000000-0000-0000-0000-000000000000', 'success'],
  ['00000000-0000-0000-0000-000000000001', 'fail'],
  ['a32ee3e5-0f81-4a88-a361-f1f2158dfdbf', 'success'],
  ['4d8e1012-e736-4d43-b955-ed169d37efda', 'fail'],
];

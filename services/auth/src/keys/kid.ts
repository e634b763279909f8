import { createHash, type KeyObject } from 'node:crypto';

/**
 * The key id the original derives when AUTH_RSA_KEY_ID is blank (http-api.md §5.4):
 * SHA-256 over the DER SubjectPublicKeyInfo, first 12 bytes, base64url without padding
 * → 16 characters. Stable for a key, so every replica holding it announces the same kid.
 */
export function deriveKid(publicKey: KeyObject): string {
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(spki).digest().subarray(0, 12).toString('base64url');
}

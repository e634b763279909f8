import type { KeyObject } from 'node:crypto';
import { compactVerify, errors } from 'jose';
import { decodeBase64url, decodeJsonObject } from '../encoding.js';
import { findVerificationKey, type VerificationKeySet } from '../keys/key-ring.js';

/** http-api.md §5.2, in the order the checks run: the first failing check wins. */
export const INACTIVE_REASONS = [
  'TOKEN_MISSING',
  'TOKEN_MALFORMED',
  'TOKEN_HEADER_INVALID',
  'TOKEN_ALG_INVALID',
  'TOKEN_KID_UNKNOWN',
  'TOKEN_SIGNATURE_INVALID',
  'TOKEN_PAYLOAD_INVALID',
  'TOKEN_USER_ID_MISSING',
  'TOKEN_ISSUER_INVALID',
  'TOKEN_EXP_MISSING',
  'TOKEN_EXPIRED',
] as const;
export type InactiveReason = (typeof INACTIVE_REASONS)[number];

export type Introspection =
  | { active: true; userId: string; roles: string[]; expiresAt: Date }
  | { active: false; reason: InactiveReason };

// The last second a JS Date can hold; a larger `exp` has no ISO form to answer with.
const MAX_EXP_SECONDS = 8.64e12;

/**
 * Decides whether a token is active. No I/O and no clock of its own: the keys, the current
 * time and the expected issuer are passed in (async only because WebCrypto verifies async).
 * The ordered pre-checks run here so that the first failing check names the reason, as the
 * spec orders them; jose does only the cryptography.
 */
export async function introspectToken(
  rawToken: string,
  keys: VerificationKeySet,
  now: Date,
  issuer: string,
): Promise<Introspection> {
  const inactive = (reason: InactiveReason): Introspection => ({ active: false, reason });
  const token = rawToken.trim();
  if (token === '') return inactive('TOKEN_MISSING');

  const parts = token.split('.');
  const [headerPart, payloadPart, signaturePart] = parts;
  if (parts.length !== 3 || parts.some((p) => p.trim() === '') || !headerPart || !payloadPart || !signaturePart) {
    return inactive('TOKEN_MALFORMED');
  }

  const header = decodeJsonObject(headerPart);
  if (!header) return inactive('TOKEN_HEADER_INVALID');
  // Exactly RS256: `none` and HS256 (signed with the public key as HMAC secret) are the classic forgeries.
  if (header.alg !== 'RS256') return inactive('TOKEN_ALG_INVALID');

  const kid = header.kid ?? undefined; // JSON null counts as absent
  const key = typeof kid === 'string' || kid === undefined ? findVerificationKey(keys, kid) : undefined;
  if (!key) return inactive('TOKEN_KID_UNKNOWN');

  const signature = await checkSignature(token, signaturePart, key);
  if (signature === 'invalid') return inactive('TOKEN_SIGNATURE_INVALID');

  const payload = decodeJsonObject(payloadPart);
  if (!payload) return inactive('TOKEN_PAYLOAD_INVALID');

  const userId = subjectOf(payload);
  if (userId === '') return inactive('TOKEN_USER_ID_MISSING');

  if (issuer.trim() !== '' && payload.iss !== issuer) return inactive('TOKEN_ISSUER_INVALID');

  const exp = payload.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= 0 || exp > MAX_EXP_SECONDS) {
    return inactive('TOKEN_EXP_MISSING');
  }
  // No leeway, as in the original: the token is dead at the exp instant itself.
  if (exp * 1000 <= now.getTime()) return inactive('TOKEN_EXPIRED');

  return { active: true, userId, roles: rolesOf(payload.roles), expiresAt: new Date(Math.floor(exp) * 1000) };
}

/**
 * RS256 over the ASCII bytes of `header.payload`, by jose. jose decodes the payload only after
 * the signature verified; when that decoding is what failed, the signature itself was good and
 * the caller's own payload check reports TOKEN_PAYLOAD_INVALID, in the spec's order.
 */
async function checkSignature(token: string, signaturePart: string, key: KeyObject): Promise<'valid' | 'invalid'> {
  // jose's own decoder is lenient on some runtimes; the spec calls a non-base64url signature invalid.
  if (!decodeBase64url(signaturePart)) return 'invalid';
  try {
    await compactVerify(token, key, { algorithms: ['RS256'] });
    return 'valid';
  } catch (err) {
    if (err instanceof errors.JWSInvalid && err.message === 'Failed to base64url decode the payload') return 'valid';
    return 'invalid';
  }
}

/** `sub`, or `user_id` when `sub` is absent or JSON null (an empty `sub` string is kept); trimmed. */
function subjectOf(payload: Record<string, unknown>): string {
  const subject = payload.sub ?? payload.user_id;
  // RFC 7519 makes `sub` a string; a number or object is no usable user id.
  return typeof subject === 'string' ? subject.trim() : '';
}

/** Elements taken as text, trimmed, blanks dropped; anything but an array is no roles. */
function rolesOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .map((role) =>
      typeof role === 'string' || typeof role === 'number' || typeof role === 'boolean' ? String(role).trim() : '',
    )
    .filter((role) => role !== '');
}

import { type CryptoKey, compactVerify, errors } from 'jose';
import { LRUCache } from 'lru-cache';
import { decodeBase64url, decodeJsonObject } from './encoding.js';
import type { JwksKeySource } from './jwks.js';

/**
 * Why a bearer token was refused, in the order the checks run (http-api.md §5.5; the first
 * failing check wins). The TOKEN_* names are auth-service's introspection codes (§5.2) where
 * the check is the same. Every one of them is a 401.
 */
export const BEARER_FAILURE_REASONS = [
  'AUTH_HEADER_MISSING', // step 1: Authorization absent or blank
  'AUTH_SCHEME_INVALID', // step 2: not `Bearer <token>` (prefix case-insensitive, with the space)
  'TOKEN_MALFORMED', // step 3: not exactly 3 non-blank dot-separated parts
  'TOKEN_HEADER_INVALID', // step 4: header not base64url JSON object
  'TOKEN_ALG_INVALID', // step 4: alg not exactly RS256
  'JWKS_UNAVAILABLE', // step 5: no keys at all (JWKS fetch failed and nothing cached)
  'TOKEN_KID_UNKNOWN', // step 5: kid not in the JWKS, even after a forced refresh (or kid not a string)
  'TOKEN_KID_AMBIGUOUS', // step 5: no kid, and the JWKS holds more than one key
  'TOKEN_SIGNATURE_INVALID', // step 6
  'TOKEN_PAYLOAD_INVALID', // step 7: payload not base64url JSON object
  'TOKEN_USER_ID_MISSING', // step 8: subject (sub, else user_id) missing or blank
  'TOKEN_ISSUER_INVALID', // step 9
  'TOKEN_EXP_MISSING', // step 10: exp absent, not a number, or ≤ 0
  'TOKEN_EXPIRED', // step 10: exp ≤ now − leeway
  'TOKEN_NOT_YET_VALID', // step 10 (recommended): nbf > now + leeway, or nbf not a number
] as const;
export type BearerFailureReason = (typeof BEARER_FAILURE_REASONS)[number];

export type BearerResult =
  | { ok: true; subject: string; roles: string[]; claims: Readonly<Record<string, unknown>> }
  | { ok: false; reason: BearerFailureReason };

export interface BearerVerifier {
  /** Checks an `Authorization` header value. Never throws for a bad token: it says why instead. */
  verify(authorizationHeader: string | undefined): Promise<BearerResult>;
}

export interface BearerVerifierOptions {
  jwks: JwksKeySource;
  /** `AUTH_EXPECTED_ISSUER`. Blank turns the issuer check off (spec); it is required so that is a choice. */
  expectedIssuer: string;
  /**
   * Leeway on `exp` and `nbf`, 0–300 s. Default 60, the spec's recommended improvement;
   * 0 reproduces the original (a token is dead at its exp instant).
   */
  clockSkewSeconds?: number;
  /** Clock in epoch ms (tests). */
  now?: () => number;
  /**
   * How many verified tokens to remember (default 10,000; 0 turns it off). A client sends the
   * same token on every request until it expires, and an RS256 verification is the costliest
   * step here (≈ 20–25 % of an order's CPU in bench/README.md). Only a token that passed every
   * check is remembered, with the key that verified it, until its exp (+ leeway): a repeat skips
   * the RSA verification only while the JWKS still serves that very key for its kid — every
   * other step (header, key lookup, claims, expiry against the clock, roles) runs again.
   */
  verifiedTokenCacheSize?: number;
}

const BEARER_PREFIX = 'bearer ';

export function createBearerVerifier(options: BearerVerifierOptions): BearerVerifier {
  const { jwks } = options;
  const expectedIssuer = options.expectedIssuer.trim();
  const skew = options.clockSkewSeconds ?? 60;
  if (!Number.isFinite(skew) || skew < 0 || skew > 300) {
    throw new RangeError(`clockSkewSeconds must be within 0..300, got ${skew}`);
  }
  const skewMs = skew * 1000;
  const now = options.now ?? Date.now;
  const fail = (reason: BearerFailureReason): BearerResult => ({ ok: false, reason });
  const cacheSize = options.verifiedTokenCacheSize ?? 10_000;
  const verified = cacheSize > 0 ? new LRUCache<string, CryptoKey>({ max: cacheSize }) : undefined;

  return {
    async verify(authorizationHeader) {
      // 1. Absent or blank.
      const header = authorizationHeader?.trim() ?? '';
      if (header === '') return fail('AUTH_HEADER_MISSING');

      // 2. `Bearer ` matched case-insensitively, single space included; the rest trimmed.
      if (header.slice(0, BEARER_PREFIX.length).toLowerCase() !== BEARER_PREFIX) return fail('AUTH_SCHEME_INVALID');
      // The spec's "remaining token, trimmed, must not be empty" needs no check of its own here:
      // the header is already trimmed, so `Bearer` followed only by whitespace has lost the
      // prefix's space and was refused just above.
      const token = header.slice(BEARER_PREFIX.length).trim();

      // 3. Exactly three non-blank parts.
      const parts = token.split('.');
      const [headerPart, payloadPart, signaturePart] = parts;
      if (parts.length !== 3 || !headerPart?.trim() || !payloadPart?.trim() || !signaturePart?.trim()) {
        return fail('TOKEN_MALFORMED');
      }

      // 4. Header JSON with alg exactly RS256 — decided here, before any key lookup, so `none`
      //    and HS256-signed-with-the-public-key never reach a key or a JWKS fetch.
      const jose = decodeJsonObject(headerPart);
      if (!jose) return fail('TOKEN_HEADER_INVALID');
      if (jose.alg !== 'RS256') return fail('TOKEN_ALG_INVALID');

      // 5. Key by kid. JSON null counts as absent; a kid that is not a string names no key
      //    (and must not cost a forced JWKS refresh).
      const kid = jose.kid ?? undefined;
      if (kid !== undefined && typeof kid !== 'string') return fail('TOKEN_KID_UNKNOWN');
      const lookup = await jwks.keyFor(kid);
      if (!lookup.ok) return fail(lookup.reason);

      // 6. RS256 signature, by jose — unless this exact token already verified with this exact key.
      const known = verified?.get(token) === lookup.key;
      if (!known && !(await signatureValid(token, signaturePart, lookup.key))) return fail('TOKEN_SIGNATURE_INVALID');

      // 7. Payload JSON.
      const claims = decodeJsonObject(payloadPart);
      if (!claims) return fail('TOKEN_PAYLOAD_INVALID');

      // 8. Subject: sub, or user_id when sub is absent or null (an empty sub string is NOT replaced).
      const rawSubject = claims.sub ?? claims.user_id;
      const subject = typeof rawSubject === 'string' ? rawSubject.trim() : '';
      if (subject === '') return fail('TOKEN_USER_ID_MISSING');

      // 9. Issuer, exact, when one is configured.
      if (expectedIssuer !== '' && claims.iss !== expectedIssuer) return fail('TOKEN_ISSUER_INVALID');

      // 10. exp present and positive, and not past (beyond the leeway); nbf not in the future.
      const { exp, nbf } = claims;
      if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= 0) return fail('TOKEN_EXP_MISSING');
      const nowMs = now();
      if (exp * 1000 <= nowMs - skewMs) return fail('TOKEN_EXPIRED');
      // auth-service never sets nbf; a present one that is not a number cannot be shown to be past.
      if (nbf != null && (typeof nbf !== 'number' || !Number.isFinite(nbf) || nbf * 1000 > nowMs + skewMs)) {
        return fail('TOKEN_NOT_YET_VALID');
      }

      // 11. Roles.
      if (!known) verified?.set(token, lookup.key, { ttl: Math.max(1, exp * 1000 + skewMs - nowMs) });
      return { ok: true, subject, roles: rolesOf(claims.roles), claims };
    },
  };
}

/**
 * RS256 over the ASCII bytes of `header.payload`, verified by jose (`algorithms: ['RS256']`,
 * so jose refuses any other alg on its own too). jose decodes the payload only after the
 * signature verified; when that decoding is what failed, the signature itself was good and step
 * 7 reports TOKEN_PAYLOAD_INVALID, in the spec's order.
 */
async function signatureValid(token: string, signaturePart: string, key: CryptoKey): Promise<boolean> {
  // jose's own base64url decoder is lenient; the spec calls a non-base64url signature invalid.
  if (!decodeBase64url(signaturePart)) return false;
  try {
    await compactVerify(token, key, { algorithms: ['RS256'] });
    return true;
  } catch (err) {
    return err instanceof errors.JWSInvalid && err.message === 'Failed to base64url decode the payload';
  }
}

/**
 * Step 11: an array's elements as text (strings, numbers, booleans), trimmed, blanks dropped;
 * null, objects and nested arrays are no role. Anything but an array is no roles.
 */
function rolesOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .map((role) =>
      typeof role === 'string' || typeof role === 'number' || typeof role === 'boolean' ? String(role).trim() : '',
    )
    .filter((role) => role !== '');
}

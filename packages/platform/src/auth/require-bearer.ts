import { AppError } from '../http/errors.js';
import type { BearerFailureReason, BearerVerifier } from './bearer.js';

/** Who the verified token speaks for. */
export interface Principal {
  readonly subject: string;
  readonly roles: readonly string[];
}

/**
 * The part of a Fastify request this module reads. Structural, so a route's request with any
 * schema or type provider fits, and no Fastify decorator (with its global declaration merging)
 * is needed.
 */
export interface BearerRequest {
  readonly headers: { readonly authorization?: string | undefined };
}

// Keyed by the request object itself: gone with the request, invisible to everything else.
const principals = new WeakMap<object, Principal>();

/** The principal `authenticate`/`requireBearer` attached to this request, if any. */
export function principalOf(request: object): Principal | undefined {
  return principals.get(request);
}

const MESSAGES: Record<BearerFailureReason, string> = {
  AUTH_HEADER_MISSING: 'Authorization header is required',
  AUTH_SCHEME_INVALID: 'Authorization must use the Bearer scheme',
  TOKEN_MALFORMED: 'bearer token is not a compact JWS',
  TOKEN_HEADER_INVALID: 'bearer token header is invalid',
  TOKEN_ALG_INVALID: 'bearer token algorithm must be RS256',
  JWKS_UNAVAILABLE: 'signing keys are unavailable',
  TOKEN_KID_UNKNOWN: 'bearer token key id is unknown',
  TOKEN_KID_AMBIGUOUS: 'bearer token has no key id and several keys are published',
  TOKEN_SIGNATURE_INVALID: 'bearer token signature is invalid',
  TOKEN_PAYLOAD_INVALID: 'bearer token payload is invalid',
  TOKEN_USER_ID_MISSING: 'bearer token has no subject',
  TOKEN_ISSUER_INVALID: 'bearer token issuer is not accepted',
  TOKEN_EXP_MISSING: 'bearer token has no valid expiry',
  TOKEN_EXPIRED: 'bearer token has expired',
  TOKEN_NOT_YET_VALID: 'bearer token is not valid yet',
};

/** The 401 for a refused token. The reason code goes into the body's `code`. */
export function unauthorized(reason: BearerFailureReason): AppError {
  // RFC 6750 §3.1: a request with no bearer credentials at all gets the bare challenge, without
  // an error code; a request whose token was refused gets `invalid_token`.
  const noCredentials = reason === 'AUTH_HEADER_MISSING' || reason === 'AUTH_SCHEME_INVALID';
  return new AppError('unauthorized', reason, MESSAGES[reason], {
    headers: { 'WWW-Authenticate': noCredentials ? 'Bearer' : 'Bearer error="invalid_token"' },
  });
}

/**
 * Step 1 of a protected route: verify the Authorization header (401 on failure) and attach the
 * principal to the request. Routes with their own ordering (order creation: 401, then 400 for a
 * userId that is not the subject, then 403) call this, compare, then `assertRole`.
 */
export async function authenticate(verifier: BearerVerifier, request: BearerRequest): Promise<Principal> {
  const result = await verifier.verify(request.headers.authorization);
  if (!result.ok) throw unauthorized(result.reason);
  const principal: Principal = { subject: result.subject, roles: result.roles };
  principals.set(request, principal);
  return principal;
}

/** Case-insensitive membership; a blank (or absent) required role turns the check off. */
export function hasRole(roles: readonly string[], requiredRole: string | undefined): boolean {
  const wanted = requiredRole?.trim().toLowerCase() ?? '';
  return wanted === '' || roles.some((role) => role.toLowerCase() === wanted);
}

/** 403 unless the principal holds the role (see `hasRole`). */
export function assertRole(principal: Principal, requiredRole: string | undefined): void {
  if (hasRole(principal.roles, requiredRole)) return;
  throw new AppError('forbidden', 'ROLE_MISSING', `the token lacks the required role "${requiredRole?.trim()}"`, {
    headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' },
  });
}

/**
 * A preHandler for routes where nothing sits between authentication and the role check (admin
 * endpoints): 401 via `authenticate`, then 403 via `assertRole`. Read the principal in the
 * handler with `principalOf(request)`.
 */
export function requireBearer(
  verifier: BearerVerifier,
  options: { requiredRole?: string | undefined } = {},
): (request: BearerRequest) => Promise<void> {
  return async (request) => {
    const principal = await authenticate(verifier, request);
    assertRole(principal, options.requiredRole);
  };
}

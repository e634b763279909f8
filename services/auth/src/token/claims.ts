import type { TokenRequest } from './schema.js';

/** JOSE header, members in the order the spec fixes: alg, typ, kid (http-api.md §5.4). */
// A type alias, not an interface: jose's header parameter type wants an index signature.
export type TokenHeader = {
  alg: 'RS256';
  typ: 'JWT';
  kid: string;
};

/** JWT claims, members in the order the spec fixes: sub, user_id, roles, iss, iat, exp. */
export interface TokenPayload {
  sub: string;
  user_id: string;
  roles: string[];
  iss: string;
  iat: number;
  exp: number;
}

export interface TokenClaims {
  header: TokenHeader;
  payload: TokenPayload;
  /** Issue instant + TTL, with the issue instant's milliseconds (exp is the same instant, truncated). */
  expiresAt: Date;
}

export interface IssueContext {
  now: Date;
  issuer: string;
  kid: string;
  defaultTtlSeconds: number;
}

/** What a valid token request turns into; pure, so the member order and the arithmetic are testable. */
export function decideClaims(request: TokenRequest, ctx: IssueContext): TokenClaims {
  const userId = request.userId.trim();
  const roles = (request.roles ?? []).map((role) => role.trim());
  const ttlSeconds = request.ttlSeconds ?? ctx.defaultTtlSeconds;
  const expiresAt = new Date(ctx.now.getTime() + ttlSeconds * 1000);
  // Object literals keep insertion order through JSON.stringify: this IS the wire order.
  return {
    header: { alg: 'RS256', typ: 'JWT', kid: ctx.kid },
    payload: {
      sub: userId,
      user_id: userId,
      roles,
      iss: ctx.issuer,
      iat: epochSeconds(ctx.now),
      exp: epochSeconds(expiresAt),
    },
    expiresAt,
  };
}

export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

import { ErrorResponse, type HttpApp, type RouteRateLimit, rateLimitConfig } from '@ecom/platform';
import type { KeyRing } from '../keys/key-ring.js';
import { decideClaims } from './claims.js';
import { TokenRequest, TokenResponse } from './schema.js';
import { signToken } from './sign.js';

export interface TokenRouteDeps {
  keys: KeyRing;
  issuer: string;
  defaultTtlSeconds: number;
  clock: () => Date;
  /** Per client IP (AUTH_RATE_LIMIT_MAX / AUTH_RATE_LIMIT_WINDOW_MS). */
  rateLimit: RouteRateLimit;
}

export function registerTokenRoute(app: HttpApp, deps: TokenRouteDeps): void {
  app.post(
    '/api/auth/token',
    {
      config: rateLimitConfig(deps.rateLimit),
      schema: {
        tags: ['auth'],
        summary: 'Issue an RS256 access token (mock identity provider: no authentication)',
        body: TokenRequest,
        response: {
          200: TokenResponse,
          400: ErrorResponse,
          413: ErrorResponse,
          415: ErrorResponse,
          429: ErrorResponse,
        },
      },
    },
    async (request): Promise<TokenResponse> => {
      const { current } = deps.keys;
      const claims = decideClaims(request.body, {
        now: deps.clock(),
        issuer: deps.issuer,
        kid: current.kid,
        defaultTtlSeconds: deps.defaultTtlSeconds,
      });
      // 200, not 201: nothing is created that could be fetched again (the original's status).
      return {
        accessToken: await signToken(claims.header, claims.payload, current.privateKey),
        tokenType: 'Bearer',
        expiresAt: claims.expiresAt.toISOString(),
        userId: claims.payload.sub,
        roles: claims.payload.roles,
      };
    },
  );
}

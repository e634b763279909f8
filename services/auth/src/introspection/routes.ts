import { ErrorResponse, type HttpApp, type RouteRateLimit, rateLimitConfig } from '@ecom/platform';
import type { VerificationKeySet } from '../keys/key-ring.js';
import { introspectToken } from './decide.js';
import { IntrospectRequest, IntrospectResponse, toIntrospectResponse } from './schema.js';

export interface IntrospectRouteDeps {
  keys: VerificationKeySet;
  issuer: string;
  clock: () => Date;
  /** Per client IP (AUTH_RATE_LIMIT_MAX / AUTH_RATE_LIMIT_WINDOW_MS). */
  rateLimit: RouteRateLimit;
}

export function registerIntrospectRoute(app: HttpApp, deps: IntrospectRouteDeps): void {
  app.post(
    '/api/auth/introspect',
    {
      config: rateLimitConfig(deps.rateLimit),
      schema: {
        tags: ['auth'],
        summary: 'Check a token; 200 with active=false and a reason code when it is not valid',
        body: IntrospectRequest,
        response: {
          200: IntrospectResponse,
          400: ErrorResponse,
          413: ErrorResponse,
          415: ErrorResponse,
          429: ErrorResponse,
        },
      },
    },
    async (request): Promise<IntrospectResponse> =>
      toIntrospectResponse(await introspectToken(request.body.token, deps.keys, deps.clock(), deps.issuer)),
  );
}

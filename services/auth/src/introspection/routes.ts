import type { HttpApp } from '@ecom/platform';
import type { VerificationKeySet } from '../keys/key-ring.js';
import { ErrorResponse } from '../schemas.js';
import { introspectToken } from './decide.js';
import { IntrospectRequest, IntrospectResponse, toIntrospectResponse } from './schema.js';

export interface IntrospectRouteDeps {
  keys: VerificationKeySet;
  issuer: string;
  clock: () => Date;
}

export function registerIntrospectRoute(app: HttpApp, deps: IntrospectRouteDeps): void {
  app.post(
    '/api/auth/introspect',
    {
      schema: {
        tags: ['auth'],
        summary: 'Check a token; 200 with active=false and a reason code when it is not valid',
        body: IntrospectRequest,
        response: { 200: IntrospectResponse, 400: ErrorResponse, 415: ErrorResponse },
      },
    },
    async (request): Promise<IntrospectResponse> =>
      toIntrospectResponse(await introspectToken(request.body.token, deps.keys, deps.clock(), deps.issuer)),
  );
}

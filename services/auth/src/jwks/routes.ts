import type { HttpApp } from '@ecom/platform';
import { Type } from 'typebox';
import type { VerificationKeySet } from '../keys/key-ring.js';
import { toJwks } from './jwks.js';

/** Verifiers cache the set for 5 minutes; a rotation must keep the old key published longer. */
export const JWKS_MAX_AGE_SECONDS = 300;

const JwksResponse = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.Literal('RSA'),
      kid: Type.String(),
      use: Type.Literal('sig'),
      alg: Type.Literal('RS256'),
      n: Type.String({ description: 'modulus, base64url without padding' }),
      e: Type.String({ description: 'exponent, base64url without padding' }),
    }),
  ),
});

export function registerJwksRoute(app: HttpApp, keys: VerificationKeySet): void {
  // The keys never change while the process runs: compute the document once.
  const document = toJwks(keys);
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['auth'],
        summary: 'Public keys that verify the issued tokens (current key first)',
        response: { 200: JwksResponse },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', `max-age=${JWKS_MAX_AGE_SECONDS}`);
      return document;
    },
  );
}

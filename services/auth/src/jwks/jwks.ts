import type { VerificationKeySet } from '../keys/key-ring.js';

export interface Jwk {
  kty: 'RSA';
  kid: string;
  use: 'sig';
  alg: 'RS256';
  n: string;
  e: string;
}

/**
 * The JWKS (http-api.md §5.3): the current key first, then the verification-only keys of
 * earlier rotations, so verifiers keep accepting tokens signed before the rotation.
 * Node's JWK export already gives `n`/`e` as unpadded, unsigned big-endian base64url.
 */
export function toJwks(keys: VerificationKeySet): { keys: Jwk[] } {
  return {
    keys: [keys.current, ...keys.previous].map(({ kid, publicKey }) => {
      const { n, e } = publicKey.export({ format: 'jwk' });
      if (!n || !e) throw new Error(`key ${kid} is not an RSA public key`);
      return { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n, e };
    }),
  };
}

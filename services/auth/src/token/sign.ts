import type { KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import type { TokenHeader, TokenPayload } from './claims.js';

/**
 * The compact JWS. CompactSign rather than SignJWT: we hand jose the exact payload bytes, so the
 * claim order is ours by construction; jose serializes the header with JSON.stringify, which
 * keeps the order of the object it is given. jose also refuses RSA keys under 2048 bits.
 */
export async function signToken(header: TokenHeader, payload: TokenPayload, privateKey: KeyObject): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader(header).sign(privateKey);
}

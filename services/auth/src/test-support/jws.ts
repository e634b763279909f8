import { type KeyObject, sign } from 'node:crypto';

/**
 * Test helpers that build compact JWS by hand with node:crypto — deliberately NOT through jose
 * or the service's own signer, so tests can craft any defect and check the service
 * independently.
 */
export function encodeSegment(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** RS256 (PKCS#1 v1.5, SHA-256) over the ASCII of `header.payload`, whatever the segments hold. */
export function signSegments(headerSegment: string, payloadSegment: string, privateKey: KeyObject): string {
  const signature = sign('sha256', Buffer.from(`${headerSegment}.${payloadSegment}`, 'ascii'), privateKey);
  return `${headerSegment}.${payloadSegment}.${signature.toString('base64url')}`;
}

export function craftToken(header: unknown, payload: unknown, privateKey: KeyObject): string {
  return signSegments(encodeSegment(header), encodeSegment(payload), privateKey);
}

/** The three segments, decoded to text. */
export function decodeSegments(token: string): { header: string; payload: string; signature: Buffer } {
  const [h = '', p = '', s = ''] = token.split('.');
  return {
    header: Buffer.from(h, 'base64url').toString(),
    payload: Buffer.from(p, 'base64url').toString(),
    signature: Buffer.from(s, 'base64url'),
  };
}

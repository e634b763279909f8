/**
 * Strict decoders for the parts of a compact JWS. Node's `Buffer.from(s, 'base64url')` silently
 * skips characters it does not know, which would let a mangled token decode to *something*;
 * introspection must call such a part "not base64url" instead (http-api.md §5.2).
 */

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * The bytes of a base64url string, or undefined unless it is the canonical unpadded encoding
 * (RFC 7515 §2). Canonical-only also closes signature malleability: `sig==` or a last character
 * with different unused bits would otherwise decode to the same bytes and verify, giving one
 * token several spellings (which breaks any deny-list keyed by the token text).
 */
export function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A JSON object from base64url(UTF-8 JSON), or undefined when any layer is invalid. */
export function decodeJsonObject(part: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(part);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(utf8.decode(bytes));
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function encodeJsonBase64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

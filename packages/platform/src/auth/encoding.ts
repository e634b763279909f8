/**
 * Strict decoders for the parts of a compact JWS (http-api.md §5.4: base64url without padding).
 * Node's `Buffer.from(s, 'base64url')` silently skips characters it does not know, so a mangled
 * part would decode to *something*; here it is simply "not base64url".
 */

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * The bytes of a base64url string, or undefined unless it is the canonical unpadded encoding
 * (RFC 7515 §2). Canonical-only also closes signature malleability: `sig==`, or a last character
 * with different unused bits, would otherwise decode to the same bytes and verify too.
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

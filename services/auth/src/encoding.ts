/**
 * The strict base64url/JSON decoders are the kernel's (the bearer verifier uses the same ones):
 * canonical unpadded base64url only, so a token has exactly one spelling (http-api.md §5.2, §5.4).
 */
export { decodeBase64url, decodeJsonObject, isJsonObject } from '@ecom/platform';

export function encodeJsonBase64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export {
  BEARER_FAILURE_REASONS,
  type BearerFailureReason,
  type BearerResult,
  type BearerVerifier,
  type BearerVerifierOptions,
  createBearerVerifier,
} from './bearer.js';
export { type BearerConfig, createBearerVerifierFromConfig, readBearerConfig, readBlankable } from './config.js';
export { decodeBase64url, decodeJsonObject, isJsonObject } from './encoding.js';
export {
  type AuthLogger,
  consoleAuthLogger,
  createJwksKeySource,
  DEFAULT_JWKS_URI,
  type JwksKeySource,
  type JwksKeySourceOptions,
  type JwksStatus,
  type KeyLookup,
  type KeyLookupFailure,
} from './jwks.js';
export {
  assertRole,
  authenticate,
  type BearerRequest,
  hasRole,
  type Principal,
  principalOf,
  requireBearer,
  unauthorized,
} from './require-bearer.js';

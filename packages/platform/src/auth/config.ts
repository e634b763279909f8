import { ConfigError, type EnvReader } from '../config/env.js';
import { type BearerVerifier, createBearerVerifier } from './bearer.js';
import { type AuthLogger, createJwksKeySource, DEFAULT_JWKS_URI, type JwksKeySource } from './jwks.js';

/** Bearer-token settings (operations.md §1.3, plus the kernel's recommended-improvement knobs). */
export interface BearerConfig {
  /** `AUTH_JWKS_URI`, http or https. */
  jwksUri: string;
  /** `AUTH_JWKS_CACHE_SECONDS`, ≥ 1. */
  jwksCacheSeconds: number;
  /** `AUTH_EXPECTED_ISSUER`; '' = issuer check off. */
  expectedIssuer: string;
  /** `AUTH_CLOCK_SKEW_SECONDS`, 0–300 (new; 0 = the original's no-leeway behaviour). */
  clockSkewSeconds: number;
  /** `AUTH_JWKS_FORCED_REFRESH_MIN_INTERVAL_MS`, ≥ 0 (new; 0 = forced refreshes not rate-limited). */
  forcedRefreshMinIntervalMs: number;
}

export function readBearerConfig(env: EnvReader): BearerConfig {
  const jwksUri = env.string('AUTH_JWKS_URI', DEFAULT_JWKS_URI);
  let url: URL;
  try {
    url = new URL(jwksUri);
  } catch {
    throw new ConfigError(`AUTH_JWKS_URI: not a URL: "${jwksUri}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`AUTH_JWKS_URI: must be an http or https URL, got "${jwksUri}"`);
  }
  return {
    jwksUri,
    jwksCacheSeconds: env.int('AUTH_JWKS_CACHE_SECONDS', 300, { min: 1 }),
    expectedIssuer: readBlankable(env, 'AUTH_EXPECTED_ISSUER', 'auth-service'),
    clockSkewSeconds: env.int('AUTH_CLOCK_SKEW_SECONDS', 60, { min: 0, max: 300 }),
    forcedRefreshMinIntervalMs: env.int('AUTH_JWKS_FORCED_REFRESH_MIN_INTERVAL_MS', 10_000, { min: 0 }),
  };
}

/**
 * A string setting where "set but blank" means "off" rather than "use the default" — the spec's
 * rule for `AUTH_EXPECTED_ISSUER` (and `AUTH_REQUIRED_ORDER_ROLE`). EnvReader treats blank as
 * unset, which would silently bring the default back, so this reads the raw environment:
 * unset → fallback; set → trimmed value, possibly ''.
 */
export function readBlankable(env: EnvReader, name: string, fallback: string): string {
  const value = env.env[name];
  return value === undefined ? fallback : value.trim();
}

/** The JWKS source and verifier for a config, as a service wires them at boot. */
export function createBearerVerifierFromConfig(
  config: BearerConfig,
  options: { logger?: AuthLogger } = {},
): { jwks: JwksKeySource; verifier: BearerVerifier } {
  const jwks = createJwksKeySource({
    uri: config.jwksUri,
    cacheSeconds: config.jwksCacheSeconds,
    forcedRefreshMinIntervalMs: config.forcedRefreshMinIntervalMs,
    logger: options.logger,
  });
  const verifier = createBearerVerifier({
    jwks,
    expectedIssuer: config.expectedIssuer,
    clockSkewSeconds: config.clockSkewSeconds,
  });
  return { jwks, verifier };
}

import type { ServiceModule } from '@ecom/platform';
import { type AuthConfig, readAuthConfig } from './config.js';
import { registerIntrospectRoute } from './introspection/routes.js';
import { registerJwksRoute } from './jwks/routes.js';
import { loadKeyRing } from './keys/load-key-ring.js';
import { registerTokenRoute } from './token/routes.js';

/**
 * auth-service (spec http-api.md §5): a MOCK identity provider — it issues RS256 tokens to
 * anyone who asks, introspects them and publishes the public keys. No database; the signing
 * key comes from config, from DATA_DIR, or is generated in memory (README "Key management").
 */
export const authService: ServiceModule<AuthConfig> = {
  name: 'auth-service',
  defaultPort: 8084,
  version: '0.1.0',
  description: 'Mock identity provider: issues RS256 JWTs, introspects them and serves the JWKS.',
  readConfig: readAuthConfig,
  async register(app, { config, logger }) {
    const keys = await loadKeyRing(config, logger);
    const clock = () => new Date();
    const { rateLimit } = config;
    registerTokenRoute(app, {
      keys,
      issuer: config.issuer,
      defaultTtlSeconds: config.defaultTtlSeconds,
      clock,
      rateLimit,
    });
    registerIntrospectRoute(app, { keys, issuer: config.issuer, clock, rateLimit });
    registerJwksRoute(app, keys);
  },
};

import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ConfigError, createService, type Service } from '@ecom/platform';
import { authService } from '../app.js';
import type { AuthConfig } from '../config.js';

/** Shared by the integration tests: services started in-process, keys made with node:crypto. */
export const QUIET = { LOG_LEVEL: 'error' };

export interface PemPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privatePem: string;
  publicPem: string;
  /** Computed here, straight from the spec's recipe. */
  kid: string;
}

export function pemPair(bits = 2048): PemPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    privateKey,
    publicKey,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    kid: createHash('sha256').update(spki).digest().subarray(0, 12).toString('base64url'),
  };
}

export const pemEnv = (pair: PemPair) => ({
  AUTH_RSA_PRIVATE_KEY_PEM: pair.privatePem,
  AUTH_RSA_PUBLIC_KEY_PEM: pair.publicPem,
});

export function start(env: Record<string, string> = {}): Promise<Service<AuthConfig>> {
  return createService(authService, { env: { ...QUIET, ...env } });
}

export async function issue(service: Service<AuthConfig>, body: unknown = { userId: 'alice', roles: ['buyer'] }) {
  const res = await service.app.inject({ method: 'POST', url: '/api/auth/token', payload: body as object });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as { accessToken: string; tokenType: string; expiresAt: string; userId: string; roles: string[] };
}

export async function introspect(service: Service<AuthConfig>, token: string) {
  const res = await service.app.inject({ method: 'POST', url: '/api/auth/introspect', payload: { token } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as {
    active: boolean;
    userId: string | null;
    roles: string[];
    expiresAt: string | null;
    reason: string | null;
  };
}

export async function jwksOf(service: Service<AuthConfig>) {
  return (await service.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as {
    keys: { kid: string; n: string; e: string }[];
  };
}

export function rejectsWithConfigError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  return assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CommonConfig, ConfigError, type EnvReader, type RouteRateLimit } from '@ecom/platform';
import type { PreviousKey } from './keys/key-ring.js';
import { assertKeyPairMatches, parsePrivateKeyPem, parsePublicKeyPem, splitPemBlocks } from './keys/pem.js';

/** Bounds of a requested token lifetime (http-api.md §5.1); the default must respect them too. */
export const TTL_MIN_SECONDS = 60;
export const TTL_MAX_SECONDS = 86_400;

/** Where the signing key comes from, in order of precedence (README "Key management"). */
export type KeySource =
  | { kind: 'configured'; privateKey: KeyObject; publicKey: KeyObject; origin: string }
  | { kind: 'persisted'; dir: string }
  | { kind: 'ephemeral' };

export interface AuthConfig {
  /** `iss` written into tokens and required by introspection. */
  issuer: string;
  defaultTtlSeconds: number;
  /** AUTH_RSA_KEY_ID (trimmed); undefined → derived from the public key. */
  explicitKid: string | undefined;
  keySource: KeySource;
  /** Verification-only keys of earlier rotations. */
  previousKeys: PreviousKey[];
  /**
   * `AUTH_RATE_LIMIT_MAX` requests per `AUTH_RATE_LIMIT_WINDOW_MS` per client IP on the token
   * and introspection endpoints (each counted on its own); max 0 turns the limit off.
   */
  rateLimit: RouteRateLimit;
}

export function readAuthConfig(env: EnvReader, common: CommonConfig): AuthConfig {
  return {
    issuer: env.string('AUTH_TOKEN_ISSUER', 'auth-service'),
    defaultTtlSeconds: env.int(['APP_AUTH_DEFAULT_TTL_SECONDS', 'APP_AUTH_DEFAULTTTLSECONDS'], 3600, {
      min: TTL_MIN_SECONDS,
      max: TTL_MAX_SECONDS,
    }),
    explicitKid: env.optionalString('AUTH_RSA_KEY_ID'),
    keySource: readKeySource(env, common.dataDir),
    previousKeys: readPreviousKeys(env),
    rateLimit: {
      max: env.int('AUTH_RATE_LIMIT_MAX', 60, { min: 0, max: 1_000_000_000 }),
      windowMs: env.int('AUTH_RATE_LIMIT_WINDOW_MS', 60_000, { min: 1000, max: 86_400_000 }),
    },
  };
}

const PRIVATE = { pem: 'AUTH_RSA_PRIVATE_KEY_PEM', file: 'AUTH_RSA_PRIVATE_KEY_FILE' } as const;
const PUBLIC = { pem: 'AUTH_RSA_PUBLIC_KEY_PEM', file: 'AUTH_RSA_PUBLIC_KEY_FILE' } as const;
const PREVIOUS = { pem: 'AUTH_RSA_PREVIOUS_PUBLIC_KEYS_PEM', file: 'AUTH_RSA_PREVIOUS_PUBLIC_KEYS_FILE' } as const;

function readKeySource(env: EnvReader, dataDir: string | undefined): KeySource {
  const priv = readPemSetting(env, PRIVATE);
  const pub = readPemSetting(env, PUBLIC);
  // Half a key pair is a deployment mistake; silently generating a key instead would
  // invalidate every token the operator expected to stay valid (spec: startup failure).
  if (priv && !pub) throw new ConfigError(`${PUBLIC.pem} (or ${PUBLIC.file}) must be set when ${priv.name} is set`);
  if (pub && !priv) throw new ConfigError(`${PRIVATE.pem} (or ${PRIVATE.file}) must be set when ${pub.name} is set`);
  if (priv && pub) {
    const privateKey = parseWith(priv, parsePrivateKeyPem);
    const publicKey = parseWith(pub, parsePublicKeyPem);
    try {
      assertKeyPairMatches(privateKey, publicKey);
    } catch (err) {
      throw new ConfigError(`${pub.name}: ${(err as Error).message} in ${priv.name}`);
    }
    return { kind: 'configured', privateKey, publicKey, origin: `${priv.name} + ${pub.name}` };
  }
  if (dataDir) return { kind: 'persisted', dir: join(dataDir, 'auth') };
  return { kind: 'ephemeral' };
}

function readPreviousKeys(env: EnvReader): PreviousKey[] {
  const setting = readPemSetting(env, PREVIOUS);
  if (!setting) return [];
  const blocks = parseWith(setting, splitPemBlocks);
  return blocks.map((block, i) => ({
    kid: block.kid,
    publicKey: parseWith({ ...setting, name: `${setting.name} (block ${i + 1})` }, () => parsePublicKeyPem(block.pem)),
  }));
}

interface PemSetting {
  /** The variable the text came from, for error messages. */
  name: string;
  text: string;
}

/** The PEM text from `<X>_PEM` or from the file named by `<X>_FILE` (a mounted secret); not both. */
function readPemSetting(env: EnvReader, names: { pem: string; file: string }): PemSetting | undefined {
  const inline = env.raw(names.pem);
  const file = env.raw(names.file);
  if (inline && file) throw new ConfigError(`${names.pem} and ${names.file} are both set; set only one`);
  if (inline) return { name: inline.name, text: inline.value };
  if (!file) return undefined;
  try {
    return { name: `${file.name} (${file.value})`, text: readFileSync(file.value, 'utf8') };
  } catch (err) {
    throw new ConfigError(
      `${file.name}: cannot read ${file.value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

function parseWith<T>(setting: PemSetting, parse: (text: string) => T): T {
  try {
    return parse(setting.text);
  } catch (err) {
    throw new ConfigError(`${setting.name}: ${(err as Error).message}`);
  }
}

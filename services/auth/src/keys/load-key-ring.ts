import { ConfigError, type ServiceDeps } from '@ecom/platform';
import type { AuthConfig, KeySource } from '../config.js';
import { generateRsaKeyPair, type KeyPair } from './generate.js';
import { buildKeyRing, type KeyRing } from './key-ring.js';
import { loadOrCreatePersistedKeyPair } from './persisted-key.js';

type Logger = ServiceDeps<AuthConfig>['logger'];

/** The service's key ring from its configured source (README "Key management"); logs the choice. */
export async function loadKeyRing(config: AuthConfig, logger: Logger): Promise<KeyRing> {
  const pair = await loadSigningKeyPair(config.keySource, logger);
  let ring: KeyRing;
  try {
    ring = buildKeyRing(pair, config.explicitKid, config.previousKeys);
  } catch (err) {
    throw new ConfigError(`AUTH_RSA_PREVIOUS_PUBLIC_KEYS_PEM: ${(err as Error).message}`);
  }
  logger.info(
    { kid: ring.current.kid, previousKids: ring.previous.map((k) => k.kid), keySource: config.keySource.kind },
    'signing key ready',
  );
  return ring;
}

async function loadSigningKeyPair(source: KeySource, logger: Logger): Promise<KeyPair> {
  switch (source.kind) {
    case 'configured':
      logger.info({ origin: source.origin }, 'using the configured RSA key pair');
      return source;
    case 'persisted': {
      const persisted = await loadOrCreatePersistedKeyPair(source.dir);
      logger.info(
        { path: persisted.path, created: persisted.created },
        'using the RSA key pair persisted under DATA_DIR',
      );
      if (persisted.looseMode) {
        logger.warn({ path: persisted.path }, 'the signing key file is readable by other users; chmod 600 it');
      }
      return persisted;
    }
    case 'ephemeral':
      logger.warn(
        'no AUTH_RSA_*_KEY_PEM and no DATA_DIR: generated an in-memory RSA key pair; ' +
          'every token dies with this process and replicas do not share keys',
      );
      return generateRsaKeyPair();
    default:
      return assertNever(source);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected key source ${JSON.stringify(value)}`);
}

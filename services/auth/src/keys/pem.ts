import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/** RS256 with a shorter modulus is forgeable in practice; jose refuses it too (RFC 7518 §3.3). */
export const MIN_RSA_BITS = 2048;

const MARKER = /-----(BEGIN|END)[^-]*-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The DER inside a PEM, the way the original reads it (http-api.md §5.4): drop the markers and
 * all whitespace, then standard base64. Literal `\n` sequences are dropped too, because PEMs
 * pasted into env files and CI secrets often arrive with their newlines escaped.
 */
export function pemToDer(pem: string): Buffer {
  const body = pem.replace(MARKER, '').replaceAll('\\n', '').replace(/\s+/g, '');
  if (body === '' || !BASE64.test(body) || body.length % 4 !== 0) {
    throw new Error('is not a PEM: expected base64 between -----BEGIN/END----- markers');
  }
  return Buffer.from(body, 'base64');
}

/** A PKCS#8 (`-----BEGIN PRIVATE KEY-----`) RSA private key of at least 2048 bits. */
export function parsePrivateKeyPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pemToDer(pem), format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new Error(`is not a PKCS#8 private key (-----BEGIN PRIVATE KEY-----): ${(err as Error).message}`);
  }
  assertStrongRsaKey(key);
  return key;
}

/** An X.509 SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`) RSA public key of at least 2048 bits. */
export function parsePublicKeyPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pemToDer(pem), format: 'der', type: 'spki' });
  } catch (err) {
    throw new Error(`is not a SubjectPublicKeyInfo public key (-----BEGIN PUBLIC KEY-----): ${(err as Error).message}`);
  }
  assertStrongRsaKey(key);
  return key;
}

export function assertStrongRsaKey(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`must be an RSA key (RS256), got ${key.asymmetricKeyType ?? key.type}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new Error(`RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required`);
}

/** A private key and a public key that do not belong together would sign tokens nobody can verify. */
export function assertKeyPairMatches(privateKey: KeyObject, publicKey: KeyObject): void {
  const derived = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  if (!derived.equals(publicKey.export({ format: 'der', type: 'spki' }))) {
    throw new Error('the public key does not belong to the private key');
  }
}

export interface PemBlock {
  /** From an optional `kid: <id>` line just before the block (RFC 7468 allows text between blocks). */
  kid: string | undefined;
  pem: string;
}

const BLOCK = /([\s\S]*?)(-----BEGIN ([^-]*)-----[\s\S]*?-----END \3-----)/g;
const KID_LABEL = /(?:^|\n)\s*kid\s*[:=]\s*(\S+)\s*$/;

/**
 * Several PEM blocks in one value (the verification-only previous keys). Each block may be
 * preceded by a `kid: <id>` line, needed only when that key's tokens carried an explicit
 * AUTH_RSA_KEY_ID instead of the derived one.
 */
export function splitPemBlocks(text: string): PemBlock[] {
  const normalized = text.replaceAll('\\n', '\n');
  const blocks: PemBlock[] = [];
  let consumed = 0;
  for (const match of normalized.matchAll(BLOCK)) {
    const before = match[1] ?? '';
    blocks.push({ kid: KID_LABEL.exec(before)?.[1], pem: match[2] ?? '' });
    consumed = (match.index ?? 0) + match[0].length;
  }
  if (blocks.length === 0 || normalized.slice(consumed).trim() !== '') {
    throw new Error('must hold one or more complete -----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY----- blocks');
  }
  return blocks;
}

export function toPkcs8Pem(privateKey: KeyObject): string {
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

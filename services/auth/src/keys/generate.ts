import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { MIN_RSA_BITS } from './pem.js';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const generate = promisify(generateKeyPair);

/** A fresh RSA pair, the size the spec asks for (2048 bits, e = 65537); off the event loop. */
export async function generateRsaKeyPair(): Promise<KeyPair> {
  return generate('rsa', { modulusLength: MIN_RSA_BITS, publicExponent: 0x10001 });
}

import type { KeyObject } from 'node:crypto';
import { deriveKid } from './kid.js';

export interface VerificationKey {
  kid: string;
  publicKey: KeyObject;
}

export interface SigningKey extends VerificationKey {
  privateKey: KeyObject;
}

/**
 * The keys the service holds: one current key that signs, plus verification-only keys from
 * before a rotation, published in the JWKS and accepted by introspection until their tokens
 * have expired.
 */
export interface KeyRing {
  current: SigningKey;
  previous: readonly VerificationKey[];
}

/** A public key to keep verifying after a rotation; `kid` undefined → derived from the key. */
export interface PreviousKey {
  kid: string | undefined;
  publicKey: KeyObject;
}

/**
 * Assembles the ring. The current kid is AUTH_RSA_KEY_ID when given, else derived. A previous
 * key identical to the current one is dropped (harmless leftover of a rotation); two different
 * keys under one kid would make verification ambiguous, so that is refused.
 */
export function buildKeyRing(
  pair: { privateKey: KeyObject; publicKey: KeyObject },
  explicitKid: string | undefined,
  previous: readonly PreviousKey[],
): KeyRing {
  const current: SigningKey = { ...pair, kid: explicitKid ?? deriveKid(pair.publicKey) };
  const kept: VerificationKey[] = [];
  const seen = new Map<string, KeyObject>([[current.kid, current.publicKey]]);
  for (const p of previous) {
    const kid = p.kid ?? deriveKid(p.publicKey);
    const holder = seen.get(kid);
    if (holder?.equals(p.publicKey)) continue;
    if (holder) throw new Error(`two different keys share the kid "${kid}"`);
    seen.set(kid, p.publicKey);
    kept.push({ kid, publicKey: p.publicKey });
  }
  return { current, previous: kept };
}

/** The keys introspection may verify with; a KeyRing is one. */
export interface VerificationKeySet {
  current: VerificationKey;
  previous: readonly VerificationKey[];
}

/** The key for a token's `kid`: an absent kid means the current key (the original accepts that). */
export function findVerificationKey(keys: VerificationKeySet, kid: string | undefined): KeyObject | undefined {
  if (kid === undefined) return keys.current.publicKey;
  return [keys.current, ...keys.previous].find((k) => k.kid === kid)?.publicKey;
}

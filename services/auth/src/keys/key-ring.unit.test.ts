import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { buildKeyRing, findVerificationKey } from './key-ring.js';
import { deriveKid } from './kid.js';

const current = generateKeyPairSync('rsa', { modulusLength: 2048 });
const old = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('buildKeyRing', () => {
  test('derives the current kid unless one is configured', () => {
    assert.equal(buildKeyRing(current, undefined, []).current.kid, deriveKid(current.publicKey));
    assert.equal(buildKeyRing(current, 'key-2026', []).current.kid, 'key-2026');
  });

  test('previous keys get their labelled or derived kid', () => {
    const ring = buildKeyRing(current, undefined, [{ kid: undefined, publicKey: old.publicKey }]);
    assert.deepEqual(
      ring.previous.map((k) => k.kid),
      [deriveKid(old.publicKey)],
    );
    const labelled = buildKeyRing(current, undefined, [{ kid: 'old-1', publicKey: old.publicKey }]);
    assert.deepEqual(
      labelled.previous.map((k) => k.kid),
      ['old-1'],
    );
  });

  test('drops a previous key that is the current key, refuses two keys under one kid', () => {
    assert.equal(
      buildKeyRing(current, undefined, [{ kid: undefined, publicKey: current.publicKey }]).previous.length,
      0,
    );
    assert.throws(() => buildKeyRing(current, 'k', [{ kid: 'k', publicKey: old.publicKey }]), /share the kid "k"/);
  });
});

describe('findVerificationKey', () => {
  const ring = buildKeyRing(current, 'now', [{ kid: 'before', publicKey: old.publicKey }]);
  test('absent kid → the current key; known kids → their key; unknown → undefined', () => {
    assert.ok(findVerificationKey(ring, undefined)?.equals(current.publicKey));
    assert.ok(findVerificationKey(ring, 'now')?.equals(current.publicKey));
    assert.ok(findVerificationKey(ring, 'before')?.equals(old.publicKey));
    assert.equal(findVerificationKey(ring, 'other'), undefined);
  });
});

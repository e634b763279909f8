import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  assertKeyPairMatches,
  parsePrivateKeyPem,
  parsePublicKeyPem,
  pemToDer,
  splitPemBlocks,
  toPkcs8Pem,
} from './pem.js';

const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const publicPem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const spki = pair.publicKey.export({ format: 'der', type: 'spki' });

describe('pemToDer', () => {
  test('strips the markers and all whitespace, then decodes standard base64', () => {
    assert.deepEqual(pemToDer(publicPem), spki);
    const mangled = `  ${publicPem.replaceAll('\n', '\r\n  \t')}  `;
    assert.deepEqual(pemToDer(mangled), spki);
  });

  test('accepts the bare base64 body and PEMs whose newlines arrived escaped as \\n', () => {
    assert.deepEqual(pemToDer(spki.toString('base64')), spki);
    assert.deepEqual(pemToDer(publicPem.replaceAll('\n', '\\n')), spki);
  });

  test('rejects empty or non-base64 content', () => {
    assert.throws(() => pemToDer('-----BEGIN PUBLIC KEY----------END PUBLIC KEY-----'), /not a PEM/);
    assert.throws(() => pemToDer('-----BEGIN PUBLIC KEY-----\nnot*base64!\n-----END PUBLIC KEY-----'), /not a PEM/);
  });
});

describe('parsePrivateKeyPem / parsePublicKeyPem', () => {
  test('read PKCS#8 and SPKI RSA keys', () => {
    assert.ok(parsePrivateKeyPem(privatePem).equals(pair.privateKey));
    assert.ok(parsePublicKeyPem(publicPem).equals(pair.publicKey));
    assert.equal(toPkcs8Pem(parsePrivateKeyPem(privatePem)), privatePem);
  });

  test('refuse the wrong kind of key in each slot', () => {
    assert.throws(() => parsePrivateKeyPem(publicPem), /PKCS#8/);
    assert.throws(() => parsePublicKeyPem(privatePem), /SubjectPublicKeyInfo/);
    const pkcs1 = pair.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
    assert.throws(() => parsePrivateKeyPem(pkcs1), /PKCS#8/);
  });

  test('refuse RSA keys under 2048 bits', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.throws(
      () => parsePrivateKeyPem(weak.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
      /1024 bits/,
    );
    assert.throws(
      () => parsePublicKeyPem(weak.publicKey.export({ format: 'pem', type: 'spki' }).toString()),
      /1024 bits/,
    );
  });

  test('refuse non-RSA keys', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(
      () => parsePublicKeyPem(ec.publicKey.export({ format: 'pem', type: 'spki' }).toString()),
      /must be an RSA key/,
    );
  });
});

describe('assertKeyPairMatches', () => {
  test('passes for a pair and fails for keys from different pairs', () => {
    assert.doesNotThrow(() => assertKeyPairMatches(pair.privateKey, pair.publicKey));
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    assert.throws(() => assertKeyPairMatches(pair.privateKey, other.publicKey), /does not belong/);
  });
});

describe('splitPemBlocks', () => {
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .publicKey.export({ format: 'pem', type: 'spki' })
    .toString();

  test('splits concatenated blocks and reads an optional kid label before each', () => {
    const blocks = splitPemBlocks(`kid: old-key-1\n${publicPem}\n${other}`);
    assert.equal(blocks.length, 2);
    assert.equal(blocks[0]?.kid, 'old-key-1');
    assert.equal(blocks[1]?.kid, undefined);
    assert.ok(parsePublicKeyPem(blocks[0]?.pem ?? '').equals(pair.publicKey));
    assert.equal(blocks[1]?.pem.trim(), other.trim());
  });

  test('handles escaped newlines', () => {
    const blocks = splitPemBlocks(`kid=abc\\n${publicPem.replaceAll('\n', '\\n')}`);
    assert.equal(blocks.length, 1);
    assert.equal(blocks[0]?.kid, 'abc');
    assert.ok(parsePublicKeyPem(blocks[0]?.pem ?? '').equals(pair.publicKey));
  });

  test('refuses text without a complete block, or trailing garbage', () => {
    assert.throws(() => splitPemBlocks('nothing here'), /complete/);
    assert.throws(() => splitPemBlocks(publicPem.replace('-----END PUBLIC KEY-----', '')), /complete/);
    assert.throws(() => splitPemBlocks(`${publicPem}\n-----BEGIN PUBLIC KEY-----\nAAAA`), /complete/);
  });
});

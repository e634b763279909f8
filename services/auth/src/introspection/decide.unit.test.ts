import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { buildKeyRing } from '../keys/key-ring.js';
import { craftToken, encodeSegment, signSegments } from '../test-support/jws.js';
import { INACTIVE_REASONS, type InactiveReason, type Introspection, introspectToken } from './decide.js';

const ISSUER = 'auth-service';
const NOW = new Date('2026-02-11T10:00:00.500Z');
const NOW_S = 1770804000; // NOW in whole seconds
const current = generateKeyPairSync('rsa', { modulusLength: 2048 });
const previous = generateKeyPairSync('rsa', { modulusLength: 2048 });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keys = buildKeyRing(current, 'cur', [{ kid: 'prev', publicKey: previous.publicKey }]);

const HEADER = { alg: 'RS256', typ: 'JWT', kid: 'cur' };
const PAYLOAD = { sub: 'alice', user_id: 'alice', roles: ['buyer'], iss: ISSUER, iat: NOW_S, exp: NOW_S + 3600 };

const good = (header: unknown = HEADER, payload: unknown = PAYLOAD, key = current.privateKey) =>
  craftToken(header, payload, key);
const decide = (token: string, issuer = ISSUER) => introspectToken(token, keys, NOW, issuer);

async function assertReason(token: string, reason: InactiveReason, issuer = ISSUER): Promise<void> {
  assert.deepEqual(await decide(token, issuer), { active: false, reason }, `token ${token.slice(0, 60)}…`);
}

describe('introspectToken: active tokens', () => {
  test('a well-formed token: subject, roles, exp in whole seconds', async () => {
    const result = await decide(good());
    assert.deepEqual(result, {
      active: true,
      userId: 'alice',
      roles: ['buyer'],
      expiresAt: new Date((NOW_S + 3600) * 1000),
    });
  });

  test('a token signed by a previous key, under its kid, is active', async () => {
    const result = await decide(good({ ...HEADER, kid: 'prev' }, PAYLOAD, previous.privateKey));
    assert.equal(result.active, true);
  });

  test('absent or null kid → verified with the current key', async () => {
    assert.equal((await decide(good({ alg: 'RS256', typ: 'JWT' }))).active, true);
    assert.equal((await decide(good({ alg: 'RS256', kid: null }))).active, true);
  });

  test('the token is trimmed', async () => {
    assert.equal((await decide(`  ${good()}\n`)).active, true);
  });

  test('subject: sub wins; user_id when sub is absent or null; trimmed', async () => {
    const subjectOf = async (payload: Record<string, unknown>) =>
      ((await decide(good(HEADER, payload))) as { userId?: string }).userId;
    assert.equal(await subjectOf({ ...PAYLOAD, sub: ' bob ', user_id: 'carol' }), 'bob');
    const { sub: _omit, ...withoutSub } = PAYLOAD;
    assert.equal(await subjectOf({ ...withoutSub, user_id: ' carol ' }), 'carol');
    assert.equal(await subjectOf({ ...PAYLOAD, sub: null, user_id: 'dave' }), 'dave');
  });

  test('roles: trimmed, blanks dropped, scalars as text; not an array → []', async () => {
    const rolesOf = async (roles: unknown) =>
      ((await decide(good(HEADER, { ...PAYLOAD, roles }))) as { roles?: string[] }).roles;
    assert.deepEqual(await rolesOf([' buyer ', '', '  ', 'admin', 7, true, null, {}, ['x']]), [
      'buyer',
      'admin',
      '7',
      'true',
    ]);
    assert.deepEqual(await rolesOf('buyer'), []);
    const { roles: _omit, ...withoutRoles } = PAYLOAD;
    assert.deepEqual(((await decide(good(HEADER, withoutRoles))) as { roles?: string[] }).roles, []);
  });

  test('expiresAt truncates a fractional exp to whole seconds; exp one second ahead is still active', async () => {
    const frac = (await decide(good(HEADER, { ...PAYLOAD, exp: NOW_S + 10.75 }))) as Introspection & {
      expiresAt?: Date;
    };
    assert.equal(frac.expiresAt?.toISOString(), new Date((NOW_S + 10) * 1000).toISOString());
    assert.equal((await decide(good(HEADER, { ...PAYLOAD, exp: NOW_S + 1 }))).active, true);
  });

  test('a blank configured issuer turns the issuer check off', async () => {
    assert.equal((await decide(good(HEADER, { ...PAYLOAD, iss: 'anyone' }), '  ')).active, true);
    const { iss: _omit, ...withoutIss } = PAYLOAD;
    assert.equal((await decide(good(HEADER, withoutIss), '')).active, true);
  });
});

describe('introspectToken: every reason code', () => {
  test('TOKEN_MISSING: blank token', async () => {
    await assertReason('', 'TOKEN_MISSING');
    await assertReason(' \t\n', 'TOKEN_MISSING');
  });

  test('TOKEN_MALFORMED: not exactly three non-blank parts', async () => {
    const [h, p, s] = good().split('.');
    for (const token of [
      'abc',
      `${h}.${p}`,
      `${h}.${p}.${s}.${s}`,
      `${h}..${s}`,
      `${h}.${p}.`,
      `.${p}.${s}`,
      `${h}. .${s}`,
    ]) {
      await assertReason(token, 'TOKEN_MALFORMED');
    }
  });

  test('TOKEN_HEADER_INVALID: header not base64url JSON object', async () => {
    const [, p, s] = good().split('.');
    for (const h of [
      'a*b',
      encodeSegment('{not json'),
      encodeSegment('[1,2]'),
      encodeSegment('"RS256"'),
      'eyJhbGciOiJSUzI1NiJ9+',
    ]) {
      await assertReason(`${h}.${p}.${s}`, 'TOKEN_HEADER_INVALID');
    }
  });

  test('TOKEN_ALG_INVALID: alg not exactly RS256 (none, HS256, rs256, missing)', async () => {
    await assertReason(
      `${encodeSegment({ alg: 'none', typ: 'JWT' })}.${encodeSegment(PAYLOAD)}.x`,
      'TOKEN_ALG_INVALID',
    );
    // The classic confusion attack: HMAC keyed with the public key's PEM.
    const publicPem = current.publicKey.export({ format: 'pem', type: 'spki' });
    const input = `${encodeSegment({ alg: 'HS256', typ: 'JWT', kid: 'cur' })}.${encodeSegment(PAYLOAD)}`;
    await assertReason(
      `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`,
      'TOKEN_ALG_INVALID',
    );
    await assertReason(good({ ...HEADER, alg: 'rs256' }), 'TOKEN_ALG_INVALID');
    await assertReason(good({ typ: 'JWT', kid: 'cur' }), 'TOKEN_ALG_INVALID');
  });

  test('TOKEN_KID_UNKNOWN: a kid in neither the current nor the previous keys', async () => {
    await assertReason(good({ ...HEADER, kid: 'nope' }), 'TOKEN_KID_UNKNOWN');
    await assertReason(good({ ...HEADER, kid: '' }), 'TOKEN_KID_UNKNOWN');
    await assertReason(good({ ...HEADER, kid: 42 }), 'TOKEN_KID_UNKNOWN');
    // The kid check runs before the signature check: a stranger's valid signature changes nothing.
    await assertReason(good({ ...HEADER, kid: 'nope' }, PAYLOAD, stranger.privateKey), 'TOKEN_KID_UNKNOWN');
  });

  test('TOKEN_SIGNATURE_INVALID: wrong key, tampered parts, non-base64url signature', async () => {
    await assertReason(good(HEADER, PAYLOAD, stranger.privateKey), 'TOKEN_SIGNATURE_INVALID');
    // A token from the previous key presented under the current kid (or with no kid).
    await assertReason(good(HEADER, PAYLOAD, previous.privateKey), 'TOKEN_SIGNATURE_INVALID');
    await assertReason(good({ alg: 'RS256' }, PAYLOAD, previous.privateKey), 'TOKEN_SIGNATURE_INVALID');
    const [h, p, s = ''] = good().split('.');
    const forgedPayload = encodeSegment({ ...PAYLOAD, roles: ['admin'] });
    await assertReason(`${h}.${forgedPayload}.${s}`, 'TOKEN_SIGNATURE_INVALID');
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    await assertReason(`${h}.${p}.${flipped}`, 'TOKEN_SIGNATURE_INVALID');
    await assertReason(`${h}.${p}.${s.slice(0, -4)}*${s.slice(-3)}`, 'TOKEN_SIGNATURE_INVALID');
    // Other spellings of the same signature bytes: padded, or different unused low bits in
    // the last character (256 bytes = 342 characters, 4 bits unused).
    await assertReason(`${h}.${p}.${s}==`, 'TOKEN_SIGNATURE_INVALID');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(s.slice(-1)) ^ 1] ?? '';
    assert.deepEqual(Buffer.from(`${s.slice(0, -1)}${twin}`, 'base64url'), Buffer.from(s, 'base64url'));
    await assertReason(`${h}.${p}.${s.slice(0, -1)}${twin}`, 'TOKEN_SIGNATURE_INVALID');
  });

  test('TOKEN_PAYLOAD_INVALID: correctly signed, but the payload is not base64url JSON', async () => {
    const h = encodeSegment(HEADER);
    await assertReason(signSegments(h, 'a*b', current.privateKey), 'TOKEN_PAYLOAD_INVALID');
    await assertReason(signSegments(h, encodeSegment('{not json'), current.privateKey), 'TOKEN_PAYLOAD_INVALID');
    await assertReason(signSegments(h, encodeSegment('["alice"]'), current.privateKey), 'TOKEN_PAYLOAD_INVALID');
    // The same bad payload with a bad signature is a signature failure: that check comes first.
    await assertReason(signSegments(h, 'a*b', stranger.privateKey), 'TOKEN_SIGNATURE_INVALID');
  });

  test('TOKEN_USER_ID_MISSING: no usable subject', async () => {
    const { sub: _s, user_id: _u, ...neither } = PAYLOAD;
    await assertReason(good(HEADER, neither), 'TOKEN_USER_ID_MISSING');
    await assertReason(good(HEADER, { ...PAYLOAD, sub: '', user_id: 'alice' }), 'TOKEN_USER_ID_MISSING');
    await assertReason(good(HEADER, { ...PAYLOAD, sub: '   ', user_id: 'alice' }), 'TOKEN_USER_ID_MISSING');
    await assertReason(good(HEADER, { ...PAYLOAD, sub: null, user_id: '  ' }), 'TOKEN_USER_ID_MISSING');
    await assertReason(good(HEADER, { ...PAYLOAD, sub: 12345 }), 'TOKEN_USER_ID_MISSING');
  });

  test('TOKEN_ISSUER_INVALID: iss differs from or lacks the configured issuer', async () => {
    await assertReason(good(HEADER, { ...PAYLOAD, iss: 'evil' }), 'TOKEN_ISSUER_INVALID');
    await assertReason(good(HEADER, { ...PAYLOAD, iss: ' auth-service' }), 'TOKEN_ISSUER_INVALID');
    const { iss: _omit, ...withoutIss } = PAYLOAD;
    await assertReason(good(HEADER, withoutIss), 'TOKEN_ISSUER_INVALID');
    await assertReason(good(HEADER, PAYLOAD), 'TOKEN_ISSUER_INVALID', 'other-issuer');
  });

  test('TOKEN_EXP_MISSING: exp absent, non-numeric or ≤ 0', async () => {
    const { exp: _omit, ...withoutExp } = PAYLOAD;
    await assertReason(good(HEADER, withoutExp), 'TOKEN_EXP_MISSING');
    for (const exp of [null, String(NOW_S + 3600), 0, -5, true, 1e20]) {
      await assertReason(good(HEADER, { ...PAYLOAD, exp }), 'TOKEN_EXP_MISSING');
    }
  });

  test('TOKEN_EXPIRED: exp ≤ now, no leeway', async () => {
    await assertReason(good(HEADER, { ...PAYLOAD, exp: NOW_S }), 'TOKEN_EXPIRED'); // 10:00:00 ≤ 10:00:00.500
    await assertReason(good(HEADER, { ...PAYLOAD, exp: NOW_S - 3600 }), 'TOKEN_EXPIRED');
    await assertReason(good(HEADER, { ...PAYLOAD, exp: NOW_S + 0.5 }), 'TOKEN_EXPIRED'); // exactly now
  });

  test('every reason code in the spec table is covered by a case above, in table order', () => {
    assert.deepEqual(INACTIVE_REASONS, [
      'TOKEN_MISSING',
      'TOKEN_MALFORMED',
      'TOKEN_HEADER_INVALID',
      'TOKEN_ALG_INVALID',
      'TOKEN_KID_UNKNOWN',
      'TOKEN_SIGNATURE_INVALID',
      'TOKEN_PAYLOAD_INVALID',
      'TOKEN_USER_ID_MISSING',
      'TOKEN_ISSUER_INVALID',
      'TOKEN_EXP_MISSING',
      'TOKEN_EXPIRED',
    ]);
  });
});

describe('introspectToken: the first failing check wins', () => {
  test('each check shadows every later one', async () => {
    const expiredWrongIssuerNoSub = { iss: 'evil', exp: NOW_S - 10 };
    await assertReason(good(HEADER, expiredWrongIssuerNoSub), 'TOKEN_USER_ID_MISSING');
    await assertReason(good(HEADER, { ...PAYLOAD, iss: 'evil', exp: 'never' }), 'TOKEN_ISSUER_INVALID');
    await assertReason(good(HEADER, { ...PAYLOAD, exp: -1 }), 'TOKEN_EXP_MISSING');
    await assertReason(good(HEADER, expiredWrongIssuerNoSub, stranger.privateKey), 'TOKEN_SIGNATURE_INVALID');
    await assertReason(
      good({ alg: 'HS256', kid: 'nope' }, expiredWrongIssuerNoSub, stranger.privateKey),
      'TOKEN_ALG_INVALID',
    );
    await assertReason(
      good({ alg: 'RS256', kid: 'nope' }, expiredWrongIssuerNoSub, stranger.privateKey),
      'TOKEN_KID_UNKNOWN',
    );
  });
});

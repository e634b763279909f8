import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK } from 'jose';
import { BEARER_FAILURE_REASONS, type BearerFailureReason, type BearerResult, createBearerVerifier } from './bearer.js';
import { type AuthLogger, createJwksKeySource, type JwksKeySourceOptions } from './jwks.js';

// ---------------------------------------------------------------------------------------------
// Harness: keys made here, a JWKS served by a tiny node:http server that counts fetches and can
// be told to fail, and tokens crafted by hand with WebCrypto (not through jose or the code
// under test) so that any defect can be built.
// ---------------------------------------------------------------------------------------------

const ISSUER = 'auth-service';
const T0 = Date.parse('2026-02-11T10:00:00.500Z');
const T0_S = Math.floor(T0 / 1000);

interface Pair {
  kid: string;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function rsaPair(kid: string): Promise<Pair> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  return { kid, publicKey, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' } };
}

let keyA: Pair;
let keyB: Pair;
let publicPemA: string;
// jose refuses to generate < 2048 bits, so the weak key comes from node:crypto.
const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
const weakJwk = { ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak', use: 'sig', alg: 'RS256' };

before(async () => {
  keyA = await rsaPair('key-a');
  keyB = await rsaPair('key-b');
  publicPemA = await exportSPKI(keyA.publicKey);
});

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** RS256 (PKCS#1 v1.5, SHA-256) over the ASCII of `h.p`, whatever the segments hold. */
function signSegments(h: string, p: string, key: CryptoKey | KeyObject): string {
  const keyObject = key instanceof KeyObject ? key : KeyObject.from(key);
  const signature = sign('sha256', Buffer.from(`${h}.${p}`, 'ascii'), keyObject);
  return `${h}.${p}.${signature.toString('base64url')}`;
}

const CLAIMS = { sub: 'alice', user_id: 'alice', roles: ['buyer'], iss: ISSUER, iat: T0_S, exp: T0_S + 3600 };

async function token(
  opts: { header?: Record<string, unknown>; claims?: Record<string, unknown>; key?: Pair } = {},
): Promise<string> {
  const key = opts.key ?? keyA;
  const header = opts.header ?? { alg: 'RS256', typ: 'JWT', kid: key.kid };
  return signSegments(b64(header), b64(opts.claims ?? CLAIMS), key.privateKey);
}

type Mode = 'ok' | 'status500' | 'reset' | 'hang' | 'notJwks';

interface JwksServer {
  url: string;
  fetches: number;
  keys: unknown[];
  mode: Mode;
  delayMs: number;
  lastHeaders: IncomingHttpHeaders | undefined;
  close(): Promise<void>;
}

async function jwksServer(keys: unknown[]): Promise<JwksServer> {
  const state: Omit<JwksServer, 'url' | 'close'> = { fetches: 0, keys, mode: 'ok', delayMs: 0, lastHeaders: undefined };
  const server: Server = createServer((req, res) => {
    state.fetches += 1;
    state.lastHeaders = req.headers;
    const answer = () => {
      switch (state.mode) {
        case 'hang':
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'status500': // with a perfectly good JWKS body: only the status makes it a failure
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
          return;
        case 'notJwks':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"foo":[]}');
          return;
        default:
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
      }
    };
    if (state.delayMs > 0) setTimeout(answer, state.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** A URL where nothing listens: a port that was just free. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/.well-known/jwks.json`;
}

interface LogLine {
  level: 'info' | 'warn';
  obj: object;
  msg: string | undefined;
}

function recordingLogger(): AuthLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
  };
}

interface Setup {
  server: JwksServer;
  clock: { now: number };
  logger: ReturnType<typeof recordingLogger>;
  verify: (authorization: string | undefined) => Promise<BearerResult>;
  jwks: ReturnType<typeof createJwksKeySource>;
}

const servers: JwksServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A fresh JWKS server, key source and verifier sharing one movable clock. */
async function setup(
  opts: {
    keys?: unknown[];
    expectedIssuer?: string;
    clockSkewSeconds?: number;
    verifiedTokenCacheSize?: number;
    uri?: string;
    jwks?: Partial<JwksKeySourceOptions>;
  } = {},
): Promise<Setup> {
  const server = await jwksServer(opts.keys ?? [keyA.jwk]);
  servers.push(server);
  const clock = { now: T0 };
  const logger = recordingLogger();
  const jwks = createJwksKeySource({ uri: opts.uri ?? server.url, logger, now: () => clock.now, ...opts.jwks });
  const verifier = createBearerVerifier({
    jwks,
    expectedIssuer: opts.expectedIssuer ?? ISSUER,
    clockSkewSeconds: opts.clockSkewSeconds,
    verifiedTokenCacheSize: opts.verifiedTokenCacheSize,
    now: () => clock.now,
  });
  return { server, clock, logger, jwks, verify: (h) => verifier.verify(h) };
}

const bearer = (t: string) => `Bearer ${t}`;

const seenReasons = new Set<BearerFailureReason>();

async function assertReason(s: Setup, authorization: string | undefined, reason: BearerFailureReason): Promise<void> {
  seenReasons.add(reason);
  assert.deepEqual(await s.verify(authorization), { ok: false, reason }, `header: ${authorization?.slice(0, 50)}`);
}

async function assertOk(s: Setup, authorization: string): Promise<Extract<BearerResult, { ok: true }>> {
  const result = await s.verify(authorization);
  assert.equal(result.ok, true, `expected ok, got ${JSON.stringify(result)}`);
  return result as Extract<BearerResult, { ok: true }>;
}

// ---------------------------------------------------------------------------------------------

describe('§5.5 steps 1–2: header and scheme', () => {
  test('a good token: subject, roles and claims', async () => {
    const s = await setup();
    const result = await assertOk(s, bearer(await token()));
    assert.equal(result.subject, 'alice');
    assert.deepEqual(result.roles, ['buyer']);
    assert.equal(result.claims.iss, ISSUER);
    assert.equal(s.server.lastHeaders?.accept, 'application/json');
  });

  test('absent or blank → AUTH_HEADER_MISSING, without touching the JWKS', async () => {
    const s = await setup();
    await assertReason(s, undefined, 'AUTH_HEADER_MISSING');
    await assertReason(s, '', 'AUTH_HEADER_MISSING');
    await assertReason(s, ' \t ', 'AUTH_HEADER_MISSING');
    assert.equal(s.server.fetches, 0);
  });

  test('not `Bearer <token>` → AUTH_SCHEME_INVALID', async () => {
    const s = await setup();
    const t = await token();
    await assertReason(s, 'Basic x', 'AUTH_SCHEME_INVALID');
    await assertReason(s, `Basic ${t}`, 'AUTH_SCHEME_INVALID');
    await assertReason(s, t, 'AUTH_SCHEME_INVALID'); // no scheme at all
    await assertReason(s, `Bearer\t${t}`, 'AUTH_SCHEME_INVALID'); // the single space is part of the prefix
    await assertReason(s, `Bearer${t}`, 'AUTH_SCHEME_INVALID');
    // "Bearer" + only whitespace: the trimmed header lost the prefix's space (the spec's empty token).
    await assertReason(s, 'Bearer', 'AUTH_SCHEME_INVALID');
    await assertReason(s, 'Bearer    ', 'AUTH_SCHEME_INVALID');
    assert.equal(s.server.fetches, 0);
  });

  test('the prefix is case-insensitive and the token is trimmed', async () => {
    const s = await setup();
    const t = await token();
    await assertOk(s, `bearer ${t}`);
    await assertOk(s, `BEARER ${t}`);
    await assertOk(s, `  bEaReR    ${t}  `);
  });
});

describe('§5.5 steps 3–4: shape, header, alg', () => {
  test('not exactly three non-blank parts → TOKEN_MALFORMED', async () => {
    const s = await setup();
    const [h, p, sig] = (await token()).split('.') as [string, string, string];
    await assertReason(s, bearer(`${h}.${p}`), 'TOKEN_MALFORMED');
    await assertReason(s, bearer(`${h}.${p}.${sig}.${sig}`), 'TOKEN_MALFORMED');
    await assertReason(s, bearer(`${h}..${sig}`), 'TOKEN_MALFORMED');
    await assertReason(s, bearer(`${h}.${p}.`), 'TOKEN_MALFORMED');
    await assertReason(s, bearer(`${h}. .${sig}`), 'TOKEN_MALFORMED');
    assert.equal(s.server.fetches, 0);
  });

  test('header not base64url JSON object → TOKEN_HEADER_INVALID', async () => {
    const s = await setup();
    const [, p, sig] = (await token()).split('.') as [string, string, string];
    for (const h of ['e30!', b64('not json'), b64('[1]'), b64('null'), `${b64({ alg: 'RS256' })}=`, '/+8']) {
      await assertReason(s, bearer(`${h}.${p}.${sig}`), 'TOKEN_HEADER_INVALID');
    }
    assert.equal(s.server.fetches, 0);
  });

  test('alg none, HS256 with the public key PEM as secret, rs256 → TOKEN_ALG_INVALID before any key lookup', async () => {
    const s = await setup();
    const p = b64(CLAIMS);
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${p}.AAAA`;
    await assertReason(s, bearer(none), 'TOKEN_ALG_INVALID');

    const hsHeader = b64({ alg: 'HS256', typ: 'JWT', kid: keyA.kid });
    const hmac = createHmac('sha256', publicPemA).update(`${hsHeader}.${p}`).digest('base64url');
    await assertReason(s, bearer(`${hsHeader}.${p}.${hmac}`), 'TOKEN_ALG_INVALID');

    await assertReason(s, bearer(await token({ header: { alg: 'rs256', kid: keyA.kid } })), 'TOKEN_ALG_INVALID');
    await assertReason(s, bearer(await token({ header: { alg: 'RS512', kid: keyA.kid } })), 'TOKEN_ALG_INVALID');
    await assertReason(s, bearer(await token({ header: { kid: keyA.kid } })), 'TOKEN_ALG_INVALID');
    assert.equal(s.server.fetches, 0, 'refused before the JWKS was even fetched');
  });
});

describe('§5.5 step 5: key lookup and the JWKS', () => {
  test('unknown kid → one forced refresh then 401; another unknown kid within 10 s → no fetch', async () => {
    const s = await setup();
    await assertOk(s, bearer(await token())); // warm the cache
    assert.equal(s.server.fetches, 1);

    await assertReason(s, bearer(await token({ header: { alg: 'RS256', kid: 'nope-1' } })), 'TOKEN_KID_UNKNOWN');
    assert.equal(s.server.fetches, 2, 'exactly one forced refresh');

    s.clock.now += 9_999;
    await assertReason(s, bearer(await token({ header: { alg: 'RS256', kid: 'nope-2' } })), 'TOKEN_KID_UNKNOWN');
    assert.equal(s.server.fetches, 2, 'rate-limited: no fetch within 10 s');

    s.clock.now += 1;
    await assertReason(s, bearer(await token({ header: { alg: 'RS256', kid: 'nope-3' } })), 'TOKEN_KID_UNKNOWN');
    assert.equal(s.server.fetches, 3, 'allowed again after 10 s');
  });

  test('the forced-refresh interval is configurable', async () => {
    const s = await setup({ jwks: { forcedRefreshMinIntervalMs: 0 } });
    await assertOk(s, bearer(await token()));
    for (const kid of ['x', 'y', 'z']) {
      await assertReason(s, bearer(await token({ header: { alg: 'RS256', kid } })), 'TOKEN_KID_UNKNOWN');
    }
    assert.equal(s.server.fetches, 4);
  });

  test('a flood of unknown kids at once costs one fetch', async () => {
    const s = await setup();
    await assertOk(s, bearer(await token()));
    s.server.delayMs = 30;
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => token({ header: { alg: 'RS256', kid: `random-${i}` } })),
    );
    const results = await Promise.all(tokens.map((t) => s.verify(bearer(t))));
    assert.ok(results.every((r) => !r.ok && r.reason === 'TOKEN_KID_UNKNOWN'));
    assert.equal(s.server.fetches, 2);
  });

  test('a kid that appears after rotation is accepted after the forced refresh', async () => {
    const s = await setup();
    await assertOk(s, bearer(await token()));
    s.server.keys = [keyB.jwk, keyA.jwk]; // auth-service rotated: new key first, previous kept
    const result = await assertOk(s, bearer(await token({ key: keyB })));
    assert.equal(result.subject, 'alice');
    assert.equal(s.server.fetches, 2);
    await assertOk(s, bearer(await token())); // the previous key still verifies, from the cache
    assert.equal(s.server.fetches, 2);
  });

  test('a kid that is not a string names no key and costs no forced refresh', async () => {
    const s = await setup();
    await assertOk(s, bearer(await token()));
    await assertReason(s, bearer(await token({ header: { alg: 'RS256', kid: 7 } })), 'TOKEN_KID_UNKNOWN');
    assert.equal(s.server.fetches, 1);
  });

  test('no kid: accepted only if the JWKS holds exactly one key', async () => {
    const one = await setup();
    await assertOk(one, bearer(await token({ header: { alg: 'RS256', typ: 'JWT' } })));
    await assertOk(one, bearer(await token({ header: { alg: 'RS256', kid: null } }))); // null = absent

    const two = await setup({ keys: [keyA.jwk, keyB.jwk] });
    await assertReason(two, bearer(await token({ header: { alg: 'RS256' } })), 'TOKEN_KID_AMBIGUOUS');
    await assertOk(two, bearer(await token())); // with its kid it is fine
  });

  test('a key without kid is stored under a placeholder that no token kid can name', async () => {
    const { kid: _omit, ...kidless } = keyA.jwk;
    const s = await setup({ keys: [kidless] });
    await assertOk(s, bearer(await token({ header: { alg: 'RS256' } })));
    const [placeholder] = s.jwks.status().kids;
    assert.ok(placeholder);
    await assertReason(s, bearer(await token({ header: { alg: 'RS256', kid: placeholder } })), 'TOKEN_KID_UNKNOWN');
  });

  test('unusable keys are ignored: 1024-bit, use≠sig, alg≠RS256, not RSA, blank n/e', async () => {
    const { n: _n, ...noN } = keyB.jwk;
    const s = await setup({
      keys: [
        weakJwk,
        { ...keyB.jwk, kid: 'enc', use: 'enc' },
        { ...keyB.jwk, kid: 'ps256', alg: 'PS256' },
        { kty: 'EC', kid: 'ec', crv: 'P-256', x: 'AAAA', y: 'AAAA' },
        { ...noN, kid: 'no-n' },
        { ...keyB.jwk, kid: 'blank-e', e: ' ' },
        { ...keyB.jwk, kid: 'blank-n', n: '  ' },
        { ...keyB.jwk, kid: 'kty-ec', kty: 'EC' }, // RSA numbers under another kty: still not RSA
        'not a key',
        keyA.jwk,
        { ...keyB.jwk, kid: 'nulls', use: null, alg: null }, // null = absent
      ],
    });
    const weakToken = signSegments(b64({ alg: 'RS256', kid: 'weak' }), b64(CLAIMS), weak.privateKey);
    await assertReason(s, bearer(weakToken), 'TOKEN_KID_UNKNOWN');
    for (const kid of ['enc', 'ps256', 'kty-ec', 'blank-n']) {
      await assertReason(s, bearer(await token({ header: { alg: 'RS256', kid }, key: keyB })), 'TOKEN_KID_UNKNOWN');
    }
    await assertOk(s, bearer(await token()));
    await assertOk(s, bearer(await token({ header: { alg: 'RS256', kid: 'nulls' }, key: keyB })));
    assert.deepEqual(s.jwks.status().kids, ['key-a', 'nulls']);
    const ignored = s.logger.lines.find((l) => l.msg === 'JWKS keys ignored');
    assert.ok(ignored, 'the ignored keys are logged');
    const why = JSON.stringify(ignored.obj);
    assert.match(why, /weak: modulus of 1024 bits/);
    assert.match(why, /blank-n: n or e missing/);
    assert.match(why, /kty-ec: kty \\"EC\\" is not RSA/);
  });

  test('JWKS down at first use → JWKS_UNAVAILABLE; it recovers once the JWKS answers', async () => {
    const s = await setup({ uri: await deadUrl() });
    await assertReason(s, bearer(await token()), 'JWKS_UNAVAILABLE');
    assert.ok(s.logger.lines.some((l) => l.level === 'warn' && l.msg?.includes('no keys')));

    const r = await setup();
    r.server.mode = 'status500';
    await assertReason(r, bearer(await token()), 'JWKS_UNAVAILABLE');
    assert.equal(r.server.fetches, 1);
    await assertReason(r, bearer(await token()), 'JWKS_UNAVAILABLE');
    assert.equal(r.server.fetches, 1, 'no new attempt within the retry backoff');
    r.server.mode = 'ok';
    r.clock.now += 1000;
    await assertOk(r, bearer(await token()));
    assert.equal(r.server.fetches, 2);
    assert.equal(r.jwks.status().lastFailure, undefined);
  });

  test('an answer that is not a JWKS, or has no usable key, is a failed fetch', async () => {
    const notJwks = await setup();
    notJwks.server.mode = 'notJwks';
    await assertReason(notJwks, bearer(await token()), 'JWKS_UNAVAILABLE');

    const onlyWeak = await setup({ keys: [weakJwk] });
    await assertReason(onlyWeak, bearer(await token()), 'JWKS_UNAVAILABLE');
    assert.match(onlyWeak.jwks.status().lastFailure?.message ?? '', /no usable key/);
  });

  test('a JWKS that never answers fails after the request timeout', async () => {
    const s = await setup({ jwks: { requestTimeoutMs: 150 } });
    s.server.mode = 'hang';
    const started = Date.now();
    await assertReason(s, bearer(await token()), 'JWKS_UNAVAILABLE');
    assert.ok(Date.now() - started < 2000);
    assert.match(s.jwks.status().lastFailure?.message ?? '', /within 150 ms/);
  });

  test('JWKS down after a successful fetch and cache expiry → the previous keys are still used', async () => {
    const s = await setup();
    await assertOk(s, bearer(await token()));
    s.server.mode = 'reset';
    s.clock.now += 300_000; // cache (300 s) expired
    await assertOk(s, bearer(await token()));
    assert.equal(s.server.fetches, 2, 'a refresh was attempted');
    assert.ok(s.logger.lines.some((l) => l.level === 'warn' && l.msg?.includes('keeping the previous keys')));

    await assertOk(s, bearer(await token()));
    assert.equal(s.server.fetches, 2, 'no retry within the backoff');

    s.server.mode = 'status500';
    s.clock.now += 1000;
    await assertOk(s, bearer(await token()));
    assert.equal(s.server.fetches, 3);

    s.server.mode = 'ok';
    s.server.keys = [keyB.jwk];
    s.clock.now += 1000;
    await assertOk(s, bearer(await token({ key: keyB })));
    await assertReason(s, bearer(await token()), 'TOKEN_KID_UNKNOWN'); // the fresh set replaced the stale one
  });

  test('the cache is used for AUTH_JWKS_CACHE_SECONDS, then refreshed', async () => {
    const s = await setup({ jwks: { cacheSeconds: 5 } });
    await assertOk(s, bearer(await token()));
    s.clock.now += 4_999;
    await assertOk(s, bearer(await token()));
    assert.equal(s.server.fetches, 1);
    s.clock.now += 1;
    await assertOk(s, bearer(await token()));
    assert.equal(s.server.fetches, 2);
  });

  test('50 parallel verifications with an empty cache → exactly 1 fetch', async () => {
    const s = await setup();
    s.server.delayMs = 50;
    const t = await token();
    const results = await Promise.all(Array.from({ length: 50 }, () => s.verify(bearer(t))));
    assert.ok(results.every((r) => r.ok));
    assert.equal(s.server.fetches, 1);
  });
});

describe('§5.5 steps 6–7: signature and payload', () => {
  test('tampered payload → TOKEN_SIGNATURE_INVALID', async () => {
    const s = await setup();
    const [h, , sig] = (await token()).split('.') as [string, string, string];
    const forged = b64({ ...CLAIMS, sub: 'mallory', roles: ['admin'] });
    await assertReason(s, bearer(`${h}.${forged}.${sig}`), 'TOKEN_SIGNATURE_INVALID');
  });

  test('tampered, non-base64url or non-canonical signature → TOKEN_SIGNATURE_INVALID', async () => {
    const s = await setup();
    const t = await token();
    const [h, p, sig] = t.split('.') as [string, string, string];
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    await assertReason(s, bearer(`${h}.${p}.${flipped}`), 'TOKEN_SIGNATURE_INVALID');
    await assertReason(s, bearer(`${h}.${p}.${sig}==`), 'TOKEN_SIGNATURE_INVALID');
    await assertReason(s, bearer(`${h}.${p}.${sig.slice(0, -1)}!`), 'TOKEN_SIGNATURE_INVALID');
    // Same bytes, other spelling: the last character's unused low bits set. Lenient decoders accept it.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.at(-1) ?? 'A');
    const respelled = `${sig.slice(0, -1)}${alphabet[last ^ 1]}`;
    assert.deepEqual(Buffer.from(respelled, 'base64url'), Buffer.from(sig, 'base64url'));
    await assertReason(s, bearer(`${h}.${p}.${respelled}`), 'TOKEN_SIGNATURE_INVALID');
    // Signed by another key under key-a's kid.
    await assertReason(
      s,
      bearer(await token({ header: { alg: 'RS256', kid: 'key-a' }, key: keyB })),
      'TOKEN_SIGNATURE_INVALID',
    );
  });

  test('a validly signed payload that is not base64url JSON → TOKEN_PAYLOAD_INVALID', async () => {
    const s = await setup();
    const h = b64({ alg: 'RS256', kid: keyA.kid });
    for (const p of [b64('not json'), b64('[1,2]'), '!!!!', `${b64(CLAIMS)}=`]) {
      await assertReason(s, bearer(signSegments(h, p, keyA.privateKey)), 'TOKEN_PAYLOAD_INVALID');
    }
  });
});

describe('§5.5 steps 8–11: claims', () => {
  const withClaims = async (claims: Record<string, unknown>) => bearer(await token({ claims }));

  test('subject: sub, else user_id when sub is absent or null; trimmed; blank → TOKEN_USER_ID_MISSING', async () => {
    const s = await setup();
    const { sub: _sub, ...noSub } = CLAIMS;
    assert.equal((await assertOk(s, await withClaims({ ...CLAIMS, sub: '  alice  ' }))).subject, 'alice');
    assert.equal((await assertOk(s, await withClaims({ ...CLAIMS, sub: null, user_id: ' bob ' }))).subject, 'bob');
    assert.equal((await assertOk(s, await withClaims({ ...noSub, user_id: 'bob' }))).subject, 'bob');
    await assertReason(s, await withClaims({ ...CLAIMS, sub: '', user_id: 'bob' }), 'TOKEN_USER_ID_MISSING');
    await assertReason(s, await withClaims({ ...CLAIMS, sub: '   ', user_id: 'bob' }), 'TOKEN_USER_ID_MISSING');
    await assertReason(s, await withClaims({ ...noSub, user_id: undefined }), 'TOKEN_USER_ID_MISSING');
    await assertReason(s, await withClaims({ ...CLAIMS, sub: 42 }), 'TOKEN_USER_ID_MISSING');
  });

  test('issuer: exact match when configured; a blank expected issuer turns the check off', async () => {
    const s = await setup();
    const { iss: _iss, ...noIss } = CLAIMS;
    await assertReason(s, await withClaims({ ...CLAIMS, iss: 'evil' }), 'TOKEN_ISSUER_INVALID');
    await assertReason(s, await withClaims({ ...CLAIMS, iss: 'Auth-Service' }), 'TOKEN_ISSUER_INVALID');
    await assertReason(s, await withClaims(noIss), 'TOKEN_ISSUER_INVALID');

    for (const expectedIssuer of ['', '   ']) {
      const off = await setup({ expectedIssuer });
      await assertOk(off, await withClaims({ ...CLAIMS, iss: 'evil' }));
      await assertOk(off, await withClaims(noIss));
    }
  });

  test('exp missing, not a number, 0 or negative → TOKEN_EXP_MISSING', async () => {
    const s = await setup();
    const { exp: _exp, ...noExp } = CLAIMS;
    await assertReason(s, await withClaims(noExp), 'TOKEN_EXP_MISSING');
    await assertReason(s, await withClaims({ ...CLAIMS, exp: 0 }), 'TOKEN_EXP_MISSING');
    await assertReason(s, await withClaims({ ...CLAIMS, exp: -5 }), 'TOKEN_EXP_MISSING');
    await assertReason(s, await withClaims({ ...CLAIMS, exp: String(T0_S + 3600) }), 'TOKEN_EXP_MISSING');
    await assertReason(s, await withClaims({ ...CLAIMS, exp: null }), 'TOKEN_EXP_MISSING');
  });

  test('exp: past beyond the 60 s leeway → TOKEN_EXPIRED; just past within it → ok', async () => {
    const s = await setup(); // default leeway 60 s; now = T0_S + 0.5 s
    await assertOk(s, await withClaims({ ...CLAIMS, exp: T0_S - 30 }));
    await assertOk(s, await withClaims({ ...CLAIMS, exp: T0_S - 59 }));
    await assertReason(s, await withClaims({ ...CLAIMS, exp: T0_S - 60 }), 'TOKEN_EXPIRED'); // 60.5 s ago
    await assertReason(s, await withClaims({ ...CLAIMS, exp: T0_S - 3600 }), 'TOKEN_EXPIRED');
  });

  test('clockSkewSeconds 0 reproduces the original: dead at the exp instant', async () => {
    const s = await setup({ clockSkewSeconds: 0 });
    await assertOk(s, await withClaims({ ...CLAIMS, exp: T0_S + 1 }));
    await assertReason(s, await withClaims({ ...CLAIMS, exp: T0_S }), 'TOKEN_EXPIRED'); // 0.5 s ago
    s.clock.now = (T0_S + 1) * 1000;
    await assertReason(s, await withClaims({ ...CLAIMS, exp: T0_S + 1 }), 'TOKEN_EXPIRED'); // exactly now
    assert.throws(
      () => createBearerVerifier({ jwks: s.jwks, expectedIssuer: ISSUER, clockSkewSeconds: 301 }),
      RangeError,
    );
    assert.throws(
      () => createBearerVerifier({ jwks: s.jwks, expectedIssuer: ISSUER, clockSkewSeconds: -1 }),
      RangeError,
    );
  });

  test('nbf in the future beyond the leeway → TOKEN_NOT_YET_VALID', async () => {
    const s = await setup();
    await assertReason(s, await withClaims({ ...CLAIMS, nbf: T0_S + 120 }), 'TOKEN_NOT_YET_VALID');
    await assertReason(s, await withClaims({ ...CLAIMS, nbf: 'soon' }), 'TOKEN_NOT_YET_VALID');
    await assertOk(s, await withClaims({ ...CLAIMS, nbf: T0_S + 30 })); // within the leeway
    await assertOk(s, await withClaims({ ...CLAIMS, nbf: T0_S - 30 }));
    await assertOk(s, await withClaims({ ...CLAIMS, nbf: null }));
  });

  test('roles: array elements as text, trimmed, blanks dropped; anything else → []', async () => {
    const s = await setup();
    const roles = async (value: unknown) => (await assertOk(s, await withClaims({ ...CLAIMS, roles: value }))).roles;
    assert.deepEqual(await roles([' buyer ', '', '   ', 42, true, null, {}, ['x'], 'Admin']), [
      'buyer',
      '42',
      'true',
      'Admin',
    ]);
    assert.deepEqual(await roles('buyer'), []);
    assert.deepEqual(await roles({ 0: 'buyer' }), []);
    assert.deepEqual(await roles(null), []);
    const { roles: _roles, ...noRoles } = CLAIMS;
    assert.deepEqual((await assertOk(s, await withClaims(noRoles))).roles, []);
  });
});

describe('verified-token cache', () => {
  /** Counts WebCrypto RSA verifications (what jose's compactVerify ends in) while fn runs. */
  async function rsaVerifications(fn: () => Promise<void>): Promise<number> {
    const subtle = globalThis.crypto.subtle;
    const original = subtle.verify;
    let calls = 0;
    subtle.verify = function (this: SubtleCrypto, ...args: Parameters<SubtleCrypto['verify']>) {
      calls++;
      return original.apply(this, args);
    } as SubtleCrypto['verify'];
    try {
      await fn();
    } finally {
      subtle.verify = original;
    }
    return calls;
  }

  test('the same token again skips the RSA verification, every other check still runs', async () => {
    const s = await setup();
    const t = await token();
    assert.equal(await rsaVerifications(async () => void (await assertOk(s, bearer(t)))), 1);
    assert.equal(
      await rsaVerifications(async () => {
        for (let i = 0; i < 5; i++) assert.equal((await assertOk(s, bearer(t))).subject, 'alice');
      }),
      0,
    );
    // Expiry is checked against the clock on every call, cached or not.
    s.clock.now = (CLAIMS.exp + 61) * 1000;
    await assertReason(s, bearer(t), 'TOKEN_EXPIRED');
  });

  test('a token is remembered with its key: the same kid now serving another key means verifying again (and failing)', async () => {
    const s = await setup({ jwks: { cacheSeconds: 5 } });
    const t = await token();
    await assertOk(s, bearer(t));
    // Rotation that reuses the kid: key-a's kid now names key-b's public key.
    s.server.keys = [{ ...keyB.jwk, kid: keyA.kid }];
    s.clock.now += 5_000; // the JWKS cache expires: the next lookup refetches
    const calls = await rsaVerifications(() => assertReason(s, bearer(t), 'TOKEN_SIGNATURE_INVALID'));
    assert.equal(calls, 1, 'the cached result is not used for a different key');
  });

  test('failures are never remembered; size 0 turns the cache off', async () => {
    const s = await setup();
    const [h, p] = (await token()).split('.');
    const forged = `${h}.${p}.${Buffer.alloc(256, 1).toString('base64url')}`;
    assert.equal(
      await rsaVerifications(async () => {
        await assertReason(s, bearer(forged), 'TOKEN_SIGNATURE_INVALID');
        await assertReason(s, bearer(forged), 'TOKEN_SIGNATURE_INVALID');
      }),
      2,
    );
    const off = await setup({ verifiedTokenCacheSize: 0 });
    const t = await token();
    assert.equal(
      await rsaVerifications(async () => {
        await assertOk(off, bearer(t));
        await assertOk(off, bearer(t));
      }),
      2,
    );
  });
});

test('every reason code is produced by some case above', () => {
  // Runs last: a reason code added without a case that produces it fails here.
  assert.deepEqual([...seenReasons].sort(), [...BEARER_FAILURE_REASONS].sort());
});

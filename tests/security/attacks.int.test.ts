/**
 * The attack suite (issue "Reliability and security proven"), each case its own test, on the
 * whole platform (embedded stack; ATTACK_MODE=real for the real servers):
 *   - forged, tampered and hostile JWTs against order-service's POST /api/orders and GET
 *     /api/orders/{id}: 100 % rejected, nothing created, nothing disclosed;
 *   - an Idempotency-Key reused by another user never discloses the first user's order;
 *   - spreadsheet formulas in a release reason are exported neutralized in the CSV;
 *   - auth-service's token and introspection endpoints answer 429 after the configured limit;
 *   - security headers on every kind of response, and Swagger UI still renders under its CSP.
 * The dashboard rendering hostile reasons as text is proven in Chromium by
 * services/inventory/src/dashboard.browser.int.test.ts (not repeated here).
 *
 * auth-service runs with a key pair made here, so the suite can sign tokens with the REAL key
 * (expired, wrong issuer, injected kid…): each rejection is then about the claim under test,
 * never about a signature that could not have verified anyway.
 */
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { authService } from '@ecom/auth-service';
import { createEvent } from '@ecom/contracts';
import { startTestService, type TestService, waitFor } from '@ecom/platform/testing';
import { chromium } from 'playwright-core';
import { json, placeOrder, seed, token } from '../e2e/client.js';
import { type Stack, type StackMode, startStack } from '../e2e/stack.js';

const MODE = (process.env.ATTACK_MODE ?? 'embedded') as StackMode;
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const KID = 'attack-suite-key';
const real = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

/** A compact JWS signed RS256 (PKCS#1 v1.5) with `key`, whatever the header and claims say. */
function rs256(header: object, claims: object, key: KeyObject = real.privateKey): string {
  const signingInput = `${b64(header)}.${b64(claims)}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), key).toString('base64url')}`;
}

function hs256(header: object, claims: object, secret: string | Buffer): string {
  const signingInput = `${b64(header)}.${b64(claims)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

const claimsOf = (over: Record<string, unknown> = {}) => ({
  sub: 'attacker',
  user_id: 'attacker',
  roles: ['buyer'],
  iss: 'auth-service',
  iat: nowS(),
  exp: nowS() + 3600,
  ...over,
});
const HEADER = { alg: 'RS256', typ: 'JWT', kid: KID };

interface Attack {
  name: string;
  /** The whole Authorization header value (undefined: none sent). */
  authorization: () => Promise<string | undefined> | string | undefined;
  /** Acceptable statuses; 401 unless said otherwise. */
  expect?: number[];
}

describe(`attacks on the ${MODE} stack`, () => {
  let stack: Stack;
  let victimOrderId = '';
  let victimToken = '';
  let attackerToken = '';
  let publicPem = '';
  let jwk: { kid?: string; n?: string; kty?: string; e?: string } = {};
  const tally = { sent: 0, rejected: 0 };

  before(async () => {
    stack = await startStack(MODE, {
      env: { AUTH_RATE_LIMIT_MAX: '100000' },
      per: {
        auth: {
          AUTH_RSA_PRIVATE_KEY_PEM: real.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
          AUTH_RSA_PUBLIC_KEY_PEM: real.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          AUTH_RSA_KEY_ID: KID,
        },
        payment: { PAYMENT_DECLINE_ABOVE_AMOUNT: '1000' },
      },
    });
    await seed(stack, [{ skuId: 'ATK-1', price: 10, stock: 1000 }]);
    victimToken = await token(stack, 'victim', ['buyer']);
    attackerToken = await token(stack, 'attacker', ['buyer']);
    const placed = await placeOrder(
      stack,
      victimToken,
      { userId: 'victim', items: [{ skuId: 'ATK-1', quantity: 1, price: 10 }] },
      { key: 'shared-key-1' },
    );
    assert.equal(placed.status, 201);
    victimOrderId = placed.body.orderId;
    // What an attacker can read from the public JWKS.
    const jwks = await json(await fetch(`${stack.urls.auth}/.well-known/jwks.json`));
    jwk = jwks.keys[0];
    assert.equal(jwk.kid, KID);
    publicPem = createPublicKey({ key: jwk as never, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
  });

  after(async () => {
    console.log(`JWT attacks on ${MODE}: ${tally.rejected}/${tally.sent} requests rejected`);
    await stack?.close();
  });

  const ordersCount = async () =>
    (await stack.db('order').query<{ n: number }>('SELECT count(*)::int AS n FROM orders'))[0]!.n;

  test('control: a token signed here with the real key IS accepted (so every rejection below is meaningful)', async () => {
    const res = await placeOrder(stack, rs256(HEADER, claimsOf()), {
      userId: 'attacker',
      items: [{ skuId: 'ATK-1', quantity: 1, price: 10 }],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });

  const tamper = (t: string, part: 0 | 1 | 2, value: string) => {
    const parts = t.split('.');
    parts[part] = value;
    return parts.join('.');
  };
  const flip = (s: string) => `${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`;

  const attacks: Attack[] = [
    ...['none', 'None', 'NONE', 'nOnE'].map((alg) => ({
      name: `alg "${alg}", no signature`,
      authorization: () => `Bearer ${b64({ alg, typ: 'JWT' })}.${b64(claimsOf({ roles: ['buyer', 'admin'] }))}.`,
    })),
    {
      name: 'alg "none" with a signature copied from a real token',
      authorization: () => tamper(`Bearer ${attackerToken}`, 0, `Bearer ${b64({ alg: 'none', typ: 'JWT' })}`),
    },
    {
      name: 'HS256 signed with the public key (PEM) as the HMAC secret',
      authorization: () => `Bearer ${hs256({ alg: 'HS256', typ: 'JWT', kid: KID }, claimsOf(), publicPem)}`,
    },
    {
      name: 'HS256 signed with the public key PEM without its trailing newline',
      authorization: () => `Bearer ${hs256({ alg: 'HS256', typ: 'JWT', kid: KID }, claimsOf(), publicPem.trim())}`,
    },
    {
      name: 'HS256 signed with the public key as JWK JSON',
      authorization: () => `Bearer ${hs256({ alg: 'HS256', typ: 'JWT', kid: KID }, claimsOf(), JSON.stringify(jwk))}`,
    },
    {
      name: 'HS256 signed with the JWK modulus bytes',
      authorization: () =>
        `Bearer ${hs256({ alg: 'HS256', typ: 'JWT', kid: KID }, claimsOf(), Buffer.from(jwk.n ?? '', 'base64url'))}`,
    },
    {
      name: 'HS512 signed with the public key PEM',
      authorization: () => {
        const input = `${b64({ alg: 'HS512', kid: KID })}.${b64(claimsOf())}`;
        return `Bearer ${input}.${createHmac('sha512', publicPem).update(input).digest('base64url')}`;
      },
    },
    ...[
      '../../etc/passwd',
      '../../../../dev/null',
      "' OR '1'='1",
      "x'; DROP TABLE orders; --",
      'http://evil.example/jwks.json',
      '',
    ].map((kid) => ({
      name: `kid injection ${JSON.stringify(kid)}, signed with the REAL key`,
      authorization: () => `Bearer ${rs256({ ...HEADER, kid }, claimsOf())}`,
    })),
    {
      name: 'kid of the real key, signed with an attacker key',
      authorization: () => `Bearer ${rs256(HEADER, claimsOf(), attacker.privateKey)}`,
    },
    {
      name: 'unknown kid, signed with an attacker key',
      authorization: () => `Bearer ${rs256({ ...HEADER, kid: 'attacker-key' }, claimsOf(), attacker.privateKey)}`,
    },
    {
      name: 'attacker key embedded in the header (jwk), no kid',
      authorization: () =>
        `Bearer ${rs256({ alg: 'RS256', jwk: attacker.publicKey.export({ format: 'jwk' }) }, claimsOf(), attacker.privateKey)}`,
    },
    {
      name: 'jku / x5u pointing elsewhere, signed with an attacker key',
      authorization: () =>
        `Bearer ${rs256({ alg: 'RS256', jku: 'http://127.0.0.1:9/jwks.json', x5u: 'http://127.0.0.1:9/x5u' }, claimsOf(), attacker.privateKey)}`,
    },
    {
      name: 'kid as a number',
      authorization: () => `Bearer ${rs256({ ...HEADER, kid: 7 }, claimsOf())}`,
    },
    { name: 'wrong issuer', authorization: () => `Bearer ${rs256(HEADER, claimsOf({ iss: 'evil-idp' }))}` },
    {
      name: 'issuer with a trailing space',
      authorization: () => `Bearer ${rs256(HEADER, claimsOf({ iss: 'auth-service ' }))}`,
    },
    { name: 'no issuer', authorization: () => `Bearer ${rs256(HEADER, claimsOf({ iss: undefined }))}` },
    {
      name: 'expired an hour ago',
      authorization: () => `Bearer ${rs256(HEADER, claimsOf({ iat: nowS() - 7200, exp: nowS() - 3600 }))}`,
    },
    {
      name: 'expired beyond the 60 s leeway',
      authorization: () => `Bearer ${rs256(HEADER, claimsOf({ exp: nowS() - 120 }))}`,
    },
    { name: 'no exp', authorization: () => `Bearer ${rs256(HEADER, claimsOf({ exp: undefined }))}` },
    {
      name: 'exp as a string',
      authorization: () => `Bearer ${rs256(HEADER, claimsOf({ exp: String(nowS() + 3600) }))}`,
    },
    {
      name: 'nbf an hour in the future',
      authorization: () => `Bearer ${rs256(HEADER, claimsOf({ nbf: nowS() + 3600 }))}`,
    },
    { name: 'nbf not a number', authorization: () => `Bearer ${rs256(HEADER, claimsOf({ nbf: 'now' }))}` },
    {
      name: 'no subject',
      authorization: () => `Bearer ${rs256(HEADER, claimsOf({ sub: undefined, user_id: undefined }))}`,
    },
    {
      name: 'tampered payload: role escalation to admin (original signature)',
      authorization: () => tamper(`Bearer ${attackerToken}`, 1, b64(claimsOf({ roles: ['buyer', 'admin'] }))),
    },
    {
      name: 'tampered payload: subject changed to the victim (original signature)',
      authorization: () => tamper(`Bearer ${attackerToken}`, 1, b64(claimsOf({ sub: 'victim', user_id: 'victim' }))),
    },
    {
      name: 'tampered payload: exp extended by a year (original signature)',
      authorization: () => tamper(`Bearer ${attackerToken}`, 1, b64(claimsOf({ exp: nowS() + 31_536_000 }))),
    },
    { name: 'tampered signature (one character)', authorization: () => `Bearer ${flip(attackerToken)}` },
    {
      name: 'signature of another token',
      authorization: () => tamper(`Bearer ${attackerToken}`, 2, victimToken.split('.')[2]!),
    },
    { name: 'signature truncated', authorization: () => `Bearer ${attackerToken.slice(0, -10)}` },
    { name: 'signature with base64 padding', authorization: () => `Bearer ${attackerToken}==` },
    {
      name: 'RSA-PSS signature under alg RS256',
      authorization: () => {
        const input = `${b64(HEADER)}.${b64(claimsOf())}`;
        const sig = sign('sha256', Buffer.from(input), {
          key: real.privateKey,
          padding: 6 /* RSA_PKCS1_PSS_PADDING */,
        });
        return `Bearer ${input}.${sig.toString('base64url')}`;
      },
    },
    {
      name: 'alg "rs256" (lowercase)',
      authorization: () => `Bearer ${rs256({ ...HEADER, alg: 'rs256' }, claimsOf())}`,
    },
    { name: 'alg "PS256"', authorization: () => `Bearer ${rs256({ ...HEADER, alg: 'PS256' }, claimsOf())}` },
    { name: 'four segments', authorization: () => `Bearer ${attackerToken}.${attackerToken.split('.')[2]}` },
    {
      name: 'oversized token (20 KB): 431 or 401, never 500',
      authorization: () => `Bearer ${rs256(HEADER, claimsOf({ pad: 'x'.repeat(20_000) }))}`,
      expect: [401, 431],
    },
    { name: 'no Authorization header', authorization: () => undefined },
    ...[
      '',
      ' ',
      'Bearer',
      'Bearer ',
      'Bearer    ',
      'Basic YWxhZGRpbjpvcGVuc2VzYW1l',
      'Token abc',
      'Bearer a.b',
      'Bearer ...',
      'Bearer .e30.',
      'Bearer e30.e30.e30',
      'BearerX y',
      `Bearer${attackerToken}`,
      `Bearer  ${'x'.repeat(300)}`,
    ].map((value) => ({ name: `Authorization ${JSON.stringify(value.slice(0, 40))}`, authorization: () => value })),
  ];

  for (const attack of attacks) {
    test(`JWT: ${attack.name} → refused on POST and GET, nothing created or disclosed`, async () => {
      const authorization = await attack.authorization();
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const expect = attack.expect ?? [401];
      const before = await ordersCount();
      const post = await fetch(`${stack.urls.order}/api/orders`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({ userId: 'attacker', items: [{ skuId: 'ATK-1', quantity: 1, price: 10 }] }),
      });
      const get = await fetch(`${stack.urls.order}/api/orders/${victimOrderId}`, { headers });
      for (const [what, res] of [
        ['POST', post],
        ['GET', get],
      ] as const) {
        const text = await res.text();
        tally.sent++;
        if (res.status >= 400 && res.status < 500) tally.rejected++;
        assert.ok(
          expect.includes(res.status),
          `${what}: expected ${expect.join('/')}, got ${res.status} ${text.slice(0, 200)}`,
        );
        const body = JSON.parse(text);
        assert.equal(body.status, res.status, `${what}: the spec error body`);
        assert.ok(!text.includes(victimOrderId) || what === 'GET', `${what}: nothing about the victim's order`);
        assert.ok(!('orderId' in body), `${what}: no order in the answer`);
        if (res.status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
      assert.equal(await ordersCount(), before, 'no order was created');
    });
  }

  test('JWT: a valid token of another user reads nothing of the victim and cannot order in their name', async () => {
    const before = await ordersCount();
    const get = await fetch(`${stack.urls.order}/api/orders/${victimOrderId}`, {
      headers: { authorization: `Bearer ${attackerToken}` },
    });
    assert.equal(get.status, 404, 'someone else’s order is "not found", its existence undisclosed');
    const timeline = await fetch(`${stack.urls.order}/api/orders/${victimOrderId}/timeline`, {
      headers: { authorization: `Bearer ${attackerToken}` },
    });
    assert.equal(timeline.status, 404);
    const post = await placeOrder(stack, attackerToken, {
      userId: 'victim',
      items: [{ skuId: 'ATK-1', quantity: 1, price: 10 }],
    });
    assert.equal(post.status, 400);
    assert.equal(post.body.code, 'USER_ID_MISMATCH');
    for (const res of [get, timeline]) assert.ok(!(await res.text()).includes('"userId"'));
    tally.sent += 3;
    tally.rejected += 3;
    assert.equal(await ordersCount(), before);
  });

  test('JWT: 100 % of the forged, tampered and misused tokens were rejected', () => {
    assert.ok(tally.sent >= attacks.length * 2, `${tally.sent} requests`);
    assert.equal(tally.rejected, tally.sent, `${tally.rejected}/${tally.sent} rejected`);
  });

  test('Idempotency-Key reused by another user: their own new order, never the first user’s', async () => {
    const body = (userId: string) => ({ userId, items: [{ skuId: 'ATK-1', quantity: 1, price: 10 }] });
    // The victim's key, the victim's exact items, the attacker's own token and user id.
    const first = await placeOrder(stack, attackerToken, body('attacker'), { key: 'shared-key-1' });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.notEqual(first.body.orderId, victimOrderId);
    assert.equal(first.body.userId, 'attacker');
    assert.equal(first.body.reused, false);
    const replay = await placeOrder(stack, attackerToken, body('attacker'), { key: 'shared-key-1' });
    assert.equal(replay.status, 200);
    assert.equal(replay.body.orderId, first.body.orderId, 'the attacker replays their own order');
    assert.equal(replay.body.reused, true);
    // The victim's replay is still the victim's order.
    const victimReplay = await placeOrder(stack, victimToken, body('victim'), { key: 'shared-key-1' });
    assert.equal(victimReplay.status, 200);
    assert.equal(victimReplay.body.orderId, victimOrderId);
    // The victim's body under the attacker's token: refused before any lookup.
    const disguised = await placeOrder(stack, attackerToken, body('victim'), { key: 'shared-key-1' });
    assert.equal(disguised.status, 400);
    assert.ok(!JSON.stringify(disguised.body).includes(victimOrderId));
  });

  test('CSV export: release reasons starting with = + - @ (and TAB, CR) are neutralized with a leading quote', async () => {
    const admin = await token(stack, 'csv-admin', ['admin']);
    const reasons = [
      '=1+1',
      '+1+1',
      '-1+1',
      '@SUM(1+1)',
      '=HYPERLINK("http://evil.example","x")',
      '\t=1+1',
      'PAYMENT_FAILED',
    ];
    const orders = new Map<string, string>();
    for (const reason of reasons) {
      const orderId = randomUUID();
      orders.set(orderId, reason);
      const res = await fetch(`${stack.urls.inventory}/api/stocks/reservations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ orderId, items: [{ skuId: 'ATK-1', quantity: 1 }] }),
      });
      assert.equal(res.status, 200, await res.text());
      const event = createEvent(
        'InventoryReleaseRequested',
        { order_id: orderId, reason },
        { traceId: randomUUID(), identity: null },
      );
      await stack.transport.publish({
        exchange: stack.name('ecom.events'),
        routingKey: 'inventory.release.requested',
        body: Buffer.from(JSON.stringify(event)),
        messageId: event.event_id,
        contentType: 'application/json',
      });
    }
    for (const [orderId, reason] of orders) {
      const listed = await waitFor(async () => {
        const page = await json(await fetch(`${stack.urls.inventory}/api/stocks/release-events?orderId=${orderId}`));
        return page.items?.[0];
      });
      assert.equal(listed.reason, reason, 'JSON keeps the reason exactly as stored');
    }
    const csv = await (
      await fetch(`${stack.urls.inventory}/api/stocks/release-events/export`, { headers: { accept: 'text/csv' } })
    ).text();
    const records = parseCsv(csv);
    for (const [orderId, reason] of orders) {
      const record = records.find((r) => r[1] === orderId);
      assert.ok(record, `a CSV line for ${orderId}`);
      const expected = /^[=+\-@\t\r]/.test(reason) ? `'${reason}` : reason;
      assert.equal(record[3], expected, `reason ${JSON.stringify(reason)}`);
    }
    for (const r of records.slice(1)) assert.ok(!/^[=+\-@\t\r]/.test(r[3] ?? ''), `no cell starts a formula: ${r[3]}`);
  });

  test('dashboard: served with its own strict CSP (hostile reasons as text: dashboard.browser.int.test.ts, Chromium)', async () => {
    const res = await fetch(`${stack.urls.inventory}/release-dashboard.html`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  });

  test('security headers on JSON answers, errors, 404s, CSV and Swagger UI; no X-Powered-By', async () => {
    const u = stack.urls;
    const targets: [string, string, RequestInit?][] = [
      ['JSON 200', `${u.catalog}/api/catalog/products/ATK-1`],
      ['JSON 400', `${u.catalog}/api/catalog/products?active=maybe`],
      ['JSON 401', `${u.order}/api/orders/${victimOrderId}`],
      ['404', `${u.payment}/nope`],
      ['405', `${u.catalog}/api/catalog/products/ATK-1`, { method: 'DELETE' }],
      ['415', `${u.auth}/api/auth/token`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }],
      ['CSV', `${u.inventory}/api/stocks/release-events/export`, { headers: { accept: 'text/csv' } }],
      ['actuator', `${u.notification}/actuator/health`],
      ['OpenAPI', `${u.order}/v3/api-docs`],
    ];
    for (const [what, url, init] of targets) {
      const res = await fetch(url, init);
      await res.arrayBuffer();
      const h = res.headers;
      assert.equal(h.get('x-content-type-options'), 'nosniff', what);
      assert.equal(h.get('x-frame-options'), 'DENY', what);
      assert.equal(
        h.get('content-security-policy'),
        "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
        what,
      );
      assert.equal(h.get('referrer-policy'), 'no-referrer', what);
      assert.match(h.get('strict-transport-security') ?? '', /^max-age=31536000/, what);
      assert.equal(h.get('cross-origin-opener-policy'), 'same-origin', what);
      assert.equal(h.get('cross-origin-resource-policy'), 'same-origin', what);
      assert.equal(h.get('x-powered-by'), null, what);
      assert.ok(h.get('x-trace-id'), what);
    }
    const ui = await fetch(`${u.order}/swagger-ui/`);
    await ui.arrayBuffer();
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-security-policy') ?? '', /script-src 'self';/);
    assert.doesNotMatch(ui.headers.get('content-security-policy') ?? '', /script-src[^;]*unsafe/);
    assert.equal(ui.headers.get('x-content-type-options'), 'nosniff');
  });

  test('Swagger UI renders in Chromium under its CSP, with no violation', async () => {
    assert.ok(CHROMIUM, 'this test needs Debian chromium: apt-get install -y chromium (.ci/run installs it)');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${stack.urls.order}/swagger-ui/`);
      await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
      const paths = await page.locator('.opblock-summary-path').allTextContents();
      assert.ok(
        paths.some((p) => p.includes('/api/orders')),
        paths.join(', '),
      );
      assert.deepEqual(
        problems.filter((p) => /Content Security Policy|Refused to/i.test(p)),
        [],
        'no CSP violation',
      );
    } finally {
      await browser.close();
    }
  });

  describe('auth-service rate limit (AUTH_RATE_LIMIT_MAX=5 per minute per client IP)', () => {
    let auth: TestService<unknown>;
    before(async () => {
      auth = (await startTestService(authService, 'pglite', {
        env: { AUTH_RATE_LIMIT_MAX: '5', AUTH_RATE_LIMIT_WINDOW_MS: '60000', LOG_LEVEL: 'error' },
        listen: true,
      })) as TestService<unknown>;
    });
    after(async () => {
      await auth?.close();
    });

    for (const [path, body] of [
      ['/api/auth/token', { userId: 'flooder', roles: ['buyer'] }],
      ['/api/auth/introspect', { token: 'a.b.c' }],
    ] as const) {
      test(`${path}: 5 answers, then 429 with the spec error body and Retry-After; another client IP is not affected`, async () => {
        const statuses: number[] = [];
        let last: Awaited<ReturnType<typeof post>> | undefined;
        for (let i = 0; i < 8; i++) {
          last = await post(auth.url, path, body);
          statuses.push(last.status);
        }
        assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
        assert.ok(last);
        const err = JSON.parse(last.body);
        assert.equal(err.status, 429);
        assert.equal(err.error, 'Too Many Requests');
        assert.equal(err.path, path);
        assert.equal(err.code, 'RATE_LIMITED');
        assert.ok(err.timestamp);
        const retryAfter = Number(last.headers['retry-after']);
        assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${last.headers['retry-after']}`);
        assert.equal(last.headers['x-ratelimit-limit'], '5');
        assert.equal(last.headers['x-ratelimit-remaining'], '0');
        assert.equal(last.headers['x-content-type-options'], 'nosniff');
        // The limit is per client address: 127.0.0.2 has its own budget.
        const other = await post(auth.url, path, body, '127.0.0.2');
        assert.equal(other.status, 200);
      });
    }

    test('JWKS and the platform endpoints are not rate limited', async () => {
      for (let i = 0; i < 12; i++) {
        const res = await fetch(`${auth.url}/.well-known/jwks.json`);
        await res.arrayBuffer();
        assert.equal(res.status, 200);
      }
    });
  });
});

/** POST JSON from a chosen local address (node:http; fetch cannot pick one). */
function post(
  baseUrl: string,
  path: string,
  body: unknown,
  localAddress = '127.0.0.1',
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(path, baseUrl);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** RFC 4180 records (quoted fields with doubled quotes, LF line ends), enough for the export. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  return records;
}

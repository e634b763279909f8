import http from 'node:http';
import https from 'node:https';
import { type CryptoKey, importJWK } from 'jose';
import { isJsonObject } from './encoding.js';

/*
 * Why not jose's `createRemoteJWKSet`? It was checked (jose 6.2.18) and misses the spec on four
 * points: (1) once the cache is past `cacheMaxAge` a failed reload throws, so there is no
 * stale-if-error; (2) its `cooldownDuration` runs from the last *successful* fetch, so while
 * the JWKS is down every unknown kid fetches again (the storm we must prevent); (3) it has no
 * separate connect timeout, only one overall `timeoutDuration`; (4) it keeps every key it can
 * import: no 2048-bit floor, no `use`/`alg` rule, no "no usable key = failure", and a token
 * without kid is matched by key type rather than "the JWKS holds exactly one key". So this is a
 * small fetcher of its own; jose still does the key import (`importJWK`) and the signature.
 */

export const DEFAULT_JWKS_URI = 'http://localhost:8084/.well-known/jwks.json';

/** The slice of a pino logger this module needs; a pino instance satisfies it as is. */
export interface AuthLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Default: warnings still reach stderr, so a JWKS that keeps failing is never invisible. */
export const consoleAuthLogger: AuthLogger = {
  info: () => {},
  warn: (obj, msg) => console.warn(`[auth] ${msg ?? ''}`, obj),
};

export interface JwksKeySourceOptions {
  /** `AUTH_JWKS_URI`; http or https. */
  uri: string | URL;
  /** `AUTH_JWKS_CACHE_SECONDS`: how long a fetched set is used without asking again. Default 300, min 1. */
  cacheSeconds?: number;
  /**
   * Unknown kid → one forced refresh, but at most one per this many ms (default 10 000), so a
   * flood of tokens with random kids cannot turn into a flood of JWKS fetches. 0 = no limit.
   */
  forcedRefreshMinIntervalMs?: number;
  /**
   * After a failed fetch, ordinary (expiry-driven) refreshes wait this long (default 1 000 ms)
   * before trying again; meanwhile the previous keys are served, or lookups fail fast when there
   * are none. Without it every request would pay a connect timeout while the JWKS is down.
   */
  retryAfterFailureMs?: number;
  /** TCP connect timeout, default 2 000 ms (spec). */
  connectTimeoutMs?: number;
  /** Whole request (connect + answer + body), default 3 000 ms (spec). */
  requestTimeoutMs?: number;
  logger?: AuthLogger;
  /** Clock in epoch ms; tests move it to expire the cache without sleeping. */
  now?: () => number;
}

export type KeyLookupFailure =
  /** No keys at all: the first fetch (or every fetch so far) failed. */
  | 'JWKS_UNAVAILABLE'
  /** The token's kid is not in the set, even after the forced refresh (or that refresh was rate-limited). */
  | 'TOKEN_KID_UNKNOWN'
  /** The token has no kid and the set holds more than one key, so there is no telling which. */
  | 'TOKEN_KID_AMBIGUOUS';

export type KeyLookup = { ok: true; key: CryptoKey } | { ok: false; reason: KeyLookupFailure };

export interface JwksStatus {
  /** Usable keys in the cached set (kid-less keys appear under their placeholder name). */
  kids: string[];
  /** When the cached set was fetched (epoch ms); undefined = nothing fetched yet. */
  fetchedAt: number | undefined;
  /** The last refresh failure, cleared by the next success. */
  lastFailure: { at: number; message: string } | undefined;
}

export interface JwksKeySource {
  /** Step 5 of http-api.md §5.5: the verification key for a token's kid (undefined = no kid). Never throws. */
  keyFor(kid: string | undefined): Promise<KeyLookup>;
  status(): JwksStatus;
}

interface Entry {
  key: CryptoKey;
  /** False for a key published without kid: it is stored under a placeholder no token can name. */
  hasKid: boolean;
}

interface KeySet {
  entries: Map<string, Entry>;
  fetchedAt: number;
}

const MIN_RSA_BITS = 2048;
/** A JWKS is a few KB; anything much larger is not one, and is not buffered. */
const MAX_BODY_BYTES = 1024 * 1024;

export function createJwksKeySource(options: JwksKeySourceOptions): JwksKeySource {
  const url = new URL(options.uri);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`JWKS URI must be http or https, got ${url.protocol}`);
  }
  const cacheMs = atLeast('cacheSeconds', options.cacheSeconds ?? 300, 1) * 1000;
  const forcedIntervalMs = atLeast('forcedRefreshMinIntervalMs', options.forcedRefreshMinIntervalMs ?? 10_000, 0);
  const retryAfterFailureMs = atLeast('retryAfterFailureMs', options.retryAfterFailureMs ?? 1000, 0);
  const timeouts = {
    connectMs: atLeast('connectTimeoutMs', options.connectTimeoutMs ?? 2000, 1),
    requestMs: atLeast('requestTimeoutMs', options.requestTimeoutMs ?? 3000, 1),
  };
  const logger = options.logger ?? consoleAuthLogger;
  const now = options.now ?? Date.now;
  const uri = url.href;

  let current: KeySet | undefined;
  let inFlight: Promise<void> | undefined;
  let lastFailure: { at: number; message: string } | undefined;
  let lastForcedAt: number | undefined;
  let lastLoggedShape: string | undefined;

  /** One fetch at a time: a caller arriving while one runs waits for it instead of starting another. */
  function refresh(): Promise<void> {
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  /** Never rejects: a failure is recorded and logged, and the previous set stays (stale-if-error). */
  async function load(): Promise<void> {
    try {
      const { entries, skipped } = await parseKeySet(await fetchJson(url, timeouts));
      current = { entries, fetchedAt: now() };
      lastFailure = undefined;
      // Log when what we hold changes (first load, rotation, a newly ignored key), not every 5 minutes.
      const shape = JSON.stringify([[...entries.keys()], skipped]);
      if (shape !== lastLoggedShape) {
        lastLoggedShape = shape;
        logger.info({ uri, kids: [...entries.keys()], skipped }, 'JWKS loaded');
        if (skipped.length > 0) logger.warn({ uri, skipped }, 'JWKS keys ignored');
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      lastFailure = { at: now(), message };
      logger.warn(
        { uri, err: message, keptKeys: current?.entries.size ?? 0 },
        current ? 'JWKS refresh failed; keeping the previous keys' : 'JWKS fetch failed; no keys to verify tokens with',
      );
    }
  }

  async function ensureFresh(): Promise<void> {
    if (current && now() < current.fetchedAt + cacheMs) return; // an empty cache counts as expired
    if (inFlight) return inFlight;
    if (lastFailure && now() < lastFailure.at + retryAfterFailureMs) return;
    await refresh();
  }

  async function forceRefresh(): Promise<void> {
    if (inFlight) return inFlight; // a fetch already running is as good as a forced one
    if (lastForcedAt !== undefined && now() < lastForcedAt + forcedIntervalMs) return;
    lastForcedAt = now();
    await refresh();
  }

  function find(kid: string): CryptoKey | undefined {
    const entry = current?.entries.get(kid);
    return entry?.hasKid ? entry.key : undefined;
  }

  return {
    async keyFor(kid) {
      await ensureFresh();
      if (!current) return { ok: false, reason: 'JWKS_UNAVAILABLE' };
      if (kid === undefined) {
        const [only, ...others] = current.entries.values();
        return only && others.length === 0 ? { ok: true, key: only.key } : { ok: false, reason: 'TOKEN_KID_AMBIGUOUS' };
      }
      let key = find(kid);
      if (!key) {
        await forceRefresh();
        key = find(kid);
      }
      return key ? { ok: true, key } : { ok: false, reason: 'TOKEN_KID_UNKNOWN' };
    },
    status() {
      return { kids: [...(current?.entries.keys() ?? [])], fetchedAt: current?.fetchedAt, lastFailure };
    },
  };
}

function atLeast(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) throw new RangeError(`${name} must be a number >= ${min}, got ${value}`);
  return value;
}

/**
 * The usable keys of a JWKS document (http-api.md §5.5 step 5 and its recommendations): kty RSA
 * with non-blank n and e; `use` sig and `alg` RS256 when present; modulus ≥ 2048 bits. Throws
 * when the document is not a JWKS or leaves no usable key: that is a failed fetch.
 */
async function parseKeySet(body: unknown): Promise<{ entries: Map<string, Entry>; skipped: string[] }> {
  if (!isJsonObject(body) || !Array.isArray(body.keys)) throw new Error('answer is not a JWKS ({"keys": [...]})');
  const entries = new Map<string, Entry>();
  const skipped: string[] = [];
  for (const [index, jwk] of body.keys.entries()) {
    const kid = isJsonObject(jwk) && typeof jwk.kid === 'string' && jwk.kid.trim() !== '' ? jwk.kid : undefined;
    const name = kid ?? `(no kid #${index})`;
    const problem = isJsonObject(jwk) ? await importRsaKey(jwk) : 'not an object';
    if (typeof problem === 'string') {
      skipped.push(`${name}: ${problem}`);
      continue;
    }
    // A repeated kid: the later key wins, as a map insert would in the original.
    entries.set(name, { key: problem, hasKid: kid !== undefined });
  }
  if (entries.size === 0) throw new Error(`JWKS holds no usable key (${skipped.join('; ') || 'empty'})`);
  return { entries, skipped };
}

/** The imported key, or why it is not used. */
async function importRsaKey(jwk: Record<string, unknown>): Promise<CryptoKey | string> {
  const { kty, n, e, use, alg } = jwk;
  if (kty !== 'RSA') return `kty ${JSON.stringify(kty)} is not RSA`;
  if (typeof n !== 'string' || n.trim() === '' || typeof e !== 'string' || e.trim() === '') return 'n or e missing';
  // "When present": JSON null counts as absent, as it would for the original's JSON mapper.
  if (use != null && use !== 'sig') return `use ${JSON.stringify(use)} is not sig`;
  if (alg != null && alg !== 'RS256') return `alg ${JSON.stringify(alg)} is not RS256`;
  let key: CryptoKey | Uint8Array;
  try {
    // Only n and e: other members (key_ops, ext, x5c…) must not change how the key is imported.
    key = await importJWK({ kty: 'RSA', n, e }, 'RS256');
  } catch (err) {
    return `not importable (${err instanceof Error ? err.message : String(err)})`;
  }
  if (key instanceof Uint8Array) return 'not an RSA public key';
  const bits = (key.algorithm as { modulusLength?: number }).modulusLength ?? 0;
  // jose would refuse such a key at verify time anyway; dropping it here makes the refusal visible in the log.
  if (bits < MIN_RSA_BITS) return `modulus of ${bits} bits is below ${MIN_RSA_BITS}`;
  return key;
}

/**
 * GET the JWKS with node:http(s) rather than fetch: Node's fetch has no per-request connect
 * timeout. No keep-alive (one request every few minutes gains nothing from it, and a reused
 * socket the server has just closed would only add spurious failures). Redirects are not
 * followed: anything but 200 is a failure.
 */
function fetchJson(url: URL, timeouts: { connectMs: number; requestMs: number }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const request = client.get(url, { agent: false, headers: { Accept: 'application/json' } });
    let connectTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const requestTimer = setTimeout(
      () => finish(new Error(`no complete answer within ${timeouts.requestMs} ms`)),
      timeouts.requestMs,
    );

    function finish(err: Error | undefined, value?: unknown): void {
      if (settled) return;
      settled = true;
      clearTimeout(requestTimer);
      clearTimeout(connectTimer);
      if (err) {
        request.destroy();
        reject(err);
      } else {
        resolve(value);
      }
    }

    request.on('socket', (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(
        () => finish(new Error(`no connection within ${timeouts.connectMs} ms`)),
        timeouts.connectMs,
      );
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    request.on('error', (err) => finish(err));
    request.on('response', (response) => {
      if (response.statusCode !== 200) {
        finish(new Error(`HTTP ${response.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) finish(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', (err) => finish(err));
      response.on('close', () => {
        if (!response.complete) finish(new Error('connection closed before the answer was complete'));
      });
      response.on('end', () => {
        try {
          finish(undefined, JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          finish(new Error('answer is not JSON'));
        }
      });
    });
  });
}

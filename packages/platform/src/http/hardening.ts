import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import fastifyRateLimit from '@fastify/rate-limit';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { AppError, errorBody, pathOf } from './errors.js';

/**
 * Edge hardening every service gets (issue "Reliability and security proven"): security
 * headers, opt-in rate limiting, a JSON parser that bounds nesting and refuses NUL, NUL refused
 * in path and query values too, and the spec's error body even for errors raised before
 * routing (bad URL, over-long parameter, malformed or oversized request head).
 */

/** Deeper JSON is refused with 400 before it is parsed. */
export const JSON_MAX_DEPTH = 64;

/** A strict UUID (8-4-4-4-12 hex). ajv-formats' `uuid` also takes `urn:uuid:…`, which PostgreSQL refuses. */
export const STRICT_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A route's rate limit: at most `max` requests per `windowMs` per client IP (the socket's address). */
export interface RouteRateLimit {
  max: number;
  windowMs: number;
}

/**
 * The route `config` that opts a route into rate limiting (`app.post(url, { config:
 * rateLimitConfig({ max, windowMs }) }, …)`); `max` 0 turns it off. Over the limit: 429 with
 * the spec error body, `Retry-After` (seconds) and the `x-ratelimit-*` headers.
 */
export function rateLimitConfig(limit: RouteRateLimit): { rateLimit: { max: number; timeWindow: number } | false } {
  return { rateLimit: limit.max > 0 ? { max: limit.max, timeWindow: limit.windowMs } : false };
}

/** JSON API responses: nothing may be loaded, framed or submitted from them. */
const API_CSP = {
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/** Swagger UI (served locally, no CDN): its own scripts, styles, images and the spec fetch only. */
const SWAGGER_UI_CSP = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  // Swagger UI writes inline style attributes (Chromium reports violations without this);
  // scripts stay 'self' only.
  'style-src': ["'self'", "'unsafe-inline'"],
};

const HELMET_OPTIONS: HelmetOptions = {
  frameguard: { action: 'deny' },
  // Plain HTTP behind a proxy or on loopback: browsers ignore HSTS there, and it is harmless.
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
};

/** The headers helmet sets for these options (it sets no per-request values: no CSP nonces here). */
function securityHeaders(options: HelmetOptions): [string, string | number | readonly string[]][] {
  const headers: [string, string | number | readonly string[]][] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.push([name, value]);
    },
    removeHeader() {},
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return headers;
}

/**
 * Registers the plugins and hooks. Call before any route is added (the plugins configure
 * routes as they are declared). A route that sets its own Content-Security-Policy header (the
 * inventory dashboard) keeps it: the handler's header replaces helmet's.
 */
export async function installHardening(app: FastifyInstance): Promise<void> {
  // Swagger UI's routes get a policy that lets the UI run; everything else the strict one.
  // helmet computes each set of headers once, here; a request only copies them (@fastify/helmet
  // rebuilt the whole helmet configuration on every request: ≈ 5 % of a cache-hit GET's CPU in
  // bench/README.md).
  const apiHeaders = securityHeaders({
    ...HELMET_OPTIONS,
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
  });
  const swaggerHeaders = securityHeaders({
    ...HELMET_OPTIONS,
    contentSecurityPolicy: { useDefaults: false, directives: SWAGGER_UI_CSP },
  });
  app.addHook('onRequest', (request, reply, done) => {
    // The route template, so an unknown path under /swagger-ui… (a 404) gets the strict policy.
    const headers = request.routeOptions.url?.startsWith('/swagger-ui') ? swaggerHeaders : apiHeaders;
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    done();
  });
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`rate limit exceeded; retry in ${context.after}`), {
        statusCode: context.statusCode,
        code: 'RATE_LIMITED',
      }),
  });

  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const problem = scanJson(body as string, JSON_MAX_DEPTH);
    if (problem) {
      done(new AppError('bad_request', problem.code, problem.message), undefined);
      return;
    }
    parseJson(request, body as string, done);
  });

  app.addHook('preValidation', async (request) => {
    for (const [part, values] of [
      ['path', request.params],
      ['query', request.query],
    ] as const) {
      const field = fieldWithNul(values);
      if (field !== undefined) {
        throw new AppError('bad_request', 'NUL_CHARACTER', `${part} parameter ${field} must not contain U+0000`, {
          errors: [{ field, message: 'must not contain U+0000' }],
        });
      }
    }
  });
}

function fieldWithNul(values: unknown): string | undefined {
  if (values === null || typeof values !== 'object') return undefined;
  for (const [name, value] of Object.entries(values)) {
    const texts = Array.isArray(value) ? value : [value];
    if (texts.some((t) => typeof t === 'string' && t.includes('\u0000'))) return name;
  }
  return undefined;
}

const NUL = { code: 'NUL_CHARACTER', message: 'JSON strings must not contain U+0000' };
const SURROGATE = { code: 'INVALID_UNICODE', message: 'JSON strings must not contain unpaired surrogates' };

/** The code unit of the `\uXXXX` escape at `i` (the backslash), or -1. */
function escapedUnit(text: string, i: number): number {
  if (text.charCodeAt(i) !== 0x5c || text.charCodeAt(i + 1) !== 0x75 /* u */) return -1;
  const hex = text.slice(i + 2, i + 6);
  return /^[0-9a-fA-F]{4}$/.test(hex) ? Number.parseInt(hex, 16) : -1;
}

/**
 * One linear pass over JSON text, before it is parsed: nesting deeper than `maxDepth`, or a
 * string that is not storable text — a `\u0000` escape (PostgreSQL text cannot hold NUL; a raw
 * NUL byte is invalid JSON anyway) or an unpaired surrogate escape (not Unicode: it cannot be
 * encoded as UTF-8, in a URL or in the database, without silently becoming U+FFFD). Raw
 * surrogates cannot occur: the body was decoded from UTF-8. Anything else malformed is left
 * to the parser.
 */
export function scanJson(text: string, maxDepth: number): { code: string; message: string } | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) {
        const unit = escapedUnit(text, i);
        if (unit === 0) return NUL;
        if (unit >= 0xdc00 && unit <= 0xdfff) return SURROGATE;
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const low = escapedUnit(text, i + 6);
          if (low < 0xdc00 || low > 0xdfff) return SURROGATE;
          i += 11; // both escapes
        } else {
          i++; // the escaped character (a \uXXXX's hex digits are plain characters)
        }
      } else if (c === 0x22 /* " */) {
        inString = false;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) {
        return { code: 'JSON_TOO_DEEP', message: `JSON must not be nested deeper than ${maxDepth} levels` };
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return undefined;
}

/**
 * Fastify's `frameworkErrors`: a malformed URL (bad percent-encoding) or a path parameter over
 * the router's limit gets the spec's error body instead of Fastify's own.
 */
export function frameworkErrorReply(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  reply
    .code(status)
    .header('x-content-type-options', 'nosniff')
    .send(errorBody(status, pathOf(request.url), error.message, { code: error.code }));
}

/**
 * Fastify's `clientErrorHandler`: the request head could not be parsed (an invalid header
 * character, a head over Node's 16 KiB limit → 431, a timeout → 408). The socket carries no
 * request yet, so the body is written by hand — still the spec's error body.
 */
export function clientErrorReply(err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  if (socket.writable) {
    const message =
      status === 431
        ? 'request header fields are too large'
        : status === 408
          ? 'the request was not received in time'
          : 'the request could not be parsed';
    // Node hands over the bytes read so far as a Buffer (Fastify's typings say otherwise).
    const raw: unknown = err.rawPacket;
    const body = JSON.stringify(
      errorBody(status, requestPath(Buffer.isBuffer(raw) ? raw : undefined), message, { code: err.code }),
    );
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `X-Content-Type-Options: nosniff\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** The path of the request line, when it is readable; `/` otherwise. */
function requestPath(raw: Buffer | undefined): string {
  const line = raw?.subarray(0, 2048).toString('latin1').split('\r\n', 1)[0] ?? '';
  const target = /^[A-Z]+ (\/[\x21-\x7e]{0,2000}) HTTP\/1\.[01]$/.exec(line)?.[1];
  return target ? pathOf(target) : '/';
}

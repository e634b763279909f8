/**
 * Schema-driven request generation: every operation of a service's OpenAPI document
 * (`/v3/api-docs`) becomes fast-check arbitraries of MALFORMED and HOSTILE requests.
 *
 * For an operation that can change state (any non-GET outside auth-service), every generated
 * request carries at least one violation that the server must refuse — a body or parameter
 * that breaks its schema (checked here with ajv, configured as the kernel configures it),
 * broken JSON, a wrong content type, an oversized body or head, or credentials that cannot
 * pass — so ANY 2xx from such an operation is a finding, and so is any change of the databases.
 * GET operations (and auth-service's stateless token/introspection) also get schema-valid but
 * hostile values.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import type { ServiceName } from '../e2e/stack.js';
import { BAD_DATES, BAD_UUIDS, EDGE_NUMBERS, HOSTILE_STRINGS, headerSafe, hostileString } from './hostile.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema is untyped data here
export type JsonSchema = Record<string, any>;

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  /** Required and without a default (fastify-swagger marks defaulted query members required). */
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  service: ServiceName;
  method: string;
  /** OpenAPI template, `/api/orders/{orderId}`. */
  path: string;
  params: Param[];
  body: JsonSchema | undefined;
  secured: boolean;
  /** Can change state: every request sent must be refused. */
  mutating: boolean;
}

export interface FuzzRequest {
  method: string;
  /** Concrete, percent-encoded path. */
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** What makes it hostile, for the report (`body:price:above-maximum`, `raw:content-type`, …). */
  kind: string;
  /** Statuses the kind must produce (besides the 401/403 of an auth check that runs first). */
  expect?: readonly number[];
}

/** What a fuzzing run may use: tokens, and values that exist in the stack. */
export interface FuzzContext {
  tokens: { buyer: string; admin: string; norole: string; buyerSubject: string; noroleSubject: string };
  /** Existing ids and names, mixed into read requests so they also reach the found-it paths. */
  known: { orderIds: string[]; skuIds: string[]; queues: string[]; cursors: string[] };
  /** SKUs that exist in the catalog: an order naming only hostile SKUs must be refused (422). */
  catalogSkus: ReadonlySet<string>;
}

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const STRICT_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// ---- ajv exactly as the kernel configures it (no coercion for bodies; text coerced) ------------

const base = { allErrors: false, strict: false, useDefaults: false, removeAdditional: false } as const;
const bodyAjv = addFormats.default(new Ajv.default({ ...base, coerceTypes: false })).addFormat('uuid', STRICT_UUID);
const textAjv = addFormats.default(new Ajv.default({ ...base, coerceTypes: 'array' })).addFormat('uuid', STRICT_UUID);
const compiledBody = new WeakMap<JsonSchema, ValidateFunction>();
const compiledText = new WeakMap<JsonSchema, ValidateFunction>();

/** Valid for the server's body validator (plus the kernel's own rule: no NUL anywhere). */
export function bodyIsValid(schema: JsonSchema, value: unknown): boolean {
  let v = compiledBody.get(schema);
  if (!v) {
    v = bodyAjv.compile(schema);
    compiledBody.set(schema, v);
  }
  return v(structuredClone(value)) && !JSON.stringify(value).includes('\\u0000');
}

/** A text value (path, query, header) as the server coerces and checks it. */
export function textIsValid(schema: JsonSchema, value: string | string[]): boolean {
  const wrapped = { type: 'object', properties: { v: schema }, required: ['v'] };
  let v = compiledText.get(schema);
  if (!v) {
    v = textAjv.compile(wrapped);
    compiledText.set(schema, v);
  }
  const texts = Array.isArray(value) ? value : [value];
  return v({ v: Array.isArray(value) ? [...value] : value }) && !texts.some((t) => t.includes('\u0000'));
}

// ---- the document ---------------------------------------------------------------------------

const STATELESS_PREFIXES = ['/api/auth/'];

export async function loadOperations(service: ServiceName, baseUrl: string): Promise<Operation[]> {
  const doc = (await (await fetch(`${baseUrl}/v3/api-docs`)).json()) as JsonSchema;
  const api = (await SwaggerParser.dereference(structuredClone(doc) as never)) as JsonSchema;
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<JsonSchema>(api.paths ?? {})) {
    for (const [method, op] of Object.entries<JsonSchema>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params: Param[] = (op.parameters ?? []).map((p: JsonSchema) => ({
        name: p.name,
        in: p.in,
        required: Boolean(p.required) && p.schema?.default === undefined,
        schema: p.schema ?? {},
      }));
      const upper = method.toUpperCase();
      ops.push({
        service,
        method: upper,
        path,
        params,
        body: op.requestBody?.content?.['application/json']?.schema,
        secured: Array.isArray(op.security) && op.security.length > 0,
        mutating: upper !== 'GET' && !STATELESS_PREFIXES.some((p) => path.startsWith(p)),
      });
    }
  }
  return ops;
}

// ---- values that satisfy a schema -----------------------------------------------------------

function rangeOf(s: JsonSchema, integer: boolean): { min: number; max: number; minExcluded: boolean } {
  const lo = s.exclusiveMinimum ?? s.minimum ?? (integer ? -(2 ** 31) : -1e12);
  const hi = s.exclusiveMaximum ?? s.maximum ?? (integer ? 2 ** 31 - 1 : 1e12);
  return { min: lo, max: hi, minExcluded: s.exclusiveMinimum !== undefined };
}

const codePoints = (t: string) => [...t].length;

export function validString(s: JsonSchema): fc.Arbitrary<string> {
  if (s.format === 'uuid' || s.pattern === UUID_PATTERN) {
    return fc.tuple(fc.uuid(), fc.boolean()).map(([u, up]) => (up ? u.toUpperCase() : u));
  }
  if (s.format === 'date-time') {
    return fc
      .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  const max = s.maxLength ?? 300;
  const min = s.minLength ?? 0;
  const base = fc.oneof(
    { weight: 5, arbitrary: hostileString(Math.min(max, 300)) },
    { weight: 1, arbitrary: fc.constant('') },
    // At the limit: the longest value a field takes (10 000 characters for a description).
    {
      weight: 1,
      arbitrary: fc.constantFrom('A', 'é', '😀').map((c) => c.repeat(Math.max(min, Math.min(max, 20_000)))),
    },
  );
  const pattern = s.pattern ? new RegExp(s.pattern, 'u') : undefined;
  return base.filter((t) => {
    const n = codePoints(t);
    return n >= min && n <= max && !t.includes('\u0000') && (!pattern || pattern.test(t));
  });
}

export function validArb(s: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (Array.isArray(s.anyOf)) return fc.oneof(...s.anyOf.map((b: JsonSchema) => validArb(b, depth)));
  if (s.const !== undefined) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return validString(s);
    case 'integer': {
      const { min, max, minExcluded } = rangeOf(s, true);
      const lo = minExcluded ? Math.floor(min) + 1 : Math.ceil(min);
      const hi = Math.floor(max);
      const edges = [lo, hi, ...EDGE_NUMBERS.filter((n) => Number.isInteger(n) && n >= lo && n <= hi)];
      return fc.oneof(fc.integer({ min: lo, max: hi }), fc.constantFrom(...edges));
    }
    case 'number': {
      const { min, max, minExcluded } = rangeOf(s, false);
      const edges = [max, ...EDGE_NUMBERS.filter((n) => (minExcluded ? n > min : n >= min) && n <= max)];
      return fc.oneof(
        fc.double({ min, max, minExcluded, noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(...edges),
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minItems = s.minItems ?? 0;
      const items = validArb(s.items ?? {}, depth + 1);
      return fc.oneof(
        { weight: 5, arbitrary: fc.array(items, { minLength: minItems, maxLength: Math.max(minItems, 4) }) },
        // At the limit (1000 order items): one sample repeated, so generation stays cheap.
        ...(s.maxItems !== undefined && s.maxItems > 4
          ? [{ weight: 1, arbitrary: items.map((v) => Array.from({ length: s.maxItems as number }, () => v)) }]
          : []),
      );
    }
    case 'object':
      return validObject(s, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function validObject(s: JsonSchema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set<string>(s.required ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, sub] of Object.entries(props)) model[name] = validArb(sub, depth + 1);
  const requiredKeys = Object.keys(props).filter((k) => required.has(k));
  const record = fc.record(model, { requiredKeys });
  if (depth > 0 || s.additionalProperties === false) return record;
  // Unknown members are ignored by contract: send some, hostile and nested (≤ 64 levels).
  const extras = fc.dictionary(
    fc.constantFrom('extra', 'isAdmin', 'role', 'status', 'userId_', '$where', 'toString', 'a'.repeat(200)),
    fc.oneof(
      hostileString(),
      fc.jsonValue({ maxDepth: 3 }),
      fc.integer({ min: 1, max: 60 }).map((n) => nest(n)),
    ),
    { maxKeys: 3 },
  );
  return fc
    .tuple(record, fc.option(extras, { freq: 4 }))
    .map(([r, x]) => (x ? { ...Object.fromEntries(Object.entries(x).filter(([k]) => !(k in props))), ...r } : r));
}

/** `{"n":{"n":…}}`, `depth` levels of objects. */
export function nest(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { n: v };
  return v;
}

// ---- values that break a schema -------------------------------------------------------------

const TYPE_POOL: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  '',
  ' ',
  'x',
  '12',
  'true',
  'null',
  [],
  [null],
  [1, 2],
  {},
  { a: 1 },
];

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typesOf(s: JsonSchema): Set<string> | undefined {
  if (Array.isArray(s.anyOf)) {
    const all = new Set<string>();
    for (const b of s.anyOf) {
      const t = typesOf(b);
      if (!t) return undefined;
      for (const x of t) all.add(x);
    }
    return all;
  }
  if (s.const !== undefined) return new Set([jsonType(s.const)]);
  if (s.type === undefined) return undefined;
  const types = new Set<string>(Array.isArray(s.type) ? s.type : [s.type]);
  if (types.has('number')) types.add('integer');
  return types;
}

const BLANKS = ['', ' ', '   ', '\t\n\r', '\u00a0', '\u2003\u3000', '\u2028', '\ufeff', ' \u00a0\t '];

export function invalidArb(s: JsonSchema, depth = 0): fc.Arbitrary<unknown> | undefined {
  const options: fc.Arbitrary<unknown>[] = [];
  const types = typesOf(s);
  if (types) {
    const wrong = TYPE_POOL.filter((v) => !types.has(jsonType(v)));
    if (wrong.length > 0) options.push(fc.constantFrom(...wrong));
  }
  if (Array.isArray(s.anyOf)) {
    for (const b of s.anyOf) {
      const inv = invalidArb(b, depth);
      if (inv) options.push(inv);
    }
  }
  if (Array.isArray(s.enum) || s.const !== undefined) options.push(hostileString());
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'string') {
    if (s.maxLength !== undefined) {
      const max = s.maxLength as number;
      options.push(
        fc
          .tuple(fc.integer({ min: 1, max: 5000 }), fc.constantFrom('A', 'é', '😀', "'", '<'))
          .map(([extra, c]) => c.repeat(max + extra)),
      );
    }
    if ((s.minLength ?? 0) > 0) options.push(fc.constant(''));
    if (s.pattern === '\\S') options.push(fc.constantFrom(...BLANKS));
    if (s.format === 'uuid' || s.pattern === UUID_PATTERN)
      options.push(fc.constantFrom(...BAD_UUIDS, ...HOSTILE_STRINGS));
    if (s.format === 'date-time') options.push(fc.constantFrom(...BAD_DATES));
  }
  if (type === 'integer' || type === 'number') {
    const { min, max, minExcluded } = rangeOf(s, type === 'integer');
    if (s.minimum !== undefined || s.exclusiveMinimum !== undefined) {
      options.push(fc.constantFrom(...(minExcluded ? [min] : []), min - 1, min - 0.001, -1, -(2 ** 31), -1e308, -0.01));
    }
    if (s.maximum !== undefined) options.push(fc.constantFrom(max + 1, max + 0.5, 2 ** 53 + 2, 1e21, 1e308));
    if (type === 'integer') options.push(fc.constantFrom(1.5, 0.1, 2.000001, 1e-7, 2 ** 31 - 0.5));
  }
  if (type === 'array') {
    const items = (s.items ?? {}) as JsonSchema;
    if ((s.minItems ?? 0) > 0) options.push(fc.constant([]));
    if (s.maxItems !== undefined) {
      const max = s.maxItems as number;
      options.push(
        fc
          .tuple(validArb(items, depth + 1), fc.integer({ min: 1, max: 50 }))
          .map(([v, extra]) => Array.from({ length: max + extra }, () => v)),
      );
    }
    const badItem = depth < 4 ? invalidArb(items, depth + 1) : undefined;
    if (badItem) {
      options.push(
        fc.tuple(fc.array(validArb(items, depth + 1), { maxLength: 3 }), badItem, fc.nat()).map(([good, bad, at]) => {
          const out = [...good];
          out.splice(at % (good.length + 1), 0, bad);
          return out;
        }),
      );
    }
  }
  if (type === 'object') {
    const props = (s.properties ?? {}) as Record<string, JsonSchema>;
    const required: string[] = s.required ?? [];
    const valid = validObject(s, depth);
    if (required.length > 0) {
      options.push(
        fc.tuple(valid, fc.constantFrom(...required)).map(([o, drop]) => {
          const copy = { ...o };
          delete copy[drop];
          return copy;
        }),
      );
    }
    const breakable = Object.entries(props)
      .map(([name, sub]) => [name, depth < 4 ? invalidArb(sub, depth + 1) : undefined] as const)
      .filter((e): e is readonly [string, fc.Arbitrary<unknown>] => e[1] !== undefined);
    if (breakable.length > 0) {
      const one = fc.oneof(...breakable.map(([name, bad]) => bad.map((v) => [name, v] as const)));
      options.push(fc.tuple(valid, one).map(([o, [name, v]]) => ({ ...o, [name]: v })));
      // Several fields wrong at once.
      options.push(
        fc.tuple(valid, fc.array(one, { minLength: 2, maxLength: 4 })).map(([o, bad]) => ({
          ...o,
          ...Object.fromEntries(bad),
        })),
      );
    }
  }
  if (options.length === 0) return undefined;
  return fc.oneof(...options);
}

// ---- requests -------------------------------------------------------------------------------

/** A few structurally different garbage tokens; the JWT attack suite covers the rest. */
const GARBAGE_AUTH = [
  '',
  'Bearer',
  'Bearer ',
  'Basic dXNlcjpwYXNz',
  'Bearer garbage',
  'Bearer a.b.c',
  'Bearer ...',
  `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"fuzz-buyer","roles":["admin"]}').toString('base64url')}.`,
  "Bearer ' OR 1=1 --",
  'bearer\tx',
  'Negotiate YII=',
];

interface TokenChoice {
  header: string | undefined;
  /** The token passes authentication with this subject and roles (undefined: it cannot). */
  subject?: string;
  roles?: string[];
}

function authArb(ctx: FuzzContext): fc.Arbitrary<TokenChoice> {
  const t = ctx.tokens;
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant<TokenChoice>({ header: undefined }) },
    { weight: 12, arbitrary: fc.constantFrom(...GARBAGE_AUTH).map((h): TokenChoice => ({ header: h })) },
    // Rarely: a head over 16 KiB ends every request at 431, whatever else it carries.
    { weight: 1, arbitrary: fc.constant<TokenChoice>({ header: `Bearer ${'A'.repeat(20_000)}` }) },
    {
      weight: 20,
      arbitrary: fc.constantFrom<TokenChoice>(
        { header: `Bearer ${t.buyer}`, subject: t.buyerSubject, roles: ['buyer'] },
        { header: `Bearer ${t.admin}`, subject: 'fuzz-admin', roles: ['admin'] },
        { header: `Bearer ${t.norole}`, subject: t.noroleSubject, roles: [] },
      ),
    },
  );
}

/** Whether a token can pass the operation's checks (`POST /api/orders` needs buyer; the rest admin). */
function mayPass(op: Operation, token: TokenChoice): boolean {
  if (!op.secured) return true;
  if (!token.roles) return false;
  const role = op.path === '/api/orders' ? 'buyer' : 'admin';
  return token.roles.includes(role);
}

function paramText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Values that exist in the stack, for the parameters that name them. */
function knownValues(p: Param, ctx: FuzzContext): string[] {
  if (p.name === 'orderId') return ctx.known.orderIds;
  if (p.name === 'skuId') return ctx.known.skuIds;
  if (p.name === 'queue') return ctx.known.queues;
  if (p.name === 'after' || p.name === 'cursor') return ctx.known.cursors;
  return [];
}

function validParamArb(p: Param, ctx: FuzzContext): fc.Arbitrary<string | undefined> {
  const known = knownValues(p, ctx);
  const value = validArb(p.schema)
    .map(paramText)
    .filter((t) => textIsValid(p.schema, t));
  const choices: fc.Arbitrary<string | undefined>[] = [value];
  if (known.length > 0) choices.push(fc.constantFrom(...known));
  if (!p.required) choices.push(fc.constant(undefined));
  return fc.oneof(...choices);
}

const BAD_TEXT = [
  'abc',
  '1.5',
  '-1',
  '',
  ' ',
  '1e3',
  '0x10',
  '99999999999999999999',
  'Infinity',
  'NaN',
  '[]',
  'true',
  '%',
  '%zz',
  '\u0000',
  'a\u0000b',
];

function invalidParamArb(p: Param): fc.Arbitrary<string | string[] | undefined> | undefined {
  const options: fc.Arbitrary<string | string[] | undefined>[] = [];
  if (p.required && p.in !== 'path') options.push(fc.constant(undefined));
  if (p.in === 'header') {
    // Headers are plain strings: only absent, blank or over-long ones are wrong (Idempotency-Key).
    if (p.name !== 'idempotency-key') return options.length > 0 ? fc.oneof(...options) : undefined;
    options.push(fc.constantFrom('', '   ', 'k'.repeat(129), ` ${'k'.repeat(200)} `));
    return fc.oneof(...options);
  }
  const inv = invalidArb(p.schema);
  if (inv) options.push(inv.map(paramText));
  options.push(fc.constantFrom(...BAD_TEXT, ...BAD_UUIDS, ...BAD_DATES));
  if (p.in === 'query')
    options.push(fc.tuple(validArb(p.schema), validArb(p.schema)).map(([a, b]) => [paramText(a), paramText(b)]));
  return fc.oneof(...options).filter((v) => (v === undefined ? p.required : !textIsValid(p.schema, v)));
}

interface Built {
  params: Record<string, string | string[] | undefined>;
  token: TokenChoice;
  body: unknown;
  bodyText?: string;
  contentType?: string | undefined;
  extraHeaders?: Record<string, string>;
  rawQuery?: string;
  kind: string;
  expect?: readonly number[];
}

/** The request on the wire. */
export function render(op: Operation, b: Built): FuzzRequest {
  let path = op.path;
  const query: string[] = [];
  const headers: Record<string, string> = { ...b.extraHeaders };
  for (const p of op.params) {
    const v = b.params[p.name];
    if (p.in === 'path') {
      path = path.replace(`{${p.name}}`, encodePathSegment(typeof v === 'string' ? v : ''));
    } else if (v !== undefined) {
      if (p.in === 'query') {
        for (const one of Array.isArray(v) ? v : [v])
          query.push(`${encodeURIComponent(p.name)}=${encodeQueryValue(one)}`);
      } else {
        const text = headerSafe(Array.isArray(v) ? v.join(',') : v);
        headers[p.name] = text;
      }
    }
  }
  if (b.rawQuery) query.push(b.rawQuery);
  if (b.token.header !== undefined) headers.authorization = headerSafe(b.token.header) || b.token.header.trim();
  let body: string | undefined;
  if (op.method !== 'GET') {
    body = b.bodyText ?? (b.body === undefined ? undefined : JSON.stringify(b.body));
    const ct = b.contentType === undefined && !('contentType' in b) ? 'application/json' : b.contentType;
    if (ct !== undefined && body !== undefined) headers['content-type'] = ct;
  }
  return {
    method: op.method,
    path,
    query: query.join('&'),
    headers,
    body,
    kind: b.kind,
    ...(b.expect ? { expect: b.expect } : {}),
  };
}

/** A URL carries UTF-8: a lone surrogate cannot be sent, so it goes as U+FFFD. */
function wellFormed(v: string): string {
  return v.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** `%zz` and `%` pass through unencoded: malformed percent-encoding is itself a probe. */
function encodePathSegment(v: string): string {
  if (v === '%zz' || v === '%') return v;
  return encodeURIComponent(wellFormed(v));
}

function encodeQueryValue(v: string): string {
  if (v === '%zz' || v === '%') return v;
  return encodeURIComponent(wellFormed(v));
}

/** The arbitrary of hostile requests for one operation. */
export function requestArb(op: Operation, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const validParams = fc.record(
    Object.fromEntries(op.params.map((p) => [p.name, validParamArb(p, ctx)])),
  ) as fc.Arbitrary<Record<string, string | undefined>>;
  const auth = authArb(ctx);
  const validBody = op.body ? validArb(op.body).filter((v) => bodyIsValid(op.body!, v)) : fc.constant(undefined);
  const invalidBody = op.body ? invalidArb(op.body)?.filter((v) => !bodyIsValid(op.body!, v)) : undefined;
  const variants: { weight: number; arbitrary: fc.Arbitrary<Built> }[] = [];

  // 1. The body breaks its schema.
  if (invalidBody) {
    variants.push({
      weight: 8,
      arbitrary: fc.record({ params: validParams, token: auth, body: invalidBody }).map((r) => ({
        ...r,
        kind: `body:${describeViolation(op.body!, r.body)}`,
      })),
    });
  }
  // 2. One parameter breaks its schema (or a required one is missing).
  const breakableParams = op.params
    .map((p) => [p, invalidParamArb(p)] as const)
    .filter((e): e is readonly [Param, fc.Arbitrary<string | string[] | undefined>] => e[1] !== undefined);
  if (breakableParams.length > 0) {
    variants.push({
      weight: 3,
      arbitrary: fc
        .tuple(
          validParams,
          fc.oneof(...breakableParams.map(([p, bad]) => bad.map((v) => [p.name, v] as const))),
          auth,
          validBody,
        )
        .map(([params, [name, v], token, body]) => ({
          params: { ...params, [name]: v },
          token,
          body,
          kind: `param:${name}`,
        })),
    });
  }
  // 3. Protocol-level garbage.
  variants.push({ weight: 4, arbitrary: rawArb(op, validParams, auth, validBody) });
  // 4. Valid request, credentials that cannot pass.
  if (op.secured) {
    variants.push({
      weight: op.mutating ? 2 : 3,
      arbitrary: fc
        .record({ params: validParams, token: auth, body: validBody })
        .filter((r) => !op.mutating || !mayPass(op, r.token))
        .map((r) => ({
          ...r,
          kind: `auth:${r.token.roles ? `roles=${r.token.roles.join('+') || 'none'}` : 'invalid'}`,
        })),
    });
  }
  // 5. Reads and stateless endpoints: schema-valid, hostile values.
  if (!op.mutating) {
    variants.push({
      weight: 6,
      arbitrary: fc
        .record({ params: validParams, token: auth, body: validBody })
        .map((r) => ({ ...r, kind: 'valid:hostile' })),
    });
  }
  // 6. Orders: valid bodies that the buyer's own token must still not turn into an order.
  if (op.method === 'POST' && op.path === '/api/orders')
    variants.push({ weight: 6, arbitrary: orderSemanticArb(op, ctx, validParams) });

  return fc.oneof(...variants).map((b) => render(op, b));
}

/** A short label of what is wrong with a body, for the distribution report. */
function describeViolation(schema: JsonSchema, body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return `type-${jsonType(body)}`;
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const req of (schema.required ?? []) as string[]) if (!(req in body)) return `missing-${req}`;
  for (const [name, sub] of Object.entries(props)) {
    const v = (body as Record<string, unknown>)[name];
    if (v !== undefined && !bodyIsValid(sub, v)) return `${name}`;
  }
  return 'other';
}

const WRONG_TYPES = [
  'text/plain',
  'application/xml',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/jsonx',
  'json',
  'text/csv',
];

const BROKEN_JSON = [
  '{',
  '}',
  '{"a":',
  "{'a':1}",
  '{"a":1,}',
  '{"a":NaN}',
  '{"a":undefined}',
  '{"a":1}/*x*/',
  '{"a":1} trailing',
  '[1,2',
  '"unterminated',
  'nul\u0000',
  '\ufeff{}x',
  '{"a":"\\x41"}',
  '{"a":"\\ud800"',
  '{"a":0x10}',
  '{"a":01}',
  '{"a":.5}',
  '{"a":+1}',
  '{"a":1e}',
  'true false',
  '{"__proto__":',
];

function rawArb(
  op: Operation,
  validParams: fc.Arbitrary<Record<string, string | undefined>>,
  auth: fc.Arbitrary<TokenChoice>,
  validBody: fc.Arbitrary<unknown>,
): fc.Arbitrary<Built> {
  const withAuth = <T extends object>(extra: fc.Arbitrary<T>) =>
    fc.tuple(validParams, auth, extra).map(([params, token, x]) => ({ params, token, body: undefined, ...x }));
  const authStatuses = op.secured ? [401, 403] : [];
  const options: fc.Arbitrary<Built>[] = [];
  const rare: fc.Arbitrary<Built>[] = [
    // A request head over Node's 16 KiB: 431 before any route runs.
    withAuth(
      fc.integer({ min: 17_000, max: 24_000 }).map((n) => ({
        extraHeaders: { 'x-padding': 'p'.repeat(n) },
        kind: 'raw:huge-header',
        expect: [431],
      })),
    ),
  ];
  options.push(
    // Query garbage: prototype keys, repeated and malformed parameters.
    withAuth(
      fc
        .constantFrom(
          '__proto__[admin]=1',
          'constructor[prototype][x]=1',
          '__proto__=x',
          'a=%zz',
          '%=%',
          `q=${'x'.repeat(6000)}`,
          'a[b][c][d][e][f]=1',
          '=&&=',
        )
        .map((rawQuery) => ({ rawQuery, kind: 'raw:query' })),
    ),
  );
  if (op.method !== 'GET') {
    const bodies = (text: fc.Arbitrary<string>, kind: string, expect: number[], contentType?: string) =>
      withAuth(
        text.map((bodyText) => ({
          bodyText,
          kind,
          expect: [...expect, ...authStatuses],
          ...(contentType === undefined ? {} : { contentType }),
        })),
      );
    options.push(
      bodies(fc.constantFrom(...BROKEN_JSON), 'raw:invalid-json', [400]),
      bodies(fc.constant(''), 'raw:empty-body', [400]),
      // The right body, the wrong content type.
      withAuth(
        fc.tuple(validBody, fc.constantFrom(...WRONG_TYPES)).map(([body, contentType]) => ({
          bodyText: JSON.stringify(body ?? {}),
          contentType,
          kind: 'raw:content-type',
          expect: [415, ...authStatuses],
        })),
      ),
      withAuth(
        validBody.map((body) => ({
          bodyText: JSON.stringify(body ?? {}),
          contentType: undefined,
          kind: 'raw:no-content-type',
          expect: [415, ...authStatuses],
        })),
      ),
      // Prototype pollution: refused by the parser (secure-json-parse), never merged.
      bodies(
        fc.tuple(validBody, fc.constantFrom('__proto__', 'constructor')).map(([body, key]) => {
          const inner = JSON.stringify(body ?? {}).slice(1);
          const poison =
            key === '__proto__' ? '{"isAdmin":true,"status":"CONFIRMED"}' : '{"prototype":{"isAdmin":true}}';
          return `{"${key}":${poison}${inner === '}' ? '}' : `,${inner}`}`;
        }),
        'raw:proto-key',
        [400],
      ),
      // Nested past the limit (64) inside an otherwise valid body.
      bodies(
        fc.tuple(validBody, fc.integer({ min: 65, max: 5_000 }), fc.boolean()).map(([body, depth, arrays]) => {
          const open = arrays ? '['.repeat(depth) : '{"n":'.repeat(depth);
          const close = arrays ? ']'.repeat(depth) : '}'.repeat(depth);
          const inner = JSON.stringify(body ?? {}).slice(1);
          return `{"deep":${open}1${close}${inner === '}' ? '}' : `,${inner}`}`;
        }),
        'raw:deep-nesting',
        [400],
      ),
      // A huge top-level array.
      bodies(
        fc.integer({ min: 1001, max: 5_000 }).map((n) => `[${Array.from({ length: n }, () => '{}').join(',')}]`),
        'raw:huge-array',
        [400, 413],
      ),
      // NUL in a string (PostgreSQL text cannot hold it).
      bodies(
        // A body with no string at all (`{}`) gets a NUL-bearing key, so the mutation is never a no-op.
        validBody.map((body) => {
          const json = JSON.stringify(body ?? {});
          const mutated = json.replace(/"([^"\\]*)"/, '"$1\\u0000"');
          return mutated !== json ? mutated : `{"nul\\u0000":1${json === '{}' ? '' : `,${json.slice(1, -1)}`}}`;
        }),
        'raw:nul',
        [400],
      ),
      // Over the body limit (256 KiB).
      bodies(
        fc.integer({ min: 262_145, max: 300_000 }).map((n) => `{"pad":"${'x'.repeat(n)}"}`),
        'raw:oversized',
        [413],
      ),
    );
    if (op.body?.required?.length) {
      // Duplicate keys: JSON.parse keeps the LAST one; here it is invalid.
      const schema = op.body;
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const breakable = (schema.required as string[])
        .map((name) => [name, props[name] ? invalidArb(props[name]) : undefined] as const)
        .filter((e): e is readonly [string, fc.Arbitrary<unknown>] => e[1] !== undefined);
      if (breakable.length > 0) {
        options.push(
          withAuth(
            fc
              .tuple(validBody, fc.oneof(...breakable.map(([n, bad]) => bad.map((v) => [n, v] as const))))
              .map(([body, [name, bad]]) => {
                const text = JSON.stringify(body ?? {});
                return {
                  bodyText: `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${JSON.stringify(name)}:${JSON.stringify(bad)}}`,
                };
              })
              .filter((r) => !bodyIsValid(schema, JSON.parse(r.bodyText)))
              .map((r) => ({ ...r, kind: 'raw:duplicate-key', expect: [400, ...authStatuses] })),
          ),
        );
      }
    }
  }
  return fc.oneof({ weight: 1, arbitrary: fc.oneof(...rare) }, { weight: 6, arbitrary: fc.oneof(...options) });
}

/**
 * `POST /api/orders` with a schema-valid body and a token that authenticates: the body names
 * another user (400), the token lacks the role (403), or every SKU is unknown (422). None of
 * them may create an order.
 */
function orderSemanticArb(
  op: Operation,
  ctx: FuzzContext,
  validParams: fc.Arbitrary<Record<string, string | undefined>>,
): fc.Arbitrary<Built> {
  const t = ctx.tokens;
  const item = fc.record({
    skuId: validString({ pattern: '\\S', maxLength: 64 }).filter(
      (s) => !ctx.catalogSkus.has(s.trim()) && s.trim().length <= 64,
    ),
    quantity: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.constantFrom(2 ** 31 - 1, 1_000_000)),
    price: fc.oneof(
      fc.double({ min: 0.01, max: 1e6, noNaN: true }),
      fc.constantFrom(0.01, 0.005 + 0.01, 9_999_999_999.99),
    ),
  });
  const items = fc.array(item, { minLength: 1, maxLength: 5 });
  const buyer: TokenChoice = { header: `Bearer ${t.buyer}`, subject: t.buyerSubject, roles: ['buyer'] };
  const norole: TokenChoice = { header: `Bearer ${t.norole}`, subject: t.noroleSubject, roles: [] };
  return fc
    .oneof(
      fc
        .tuple(validParams, items, validString({ pattern: '\\S', maxLength: 64 }))
        .filter(([, , userId]) => userId.trim() !== t.buyerSubject)
        .map(([params, its, userId]) => ({
          params,
          token: buyer,
          body: { userId, items: its },
          kind: 'semantic:other-user',
          expect: [400],
        })),
      fc.tuple(validParams, items).map(([params, its]) => ({
        params,
        token: norole,
        body: { userId: t.noroleSubject, items: its },
        kind: 'semantic:no-role',
        expect: [400, 403],
      })),
      fc.tuple(validParams, items).map(([params, its]) => ({
        params,
        token: buyer,
        body: { userId: ` ${t.buyerSubject} `, items: its },
        kind: 'semantic:unknown-sku',
        expect: [400, 422],
      })),
    )
    .filter((b) => op.body === undefined || bodyIsValid(op.body, b.body));
}

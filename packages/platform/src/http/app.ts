import { asyncApiDocument } from '@ecom/contracts';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import FindMyWay from 'find-my-way';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { isDatabaseUnavailable } from '../db/errors.js';
import { AppError, errorBody, type FieldError, pathOf } from './errors.js';
import { clientErrorReply, frameworkErrorReply, installHardening, STRICT_UUID } from './hardening.js';
import { markRequestError, registerHttpMetrics } from './metrics.js';
import { traceIdFrom } from './trace-id.js';

export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface HttpAppOptions {
  serviceName: string;
  version: string;
  description?: string;
  logger: Logger;
  registry: Registry;
  bodyLimitBytes: number;
  /** Paths whose per-request log lines are skipped (probes and scrapes would drown the logs). */
  quietPathPrefixes?: string[];
}

/**
 * The Fastify instance every service gets: X-Trace-Id, the spec's error body for every
 * 4xx/5xx (never a stack trace), 405 vs 404, metrics, OpenAPI + Swagger UI served locally.
 * Routes are added by the service afterwards; `ready()` freezes it.
 */
export async function buildHttpApp(opts: HttpAppOptions): Promise<HttpApp> {
  const quiet = opts.quietPathPrefixes ?? ['/actuator', '/swagger-ui', '/v3/api-docs'];
  const app = Fastify({
    loggerInstance: opts.logger,
    // The request id IS the trace id, so every request.log line carries it as `trace_id`.
    genReqId: (req) => traceIdFrom(req.headers['x-trace-id']),
    requestIdHeader: false,
    logController: new LogController({
      requestIdLogLabel: 'trace_id',
      disableRequestLogging: (req: { url?: string }) => quiet.some((p) => req.url?.startsWith(p)),
    }),
    bodyLimit: opts.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 200 },
    // Errors raised before a route is found still answer with the spec's error body.
    frameworkErrors: frameworkErrorReply,
    clientErrorHandler: clientErrorReply,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as HttpApp;

  installValidators(app);
  // JSON endpoints only: a text/plain body must be 415 (spec §1.1), not a string that fails
  // validation. Fastify registers a text/plain parser by default; remove it.
  app.removeContentTypeParser('text/plain');

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-trace-id', request.id);
    done();
  });

  registerHttpMetrics(app, opts.registry);
  installErrorHandling(app);
  // Security headers, opt-in rate limits, bounded JSON, NUL refused: before any route exists.
  await installHardening(app as unknown as FastifyInstance);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: opts.serviceName, version: opts.version, description: opts.description },
      servers: [],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/swagger-ui' });
  app.get('/v3/api-docs', { schema: { hide: true } }, async () => app.swagger());
  // AsyncAPI 3: every channel and message, generated from @ecom/contracts; built once at startup.
  const asyncApi = asyncApiDocument({ title: opts.serviceName, version: opts.version });
  app.get('/asyncapi.json', { schema: { hide: true } }, async () => asyncApi);
  // The original redirects to the UI's index page; so do we.
  app.get('/swagger-ui.html', { schema: { hide: true } }, (_req, reply) => reply.redirect('/swagger-ui/'));
  return app;
}

/**
 * Bodies are validated WITHOUT type coercion (a JSON string is not a number, null is not 0);
 * path, query and header values are text on the wire, so they are coerced.
 */
function installValidators(app: HttpApp): void {
  const base = { allErrors: true, strict: false, useDefaults: true, removeAdditional: false } as const;
  // `uuid` is strict: ajv-formats also takes `urn:uuid:…`, which PostgreSQL's uuid type refuses.
  const bodyAjv = addFormats.default(new Ajv.default({ ...base, coerceTypes: false })).addFormat('uuid', STRICT_UUID);
  const textAjv = addFormats.default(new Ajv.default({ ...base, coerceTypes: 'array' })).addFormat('uuid', STRICT_UUID);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object),
  );
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function fieldErrors(issues: readonly AjvIssue[], context: string | undefined): FieldError[] {
  const all = issues.map((i) => {
    const path = i.instancePath
      .split('/')
      .slice(1)
      .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`))
      .join('')
      .replace(/^\./, '');
    const missing = i.keyword === 'required' ? String(i.params.missingProperty) : '';
    const field = [path, missing].filter(Boolean).join('.') || (context ?? 'body');
    const message =
      i.keyword === 'pattern' && i.params.pattern === '\\S'
        ? 'must not be blank'
        : i.keyword === 'required'
          ? 'is required'
          : (i.message ?? 'is invalid');
    return { field: context && context !== 'body' ? `${context}.${field}` : field, message, keyword: i.keyword };
  });
  // A nullable field (`anyOf [T, null]`) fails every branch: keep what was wrong with T, not
  // "must be null" and "must match a schema in anyOf".
  const noise = (e: { keyword: string; message: string }) => e.keyword === 'anyOf' || e.message === 'must be null';
  return all
    .filter((e) => !noise(e) || all.every((o) => o.field !== e.field || noise(o)))
    .map(({ field, message }) => ({ field, message }));
}

function installErrorHandling(app: HttpApp): void {
  // A mirror of the route table, used only to tell 405 (path exists, other method) from 404.
  const mirror = FindMyWay({ ignoreTrailingSlash: false });
  const noop = () => undefined;
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) {
      if (!mirror.hasRoute(m as 'GET', route.url)) mirror.on(m as 'GET', route.url, noop);
    }
  });

  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url);
    const allowed = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter(
      (m) => mirror.find(m as 'GET', path) !== null,
    );
    if (allowed.length > 0) {
      reply.code(405).header('allow', allowed.join(', '));
      return reply.send(errorBody(405, path, `method ${request.method} is not supported for this path`));
    }
    return reply.code(404).send(errorBody(404, path, 'no such resource'));
  });

  app.setErrorHandler((err: FastifyError | AppError, request, reply) => {
    markRequestError(request, err);
    const path = pathOf(request.url);
    if (err instanceof AppError) {
      if (err.extra.headers) reply.headers(err.extra.headers);
      return reply
        .code(err.status)
        .send(errorBody(err.status, path, err.message, { code: err.code, errors: err.extra.errors }));
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const errors = fieldErrors(fe.validation as AjvIssue[], fe.validationContext);
      const message = errors.map((e) => `${e.field} ${e.message}`).join('; ');
      return reply.code(400).send(errorBody(400, path, message, { code: 'VALIDATION_FAILED', errors }));
    }
    const status = fe.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Framework 4xx (bad JSON 400, 413, 415, …): their messages describe the request, not us.
      return reply.code(status).send(errorBody(status, path, fe.message, { code: fe.code }));
    }
    if (isDatabaseUnavailable(err)) {
      // An outage, not a bug: say so (clients and load balancers retry 503), keep details in logs.
      request.log.warn({ err }, 'database unavailable');
      reply.header('retry-after', '1');
      return reply
        .code(503)
        .send(errorBody(503, path, 'a dependency is unavailable; retry shortly', { code: 'DEPENDENCY_UNAVAILABLE' }));
    }
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody(500, path, 'internal error; see the service logs with this trace id'));
  });
}

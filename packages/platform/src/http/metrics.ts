import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Seconds; operations.md §4.2 (the original never exposed buckets, so its p95 panels were empty). */
export const HTTP_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One registry per service, every series labelled `application="<service name>"` (§4.1). */
export function createRegistry(application: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ application });
  collectDefaultMetrics({ register: registry });
  return registry;
}

const errorLabel = new WeakMap<FastifyRequest, string>();

/** Remember the error class/code of a failed request for the `exception` label. */
export function markRequestError(request: FastifyRequest, err: Error & { code?: string }): void {
  errorLabel.set(request, err.code ?? err.name ?? 'Error');
}

/** Fastify's `/api/orders/:orderId` written as Spring's route template `/api/orders/{orderId}`. */
export function uriTemplate(routeUrl: string): string {
  return routeUrl.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function outcomeOf(status: number): string {
  if (status >= 500) return 'SERVER_ERROR';
  if (status >= 400) return 'CLIENT_ERROR';
  if (status >= 300) return 'REDIRECTION';
  if (status >= 200) return 'SUCCESS';
  if (status >= 100) return 'INFORMATIONAL';
  return 'UNKNOWN';
}

/** `http_server_requests_seconds` with the labels of the original (Micrometer) plus buckets. */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const histogram = new Histogram({
    name: 'http_server_requests_seconds',
    help: 'Duration of HTTP server requests',
    labelNames: ['method', 'uri', 'status', 'outcome', 'exception', 'error'] as const,
    buckets: HTTP_BUCKETS_SECONDS,
    registers: [registry],
  });
  // Route templates are few and fixed: convert each once, not per request.
  const templates = new Map<string, string>();
  const templateOf = (route: string) => {
    let t = templates.get(route);
    if (t === undefined) {
      t = uriTemplate(route);
      templates.set(route, t);
    }
    return t;
  };
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const status = reply.statusCode;
    const route = request.routeOptions.url;
    // Unmatched requests get a fixed placeholder, never the raw path (bounded cardinality).
    const uri = route
      ? templateOf(route)
      : status === 404
        ? 'NOT_FOUND'
        : status >= 300 && status < 400
          ? 'REDIRECTION'
          : 'UNKNOWN';
    const exception = errorLabel.get(request) ?? 'none';
    histogram.observe(
      { method: request.method, uri, status: String(status), outcome: outcomeOf(status), exception, error: exception },
      reply.elapsedTime / 1000,
    );
    done();
  });
}

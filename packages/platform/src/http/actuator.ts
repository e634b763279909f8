import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { checkHealth, criticalOnly, type HealthIndicator } from '../health.js';

export interface ActuatorOptions {
  registry: Registry;
  indicators: () => readonly HealthIndicator[];
  /** False before startup completes and from the moment shutdown begins. */
  isReady: () => boolean;
  info: () => Record<string, unknown>;
  healthTimeoutMs: number;
}

const hidden = { schema: { hide: true } } as const;

/** Spring-Boot-actuator-compatible endpoints (spec operations.md §3, http-api.md §8). */
export function registerActuator(app: FastifyInstance, opts: ActuatorOptions): void {
  app.get('/actuator/health', hidden, async (_req, reply) => {
    const report = await checkHealth(opts.indicators(), opts.healthTimeoutMs);
    const status = report.status === 'UP' && opts.isReady() ? 'UP' : 'DOWN';
    reply.code(status === 'UP' ? 200 : 503);
    return { status, groups: ['liveness', 'readiness'], components: report.components };
  });

  // Liveness is the process only: a dependency outage must not make the orchestrator kill us.
  app.get('/actuator/health/liveness', hidden, async () => ({ status: 'UP' }));

  app.get('/actuator/health/readiness', hidden, async (_req, reply) => {
    if (!opts.isReady()) {
      reply.code(503);
      return { status: 'DOWN' };
    }
    const report = await checkHealth(criticalOnly(opts.indicators()), opts.healthTimeoutMs);
    reply.code(report.status === 'UP' ? 200 : 503);
    return report.status === 'UP' ? { status: 'UP' } : { status: 'DOWN', components: report.components };
  });

  app.get('/actuator/info', hidden, async () => opts.info());

  app.get('/actuator/prometheus', hidden, async (_req, reply) => {
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
}

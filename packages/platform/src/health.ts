import { withTimeout } from './db/postgres.js';

export type HealthStatus = 'UP' | 'DOWN';

/** One dependency the service uses (database, broker, cache). */
export interface HealthIndicator {
  /** Component name in /actuator/health (`db`, `rabbit`, `redis`). */
  name: string;
  /** A critical dependency takes readiness DOWN with it; a non-critical one only degrades health. */
  critical: boolean;
  /** Resolves when healthy; rejects (or times out) when not. */
  check(): Promise<void>;
  /** Which implementation answers (`postgres`, `pglite`, `amqp`, `in-process`…), for logs and info. */
  mode: string;
}

export interface HealthReport {
  status: HealthStatus;
  components: Record<string, { status: HealthStatus; details: { mode: string; error?: string } }>;
}

export async function checkHealth(indicators: readonly HealthIndicator[], timeoutMs: number): Promise<HealthReport> {
  const results = await Promise.all(
    indicators.map(async (ind) => {
      try {
        await withTimeout(ind.check(), timeoutMs, `${ind.name} health check`);
        return [ind, { status: 'UP' as const, details: { mode: ind.mode } }] as const;
      } catch (err) {
        return [ind, { status: 'DOWN' as const, details: { mode: ind.mode, error: (err as Error).message } }] as const;
      }
    }),
  );
  const components: HealthReport['components'] = {};
  for (const [ind, r] of results) components[ind.name] = r;
  const status = results.some(([, r]) => r.status === 'DOWN') ? 'DOWN' : 'UP';
  return { status, components };
}

/** Readiness looks only at critical dependencies. */
export function criticalOnly(indicators: readonly HealthIndicator[]): HealthIndicator[] {
  return indicators.filter((i) => i.critical);
}

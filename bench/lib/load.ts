import autocannon from 'autocannon';
import { percentile } from './stats.js';

export interface LoadOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8085 */
  url: string;
  /** Request paths, cycled in order across all connections (shuffle them for random access). */
  paths: readonly string[];
  connections: number;
  durationS: number;
  method?: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
  headers?: Record<string, string>;
  body?: string;
  /** Per-request timeout, seconds (autocannon default 10). */
  timeoutS?: number;
  /** Record each 2xx latency (ms, float) for exact percentiles. Default true; off for warm-ups. */
  recordLatencies?: boolean;
  /**
   * Per-request changes after the path is chosen (autocannon's `setupRequest`), e.g. a fresh
   * Idempotency-Key per request. Headers set here replace `headers` for that request.
   */
  setupRequest?: (req: autocannon.Request) => autocannon.Request;
}

export interface LoadResult {
  /** Completed 2xx responses per second over the measured duration. */
  rps: number;
  /** Latency of 2xx responses, milliseconds (exact, from every response; autocannon's own histogram is whole ms). */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  /** 2xx responses. */
  ok: number;
  /** Connection errors, including timeouts. */
  errors: number;
  timeouts: number;
  non2xx: number;
  durationS: number;
}

/**
 * One bounded autocannon run in this process. Resolves with throughput and exact latency
 * percentiles. Bounded twice: autocannon's own duration, and a guard that stops it if it has
 * not finished 30 s after that.
 */
export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  if (opts.paths.length === 0) throw new Error('runLoad: no paths');
  const record = opts.recordLatencies ?? true;
  const latencies: number[] = [];
  let next = 0;
  const paths = opts.paths;

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        duration: opts.durationS,
        timeout: opts.timeoutS ?? 10,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        body: opts.body,
        requests: [
          {
            setupRequest: (req) => {
              const path = paths[next]!;
              next = next + 1 === paths.length ? 0 : next + 1;
              return opts.setupRequest ? opts.setupRequest({ ...req, path }) : { ...req, path };
            },
          },
        ],
      },
      (err, result) => {
        clearTimeout(guard);
        if (err) return reject(err);
        latencies.sort((a, b) => a - b);
        const ok = result['2xx'];
        resolve({
          rps: ok / result.duration,
          p50: percentile(latencies, 50),
          p95: percentile(latencies, 95),
          p99: percentile(latencies, 99),
          max: latencies.length ? latencies[latencies.length - 1]! : Number.NaN,
          mean: latencies.length ? latencies.reduce((s, v) => s + v, 0) / latencies.length : Number.NaN,
          ok,
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          durationS: result.duration,
        });
      },
    );
    const guard = setTimeout(() => instance.stop(), (opts.durationS + 30) * 1000);
    if (record) {
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      });
    }
  });
}

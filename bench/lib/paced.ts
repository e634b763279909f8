/**
 * A paced closed-loop HTTP client: `workers` virtual users, each sending one request, waiting for
 * the whole response, then sleeping `thinkMs` before the next — the load shape of a JMeter/Gatling
 * thread group with a constant timer, which autocannon (always as fast as it can) cannot produce.
 * Each response time is measured with `process.hrtime.bigint()` from just before the request is
 * written to the last byte of the body. Runs in the bench process (nothing else runs there while
 * it measures); keep-alive, one socket per worker.
 */
import { Agent, request } from 'node:http';
import { percentile } from './stats.js';

export interface PacedOptions {
  /** Base URL, e.g. http://127.0.0.1:8082 */
  url: string;
  /** Paths, cycled in order across all workers. */
  paths: readonly string[];
  workers: number;
  /** Sleep after each response (0 = back-to-back, i.e. a plain closed loop). */
  thinkMs: number;
  durationS: number;
  headers?: Record<string, string>;
  /** Per-request timeout (default 10 s); a timeout counts as an error. */
  timeoutMs?: number;
  /** Record latencies (default true; off for warm-ups). */
  record?: boolean;
}

export interface PacedResult {
  /** 2xx responses per second over the window. */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** 2xx response times, ms (exact, hrtime). */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  durationS: number;
  /** Bytes of 2xx bodies (sanity: the same answer size for service and floor). */
  bytes: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One GET on a keep-alive agent: status, body length and elapsed ms (hrtime). */
function get(
  agent: Agent,
  base: URL,
  path: string,
  headers: Record<string, string> | undefined,
  timeoutMs: number,
): Promise<{ status: number; bytes: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(
      { agent, host: base.hostname, port: base.port, path, method: 'GET', headers, timeout: timeoutMs },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, bytes, ms: Number(process.hrtime.bigint() - t0) / 1e6 }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function runPaced(opts: PacedOptions): Promise<PacedResult> {
  if (opts.paths.length === 0) throw new Error('runPaced: no paths');
  const base = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.workers });
  const record = opts.record ?? true;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const latencies: number[] = [];
  let next = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let bytes = 0;
  const t0 = performance.now();
  const end = t0 + opts.durationS * 1000;
  const worker = async (w: number) => {
    // Staggered starts, so the workers do not all fire in the same millisecond forever after.
    if (opts.thinkMs > 0) await sleep((w * opts.thinkMs) / opts.workers);
    while (performance.now() < end) {
      const path = opts.paths[next]!;
      next = next + 1 === opts.paths.length ? 0 : next + 1;
      try {
        const r = await get(agent, base, path, opts.headers, timeoutMs);
        if (r.status >= 200 && r.status < 300) {
          ok++;
          bytes += r.bytes;
          if (record) latencies.push(r.ms);
        } else non2xx++;
      } catch {
        errors++;
      }
      if (opts.thinkMs > 0) await sleep(opts.thinkMs);
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
  } finally {
    agent.destroy();
  }
  const durationS = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: ok / durationS,
    ok,
    non2xx,
    errors,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.length ? latencies[latencies.length - 1]! : Number.NaN,
    mean: latencies.length ? latencies.reduce((s, v) => s + v, 0) / latencies.length : Number.NaN,
    durationS,
    bytes,
  };
}

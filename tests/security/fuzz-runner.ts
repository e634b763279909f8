/**
 * Runs the fuzzer against a started stack: every operation's arbitrary (openapi-fuzz.ts) as
 * one fast-check property, all operations concurrently, each request checked as it returns.
 * Used in a worker thread (fuzz-worker.ts), so generating and checking requests does not
 * compete with the in-process services for the test's main thread.
 */
import fc from 'fast-check';
import type { ServiceName } from '../e2e/stack.js';
import { type FuzzContext, type FuzzRequest, type Operation, requestArb } from './openapi-fuzz.js';

interface Outcome {
  status: number | string;
  problem?: string;
}

export interface SerializedTally {
  total: number;
  byEndpoint: [string, [string, number][]][];
  byKind: [string, number][];
  slowest: [string, number][];
}

export class Tally {
  total = 0;
  readonly byEndpoint = new Map<string, Map<string, number>>();
  readonly byKind = new Map<string, number>();
  readonly slowest = new Map<string, number>();

  add(endpoint: string, kind: string, status: number | string, ms = 0): void {
    this.total++;
    const row = this.byEndpoint.get(endpoint) ?? new Map<string, number>();
    row.set(String(status), (row.get(String(status)) ?? 0) + 1);
    this.byEndpoint.set(endpoint, row);
    const k = kind.split(':').slice(0, 2).join(':');
    this.byKind.set(k, (this.byKind.get(k) ?? 0) + 1);
    this.slowest.set(k, Math.max(this.slowest.get(k) ?? 0, Math.round(ms)));
  }

  serialize(): SerializedTally {
    return {
      total: this.total,
      byEndpoint: [...this.byEndpoint].map(([k, row]) => [k, [...row]]),
      byKind: [...this.byKind],
      slowest: [...this.slowest],
    };
  }

  static from(s: SerializedTally): Tally {
    const t = new Tally();
    t.total = s.total;
    for (const [k, row] of s.byEndpoint) t.byEndpoint.set(k, new Map(row));
    for (const [k, n] of s.byKind) t.byKind.set(k, n);
    for (const [k, n] of s.slowest) t.slowest.set(k, n);
    return t;
  }

  statuses(): Map<string, number> {
    const all = new Map<string, number>();
    for (const row of this.byEndpoint.values()) for (const [s, n] of row) all.set(s, (all.get(s) ?? 0) + n);
    return all;
  }

  report(title: string): string {
    const fmt = (m: Map<string, number>) =>
      [...m]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([s, n]) => `${s}×${n}`)
        .join(' ');
    const width = Math.max(...[...this.byEndpoint.keys()].map((k) => k.length));
    const lines = [...this.byEndpoint]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([ep, row]) =>
          `  ${ep.padEnd(width)}  ${String([...row.values()].reduce((a, b) => a + b, 0)).padStart(5)}  ${fmt(row)}`,
      );
    return [
      `${title}: ${this.total} requests, ${this.byEndpoint.size} endpoints, statuses ${fmt(this.statuses())}`,
      ...lines,
      `  by kind: ${fmt(this.byKind)}`,
      `  slowest answer by kind (ms): ${fmt(this.slowest)}`,
    ].join('\n');
  }
}

/** Sends one request and checks the response against the properties above. */
async function send(baseUrl: string, op: Operation, r: FuzzRequest): Promise<Outcome> {
  const url = `${baseUrl}${r.path}${r.query ? `?${r.query}` : ''}`;
  const sentPath = new URL(url).pathname;
  // A head over Node's 16 KiB limit is refused before anything else looks at the request.
  const headBytes = Object.entries(r.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, url.length);
  const oversized = r.body !== undefined && Buffer.byteLength(r.body) > 262_144;
  const hasType = Object.keys(r.headers).some((h) => h.toLowerCase() === 'content-type');
  let res: Response;
  try {
    res = await fetch(url, {
      method: r.method,
      headers: r.headers,
      // A string body makes fetch add `text/plain`; bytes go out with no content type at all.
      body: r.body === undefined ? undefined : hasType ? r.body : Buffer.from(r.body),
      redirect: 'manual',
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    // The server answers an oversized request (413/431) and hangs up while the client is still
    // writing it: the client may only see the reset. Anything else is a finding.
    if ((oversized || headBytes > 16_384) && ['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(cause)) {
      return { status: 'hung-up-on-oversized' };
    }
    return { status: `ERR:${cause}`, problem: `transport error ${cause}` };
  }
  const text = await res.text();
  const status = res.status;
  if (status >= 500) return { status, problem: `${status}: ${text.slice(0, 300)}` };
  if (op.mutating && status < 400)
    return { status, problem: `a request that must be refused was accepted: ${status} ${text.slice(0, 200)}` };
  // A path the URL parser normalized (`/admin/dlq/../discard`) or a segment over the router's
  // limit never reaches the operation: any 4xx of the router is fine there.
  const routed = sentPath === r.path && r.path.split('/').every((seg) => seg.length <= 200);
  // An oversized body is refused with 413 — or first for the case's own reason when that is
  // checked before the body is read (a wrong content type → 415).
  const expect =
    headBytes > 16_384
      ? [431]
      : !routed
        ? undefined
        : oversized
          ? [413, ...(op.secured ? [401, 403] : []), ...(r.expect ?? [])]
          : r.expect;
  if (expect && !expect.includes(status)) {
    return { status, problem: `expected ${expect.join('/')}, got ${status}: ${text.slice(0, 200)}` };
  }
  if (status >= 400) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text);
    } catch {
      return { status, problem: `${status} without a JSON error body: ${text.slice(0, 200)}` };
    }
    const headPath = String(body.code ?? '').startsWith('HPE_') && body.path === '/';
    if (
      typeof body.timestamp !== 'string' ||
      Number.isNaN(Date.parse(body.timestamp)) ||
      body.status !== status ||
      typeof body.error !== 'string' ||
      body.error === '' ||
      typeof body.path !== 'string' ||
      (body.path !== sentPath && !headPath)
    ) {
      return {
        status,
        problem: `${status} body is not the spec's error body (sent ${sentPath}): ${text.slice(0, 300)}`,
      };
    }
    if (!/json/.test(res.headers.get('content-type') ?? '')) return { status, problem: `${status} is not JSON` };
  }
  return { status };
}

const show = (r: FuzzRequest) =>
  JSON.stringify(
    { ...r, body: r.body && r.body.length > 400 ? `${r.body.slice(0, 400)}… (${r.body.length})` : r.body },
    (_k, v) => (typeof v === 'string' && v.length > 400 ? `${v.slice(0, 400)}… (${v.length})` : v),
  );

/** fast-check's report without its (possibly huge) counterexample dump: the seed, path and our own message. */
function failureText(reason: unknown): string {
  const err = reason as Error & { cause?: unknown };
  const head = String(err.message).split('\n').slice(0, 2).join(' ');
  const cause = err.cause instanceof Error ? err.cause.message : String(err.message).slice(0, 1500);
  return `${head}\n${cause}`;
}

export interface FuzzRun {
  urls: Record<ServiceName, string>;
  ops: Operation[];
  ctx: FuzzContext;
  /** Requests per operation. */
  runs: number;
  seed: number;
  timeLimitMs: number;
}

export interface FuzzResult {
  tally: SerializedTally;
  failures: string[];
  seconds: number;
}

export async function runFuzz(run: FuzzRun): Promise<FuzzResult> {
  const tally = new Tally();
  const started = Date.now();
  const results = await Promise.allSettled(
    run.ops.map((op, i) => {
      const endpoint = `${op.service} ${op.method} ${op.path}`;
      return fc.assert(
        fc.asyncProperty(requestArb(op, run.ctx), async (req) => {
          const t0 = performance.now();
          const outcome = await send(run.urls[op.service], op, req);
          tally.add(endpoint, req.kind, outcome.status, performance.now() - t0);
          if (outcome.problem) throw new Error(`${endpoint} [${req.kind}] ${outcome.problem}\n  request: ${show(req)}`);
        }),
        {
          numRuns: run.runs,
          seed: run.seed + i,
          interruptAfterTimeLimit: run.timeLimitMs,
          markInterruptAsFailure: true,
        },
      );
    }),
  );
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected'
      ? [`--- ${run.ops[i]!.service} ${run.ops[i]!.method} ${run.ops[i]!.path}\n${failureText(r.reason)}`]
      : [],
  );
  return { tally: tally.serialize(), failures, seconds: (Date.now() - started) / 1000 };
}

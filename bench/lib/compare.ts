import { loadavg } from 'node:os';
import type { ChildServer } from './child-server.js';
import { type LoadOptions, type LoadResult, runLoad } from './load.js';
import { median, round } from './stats.js';

export interface Contender {
  /** e.g. 'floor' or 'service'. */
  label: string;
  /** Starts a fresh server process for one round; resolves once it is ready. */
  start(round: number): Promise<ChildServer>;
  /** Optional: throws when the server answers wrongly (run before the warm-up). */
  check?(server: ChildServer): Promise<void>;
  /** Profile the measured window of each round into this file (V8 profiler in the child, over IPC). */
  profileFile?(round: number): string;
}

export interface RoundResult extends LoadResult {
  round: number;
  label: string;
  /** Log lines the server wrote during the round (expected 0 at LOG_LEVEL=warn). */
  serverLogLines: number;
  /**
   * Server CPU time (user + system) per 2xx response, µs. Far less sensitive to neighbours on a
   * shared box than req/s: it counts only the time the server actually ran.
   */
  serverCpuUsPerReq: number;
  /** Server CPU use during the measurement, % of one core (100 = one core saturated). */
  serverCpuPct: number;
  /** The load generator's (this process's) CPU use during the measurement, % of one core. */
  loadGenCpuPct: number;
  /** The `.cpuprofile` of the measured window, when profiled. */
  profile?: string;
  /** 1-minute load average right after the round (this run contributes ~2; more means neighbours). */
  loadAvg1: number;
}

export interface AlternateOptions {
  /** Measured in this order each round, e.g. [floor, service]. */
  contenders: readonly Contender[];
  rounds: number;
  warmupS: number;
  durationS: number;
  pauseMs: number;
  /** Everything about the load except where and how long. */
  load: Omit<LoadOptions, 'url' | 'durationS' | 'recordLatencies'>;
  log?: (message: string) => void;
}

const round2 = (v: number) => Math.round(v * 100) / 100;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * floor, service, floor, service, …: each round starts the contender in a fresh process,
 * checks it, warms it up, measures it, stops it. Only one server runs at a time, so the
 * contenders never compete for the two cores; alternating spreads slow drift (thermal,
 * neighbours, Postgres caches) over both instead of biasing the one measured last.
 */
export async function measureAlternating(opts: AlternateOptions): Promise<RoundResult[]> {
  const log = opts.log ?? (() => undefined);
  const results: RoundResult[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    for (const c of opts.contenders) {
      if (results.length > 0 && opts.pauseMs > 0) await sleep(opts.pauseMs);
      const server = await c.start(round);
      try {
        await c.check?.(server);
        if (opts.warmupS > 0) {
          await runLoad({ ...opts.load, url: server.url, durationS: opts.warmupS, recordLatencies: false });
        }
        const profile = c.profileFile?.(round);
        if (profile) await server.startCpuProfile();
        const linesBefore = server.outputLines;
        const cpuBefore = server.cpuTimeMs();
        const selfBefore = process.cpuUsage();
        const r = await runLoad({ ...opts.load, url: server.url, durationS: opts.durationS });
        const serverCpuMs = server.cpuTimeMs() - cpuBefore;
        const self = process.cpuUsage(selfBefore);
        if (profile) await server.stopCpuProfile(profile);
        const result: RoundResult = {
          round,
          label: c.label,
          ...r,
          serverLogLines: server.outputLines - linesBefore,
          serverCpuUsPerReq: round2((serverCpuMs * 1000) / r.ok),
          serverCpuPct: round2((serverCpuMs / (r.durationS * 1000)) * 100),
          loadGenCpuPct: round2(((self.user + self.system) / 1000 / (r.durationS * 1000)) * 100),
          loadAvg1: round2(loadavg()[0] ?? 0),
          ...(profile ? { profile } : {}),
        };
        results.push(result);
        log(
          `  round ${round} ${c.label.padEnd(8)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2)}  p95 ${r.p95.toFixed(2)}  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}  non2xx ${r.non2xx}  server CPU ${result.serverCpuUsPerReq.toFixed(0)} µs/req (${result.serverCpuPct.toFixed(0)}%)  load-gen CPU ${result.loadGenCpuPct.toFixed(0)}%`,
        );
      } finally {
        const exit = await server.stop();
        if (exit.code !== 0) log(`  (${c.label} exited with code ${exit.code}, signal ${exit.signal})`);
      }
    }
  }
  return results;
}

export interface Summary {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  serverCpuUsPerReq: number;
  errors: number;
  non2xx: number;
}

/** Median per metric over a contender's rounds (errors summed). */
export function summarize(results: readonly RoundResult[], label: string): Summary {
  const mine = results.filter((r) => r.label === label);
  return {
    rps: round(median(mine.map((r) => r.rps)), 1),
    p50: round(median(mine.map((r) => r.p50)), 3),
    p95: round(median(mine.map((r) => r.p95)), 3),
    p99: round(median(mine.map((r) => r.p99)), 3),
    serverCpuUsPerReq: round(median(mine.map((r) => r.serverCpuUsPerReq)), 1),
    errors: mine.reduce((s, r) => s + r.errors, 0),
    non2xx: mine.reduce((s, r) => s + r.non2xx, 0),
  };
}

export interface Ratios {
  /** target req/s ÷ floor req/s: 1 = as fast as the floor, higher is better. */
  rps: number;
  /** target latency ÷ floor latency: 1 = as fast as the floor, lower is better. */
  p50: number;
  p95: number;
  p99: number;
  /** target server CPU per request ÷ floor's: 1 = same cost per request, higher = costlier. */
  cpuPerReq: number;
  /**
   * 1 / cpuPerReq: the throughput ratio to expect where each server saturates its own core (a
   * projection from CPU cost; on a box where Postgres, the load generator and neighbours share
   * the cores, the measured rps ratio is closer to 1 than this).
   */
  cpuBoundRps: number;
  /** The rps ratio of each round's pair (floor and target measured back to back). */
  rpsPerRound: number[];
}

export function ratios(results: readonly RoundResult[], floor: string, target: string): Ratios {
  const f = summarize(results, floor);
  const t = summarize(results, target);
  const rounds = [...new Set(results.map((r) => r.round))];
  return {
    rps: round(t.rps / f.rps, 3),
    p50: round(t.p50 / f.p50, 3),
    p95: round(t.p95 / f.p95, 3),
    p99: round(t.p99 / f.p99, 3),
    cpuPerReq: round(t.serverCpuUsPerReq / f.serverCpuUsPerReq, 3),
    cpuBoundRps: round(f.serverCpuUsPerReq / t.serverCpuUsPerReq, 3),
    rpsPerRound: rounds.map((n) => {
      const fr = results.find((r) => r.round === n && r.label === floor);
      const tr = results.find((r) => r.round === n && r.label === target);
      return fr && tr ? round(tr.rps / fr.rps, 3) : Number.NaN;
    }),
  };
}

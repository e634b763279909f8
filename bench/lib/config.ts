import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ProfileTarget = 'off' | 'service' | 'floor' | 'all';

/** Knobs shared by all scenarios, read from the environment once. */
export interface BenchConfig {
  /** Measured seconds per round (BENCH_DURATION_S, default 10). */
  durationS: number;
  /** Unmeasured seconds of load right before each measurement (BENCH_WARMUP_S, default 3). */
  warmupS: number;
  /** Rounds per contender, alternated floor/service/floor/service (BENCH_ROUNDS, default 2). */
  rounds: number;
  /** Concurrent keep-alive connections of the load generator (BENCH_CONNECTIONS, default 20). */
  connections: number;
  /** Database pool size of both the service and the floor (BENCH_POOL_SIZE, default 10). */
  poolSize: number;
  /** Rows seeded (BENCH_PRODUCTS, default 1000). */
  products: number;
  /** Pause between rounds so Postgres and the box settle (BENCH_PAUSE_MS, default 1000). */
  pauseMs: number;
  /**
   * BENCH_CPU_PROF=service|floor|all: V8-profile those servers during each measured window
   * (numbers then carry the profiler's cost, and the result file is marked .profiled).
   */
  cpuProf: ProfileTarget;
  profileDir: string;
  /** Seed of the request order (BENCH_SEED, default 42). */
  seed: number;
  /** Messaging scenarios: outbox rows / queued messages drained per round (BENCH_MESSAGES, default 20000). */
  messages: number;
  /** Messaging scenarios: consumer prefetch = the floor's concurrent workers (BENCH_PREFETCH, default 20). */
  prefetch: number;
  /** outbox-relay: relay batch sizes = the floor's in-flight windows (BENCH_RELAY_BATCHES, default "50,200"). */
  relayBatches: number[];
  /**
   * publish-to-handled-latency: events per second (BENCH_LATENCY_RATE). Default: half of the
   * consumer pipeline's drain rate, from consumer-pipeline in the same run or a short calibration.
   */
  latencyRate: number | undefined;
  /**
   * publish-to-handled-latency: who writes the outbox rows (BENCH_LATENCY_WRITER): `kernel`
   * (createOutbox().add, default) or `after-commit` (the sketch in lib/outbox-sketch.ts).
   */
  latencyWriter: 'kernel' | 'after-commit';
}

function int(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`${name} must be a number in [${min}, ${max}], got "${raw}"`);
  return n;
}

export function readBenchConfig(runId: string): BenchConfig {
  const prof = (process.env.BENCH_CPU_PROF?.trim() || 'off') as ProfileTarget;
  if (!['off', 'service', 'floor', 'all'].includes(prof))
    throw new Error('BENCH_CPU_PROF must be off|service|floor|all');
  return {
    durationS: int('BENCH_DURATION_S', 10, 1, 600),
    warmupS: int('BENCH_WARMUP_S', 3, 0, 120),
    rounds: int('BENCH_ROUNDS', 2, 1, 20),
    connections: int('BENCH_CONNECTIONS', 20, 1, 1000),
    poolSize: int('BENCH_POOL_SIZE', 10, 1, 200),
    products: int('BENCH_PRODUCTS', 1000, 1, 1_000_000),
    pauseMs: int('BENCH_PAUSE_MS', 1000, 0, 60_000),
    cpuProf: prof,
    profileDir: process.env.BENCH_PROFILE_DIR?.trim() || join(tmpdir(), `bench-profiles-${runId}`),
    seed: int('BENCH_SEED', 42, 0, 2 ** 31),
    messages: int('BENCH_MESSAGES', 20_000, 100, 1_000_000),
    prefetch: int('BENCH_PREFETCH', 20, 1, 1000),
    relayBatches: batches(process.env.BENCH_RELAY_BATCHES?.trim() || '50,200'),
    latencyRate: process.env.BENCH_LATENCY_RATE?.trim() ? int('BENCH_LATENCY_RATE', 0, 1, 100_000) : undefined,
    latencyWriter: writerKind(process.env.BENCH_LATENCY_WRITER?.trim() || 'kernel'),
  };
}

function batches(raw: string): number[] {
  const list = raw.split(',').map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 10_000))
    throw new Error(`BENCH_RELAY_BATCHES must be a comma-separated list of integers in [1, 10000], got "${raw}"`);
  return list;
}

function writerKind(raw: string): 'kernel' | 'after-commit' {
  if (raw !== 'kernel' && raw !== 'after-commit')
    throw new Error(`BENCH_LATENCY_WRITER must be kernel|after-commit, got "${raw}"`);
  return raw;
}

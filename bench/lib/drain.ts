/**
 * Throughput of "do N things as fast as you can" (drain a backlog), alternated floor / target
 * like measureAlternating does for HTTP load: each round starts every contender in a fresh child
 * process, lets it set up untimed, then asks it over IPC to do the N things and time itself.
 */
import { loadavg } from 'node:os';
import type { ChildServer } from './child-server.js';
import { cpuDelta, cpuSnapshot } from './proc.js';
import { median, round } from './stats.js';

/** What a worker child reports for one timed run. */
export interface DrainRun {
  /** Things done (rows published, messages handled, transactions committed). */
  items: number;
  /** Wall time of the run inside the child, ms (high resolution). */
  elapsedMs: number;
  /** Elapsed ms when 25, 50, 75 and 100 % of the items were done (shows a rate that drifts). */
  quartersMs?: number[];
  /** Anything else the child wants recorded (outcome counts, returns, …). */
  extra?: Record<string, unknown>;
}

export interface DrainContender {
  /** e.g. 'floor' or 'relay', unique per contender. */
  label: string;
  /** Puts the shared state back (tables, queues) before the child starts; untimed. */
  prepare?(round: number): Promise<void>;
  /** A fresh child for this round, set up and ready (untimed). */
  start(round: number): Promise<ChildServer>;
  /** Asks the child to do the timed work and report. */
  run(child: ChildServer, round: number): Promise<DrainRun>;
  /** Throws when the work was not really done (counts, depths); runs after the child stopped. */
  verify?(run: DrainRun, round: number): Promise<void>;
  /** Profile the timed run into this file. */
  profileFile?(round: number): string;
}

export interface DrainRoundResult {
  round: number;
  label: string;
  items: number;
  elapsedMs: number;
  /** items per second. */
  rate: number;
  quartersMs?: number[];
  /** The child's CPU (user + system) per item, µs. */
  childCpuUsPerItem: number;
  /** The child's CPU during the run, % of one core. */
  childCpuPct: number;
  /** All `postgres` processes' CPU per item, µs (includes neighbours' use of the shared server). */
  pgCpuUsPerItem: number;
  /** All `beam.smp` (RabbitMQ) CPU per item, µs. */
  brokerCpuUsPerItem: number;
  /** Whole machine busy during the run, % of all cores. */
  machineBusyPct: number;
  loadAvg1: number;
  profile?: string;
  extra?: Record<string, unknown>;
}

const COMMANDS = ['postgres', 'beam.smp'] as const;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function measureDrains(opts: {
  contenders: readonly DrainContender[];
  rounds: number;
  pauseMs: number;
  log?: (m: string) => void;
}): Promise<DrainRoundResult[]> {
  const log = opts.log ?? (() => undefined);
  const results: DrainRoundResult[] = [];
  for (let r = 1; r <= opts.rounds; r++) {
    for (const c of opts.contenders) {
      if (results.length > 0 && opts.pauseMs > 0) await sleep(opts.pauseMs);
      await c.prepare?.(r);
      const child = await c.start(r);
      let run: DrainRun;
      let result: DrainRoundResult;
      try {
        const profile = c.profileFile?.(r);
        if (profile) await child.startCpuProfile();
        const childBefore = child.cpuTimeMs();
        const before = cpuSnapshot(COMMANDS);
        run = await c.run(child, r);
        const after = cpuSnapshot(COMMANDS);
        const childMs = child.cpuTimeMs() - childBefore;
        if (profile) await child.stopCpuProfile(profile);
        const d = cpuDelta(before, after);
        const perItem = (ms: number) => round((ms * 1000) / run.items, 1);
        result = {
          round: r,
          label: c.label,
          items: run.items,
          elapsedMs: round(run.elapsedMs, 1),
          rate: round((run.items * 1000) / run.elapsedMs, 1),
          ...(run.quartersMs ? { quartersMs: run.quartersMs.map((q) => round(q, 1)) } : {}),
          childCpuUsPerItem: perItem(childMs),
          childCpuPct: round((childMs / run.elapsedMs) * 100, 1),
          pgCpuUsPerItem: perItem(d.byCommand.postgres ?? 0),
          brokerCpuUsPerItem: perItem(d.byCommand['beam.smp'] ?? 0),
          machineBusyPct: d.machineBusyPct,
          loadAvg1: round(loadavg()[0] ?? 0, 2),
          ...(profile ? { profile } : {}),
          ...(run.extra ? { extra: run.extra } : {}),
        };
      } finally {
        const exit = await child.stop();
        if (exit.code !== 0) log(`  (${c.label} exited with code ${exit.code}, signal ${exit.signal})`);
      }
      await c.verify?.(run, r);
      results.push(result);
      log(
        `  round ${r} ${c.label.padEnd(10)} ${result.rate.toFixed(0).padStart(6)}/s  (${run.items} in ${(run.elapsedMs / 1000).toFixed(2)} s)  child CPU ${result.childCpuUsPerItem.toFixed(0)} µs/item (${result.childCpuPct.toFixed(0)}%)  postgres ${result.pgCpuUsPerItem.toFixed(0)} µs/item  rabbitmq ${result.brokerCpuUsPerItem.toFixed(0)} µs/item  machine ${result.machineBusyPct}% busy  load ${result.loadAvg1}`,
      );
    }
  }
  return results;
}

export interface DrainSummary {
  rate: number;
  childCpuUsPerItem: number;
  pgCpuUsPerItem: number;
  brokerCpuUsPerItem: number;
  machineBusyPct: number;
}

/** Medians over a contender's rounds. */
export function summarizeDrains(results: readonly DrainRoundResult[], label: string): DrainSummary {
  const mine = results.filter((r) => r.label === label);
  const m = (f: (r: DrainRoundResult) => number, digits = 1) => round(median(mine.map(f)), digits);
  return {
    rate: m((r) => r.rate),
    childCpuUsPerItem: m((r) => r.childCpuUsPerItem),
    pgCpuUsPerItem: m((r) => r.pgCpuUsPerItem),
    brokerCpuUsPerItem: m((r) => r.brokerCpuUsPerItem),
    machineBusyPct: m((r) => r.machineBusyPct),
  };
}

export interface DrainRatio {
  /** target rate ÷ floor rate (medians): 1 = as fast as the floor, higher is better. */
  rate: number;
  /** Each round's pair, measured back to back. */
  perRound: number[];
  /** target child CPU per item ÷ floor's. */
  childCpuPerItem: number;
  /**
   * (floor's node + postgres + RabbitMQ CPU per item) ÷ (target's): the rate ratio to expect where
   * the box's CPU is what limits both (steadier than the rate on a shared box, but postgres and
   * RabbitMQ CPU include neighbours' use of those servers).
   */
  cpuBoundRate: number;
}

export function drainRatio(results: readonly DrainRoundResult[], floor: string, target: string): DrainRatio {
  const f = summarizeDrains(results, floor);
  const t = summarizeDrains(results, target);
  const rounds = [...new Set(results.map((r) => r.round))];
  return {
    rate: round(t.rate / f.rate, 3),
    perRound: rounds.map((n) => {
      const fr = results.find((r) => r.round === n && r.label === floor);
      const tr = results.find((r) => r.round === n && r.label === target);
      return fr && tr ? round(tr.rate / fr.rate, 3) : Number.NaN;
    }),
    childCpuPerItem: round(t.childCpuUsPerItem / f.childCpuUsPerItem, 3),
    cpuBoundRate: round(
      (f.childCpuUsPerItem + f.pgCpuUsPerItem + f.brokerCpuUsPerItem) /
        (t.childCpuUsPerItem + t.pgCpuUsPerItem + t.brokerCpuUsPerItem),
      3,
    ),
  };
}

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchConfig } from './config.js';
import { formatProfileSummary, summarizeCpuProfile } from './cpu-profile.js';
import type { DrainRoundResult } from './drain.js';
import type { ScenarioContext } from './scenario.js';

/** `BENCH_CPU_PROF` for a contender of kind floor/service: the profile file per round, or undefined. */
export function profileFileFor(
  config: BenchConfig,
  scenario: string,
  kind: 'floor' | 'service',
  label: string,
): ((round: number) => string) | undefined {
  if (config.cpuProf !== 'all' && config.cpuProf !== kind) return undefined;
  const safe = label.replace(/[^\w-]+/g, '_');
  return (round) => join(config.profileDir, `${scenario}-${safe}-round${round}.cpuprofile`);
}

/** Summaries of the profiled rounds (printed, and returned for the JSON). */
export async function profileSummaries(config: BenchConfig, results: readonly { profile?: string }[]) {
  if (config.cpuProf === 'off') return [];
  const files = results.flatMap((r) => (r.profile ? [r.profile] : []));
  const summaries = await Promise.all(files.map((f) => summarizeCpuProfile(f, 15)));
  for (const s of summaries) console.log(`\n${formatProfileSummary(s)}`);
  return summaries;
}

/** Writes `bench/results/<scenario>-<run>[.profiled].json`. */
export async function writeReport(
  ctx: ScenarioContext,
  scenario: string,
  report: Record<string, unknown>,
  profiled: boolean,
): Promise<string> {
  await mkdir(ctx.resultsDir, { recursive: true });
  const file = join(ctx.resultsDir, `${scenario}-${ctx.runId}${profiled ? '.profiled' : ''}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  ctx.log(`wrote ${file}`);
  return file;
}

/** Table rows for drain rounds: round, contender, rate, seconds, quarter splits, CPU per item, machine. */
export function drainRows(results: readonly DrainRoundResult[]): (string | number)[][] {
  return results.map((r) => [
    String(r.round),
    r.label,
    r.rate,
    r.elapsedMs / 1000,
    (r.quartersMs ?? []).map((q, i, a) => ((i === 0 ? q : q - a[i - 1]!) / 1000).toFixed(2)).join(' '),
    r.childCpuUsPerItem,
    r.pgCpuUsPerItem,
    r.brokerCpuUsPerItem,
    r.machineBusyPct,
    r.loadAvg1,
  ]);
}

export const DRAIN_HEADER = [
  'round',
  'contender',
  'items/s',
  'seconds',
  'per quarter s',
  'node µs/item',
  'pg µs/item',
  'rabbit µs/item',
  'busy %',
  'load1',
];

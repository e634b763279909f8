import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchConfig } from './config.js';
import { formatProfileSummary, summarizeCpuProfile } from './cpu-profile.js';
import type { DrainRatio, DrainRoundResult, DrainSummary } from './drain.js';
import type { Scenario, ScenarioContext } from './scenario.js';
import { median, round } from './stats.js';

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

/** Makes `config.profileDir` when this run profiles (BENCH_CPU_PROF is not off). */
export async function ensureProfileDir(config: BenchConfig): Promise<void> {
  if (config.cpuProf !== 'off') await mkdir(config.profileDir, { recursive: true });
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

/**
 * Profile summaries (printed), then `bench/results/<scenario>-<run>[.profiled].json` with the
 * common head — scenario, description, startedAt, finishedAt (now), `profiled` when asked for,
 * machine — then `body`, then `profileDir` and `profiles` when rounds were profiled.
 */
export async function writeScenarioReport(
  ctx: ScenarioContext,
  scenario: Pick<Scenario, 'name' | 'description'>,
  run: { startedAt: string; results: readonly { profile?: string }[]; profiledField?: boolean },
  body: Record<string, unknown>,
): Promise<string> {
  const { config } = ctx;
  const profiled = config.cpuProf !== 'off';
  const profiles = await profileSummaries(config, run.results);
  return writeReport(
    ctx,
    scenario.name,
    {
      scenario: scenario.name,
      description: scenario.description,
      startedAt: run.startedAt,
      finishedAt: new Date().toISOString(),
      ...(run.profiledField ? { profiled } : {}),
      machine: ctx.machine,
      ...body,
      ...(profiles.length ? { profileDir: config.profileDir, profiles } : {}),
    },
    profiled,
  );
}

/** Per-field medians over one contender's rounds, each rounded to `digits`; keys in `fields`' order. */
export function labelMedians<R extends { label: string }, K extends string>(
  results: readonly R[],
  label: string,
  fields: Record<K, (r: R) => number>,
  digits: number,
): Record<K, number> {
  const mine = results.filter((r) => r.label === label);
  const out = {} as Record<K, number>;
  for (const key of Object.keys(fields) as K[]) out[key] = round(median(mine.map(fields[key])), digits);
  return out;
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

/** A contender's medians in DRAIN_HEADER's columns. */
export function drainMedianRow(label: string, m: DrainSummary): (string | number)[] {
  return [
    'median',
    label,
    m.rate,
    '',
    '',
    m.childCpuUsPerItem,
    m.pgCpuUsPerItem,
    m.brokerCpuUsPerItem,
    m.machineBusyPct,
    '',
  ];
}

/** A target ÷ floor ratio in DRAIN_HEADER's columns (rate and node CPU per item). */
export function drainRatioRow(label: string, ratio: DrainRatio): string[] {
  return ['ratio', label, ratio.rate.toFixed(3), '', '', ratio.childCpuPerItem.toFixed(3), '', '', '', ''];
}

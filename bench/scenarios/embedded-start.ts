/**
 * embedded-start: `npm start` with nothing configured — all six services in one process,
 * embedded (PGlite, in-process broker and cache, demo data) — from spawn to all six answering
 * `GET /actuator/health/readiness` 200, and the process's resident memory once they are ready.
 * Goals: ≤ 8 s and ≤ 1 GB; BENCH_START_RUNS runs (default 3), medians.
 *
 * The command is package.json's own `start` script (node and its flags, read from the file),
 * started directly with this node (not through npm, whose own process would stand between and
 * whose memory is not the platform's). Ports: PORT_OFFSET, the first offset ≥ 20000 at which the
 * six spec ports are free. TMPDIR points at a directory of this scenario, so the throwaway PGlite
 * copies land there and are removed with it; tsx keeps its compile cache there too, so a first,
 * unmeasured start fills it (a developer's machine has it from any earlier start) and the
 * BENCH_START_RUNS measured starts find it warm. One addition to the command line, first:
 * `--import bench/lib/exit-with-parent.mjs`, which only makes the process exit when the bench dies.
 * BENCH_CPU_PROF (any value but off): one more start under `node --cpu-prof`, summarised.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/child-server.js';
import { formatProfileSummary, type ProfileSummary, summarizeCpuProfile } from '../lib/cpu-profile.js';
import { procMemory } from '../lib/memory.js';
import { writeReport } from '../lib/report.js';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { formatTable, median, round } from '../lib/stats.js';

const NAME = 'embedded-start';
const RUNS = Number(process.env.BENCH_START_RUNS ?? 3);
const GOAL_READY_S = 8;
const GOAL_RSS_MIB = 1024;
const SPEC_PORTS = { order: 8081, inventory: 8082, payment: 8083, auth: 8084, catalog: 8085, notification: 8086 };
const READY_TIMEOUT_MS = 60_000;
const EXIT_WITH_PARENT = new URL('../lib/exit-with-parent.mjs', import.meta.url).pathname;

interface StartRun {
  run: number;
  /** spawn → all six readiness endpoints answered 200, ms. */
  readyMs: number;
  /** spawn → each service's first readiness 200, ms. */
  perService: Record<string, number>;
  /** The platform's own `startupMs` from its "platform ready" log line (after the demo data). */
  platformReadyLogMs: number | null;
  /** spawn → that log line seen by the bench, ms. */
  platformReadyLineMs: number | null;
  /** VmRSS when all six were ready, MiB. */
  rssAtReadyMiB: number;
  /** VmRSS 3 s later (after the demo data seeding and the first GCs), MiB. */
  rssSettledMiB: number;
  /** VmHWM at that point: the peak so far, boot included, MiB. */
  peakMiB: number;
  exit: { code: number | null; signal: string | null; stopMs: number };
  loadAvg1: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

async function freeOffset(): Promise<number> {
  for (let offset = 20_000; offset < 40_000; offset += 100) {
    const free = await Promise.all(Object.values(SPEC_PORTS).map((p) => portFree(p + offset)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error('no PORT_OFFSET with six free ports found');
}

/** `node <flags> scripts/start.ts` from package.json's start script → the arguments after `node`. */
function startArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.trim().split(/\s+/);
  if (words[0] !== 'node') throw new Error(`package.json start script does not start with node: ${pkg.scripts.start}`);
  return words.slice(1);
}

async function ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function oneRun(
  n: number,
  offset: number,
  tmp: string,
  log: (m: string) => void,
  track: (c: ChildProcess) => void,
  extraNodeArgs: string[] = [],
) {
  const args = [...extraNodeArgs, '--import', EXIT_WITH_PARENT, ...startArgs()];
  const env: NodeJS.ProcessEnv = { ...process.env, PORT_OFFSET: String(offset), TMPDIR: tmp };
  for (const k of Object.keys(env)) if (k.startsWith('BENCH_')) delete env[k];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  track(child);
  let platformReadyLogMs: number | null = null;
  let platformReadyLineMs: number | null = null;
  const tail: string[] = [];
  let buffered = '';
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      tail.push(line);
      if (tail.length > 30) tail.shift();
      if (line.includes('"platform ready"')) {
        platformReadyLineMs = performance.now() - t0;
        try {
          platformReadyLogMs = (JSON.parse(line) as { startupMs?: number }).startupMs ?? null;
        } catch {
          /* not JSON */
        }
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const stop = async () => {
    const s0 = performance.now();
    if (!gone) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const exit = await exited;
    clearTimeout(timer);
    return { ...exit, stopMs: round(performance.now() - s0, 0) };
  };
  try {
    const perService: Record<string, number> = {};
    const pending = new Map(
      Object.entries(SPEC_PORTS).map(([name, port]) => [
        name,
        `http://127.0.0.1:${port + offset}/actuator/health/readiness`,
      ]),
    );
    while (pending.size > 0) {
      if (gone) throw new Error(`npm start exited before it was ready:\n${tail.join('\n')}`);
      if (performance.now() - t0 > READY_TIMEOUT_MS)
        throw new Error(`not ready after ${READY_TIMEOUT_MS} ms (waiting for ${[...pending.keys()].join(', ')})`);
      const checks = await Promise.all([...pending].map(async ([name, url]) => [name, await ready(url)] as const));
      const at = performance.now() - t0;
      for (const [name, ok] of checks) {
        if (ok) {
          perService[name] = round(at, 0);
          pending.delete(name);
        }
      }
      if (pending.size > 0) await sleep(50);
    }
    const readyMs = round(performance.now() - t0, 0);
    const atReady = procMemory(child.pid ?? -1);
    await sleep(3000);
    const settled = procMemory(child.pid ?? -1);
    const result: StartRun = {
      run: n,
      readyMs,
      perService,
      platformReadyLogMs,
      platformReadyLineMs: platformReadyLineMs === null ? null : round(platformReadyLineMs, 0),
      rssAtReadyMiB: round(atReady.rssMiB, 1),
      rssSettledMiB: round(settled.rssMiB, 1),
      peakMiB: round(settled.hwmMiB, 1),
      exit: { code: null, signal: null, stopMs: 0 },
      loadAvg1: round(loadavg()[0] ?? 0, 2),
    };
    result.exit = await stop();
    const left = readdirSync(tmp).filter((f) => !f.startsWith('tsx-'));
    if (left.length > 0) log(`  (run ${n} left ${left.join(', ')} in its TMPDIR)`);
    log(
      `  run ${n === 0 ? '0 (warm-up, cold tsx cache, not in the medians)' : n < 0 ? 'profiled (--cpu-prof, not in the medians)' : n}: six ready in ${(readyMs / 1000).toFixed(2)} s (${Object.entries(
        perService,
      )
        .map(([k, v]) => `${k} ${(v / 1000).toFixed(2)}`)
        .join(
          ', ',
        )}); RSS at ready ${result.rssAtReadyMiB} MiB, 3 s later ${result.rssSettledMiB} MiB, peak ${result.peakMiB} MiB; "platform ready" line after ${result.platformReadyLineMs} ms (its startupMs ${platformReadyLogMs}); stop ${result.exit.stopMs} ms (code ${result.exit.code})  load ${result.loadAvg1}`,
    );
    return result;
  } finally {
    if (!gone) await stop();
  }
}

async function run(ctx: ScenarioContext): Promise<void> {
  const { cleanup, log } = ctx;
  const startedAt = new Date().toISOString();
  const offset = await freeOffset();
  let current: ChildProcess | undefined;
  cleanup.defer('stop the npm start process', () => {
    if (current && current.exitCode === null && current.signalCode === null) current.kill('SIGKILL');
  });
  // One TMPDIR for the scenario: the throwaway PGlite copies go there (and are removed with it), and
  // so does tsx's compile cache, which the unmeasured first start fills — as any earlier
  // `npm start` on a developer's machine would have.
  const tmp = mkdtempSync(join(tmpdir(), 'bench-embedded-'));
  cleanup.defer(`remove ${tmp}`, () => rmSync(tmp, { recursive: true, force: true }));
  log(
    `command: node --import ${EXIT_WITH_PARENT} ${startArgs().join(' ')}; PORT_OFFSET=${offset}; TMPDIR=${tmp}; 1 warm-up + ${RUNS} runs`,
  );
  const track = (c: ChildProcess) => {
    current = c;
  };
  const coldStart = await oneRun(0, offset, tmp, log, track);
  const runs: StartRun[] = [];
  for (let n = 1; n <= RUNS; n++) {
    await sleep(2000);
    runs.push(await oneRun(n, offset, tmp, log, track));
  }
  // BENCH_CPU_PROF set: one more start under `node --cpu-prof` (boot to exit), summarised.
  let profile: ProfileSummary | undefined;
  if (ctx.config.cpuProf !== 'off') {
    await mkdir(ctx.config.profileDir, { recursive: true });
    const dir = mkdtempSync(join(ctx.config.profileDir, 'embedded-start-'));
    await sleep(2000);
    await oneRun(-1, offset, tmp, log, track, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file) profile = await summarizeCpuProfile(join(dir, file), 20);
  }
  const med = (f: (r: StartRun) => number) => round(median(runs.map(f)), 1);
  const summary = {
    readyMs: med((r) => r.readyMs),
    rssAtReadyMiB: med((r) => r.rssAtReadyMiB),
    rssSettledMiB: med((r) => r.rssSettledMiB),
    peakMiB: med((r) => r.peakMiB),
    platformReadyLogMs: med((r) => r.platformReadyLogMs ?? Number.NaN),
    platformReadyLineMs: med((r) => r.platformReadyLineMs ?? Number.NaN),
  };
  const readyMet = summary.readyMs <= GOAL_READY_S * 1000;
  const rssMet = summary.rssSettledMiB <= GOAL_RSS_MIB;
  console.log(`\n${NAME}: npm start (six services, embedded) to six ready; s, MiB\n`);
  console.log(
    formatTable(
      ['run', 'six ready s', '"platform ready" s', 'RSS at ready', 'RSS +3 s', 'peak RSS', 'load1'],
      [
        ...[coldStart, ...runs].map((r) => [
          r.run === 0 ? '0 (cold)' : String(r.run),
          r.readyMs / 1000,
          r.platformReadyLineMs === null ? '-' : r.platformReadyLineMs / 1000,
          r.rssAtReadyMiB,
          r.rssSettledMiB,
          r.peakMiB,
          r.loadAvg1,
        ]),
        [
          'median',
          summary.readyMs / 1000,
          summary.platformReadyLineMs / 1000,
          summary.rssAtReadyMiB,
          summary.rssSettledMiB,
          summary.peakMiB,
          '',
        ],
      ],
    ),
  );
  console.log(
    `\nsix ready: ${(summary.readyMs / 1000).toFixed(2)} s (goal ≤ ${GOAL_READY_S} s: ${readyMet ? 'MET' : 'NOT MET'}); RSS after ready: ${summary.rssSettledMiB} MiB (goal ≤ ${GOAL_RSS_MIB} MiB: ${rssMet ? 'MET' : 'NOT MET'}), peak ${summary.peakMiB} MiB`,
  );
  if (profile) console.log(`\n${formatProfileSummary(profile)}`);
  await writeReport(
    ctx,
    NAME,
    {
      scenario: NAME,
      description: scenario.description,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: ctx.machine,
      config: { runs: RUNS, portOffset: offset, command: ['node', '--import', EXIT_WITH_PARENT, ...startArgs()] },
      coldStart,
      runs,
      medians: summary,
      goals: { readyAtMostS: GOAL_READY_S, readyMet, rssAtMostMiB: GOAL_RSS_MIB, rssMet },
      ...(profile ? { profile } : {}),
    },
    profile !== undefined,
  );
}

export const scenario: Scenario = {
  name: NAME,
  description:
    'npm start (all six services embedded, one process) to six ready, and its RSS after ready; 3 runs, medians.',
  budgetMs: () => 60_000 + (RUNS + 2) * (READY_TIMEOUT_MS + 30_000),
  run,
};

/**
 * What faults.ts and scale.ts share: a bounded run that always cleans up after itself (signals,
 * uncaught errors, a watchdog), and the JSON summary the node:test wrappers read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './fleet.js';
import { forgetPids, sweepOrphans } from './lab.js';

type Cleanup = () => void;
const cleanups: Cleanup[] = [];
let cleaned = false;

/** Registers a synchronous cleanup step; steps run once, last registered first. */
export function onCleanup(fn: Cleanup): void {
  cleanups.push(fn);
}

export function cleanupNow(): void {
  if (cleaned) return;
  cleaned = true;
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      fn();
    } catch (err) {
      process.stderr.write(`cleanup step failed: ${(err as Error).message}\n`);
    }
  }
}

/**
 * Installs the exit paths: SIGINT/SIGTERM/SIGHUP, uncaught errors and a watchdog after
 * `maxSeconds` all clean up and exit non-zero; a normal exit cleans up too.
 */
export function guardRun(name: string, maxSeconds: number): { done(): void } {
  const bail = (code: number, why: string) => {
    process.stderr.write(`\n[${name}] ${why}: cleaning up\n`);
    cleanupNow();
    process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => bail(130, `got ${sig}`));
  process.on('uncaughtException', (err) => bail(1, `uncaught: ${err.stack ?? err}`));
  process.on('unhandledRejection', (err) => bail(1, `unhandled rejection: ${(err as Error)?.stack ?? err}`));
  process.on('exit', () => cleanupNow());
  // Processes a killed earlier run left behind go first; this run's pid file goes last.
  sweepOrphans();
  onCleanup(forgetPids);
  const watchdog = setTimeout(() => bail(3, `over the ${maxSeconds} s bound`), maxSeconds * 1000);
  return { done: () => clearTimeout(watchdog) };
}

export function envInt(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}: expected an integer ≥ ${min}, got "${raw}"`);
  return n;
}

/** Writes the summary file and prints it on one line, prefixed, for the test wrapper to read. */
export function emitSummary(tag: string, file: string, summary: unknown): void {
  const path = file.startsWith('/') ? file : join(ROOT, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`${tag} ${JSON.stringify(summary)}\n`);
  process.stderr.write(`[${tag}] summary written to ${path}\n`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

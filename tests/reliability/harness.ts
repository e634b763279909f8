/**
 * Runs one of the reliability scripts (scripts/faults.ts, scripts/scale.ts) as a child process
 * with a smaller load, and returns the JSON summary it printed. A run that overstays its bound is
 * sent SIGTERM (the script cleans up its lab and processes on it), then SIGKILL.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ScriptRun<S> {
  code: number | null;
  signal: NodeJS.Signals | null;
  summary: S | undefined;
  /** The last lines of stderr, for assertion messages. */
  tail: string;
  ms: number;
}

export async function runScript<S>(
  script: string,
  tag: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<ScriptRun<S>> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (process.env.RELIABILITY_VERBOSE) process.stderr.write(d);
  });
  const term = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 30_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(term);
  clearTimeout(kill);
  const line = stdout.split('\n').find((l) => l.startsWith(`${tag} `));
  const summary = line ? (JSON.parse(line.slice(tag.length + 1)) as S) : undefined;
  return { code, signal, summary, tail: stderr.split('\n').slice(-40).join('\n'), ms: Date.now() - started };
}

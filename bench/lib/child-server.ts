import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ChildCommand, ChildReply } from './child-guard.js';

/** The repository root: children run from here so `--import tsx` and the workspaces resolve. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type Readiness =
  /** Polls `GET <path>` until it answers 2xx (e.g. `/actuator/health/readiness`). */
  | { http: string }
  /** Waits until the port accepts a TCP connection. */
  | { port: true }
  /** Waits for the child's `signalReady()` over IPC (worker children without a server). */
  | { ipc: true };

export interface StartServerOptions {
  /** For messages and the output tail. */
  name: string;
  /** Absolute path of the entry module (.ts runs through tsx, with the `source` condition). */
  entry: string;
  readiness: Readiness;
  /** Extra environment; merged over the parent's. */
  env?: Record<string, string>;
  /** Default: a free port picked here and passed through `portEnv`. */
  port?: number;
  host?: string;
  /** Names under which the child reads its port and host. Default SERVER_PORT / SERVER_HOST. */
  portEnv?: string;
  hostEnv?: string;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /** After SIGTERM, how long before SIGKILL. */
  stopTimeoutMs?: number;
}

export interface ChildServer {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  /** Lines the child wrote to stdout/stderr so far (its logs; at LOG_LEVEL=warn normally none). */
  readonly outputLines: number;
  /** The last lines of its output, for failure messages. */
  outputTail(): string;
  /** CPU time (user + system, all threads) the process has used so far, ms; NaN where /proc is missing. */
  cpuTimeMs(): number;
  /** Starts the V8 profiler inside the child (needs `guardChild` there). */
  startCpuProfile(intervalUs?: number): Promise<void>;
  /** Stops it and has the child write the `.cpuprofile` to `file`. */
  stopCpuProfile(file: string): Promise<void>;
  /** One request to the child's `serveCalls` handler; resolves with its result, rejects with its error. */
  call<R = unknown>(request: unknown, timeoutMs?: number): Promise<R>;
  /** SIGTERM, wait for exit, SIGKILL after stopTimeoutMs. Idempotent. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let clockTicks: number | undefined;

/** utime + stime of a process from /proc/<pid>/stat (Linux), in ms; NaN elsewhere or once it is gone. */
export function processCpuTimeMs(pid: number): number {
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state is field 3,
    // utime field 14, stime field 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return Number.NaN;
  }
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Synchronous last resort: SIGKILL every child still running (also runs on process exit). */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAllChildren);
}

/** A port that was free a moment ago (the kernel picks it; there is a small race, fine on loopback). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function probeHttp(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

function probePort(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Starts a server in its own node process (so a load generator in this process never shares its
 * event loop) and resolves once it is ready. The child gets an IPC channel: a child using
 * `guardChild` exits by itself when this process dies, even by SIGKILL.
 */
export async function startServer(opts: StartServerOptions): Promise<ChildServer> {
  installExitHook();
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 15_000;
  const args = [...(opts.nodeArgs ?? [])];
  if (opts.entry.endsWith('.ts')) args.push('--conditions=source', '--import', 'tsx');
  args.push(opts.entry);

  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...opts.env,
      [opts.portEnv ?? 'SERVER_PORT']: String(port),
      [opts.hostEnv ?? 'SERVER_HOST']: host,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);

  const tail: string[] = [];
  let lines = 0;
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      lines++;
      tail.push(line);
      if (tail.length > 40) tail.shift();
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let ipcReady = false;
  const results = new Map<number, (reply: Extract<ChildReply, { type: 'bench-result' }>) => void>();
  child.on('message', (m: ChildReply) => {
    if (m?.type === 'bench-ready') ipcReady = true;
    else if (m?.type === 'bench-result') results.get(m.id)?.(m);
  });

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const outputTail = () => tail.join('\n');
  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (hasExited) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    })();
    return stopping;
  };

  /** One IPC request to the child's guardChild, answered by the reply of type `expect`. */
  const ask = (command: ChildCommand, expect: ChildReply['type'], timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const onMessage = (m: ChildReply) => {
        if (m.type !== expect && m.type !== 'cpu-profile-error') return;
        settle(m.type === 'cpu-profile-error' ? new Error(`${opts.name}: ${m.message}`) : undefined);
      };
      const settle = (err?: Error) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => settle(new Error(`${opts.name}: no ${expect} within ${timeoutMs} ms`)), timeoutMs);
      child.on('message', onMessage);
      child.send(command);
    });

  let nextCallId = 1;
  const call = <R>(request: unknown, timeoutMs = 120_000) =>
    new Promise<R>((resolve, reject) => {
      const id = nextCallId++;
      const settle = (err: Error | undefined, result?: unknown) => {
        clearTimeout(timer);
        results.delete(id);
        if (err) reject(err);
        else resolve(result as R);
      };
      const timer = setTimeout(() => settle(new Error(`${opts.name}: no answer within ${timeoutMs} ms`)), timeoutMs);
      results.set(id, (m) =>
        settle(m.error !== undefined ? new Error(`${opts.name}: ${m.error}`) : undefined, m.result),
      );
      // A child that dies mid-call must not leave the caller waiting for the timeout.
      void exited.then(({ code, signal }) => {
        if (results.has(id)) settle(new Error(`${opts.name} exited during a call (code ${code}, signal ${signal})`));
      });
      child.send({ type: 'bench-call', id, request } satisfies ChildCommand);
    });

  const url = `http://${host}:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  try {
    for (;;) {
      if (hasExited) {
        const { code, signal } = await exited;
        throw new Error(`${opts.name} exited before it was ready (code ${code}, signal ${signal})`);
      }
      const ready =
        'http' in opts.readiness
          ? await probeHttp(url + opts.readiness.http)
          : 'ipc' in opts.readiness
            ? ipcReady
            : await probePort(host, port);
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`${opts.name} not ready after ${readyTimeoutMs} ms`);
      await sleep('ipc' in opts.readiness ? 20 : 100);
    }
  } catch (err) {
    await stop();
    const out = outputTail();
    throw new Error(`${(err as Error).message}${out ? `\n--- ${opts.name} output (tail) ---\n${out}` : ''}`);
  }

  return {
    name: opts.name,
    pid: child.pid ?? -1,
    port,
    url,
    get outputLines() {
      return lines;
    },
    outputTail,
    cpuTimeMs: () => processCpuTimeMs(child.pid ?? -1),
    startCpuProfile: (intervalUs = 1000) => ask({ type: 'cpu-profile-start', intervalUs }, 'cpu-profile-started'),
    stopCpuProfile: (file) => ask({ type: 'cpu-profile-stop', file }, 'cpu-profile-written'),
    call,
    stop,
  };
}

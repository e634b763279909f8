/**
 * Service processes, one per service replica, started exactly as production runs a service
 * alone: `node --conditions=source --import tsx services/<name>/src/main.ts` with SERVER_PORT
 * and the dependency variables — so each can be kill -9'd and restarted on its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Infra } from './lab.js';
import { recordPid } from './lab.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type ServiceName = 'auth' | 'catalog' | 'order' | 'inventory' | 'payment' | 'notification';
export const DB_SERVICES = ['catalog', 'order', 'inventory', 'payment', 'notification'] as const;
export const MESSAGING_SERVICES = ['order', 'inventory', 'payment', 'notification'] as const;

/**
 * A free port for a fleet process, below the kernel's ephemeral range (32768–60999 by default)
 * and below the PORT_OFFSET tests' ports (28081+): the test files running beside a fleet bind
 * port 0 all the time, and the kernel hands those out from the ephemeral range — one of them
 * took a fleet port in the seconds between its reservation and the service's own listen (CI,
 * session 3). A fleet's ports are also never handed out twice by one process.
 */
const handedOut = new Set<number>();
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 18_000);
    if (handedOut.has(port) || !(await isFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no free port in 10000–27999 after 200 attempts');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ServiceProc {
  readonly name: ServiceName;
  readonly replica: number;
  /** `order-1`. */
  readonly id: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number | undefined;
  /** How many times the process was started. */
  readonly starts: number;
  /** Spawns the process and resolves when its readiness answers UP (ms it took). */
  start(timeoutMs?: number): Promise<number>;
  /** Spawns without waiting for readiness. */
  spawnOnly(): void;
  waitReady(timeoutMs?: number): Promise<number>;
  /** SIGKILL: no shutdown hook runs, in-flight work is cut mid-way. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Synchronous SIGKILL for exit handlers. */
  killNow(): void;
}

export interface FleetOptions {
  infra: Infra;
  /** Prefix of everything this run creates: databases, exchanges/queues, Redis keys. */
  ns: string;
  logDir: string;
  /** Variables every process gets (after the computed ones). */
  env?: Record<string, string>;
  /** Per service name. */
  per?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Per process (`order`, 2 → its own AUTH_JWKS_URI…), applied last. */
  perReplica?: (name: ServiceName, replica: number) => Record<string, string> | undefined;
  /** Where auth keeps its signing key (replicas share it). */
  dataDir: string;
}

/**
 * A set of service processes. Ports are chosen up front so every process knows where the
 * others are (AUTH_JWKS_URI, CATALOG_SERVICE_URL, ORDER_SERVICE_URL point at replica 1).
 */
export class Fleet {
  readonly procs: ServiceProc[] = [];
  private readonly opts: FleetOptions;
  private readonly ports = new Map<string, number>();

  constructor(opts: FleetOptions) {
    this.opts = opts;
    mkdirSync(opts.logDir, { recursive: true });
    mkdirSync(opts.dataDir, { recursive: true });
  }

  /** Reserves ports for `replicas` processes of each named service. */
  async plan(layout: Partial<Record<ServiceName, number>>): Promise<void> {
    for (const [name, count] of Object.entries(layout) as [ServiceName, number][]) {
      for (let r = 1; r <= count; r++) this.ports.set(`${name}-${r}`, await freePort());
    }
    for (const [name, count] of Object.entries(layout) as [ServiceName, number][]) {
      for (let r = 1; r <= count; r++) this.procs.push(this.make(name, r));
    }
  }

  get(name: ServiceName, replica = 1): ServiceProc {
    const p = this.procs.find((x) => x.name === name && x.replica === replica);
    if (!p) throw new Error(`no process ${name}-${replica}`);
    return p;
  }

  all(name: ServiceName): ServiceProc[] {
    return this.procs.filter((p) => p.name === name);
  }

  urlOf(name: ServiceName, replica = 1): string {
    const port = this.ports.get(`${name}-${replica}`);
    if (!port) throw new Error(`no port for ${name}-${replica}`);
    return `http://127.0.0.1:${port}`;
  }

  /** Starts processes in the given order of names; replicas of one name in parallel. */
  async startAll(order: readonly ServiceName[], timeoutMs = 90_000): Promise<void> {
    for (const name of order) await Promise.all(this.all(name).map((p) => p.start(timeoutMs)));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
  }

  killAllNow(): void {
    for (const p of this.procs) p.killNow();
  }

  private envFor(name: ServiceName, replica: number): Record<string, string> {
    const { infra, ns } = this.opts;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      SERVER_HOST: '127.0.0.1',
      SERVER_PORT: String(this.ports.get(`${name}-${replica}`)),
      LOG_LEVEL: process.env.RELIABILITY_LOG_LEVEL ?? 'warn',
      MESSAGING_NAMESPACE: `${ns}.`,
      RABBITMQ_URL: infra.amqpUrl,
      REDIS_HOST: infra.redisHost,
      REDIS_PORT: String(infra.redisPort),
      APP_CACHE_STOCK_KEY_PREFIX: `${ns}:inventory:stock:`,
      AUTH_JWKS_URI: `${this.urlOf('auth')}/.well-known/jwks.json`,
      CATALOG_SERVICE_URL: this.urlOf('catalog'),
      ORDER_SERVICE_URL: this.urlOf('order'),
      DATA_DIR: this.opts.dataDir,
      ...this.opts.env,
      ...this.opts.per?.[name],
      ...this.opts.perReplica?.(name, replica),
    };
    if ((DB_SERVICES as readonly string[]).includes(name)) {
      env[`${name.toUpperCase()}_DB_URL`] = infra.pgUrl(`${ns}_${name}`);
    }
    return env;
  }

  private make(name: ServiceName, replica: number): ServiceProc {
    const id = `${name}-${replica}`;
    const port = this.ports.get(id)!;
    const url = `http://127.0.0.1:${port}`;
    const env = this.envFor(name, replica);
    const logFile = join(this.opts.logDir, `${id}.log`);
    let child: ChildProcess | undefined;
    let starts = 0;

    const spawnOnly = () => {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error(`${id} is already running`);
      const out = openSync(logFile, 'a');
      child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', `services/${name}/src/main.ts`], {
        cwd: ROOT,
        env,
        stdio: ['ignore', out, out],
      });
      closeSync(out);
      starts++;
      recordPid(child.pid, `${id} (${ROOT})`);
    };

    const waitReady = async (timeoutMs = 90_000): Promise<number> => {
      const t0 = Date.now();
      const deadline = t0 + timeoutMs;
      const proc = child;
      for (;;) {
        if (proc && (proc.exitCode !== null || proc.signalCode !== null)) {
          throw new Error(`${id} exited (${proc.exitCode ?? proc.signalCode}) before it was ready; see ${logFile}`);
        }
        if ((await readiness(url)) === 'UP') {
          // UP from the right process: a service that could not bind its port exits, and a
          // readiness answer on that port would then come from whoever holds it.
          const answered = await appName(url);
          if (answered !== `${name}-service`) {
            throw new Error(`${id}: port ${port} is answered by ${answered ?? 'an unknown process'}; see ${logFile}`);
          }
          return Date.now() - t0;
        }
        if (Date.now() > deadline) throw new Error(`${id} not ready within ${timeoutMs} ms; see ${logFile}`);
        await sleep(100);
      }
    };

    const exited = (proc: ChildProcess) =>
      proc.exitCode !== null || proc.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((r) => proc.once('exit', () => r()));

    return {
      name,
      replica,
      id,
      port,
      url,
      get pid() {
        return child?.pid;
      },
      get starts() {
        return starts;
      },
      async start(timeoutMs) {
        spawnOnly();
        return waitReady(timeoutMs);
      },
      spawnOnly,
      waitReady,
      async kill9() {
        const proc = child;
        if (!proc) return;
        const done = exited(proc);
        proc.kill('SIGKILL');
        await done;
      },
      async stop(graceMs = 15_000) {
        const proc = child;
        if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
        const done = exited(proc);
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await done;
        clearTimeout(timer);
      },
      killNow() {
        if (child?.pid && child.exitCode === null && child.signalCode === null) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      },
    };
  }
}

/** `app.name` of /actuator/info (`order-service`), or undefined when it cannot be read. */
async function appName(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${url}/actuator/info`, { signal: AbortSignal.timeout(2000) });
    return ((await res.json()) as { app?: { name?: string } }).app?.name;
  } catch {
    return undefined;
  }
}

/** UP when /actuator/health/readiness answers 200; DOWN otherwise (503, refused, timeout). */
export async function readiness(url: string, timeoutMs = 2000): Promise<'UP' | 'DOWN'> {
  try {
    const res = await fetch(`${url}/actuator/health/readiness`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200 ? 'UP' : 'DOWN';
  } catch {
    return 'DOWN';
  }
}

/** UP when /actuator/health (every component, critical or not) answers 200. */
export async function health(url: string, timeoutMs = 2000): Promise<'UP' | 'DOWN'> {
  try {
    const res = await fetch(`${url}/actuator/health`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200 ? 'UP' : 'DOWN';
  } catch {
    return 'DOWN';
  }
}

/**
 * The private labs: a second PostgreSQL cluster, a second RabbitMQ node and a second Redis, on
 * their own ports, created and destroyed by the run itself, so restarting them never touches the
 * shared servers (5432 / 5672 / 6379) other people's tests use. Two can run side by side:
 *
 *                faultlab (npm run faults)        scalelab (npm run scale)
 *   PostgreSQL   5433                             5434
 *   RabbitMQ     5673 (distribution 25673)        5674 (25674)
 *   Redis        6380                             6381
 *
 *   PostgreSQL  Debian's pg_createcluster <ver> <lab> --port …, initdb --auth=trust (local and
 *               127.0.0.1, like the main cluster's pg_hba), listen_addresses 127.0.0.1, data under
 *               /tmp/ecom-<lab>; a restart is stop -m immediate (a crash) then start
 *   RabbitMQ    node <lab>@localhost with its own mnesia/log dirs, config file (so /etc/rabbitmq's
 *               listener on 5672 is not inherited) and no plugins; stop with rabbitmqctl -n
 *   Redis       redis-server --port …, no persistence, a child process of the run
 *
 * Every process a run starts is listed in /tmp/ecom-reliability-pids/<run pid>.pids, so a run
 * that was killed (SIGKILL leaves no chance to clean up) is swept by the next one, which also
 * drops a leftover cluster and stops a leftover node of its lab. One run per lab at a time: a
 * lock file; a second run waits for it (bounded) and then fails with a clear message.
 *
 * Teardown is synchronous (spawnSync, process.kill) so it also works from signal and exit
 * handlers.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const exec = promisify(execFile);

/** One file per run (`<owner pid>.pids`): what it started, swept once its owner is gone. */
const PIDS_DIR = '/tmp/ecom-reliability-pids';
const PIDS_FILE = join(PIDS_DIR, `${process.pid}.pids`);

export interface LabPorts {
  postgres: number;
  amqp: number;
  amqpDist: number;
  redis: number;
}

/**
 * Two labs can run side by side: `faultlab` (npm run faults) and `scalelab` (npm run scale), so
 * CI may run both tests at once. Each has its own cluster, node, ports, directory and lock.
 */
export type LabName = 'faultlab' | 'scalelab';

export const LAB_PORTS: Record<LabName, LabPorts> = {
  faultlab: { postgres: 5433, amqp: 5673, amqpDist: 25673, redis: 6380 },
  scalelab: { postgres: 5434, amqp: 5674, amqpDist: 25674, redis: 6381 },
};

interface LabSpec {
  name: LabName;
  /** /tmp/ecom-<name>: data, config, logs; removed at teardown. */
  dir: string;
  lock: string;
  /** pg_createcluster cluster name = the lab name. */
  cluster: string;
  /** RabbitMQ node name. */
  node: string;
  ports: LabPorts;
}

export function labDir(name: LabName): string {
  return `/tmp/ecom-${name}`;
}

function labSpec(name: LabName, ports: LabPorts = LAB_PORTS[name]): LabSpec {
  const dir = labDir(name);
  return { name, dir, lock: `${dir}.lock`, cluster: name, node: `${name}@localhost`, ports };
}

/** Where the services' dependencies are: the lab's servers or the shared ones. */
export interface Infra {
  kind: 'lab' | 'shared';
  /** postgres:// URL of database `db` (created by the service at boot when missing). */
  pgUrl(db: string): string;
  amqpUrl: string;
  redisHost: string;
  redisPort: number;
  /** Drops the run's databases (shared servers) or the whole lab. Synchronous. */
  teardown(): void;
}

export interface FaultLab extends Infra {
  kind: 'lab';
  name: LabName;
  ports: LabPorts;
  /** Crash (stop -m immediate), stay down `downMs`, start; resolves once SELECT 1 answers. */
  restartPostgres(downMs: number): Promise<OutageTimes>;
  /** rabbitmqctl stop, stay down `downMs`, start; resolves once the AMQP port accepts. */
  restartRabbit(downMs: number): Promise<OutageTimes>;
  /** SIGTERM, stay down `downMs`, start again; resolves once PING answers. */
  restartRedis(downMs: number): Promise<OutageTimes>;
  logDir: string;
}

/** Epoch milliseconds of the fault's phases. */
export interface OutageTimes {
  stopAt: number;
  downAt: number;
  startAt: number;
  upAt: number;
}

export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function log(msg: string): void {
  process.stderr.write(`[lab] ${msg}\n`);
}

/** Records a pid this run started, so a later run can sweep it if this one is SIGKILLed. */
export function recordPid(pid: number | undefined, what: string): void {
  if (!pid) return;
  mkdirSync(PIDS_DIR, { recursive: true });
  appendFileSync(PIDS_FILE, `${pid} ${what}\n`);
}

/** Forgets this run's pid file (its processes are stopped). */
export function forgetPids(): void {
  rmSync(PIDS_FILE, { force: true });
}

/**
 * Kills what runs that are gone (SIGKILLed, so they could not clean up) left running: service
 * processes of this repo and the lab's redis, listed in their pid files. Live runs are left alone.
 */
export function sweepOrphans(): void {
  let files: string[];
  try {
    files = readdirSync(PIDS_DIR);
  } catch {
    return;
  }
  for (const file of files) {
    const owner = Number(file.split('.')[0]);
    if (!owner || owner === process.pid || alive(owner)) continue;
    const path = join(PIDS_DIR, file);
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const pid = Number(line.split(' ')[0]);
      if (!pid || !alive(pid)) continue;
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (cmdline.includes('services/') || cmdline.includes('redis-server')) {
        log(`sweeping process ${pid} left by run ${owner} (${line.split(' ').slice(1).join(' ')})`);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
      }
    }
    rmSync(path, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is anything listening on 127.0.0.1:port? */
export function portOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new LabError(`${what}: not reached within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function pgVersion(): string {
  let versions: string[];
  try {
    versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v));
  } catch {
    throw new LabError('PostgreSQL server binaries not found under /usr/lib/postgresql (Debian postgresql package)');
  }
  const v = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!v) throw new LabError('no PostgreSQL version under /usr/lib/postgresql');
  return v;
}

function need(binary: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new LabError(`${binary} is not installed (needed by the fault lab)`);
}

function userIds(name: string): { uid: number; gid: number } {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new LabError(`system user ${name} does not exist`);
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function rabbitEnv(lab: LabSpec): NodeJS.ProcessEnv {
  const { ports } = lab;
  const dir = join(lab.dir, 'rabbitmq');
  return {
    ...process.env,
    RABBITMQ_NODENAME: lab.node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(ports.amqp),
    RABBITMQ_DIST_PORT: String(ports.amqpDist),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
}

/** Stops the lab's RabbitMQ node if it runs (never the shared rabbit@localhost). */
function stopRabbitSync(lab: LabSpec): void {
  spawnSync('rabbitmqctl', ['-n', lab.node, 'stop'], { env: rabbitEnv(lab), stdio: 'ignore', timeout: 30_000 });
}

function dropClusterSync(lab: LabSpec, version: string): void {
  if (existsSync(`/etc/postgresql/${version}/${lab.cluster}`)) {
    spawnSync('pg_dropcluster', [version, lab.cluster, '--stop'], { stdio: 'ignore', timeout: 30_000 });
    // pg_dropcluster leaves files it did not create (our conf.d file) behind.
    rmSync(`/etc/postgresql/${version}/${lab.cluster}`, { recursive: true, force: true });
  }
}

/** Sweeps whatever a previous, killed lab run left: its processes, cluster, node and files. */
function sweepStale(lab: LabSpec, version: string): void {
  sweepOrphans();
  stopRabbitSync(lab);
  dropClusterSync(lab, version);
  rmSync(lab.dir, { recursive: true, force: true });
}

/** One lab at a time on a machine: a lock file holding the owner's pid. */
async function acquireLock(lab: LabSpec, waitMs: number): Promise<void> {
  const LOCK_FILE = lab.lock;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(LOCK_FILE, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(readFileSync(LOCK_FILE, 'utf8').trim());
    if (!owner || !alive(owner)) {
      log(`removing the lock of a run that is gone (pid ${owner || '?'})`);
      rmSync(LOCK_FILE, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new LabError(`another ${lab.name} run (pid ${owner}) holds ${LOCK_FILE}; waited ${waitMs} ms`);
    }
    await sleep(1000);
  }
}

function releaseLock(lab: LabSpec): void {
  try {
    if (Number(readFileSync(lab.lock, 'utf8').trim()) === process.pid) rmSync(lab.lock, { force: true });
  } catch {
    /* not ours or gone */
  }
}

async function pgReady(port: number): Promise<boolean> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: 1000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisReady(port: number): Promise<boolean> {
  const r = await exec('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], { timeout: 2000 }).catch(() => ({
    stdout: '',
  }));
  return r.stdout.trim() === 'PONG';
}

/**
 * Creates the lab, or throws LabError saying why it cannot. The caller must call teardown()
 * (it is also safe to call when start failed halfway).
 */
export async function startFaultLab(
  opts: { name?: LabName; lockWaitMs?: number; onTeardown?: () => void } = {},
): Promise<FaultLab> {
  const lab = labSpec(opts.name ?? 'faultlab');
  const { ports } = lab;
  const LAB_DIR = lab.dir;
  const CLUSTER = lab.cluster;
  const RABBIT_NODE = lab.node;
  for (const b of ['pg_createcluster', 'pg_ctlcluster', 'pg_dropcluster', 'rabbitmq-server', 'rabbitmqctl']) need(b);
  for (const b of ['redis-server', 'redis-cli']) need(b);
  if (process.getuid?.() !== 0) throw new LabError('the fault lab needs root (pg_createcluster, rabbitmq as its user)');
  const version = pgVersion();
  const postgresUser = userIds('postgres');
  const rabbitUser = userIds('rabbitmq');
  await acquireLock(lab, opts.lockWaitMs ?? 180_000);

  let redis: ChildProcess | undefined;
  let tornDown = false;
  const teardown = () => {
    if (tornDown) return;
    tornDown = true;
    opts.onTeardown?.();
    if (redis?.pid && redis.exitCode === null) {
      try {
        process.kill(redis.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    stopRabbitSync(lab);
    dropClusterSync(lab, version);
    rmSync(LAB_DIR, { recursive: true, force: true });
    releaseLock(lab);
    log('lab torn down');
  };

  try {
    sweepStale(lab, version);
    for (const [name, port] of Object.entries(ports)) {
      if (await portOpen(port)) throw new LabError(`port ${port} (${name}) is already in use on 127.0.0.1`);
    }
    mkdirSync(LAB_DIR, { recursive: true, mode: 0o755 });
    const logDir = join(LAB_DIR, 'logs');
    mkdirSync(logDir, { recursive: true });

    // --- PostgreSQL -------------------------------------------------------------------
    const setupPostgres = async () => {
      const pgDir = join(LAB_DIR, 'postgres');
      mkdirSync(pgDir, { recursive: true });
      chownSync(pgDir, postgresUser.uid, postgresUser.gid);
      const started = Date.now();
      await exec(
        'pg_createcluster',
        [
          version,
          CLUSTER,
          '--port',
          String(ports.postgres),
          '-d',
          join(pgDir, 'data'),
          '-l',
          join(pgDir, 'postgresql.log'),
          '--start-conf=manual',
          '-q',
          '--',
          '--auth=trust',
        ],
        { timeout: 60_000 },
      ).catch((err) => {
        throw new LabError(`pg_createcluster failed: ${(err as { stderr?: string }).stderr ?? err}`);
      });
      // The pg_hba written by initdb --auth=trust trusts local and 127.0.0.1 (like the main
      // cluster); listen on loopback only. Many service processes: room for their pools.
      writeFileSync(
        `/etc/postgresql/${version}/${CLUSTER}/conf.d/ecom-lab.conf`,
        "listen_addresses = '127.0.0.1'\nmax_connections = 400\n",
      );
      await exec('pg_ctlcluster', [version, CLUSTER, 'start'], { timeout: 60_000 }).catch((err) => {
        throw new LabError(`pg_ctlcluster start failed: ${(err as { stderr?: string }).stderr ?? err}`);
      });
      await waitUntil('lab PostgreSQL', 30_000, () => pgReady(ports.postgres));
      log(`PostgreSQL ${version}/${CLUSTER} on 127.0.0.1:${ports.postgres} (${Date.now() - started} ms)`);
    };

    // --- RabbitMQ ---------------------------------------------------------------------
    const rmqDir = join(LAB_DIR, 'rabbitmq');
    mkdirSync(rmqDir, { recursive: true });
    writeFileSync(
      join(rmqDir, 'rabbitmq.conf'),
      `listeners.tcp.local = 127.0.0.1:${ports.amqp}\nloopback_users.guest = true\n`,
    );
    writeFileSync(join(rmqDir, 'rabbitmq-env.conf'), `NODENAME=${RABBIT_NODE}\n`);
    writeFileSync(join(rmqDir, 'enabled_plugins'), '[].\n');
    spawnSync('chown', ['-R', `${rabbitUser.uid}:${rabbitUser.gid}`, rmqDir]);
    /** Resolves at the moment the AMQP port accepts (the start command may return later). */
    const startRabbit = async () => {
      const env = rabbitEnv(lab);
      let failed: Error | undefined;
      const starting = exec('rabbitmq-server', ['-detached'], { env, timeout: 30_000 }).catch((err) => {
        failed = new LabError(`rabbitmq-server -detached failed: ${(err as { stderr?: string }).stderr ?? err}`);
      });
      await waitUntil('lab RabbitMQ', 60_000, async () => {
        if (failed) throw failed;
        return portOpen(ports.amqp);
      }).catch((err) => {
        throw failed ?? err;
      });
      void starting;
    };
    const setupRabbit = async () => {
      const started = Date.now();
      await startRabbit();
      log(`RabbitMQ ${RABBIT_NODE} on 127.0.0.1:${ports.amqp} (${Date.now() - started} ms)`);
    };

    // --- Redis ------------------------------------------------------------------------
    const redisDir = join(LAB_DIR, 'redis');
    mkdirSync(redisDir, { recursive: true });
    const startRedis = async () => {
      const out = openSync(join(logDir, 'redis.log'), 'a');
      redis = spawn(
        'redis-server',
        ['--port', String(ports.redis), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir],
        { stdio: ['ignore', out, out] },
      );
      closeSync(out);
      recordPid(redis.pid, `redis-server (${lab.name})`);
      await waitUntil('lab Redis', 15_000, () => redisReady(ports.redis));
    };

    // The three at once (RabbitMQ's boot is the longest).
    await Promise.all([setupPostgres(), setupRabbit(), startRedis()]);
    log(`Redis on 127.0.0.1:${ports.redis}`);

    return {
      kind: 'lab',
      name: lab.name,
      ports,
      logDir,
      pgUrl: (db) => `postgres://postgres@127.0.0.1:${ports.postgres}/${db}`,
      amqpUrl: `amqp://guest:guest@127.0.0.1:${ports.amqp}`,
      redisHost: '127.0.0.1',
      redisPort: ports.redis,
      teardown,
      async restartPostgres(downMs) {
        const stopAt = Date.now();
        await exec('pg_ctlcluster', [version, CLUSTER, 'stop', '-m', 'immediate'], { timeout: 60_000 });
        const downAt = Date.now();
        await sleep(downMs);
        const startAt = Date.now();
        // pg_ctlcluster start returns once the server is up; poll meanwhile to see the moment.
        const starting = exec('pg_ctlcluster', [version, CLUSTER, 'start'], { timeout: 60_000 });
        starting.catch(() => undefined);
        await waitUntil('lab PostgreSQL after restart', 60_000, () => pgReady(ports.postgres));
        const upAt = Date.now();
        await starting;
        return { stopAt, downAt, startAt, upAt };
      },
      async restartRabbit(downMs) {
        const stopAt = Date.now();
        await exec('rabbitmqctl', ['-n', RABBIT_NODE, 'stop'], { env: rabbitEnv(lab), timeout: 60_000 });
        await waitUntil('lab RabbitMQ stopped', 30_000, async () => !(await portOpen(ports.amqp)));
        const downAt = Date.now();
        await sleep(downMs);
        const startAt = Date.now();
        await startRabbit();
        return { stopAt, downAt, startAt, upAt: Date.now() };
      },
      async restartRedis(downMs) {
        const stopAt = Date.now();
        const proc = redis;
        if (proc && proc.exitCode === null) {
          const exited = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGTERM');
          await exited;
        }
        const downAt = Date.now();
        await sleep(downMs);
        const startAt = Date.now();
        await startRedis();
        return { stopAt, downAt, startAt, upAt: Date.now() };
      },
    };
  } catch (err) {
    teardown();
    throw err instanceof LabError ? err : new LabError((err as Error).message);
  }
}

/**
 * The shared servers (5432 / 5672 / 6379), for runs that restart nothing (scale-out): fresh
 * databases `<prefix>_<service>` that teardown() drops. Nothing is ever reconfigured.
 */
export function sharedInfra(prefix: string): Infra {
  const created = new Set<string>();
  const pgPort = 5432;
  return {
    kind: 'shared',
    pgUrl: (db) => {
      created.add(db);
      return `postgres://postgres@127.0.0.1:${pgPort}/${db}`;
    },
    amqpUrl: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    redisHost: '127.0.0.1',
    redisPort: 6379,
    teardown() {
      for (const db of created) {
        if (!db.startsWith(prefix)) continue;
        spawnSync(
          'psql',
          [
            '-h',
            '127.0.0.1',
            '-p',
            String(pgPort),
            '-U',
            'postgres',
            '-qAtc',
            `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`,
          ],
          {
            stdio: 'ignore',
            timeout: 30_000,
          },
        );
      }
    },
  };
}

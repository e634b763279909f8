/**
 * stock-cache-hit: `GET /api/stocks/{skuId}` answered from the Redis stock cache (every key warm)
 * by inventory-service through the kernel, vs a bare Fastify route doing one ioredis GET of the
 * same key. Two measurements per server process:
 *  1. throughput: autocannon, BENCH_CONNECTIONS keep-alive connections, as fast as it can — req/s
 *     service ÷ floor (goal ≥ 0.8);
 *  2. latency at the original's load shape: 60 virtual users, each waiting 100 ms after every
 *     response (lib/paced.ts; autocannon has no think time) — p95 (goal ≤ 2.1 ms; the original
 *     reported 12.83 ms).
 */
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import { type ChildServer, startServer } from '../lib/child-server.js';
import type { BenchConfig } from '../lib/config.js';
import { type LoadResult, runLoad } from '../lib/load.js';
import { type PacedResult, runPaced } from '../lib/paced.js';
import { benchDatabaseName, databaseUrl, dropDatabase } from '../lib/pg-admin.js';
import { profileFileFor, profileSummaries, writeReport } from '../lib/report.js';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { formatTable, median, randomPicks, round } from '../lib/stats.js';

const NAME = 'stock-cache-hit';
const SERVICE_ENTRY = new URL('../servers/kernel-service.ts', import.meta.url).pathname;
const FLOOR_ENTRY = new URL('../servers/stock-floor.ts', import.meta.url).pathname;
const GOAL_RPS_RATIO = 0.8;
const GOAL_PACED_P95_MS = 2.1;
const PACED_WORKERS = 60;
const PACED_THINK_MS = 100;
const PACED_WARMUP_S = 2;
const SKUS = 1000;
const SEQUENCE_LENGTH = 20_000;
const REDIS = { host: process.env.BENCH_REDIS_HOST ?? '127.0.0.1', port: Number(process.env.BENCH_REDIS_PORT ?? 6379) };

type Stock = { skuId: string; availableQty: number; reservedQty: number; updatedAt: string };

interface StockRound {
  round: number;
  label: string;
  /** autocannon, as fast as it can. */
  load: LoadResult & { serverCpuUsPerReq: number; loadAvg1: number };
  /** 60 users × 100 ms think time. */
  paced: PacedResult & { serverCpuUsPerReq: number; loadAvg1: number };
  /** Service only: cache counter deltas over both measurements (misses and fallbacks must be 0). */
  cache?: { hits: number; misses: number; fallback: number };
  serverLogLines: number;
  /** The `.cpuprofile` of the autocannon window, when profiled. */
  profile?: string;
}

const skuOf = (i: number) => `BENCH-STOCK-${String(i).padStart(5, '0')}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function cacheCounters(s: ChildServer): Promise<{ hits: number; misses: number; fallback: number }> {
  const text = await (await fetch(`${s.url}/actuator/prometheus`)).text();
  const read = (name: string) => {
    const m = new RegExp(`^inventory_stock_cache_${name}_total(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : Number.NaN;
  };
  return { hits: read('hits'), misses: read('misses'), fallback: read('fallback') };
}

async function run(ctx: ScenarioContext): Promise<void> {
  const { config, cleanup, log } = ctx;
  const startedAt = new Date().toISOString();
  const database = benchDatabaseName();
  const prefix = `${database}:inventory:stock:`;
  cleanup.defer(`drop database ${database}`, async () => {
    await dropDatabase(database);
    log(`dropped database ${database}`);
  });
  const redis = new Redis({ ...REDIS, connectionName: 'bench-admin' });
  redis.on('error', () => undefined);
  cleanup.defer(`delete the ${prefix}* Redis keys`, async () => {
    let deleted = 0;
    for (let cursor = '0'; ; ) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
    redis.disconnect();
    log(`deleted ${deleted} Redis keys ${prefix}*`);
  });

  const serviceEnv = {
    BENCH_SERVICE: 'inventory',
    INVENTORY_DB_URL: databaseUrl(database),
    INVENTORY_DB_POOL_SIZE: String(config.poolSize),
    REDIS_HOST: REDIS.host,
    REDIS_PORT: String(REDIS.port),
    APP_CACHE_STOCK_KEY_PREFIX: prefix,
    // Longer than the run, so no key expires while it is measured.
    INVENTORY_STOCK_CACHE_TTL_SECONDS: '3600',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
  const startService = async (round: number) => {
    const s = await startServer({
      name: `inventory-service#${round}`,
      entry: SERVICE_ENTRY,
      env: serviceEnv,
      readiness: { http: '/actuator/health/readiness' },
    });
    cleanup.defer(`stop ${s.name}`, () => s.stop().then(() => undefined));
    return s;
  };
  const startFloor = async (round: number) => {
    const s = await startServer({
      name: `stock-floor#${round}`,
      entry: FLOOR_ENTRY,
      env: { FLOOR_REDIS_HOST: REDIS.host, FLOOR_REDIS_PORT: String(REDIS.port), FLOOR_KEY_PREFIX: prefix },
      readiness: { port: true },
    });
    cleanup.defer(`stop ${s.name}`, () => s.stop().then(() => undefined));
    return s;
  };

  // 1. Seed through the service's own POST /api/stocks: it writes the row and, after the commit,
  //    the cache entry (value + version), exactly what a later GET hits.
  log(`database ${database}: seeding ${SKUS} SKUs through POST /api/stocks (cache prefix ${prefix})`);
  const setup = await startService(0);
  const expected = new Map<string, Stock>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < SKUS; i = next++) {
        const res = await fetch(`${setup.url}/api/stocks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ skuId: skuOf(i), availableQty: 1000 + i }),
        });
        const body = (await res.json()) as Stock;
        if (res.status !== 200) throw new Error(`POST /api/stocks ${skuOf(i)}: ${res.status} ${JSON.stringify(body)}`);
        expected.set(body.skuId, body);
      }
    }),
  );
  await setup.stop();
  const cached = await redis.mget(...[...expected.keys()].map((k) => prefix + k));
  const missing = cached.filter((v) => v === null).length;
  if (missing > 0) throw new Error(`${missing} of ${SKUS} stock keys are not in Redis after seeding`);
  log(`seeded ${SKUS} SKUs; all ${SKUS} keys warm (value ${cached[0]?.length} bytes, e.g. ${cached[0]})`);

  const paths = randomPicks([...expected.keys()], SEQUENCE_LENGTH, config.seed).map((k) => `/api/stocks/${k}`);
  const check = async (label: string, s: ChildServer) => {
    const skus = [...expected.keys()];
    for (const sku of [skus[0]!, skus[SKUS >> 1]!, skus[SKUS - 1]!]) {
      const res = await fetch(`${s.url}/api/stocks/${sku}`);
      const body = await res.json();
      if (res.status !== 200 || !isDeepStrictEqual(body, expected.get(sku)))
        throw new Error(
          `${label} GET ${sku}: ${res.status} ${JSON.stringify(body)}; expected ${JSON.stringify(expected.get(sku))}`,
        );
    }
    const none = await fetch(`${s.url}/api/stocks/NO-SUCH-SKU`);
    await none.arrayBuffer();
    if (none.status !== 404) throw new Error(`${label} GET of a missing SKU answered ${none.status}`);
  };

  const contenders = [
    { label: 'floor', start: startFloor },
    { label: 'service', start: startService },
  ];
  if (config.cpuProf !== 'off') await mkdir(config.profileDir, { recursive: true });
  log(
    `measuring: ${config.rounds} rounds × (floor, service); each: autocannon ${config.warmupS} s warm-up + ${config.durationS} s at ${config.connections} connections, then ${PACED_WORKERS} users × ${PACED_THINK_MS} ms think time, ${PACED_WARMUP_S} s warm-up + ${config.durationS} s`,
  );
  const results: StockRound[] = [];
  for (let r = 1; r <= config.rounds; r++) {
    for (const c of contenders) {
      if (results.length > 0) await sleep(config.pauseMs);
      const s = await c.start(r);
      try {
        await check(c.label, s);
        const countersBefore = c.label === 'service' ? await cacheCounters(s) : undefined;
        const linesBefore = s.outputLines;
        const loadOpts = { url: s.url, paths, connections: config.connections, method: 'GET' as const };
        if (config.warmupS > 0) await runLoad({ ...loadOpts, durationS: config.warmupS, recordLatencies: false });
        const profile = profileFileFor(config, NAME, c.label === 'floor' ? 'floor' : 'service', c.label)?.(r);
        if (profile) await s.startCpuProfile();
        let cpu = s.cpuTimeMs();
        const load = await runLoad({ ...loadOpts, durationS: config.durationS });
        const loadCpu = s.cpuTimeMs() - cpu;
        if (profile) await s.stopCpuProfile(profile);
        const loadAvgAfterLoad = loadavg()[0] ?? 0;
        await sleep(500);
        const pacedOpts = { url: s.url, paths, workers: PACED_WORKERS, thinkMs: PACED_THINK_MS };
        await runPaced({ ...pacedOpts, durationS: PACED_WARMUP_S, record: false });
        cpu = s.cpuTimeMs();
        const paced = await runPaced({ ...pacedOpts, durationS: config.durationS });
        const pacedCpu = s.cpuTimeMs() - cpu;
        let cache: StockRound['cache'];
        if (countersBefore) {
          const after = await cacheCounters(s);
          cache = {
            hits: after.hits - countersBefore.hits,
            misses: after.misses - countersBefore.misses,
            fallback: after.fallback - countersBefore.fallback,
          };
          if (cache.misses !== 0 || cache.fallback !== 0)
            throw new Error(
              `service round ${r}: ${cache.misses} cache misses, ${cache.fallback} fallbacks (expected 0)`,
            );
        }
        const result: StockRound = {
          round: r,
          label: c.label,
          load: {
            ...load,
            serverCpuUsPerReq: round((loadCpu * 1000) / load.ok, 1),
            loadAvg1: round(loadAvgAfterLoad, 2),
          },
          paced: {
            ...paced,
            serverCpuUsPerReq: round((pacedCpu * 1000) / paced.ok, 1),
            loadAvg1: round(loadavg()[0] ?? 0, 2),
          },
          ...(cache ? { cache } : {}),
          ...(profile ? { profile } : {}),
          serverLogLines: s.outputLines - linesBefore,
        };
        results.push(result);
        log(
          `  round ${r} ${c.label.padEnd(8)} ${load.rps.toFixed(0).padStart(6)} req/s p95 ${load.p95.toFixed(2)} ms (${result.load.serverCpuUsPerReq} µs/req, errors ${load.errors}, non2xx ${load.non2xx}) | paced ${paced.rps.toFixed(0)} req/s p50 ${paced.p50.toFixed(2)} p95 ${paced.p95.toFixed(2)} p99 ${paced.p99.toFixed(2)} ms (errors ${paced.errors}, non2xx ${paced.non2xx})${cache ? ` | cache hits ${cache.hits}, misses ${cache.misses}` : ''}  load ${result.paced.loadAvg1}`,
        );
        if (load.errors + load.non2xx + paced.errors + paced.non2xx > 0)
          throw new Error(`${c.label} round ${r}: errors or non-2xx answers`);
      } finally {
        await s.stop();
      }
    }
  }

  const med = (label: string, f: (r: StockRound) => number, digits = 3) =>
    round(median(results.filter((r) => r.label === label).map(f)), digits);
  const summary = (label: string) => ({
    rps: med(label, (r) => r.load.rps, 1),
    p50: med(label, (r) => r.load.p50),
    p95: med(label, (r) => r.load.p95),
    p99: med(label, (r) => r.load.p99),
    cpuUsPerReq: med(label, (r) => r.load.serverCpuUsPerReq, 1),
    pacedRps: med(label, (r) => r.paced.rps, 1),
    pacedP50: med(label, (r) => r.paced.p50),
    pacedP95: med(label, (r) => r.paced.p95),
    pacedP99: med(label, (r) => r.paced.p99),
    pacedCpuUsPerReq: med(label, (r) => r.paced.serverCpuUsPerReq, 1),
  });
  const f = summary('floor');
  const sv = summary('service');
  const rpsRatio = round(sv.rps / f.rps, 3);
  const rounds = [...new Set(results.map((r) => r.round))];
  const perRound = rounds.map((n) => {
    const a = results.find((r) => r.round === n && r.label === 'floor');
    const b = results.find((r) => r.round === n && r.label === 'service');
    return a && b ? round(b.load.rps / a.load.rps, 3) : Number.NaN;
  });
  const rpsMet = rpsRatio >= GOAL_RPS_RATIO;
  const p95Met = sv.pacedP95 <= GOAL_PACED_P95_MS;

  console.log(
    `\n${NAME}: GET /api/stocks/{skuId}, every key warm in Redis; throughput at ${config.connections} connections, latency at ${PACED_WORKERS} users × ${PACED_THINK_MS} ms think time; ms, server CPU µs/req\n`,
  );
  const row = (r: StockRound | 'median', label: string, m = r === 'median' ? summary(label) : undefined) =>
    r === 'median'
      ? [
          'median',
          label,
          m!.rps,
          m!.p95,
          m!.cpuUsPerReq,
          m!.pacedRps,
          m!.pacedP50,
          m!.pacedP95,
          m!.pacedP99,
          m!.pacedCpuUsPerReq,
          '',
        ]
      : [
          String(r.round),
          label,
          r.load.rps,
          r.load.p95,
          r.load.serverCpuUsPerReq,
          r.paced.rps,
          r.paced.p50,
          r.paced.p95,
          r.paced.p99,
          r.paced.serverCpuUsPerReq,
          r.paced.loadAvg1,
        ];
  console.log(
    formatTable(
      [
        'round',
        'server',
        'req/s',
        'p95',
        'cpu/req',
        'paced req/s',
        'paced p50',
        'paced p95',
        'paced p99',
        'paced cpu/req',
        'load1',
      ],
      [
        ...results.map((r) => row(r, r.label)),
        row('median', 'floor'),
        row('median', 'service'),
        [
          'ratio',
          'svc/floor',
          rpsRatio.toFixed(3),
          (sv.p95 / f.p95).toFixed(3),
          (sv.cpuUsPerReq / f.cpuUsPerReq).toFixed(3),
          '',
          '',
          (sv.pacedP95 / f.pacedP95).toFixed(3),
          '',
          '',
          '',
        ],
      ],
    ),
  );
  console.log(
    `\nthroughput ratio service/floor = ${rpsRatio.toFixed(3)} (goal ≥ ${GOAL_RPS_RATIO}: ${rpsMet ? 'MET' : 'NOT MET'}); per round ${perRound.join(', ')}`,
  );
  console.log(
    `paced p95 service = ${sv.pacedP95.toFixed(2)} ms (goal ≤ ${GOAL_PACED_P95_MS} ms: ${p95Met ? 'MET' : 'NOT MET'}; the original: 12.83 ms); floor ${f.pacedP95.toFixed(2)} ms`,
  );

  const profiles = await profileSummaries(config, results);

  await writeReport(
    ctx,
    NAME,
    {
      scenario: NAME,
      description: scenario.description,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: ctx.machine,
      config: {
        durationS: config.durationS,
        warmupS: config.warmupS,
        rounds: config.rounds,
        connections: config.connections,
        paced: { workers: PACED_WORKERS, thinkMs: PACED_THINK_MS, warmupS: PACED_WARMUP_S },
        skus: SKUS,
        seed: config.seed,
        cacheTtlSeconds: 3600,
      },
      rounds: results,
      medians: { floor: f, service: sv },
      ratios: { rps: rpsRatio, rpsPerRound: perRound, pacedP95: round(sv.pacedP95 / f.pacedP95, 3) },
      goals: {
        rpsRatioAtLeast: GOAL_RPS_RATIO,
        rpsMet,
        pacedP95AtMostMs: GOAL_PACED_P95_MS,
        pacedP95Met: p95Met,
      },
      ...(profiles.length ? { profileDir: config.profileDir, profiles } : {}),
    },
    config.cpuProf !== 'off',
  );
}

export const scenario: Scenario = {
  name: NAME,
  description:
    'GET /api/stocks/{skuId} cache hit: inventory-service (Redis) vs a bare Fastify route doing one ioredis GET; req/s ratio, and p95 at 60 users × 100 ms think time.',
  budgetMs: (c: BenchConfig) =>
    120_000 + c.rounds * 2 * (60_000 + (c.warmupS + 2 * c.durationS + PACED_WARMUP_S) * 1000 + 30_000 + c.pauseMs),
  run,
};

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type ChildServer, startServer } from '../lib/child-server.js';
import { type Contender, measureAlternating, ratios, summarize } from '../lib/compare.js';
import type { BenchConfig } from '../lib/config.js';
import { formatProfileSummary, type ProfileSummary, summarizeCpuProfile } from '../lib/cpu-profile.js';
import { benchDatabaseName, databaseUrl, dropDatabase, queryDatabase } from '../lib/pg-admin.js';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { formatTable, randomPicks } from '../lib/stats.js';

const SERVICE_ENTRY = new URL('../servers/catalog-service.ts', import.meta.url).pathname;
const FLOOR_ENTRY = new URL('../servers/catalog-floor.ts', import.meta.url).pathname;
const PRODUCTS_PATH = '/api/catalog/products';
/** The goal: the service serves at least this share of the floor's throughput. */
const GOAL_RPS_RATIO = 0.8;
/** Length of the pre-drawn request sequence that autocannon cycles through. */
const SEQUENCE_LENGTH = 20_000;
const SEED_CONCURRENCY = 8;

type Product = Record<string, unknown>;

function skuOf(i: number): string {
  return `SKU-${String(i).padStart(6, '0')}`;
}

function productInput(i: number) {
  return {
    name: `Bench product ${i}`,
    description: `Benchmark product number ${i}: a plausible, medium-length description so rows and bodies are not trivially small.`,
    price: Math.round(((i % 500) + 0.99) * 100) / 100,
    active: i % 10 !== 0,
  };
}

/** PUTs `count` products through the service (so rows are exactly what its own code writes). */
async function seed(service: ChildServer, count: number): Promise<Map<string, Product>> {
  const expected = new Map<string, Product>();
  let next = 1;
  const worker = async () => {
    for (let i = next++; i <= count; i = next++) {
      const sku = skuOf(i);
      const res = await fetch(`${service.url}${PRODUCTS_PATH}/${encodeURIComponent(sku)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(productInput(i)),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as Product;
      if (res.status !== 200) throw new Error(`seed PUT ${sku} answered ${res.status}: ${JSON.stringify(body)}`);
      expected.set(sku, body);
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
  return expected;
}

/** Both servers must give byte-for-byte the same data: same rows, same JSON shape, same 404. */
async function checkServer(label: string, server: ChildServer, expected: Map<string, Product>): Promise<void> {
  const skus = [...expected.keys()];
  for (const sku of [skus[0]!, skus[Math.floor(skus.length / 2)]!, skus[skus.length - 1]!]) {
    const res = await fetch(`${server.url}${PRODUCTS_PATH}/${encodeURIComponent(sku)}`);
    const body = (await res.json()) as Product;
    if (res.status !== 200 || !isDeepStrictEqual(body, expected.get(sku))) {
      throw new Error(
        `${label} answered GET ${sku} with ${res.status} ${JSON.stringify(body)}; expected ${JSON.stringify(expected.get(sku))}`,
      );
    }
  }
  const missing = await fetch(`${server.url}${PRODUCTS_PATH}/NO-SUCH-SKU`);
  await missing.arrayBuffer();
  if (missing.status !== 404) throw new Error(`${label} answered GET of a missing SKU with ${missing.status}`);
}

function profileFile(config: BenchConfig, label: string): ((round: number) => string) | undefined {
  if (config.cpuProf !== 'all' && config.cpuProf !== label) return undefined;
  return (round) => join(config.profileDir, `catalog-get-${label}-round${round}.cpuprofile`);
}

async function run(ctx: ScenarioContext): Promise<void> {
  const { config, cleanup, log } = ctx;
  const database = benchDatabaseName();
  const dbUrl = databaseUrl(database);
  const startedAt = new Date().toISOString();
  cleanup.defer(`drop database ${database}`, async () => {
    await dropDatabase(database);
    log(`dropped database ${database}`);
  });

  const serviceEnv = {
    CATALOG_DB_URL: dbUrl,
    CATALOG_DB_POOL_SIZE: String(config.poolSize),
    // warn, not info: at info every request writes a log line, which would measure pino and
    // stdout rather than the kernel's request path. Production log volume is a separate question.
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  };
  const startService = async (round: number) => {
    const s = await startServer({
      name: `catalog-service#${round}`,
      entry: SERVICE_ENTRY,
      env: serviceEnv,
      readiness: { http: '/actuator/health/readiness' },
    });
    cleanup.defer(`stop ${s.name}`, () => s.stop().then(() => undefined));
    return s;
  };

  // 1. The table comes from the service's own migrations: start it once, seed through its PUT.
  log(`database ${database}: starting catalog-service to migrate and seed ${config.products} products`);
  const setup = await startService(0);
  const seedStart = Date.now();
  const expected = await seed(setup, config.products);
  await setup.stop();
  const [{ n } = { n: 0 }] = await queryDatabase<{ n: number }>(database, 'SELECT count(*)::int AS n FROM products');
  if (n !== config.products) throw new Error(`seeded ${n} rows, expected ${config.products}`);
  await queryDatabase(database, 'VACUUM ANALYZE products');
  log(`seeded ${n} products in ${Date.now() - seedStart} ms`);

  // 2. The same pseudo-random sequence of existing SKUs for every round of both servers.
  const paths = randomPicks([...expected.keys()], SEQUENCE_LENGTH, config.seed).map(
    (sku) => `${PRODUCTS_PATH}/${encodeURIComponent(sku)}`,
  );

  const floor: Contender = {
    label: 'floor',
    start: async (round) => {
      const s = await startServer({
        name: `floor#${round}`,
        entry: FLOOR_ENTRY,
        env: { FLOOR_DB_URL: dbUrl, FLOOR_DB_POOL_SIZE: String(config.poolSize) },
        readiness: { port: true },
      });
      cleanup.defer(`stop ${s.name}`, () => s.stop().then(() => undefined));
      return s;
    },
    check: (s) => checkServer('floor', s, expected),
    profileFile: profileFile(config, 'floor'),
  };
  const service: Contender = {
    label: 'service',
    start: (round) => startService(round),
    check: (s) => checkServer('service', s, expected),
    profileFile: profileFile(config, 'service'),
  };

  // 3. floor, service, floor, service …
  if (config.cpuProf !== 'off') await mkdir(config.profileDir, { recursive: true });
  log(
    `measuring: ${config.rounds} rounds × (floor, service), ${config.warmupS} s warm-up + ${config.durationS} s each, ${config.connections} connections, pool ${config.poolSize}${config.cpuProf !== 'off' ? `, CPU profiling: ${config.cpuProf}` : ''}`,
  );
  const results = await measureAlternating({
    contenders: [floor, service],
    rounds: config.rounds,
    warmupS: config.warmupS,
    durationS: config.durationS,
    pauseMs: config.pauseMs,
    load: { paths, connections: config.connections, method: 'GET' },
    log,
  });

  const floorSummary = summarize(results, 'floor');
  const serviceSummary = summarize(results, 'service');
  const ratio = ratios(results, 'floor', 'service');

  let profiles: ProfileSummary[] = [];
  if (config.cpuProf !== 'off') {
    const files = results.flatMap((r) => (r.profile ? [r.profile] : []));
    profiles = await Promise.all(files.map((f) => summarizeCpuProfile(f, 15)));
  }

  // 4. Report.
  const median = (label: string, m: typeof floorSummary) =>
    ['median', label, m.rps, m.p50, m.p95, m.p99, m.serverCpuUsPerReq, m.errors, m.non2xx, ''] as (string | number)[];
  const rows: (string | number)[][] = [
    ...results.map((r) => [
      String(r.round),
      r.label,
      r.rps,
      r.p50,
      r.p95,
      r.p99,
      r.serverCpuUsPerReq,
      r.errors,
      r.non2xx,
      r.loadAvg1,
    ]),
    median('floor', floorSummary),
    median('service', serviceSummary),
    [
      'ratio',
      'svc/floor',
      ...[ratio.rps, ratio.p50, ratio.p95, ratio.p99, ratio.cpuPerReq].map((v) => v.toFixed(3)),
      '',
      '',
      '',
    ],
  ];
  const met = ratio.rps >= GOAL_RPS_RATIO;
  console.log(
    `\ncatalog-get: GET ${PRODUCTS_PATH}/{skuId}, PostgreSQL, ${config.connections} connections, ${config.durationS} s per round; latency in ms, server CPU in µs per request${config.cpuProf !== 'off' ? ' — PROFILED RUN, numbers include profiler overhead' : ''}\n`,
  );
  console.log(
    formatTable(['round', 'server', 'req/s', 'p50', 'p95', 'p99', 'cpu/req', 'errors', 'non2xx', 'load1'], rows),
  );
  console.log(
    `\nthroughput ratio service/floor = ${ratio.rps.toFixed(3)} (goal ≥ ${GOAL_RPS_RATIO}: ${met ? 'MET' : 'NOT MET'}); per round ${ratio.rpsPerRound.join(', ')}`,
  );
  console.log(`p95 ratio service/floor = ${ratio.p95.toFixed(3)} (1 = same latency as the floor; higher is slower)`);
  console.log(
    `server CPU per request ratio service/floor = ${ratio.cpuPerReq.toFixed(3)} (1 = same cost; the steadiest number on a busy box)`,
  );
  console.log(
    `projected throughput ratio if each server saturated its core = ${ratio.cpuBoundRps.toFixed(3)} (floor CPU/req ÷ service CPU/req)`,
  );
  const logLines = results.reduce((sum, r) => sum + r.serverLogLines, 0);
  if (logLines > 0) {
    console.log(`WARNING: the servers wrote ${logLines} log lines while measured (expected none at warn)`);
  }
  for (const p of profiles) console.log(`\n${formatProfileSummary(p)}`);

  const report = {
    scenario: 'catalog-get',
    description: scenario.description,
    startedAt,
    finishedAt: new Date().toISOString(),
    profiled: config.cpuProf !== 'off',
    machine: ctx.machine,
    config: {
      durationS: config.durationS,
      warmupS: config.warmupS,
      rounds: config.rounds,
      connections: config.connections,
      poolSize: config.poolSize,
      products: config.products,
      pauseMs: config.pauseMs,
      seed: config.seed,
      requestSequenceLength: SEQUENCE_LENGTH,
      serviceLogLevel: serviceEnv.LOG_LEVEL,
      cpuProf: config.cpuProf,
    },
    rounds: results,
    medians: { floor: floorSummary, service: serviceSummary },
    ratios: ratio,
    goal: { rpsRatioAtLeast: GOAL_RPS_RATIO, met },
    ...(profiles.length ? { profileDir: config.profileDir, profiles } : {}),
  };
  await mkdir(ctx.resultsDir, { recursive: true });
  const file = join(ctx.resultsDir, `catalog-get-${ctx.runId}${report.profiled ? '.profiled' : ''}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${file}`);
}

export const scenario: Scenario = {
  name: 'catalog-get',
  description:
    'GET /api/catalog/products/{skuId} on PostgreSQL: catalog-service through the platform kernel vs a bare Fastify route doing the same primary-key SELECT through a pg Pool of the same size.',
  budgetMs: (c) =>
    180_000 + c.rounds * 2 * (60_000 + (c.warmupS + c.durationS) * 1000 + 2 * 30_000 + 15_000 + c.pauseMs),
  run,
};

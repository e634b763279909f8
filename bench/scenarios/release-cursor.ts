/**
 * release-cursor: 200,000 release events (SQL generate_series into inventory-service's own
 * table), then the latency of a keyset page deep in the data —
 * `GET /api/stocks/release-events/cursor?size=20&after=<cursor at row ≈100,000>` — at the
 * original's load shape (60 users × 100 ms think time; goal p95 ≤ 5 ms, the original reported
 * 20.2 ms) and serially (one user, no think time), and beside it the deep offset page
 * `?page=5000&size=20` (the same rows), serially. Service vs floor (servers/release-floor.ts: bare
 * Fastify, the same SQL through a pg Pool of the same size), alternated.
 */
import { loadavg } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { ChildServer } from '../lib/child-server.js';
import type { BenchConfig } from '../lib/config.js';
import { type PacedResult, runPaced } from '../lib/paced.js';
import { queryDatabase } from '../lib/pg-admin.js';
import { alternateReleaseServers, releaseDatabase, seedReleaseEvents } from '../lib/release-seed.js';
import { ensureProfileDir, labelMedians, writeScenarioReport } from '../lib/report.js';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { formatTable, randomPicks, round } from '../lib/stats.js';

const NAME = 'release-cursor';
const ROWS = Number(process.env.BENCH_RELEASE_EVENTS ?? 200_000);
const SIZE = 20;
/** page=5000&size=20 = rows 100,001…100,020; the cursors sit around the same depth. */
const OFFSET_PAGE = 5000;
const CURSORS = 100;
const GOAL_P95_MS = 5;
const PACED = { workers: 60, thinkMs: 100 };
const PACED_WARMUP_S = 2;
const BASE = '/api/stocks/release-events';

type Measure = PacedResult & { serverCpuUsPerReq: number; loadAvg1: number };
interface CursorRound {
  round: number;
  label: string;
  /** cursor pages, 60 users × 100 ms think time */
  cursorPaced: Measure;
  /** cursor pages, one user back to back */
  cursorSerial: Measure;
  /** page=5000, one user back to back */
  offsetSerial: Measure;
  serverLogLines: number;
  profile?: string;
}

const cursorOf = (ms: number, id: string) => Buffer.from(`${ms}:${id}`, 'utf8').toString('base64url');

async function measure(s: ChildServer, opts: Parameters<typeof runPaced>[0]): Promise<Measure> {
  const cpu = s.cpuTimeMs();
  const r = await runPaced(opts);
  const ms = s.cpuTimeMs() - cpu;
  if (r.errors + r.non2xx > 0) throw new Error(`${s.name}: ${r.errors} errors, ${r.non2xx} non-2xx`);
  return { ...r, serverCpuUsPerReq: round((ms * 1000) / r.ok, 1), loadAvg1: round(loadavg()[0] ?? 0, 2) };
}

async function explain(database: string, sql: string, params: unknown[]): Promise<string[]> {
  const rows = await queryDatabase<{ 'QUERY PLAN': string }>(database, `EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
  return rows.map((r) => r['QUERY PLAN']);
}

async function run(ctx: ScenarioContext): Promise<void> {
  const { config, cleanup, log } = ctx;
  const startedAt = new Date().toISOString();
  const db = await releaseDatabase(config, cleanup, log);
  log(`seeding ${ROWS} release events with generate_series`);
  await seedReleaseEvents(db.name, ROWS, log);

  // Cursors of pages deep in the data: the row before each page, positions ≈ 80,000…120,000.
  const depth = OFFSET_PAGE * SIZE;
  const around = await queryDatabase<{ ms: string; id: string }>(
    db.name,
    `SELECT (extract(epoch FROM created_at) * 1000)::bigint::text AS ms, id::text AS id
       FROM inventory_release_events ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT $2`,
    [Math.max(0, depth - 20_001), 40_000],
  );
  const anchor = around[20_000]!; // the 100,000th row: the page after it is page 5000's rows
  const deepCursor = cursorOf(Number(anchor.ms), anchor.id);
  const cursorPaths = randomPicks(around, CURSORS, config.seed).map(
    (r) => `${BASE}/cursor?size=${SIZE}&after=${cursorOf(Number(r.ms), r.id)}`,
  );
  const checkPath = `${BASE}/cursor?size=${SIZE}&after=${deepCursor}`;
  const offsetPath = `${BASE}?page=${OFFSET_PAGE}&size=${SIZE}`;

  const plans = {
    cursor: await explain(
      db.name,
      `SELECT id, order_id, reservation_id, reason, created_at FROM inventory_release_events
        WHERE (created_at, id) < ($1::timestamptz, $2::uuid) ORDER BY created_at DESC, id DESC LIMIT $3`,
      [new Date(Number(anchor.ms)), anchor.id, SIZE + 1],
    ),
    offsetCount: await explain(db.name, 'SELECT count(*)::bigint AS n FROM inventory_release_events', []),
    offsetPage: await explain(
      db.name,
      `SELECT id, order_id, reservation_id, reason, created_at FROM inventory_release_events
        ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`,
      [SIZE, depth],
    ),
  };

  let reference: { cursor: unknown; offset: unknown } | undefined;
  const check = async (label: string, s: ChildServer) => {
    const cursor = (await (await fetch(s.url + checkPath)).json()) as { items: unknown[]; nextCursor: string };
    const offset = (await (await fetch(s.url + offsetPath)).json()) as { items: unknown[]; totalElements: number };
    if (cursor.items?.length !== SIZE || !isDeepStrictEqual(cursor.items, offset.items))
      throw new Error(
        `${label}: the cursor page and page ${OFFSET_PAGE} differ (${JSON.stringify(cursor).slice(0, 300)})`,
      );
    if (offset.totalElements !== ROWS) throw new Error(`${label}: totalElements ${offset.totalElements}`);
    if (!reference) reference = { cursor, offset };
    else if (!isDeepStrictEqual(reference, { cursor, offset }))
      throw new Error(`${label}: answers differ from the first server's`);
  };

  const serialS = Math.max(3, Math.round(config.durationS / 2));
  await ensureProfileDir(config);
  log(
    `measuring: ${config.rounds} rounds × (floor, service); cursor pages at ${PACED.workers} users × ${PACED.thinkMs} ms (${PACED_WARMUP_S} s warm-up + ${config.durationS} s), then serially ${serialS} s, then page=${OFFSET_PAGE} serially ${serialS} s`,
  );
  const results = await alternateReleaseServers(ctx, NAME, db, async (s, { label, round: r, profile }) => {
    await check(label, s);
    const lines = s.outputLines;
    const paced = { url: s.url, paths: cursorPaths, ...PACED };
    await runPaced({ ...paced, durationS: PACED_WARMUP_S, record: false });
    if (profile) await s.startCpuProfile();
    const cursorPaced = await measure(s, { ...paced, durationS: config.durationS });
    if (profile) await s.stopCpuProfile(profile);
    const cursorSerial = await measure(s, {
      url: s.url,
      paths: cursorPaths,
      workers: 1,
      thinkMs: 0,
      durationS: serialS,
    });
    await runPaced({ url: s.url, paths: [offsetPath], workers: 1, thinkMs: 0, durationS: 1, record: false });
    const offsetSerial = await measure(s, {
      url: s.url,
      paths: [offsetPath],
      workers: 1,
      thinkMs: 0,
      durationS: serialS,
    });
    const res: CursorRound = {
      round: r,
      label,
      cursorPaced,
      cursorSerial,
      offsetSerial,
      serverLogLines: s.outputLines - lines,
      ...(profile ? { profile } : {}),
    };
    log(
      `  round ${r} ${label.padEnd(8)} cursor paced ${cursorPaced.rps.toFixed(0)} req/s p50 ${cursorPaced.p50.toFixed(2)} p95 ${cursorPaced.p95.toFixed(2)} p99 ${cursorPaced.p99.toFixed(2)} ms (${cursorPaced.serverCpuUsPerReq} µs/req) | cursor serial p50 ${cursorSerial.p50.toFixed(2)} p95 ${cursorSerial.p95.toFixed(2)} | offset serial p50 ${offsetSerial.p50.toFixed(2)} p95 ${offsetSerial.p95.toFixed(2)} ms  load ${offsetSerial.loadAvg1}`,
    );
    return res;
  });

  const summary = (label: string) =>
    labelMedians(
      results,
      label,
      {
        cursorPacedRps: (r) => r.cursorPaced.rps,
        cursorPacedP50: (r) => r.cursorPaced.p50,
        cursorPacedP95: (r) => r.cursorPaced.p95,
        cursorPacedP99: (r) => r.cursorPaced.p99,
        cursorPacedCpuUsPerReq: (r) => r.cursorPaced.serverCpuUsPerReq,
        cursorSerialP50: (r) => r.cursorSerial.p50,
        cursorSerialP95: (r) => r.cursorSerial.p95,
        offsetSerialP50: (r) => r.offsetSerial.p50,
        offsetSerialP95: (r) => r.offsetSerial.p95,
        offsetSerialCpuUsPerReq: (r) => r.offsetSerial.serverCpuUsPerReq,
      },
      3,
    );
  const f = summary('floor');
  const sv = summary('service');
  const met = sv.cursorPacedP95 <= GOAL_P95_MS;
  const rowOf = (label: string, m: ReturnType<typeof summary>, r = 'median') => [
    r,
    label,
    m.cursorPacedRps,
    m.cursorPacedP50,
    m.cursorPacedP95,
    m.cursorPacedP99,
    m.cursorPacedCpuUsPerReq,
    m.cursorSerialP50,
    m.cursorSerialP95,
    m.offsetSerialP50,
    m.offsetSerialP95,
    '',
  ];
  console.log(
    `\n${NAME}: ${ROWS} release events; cursor pages (size ${SIZE}) at depth ≈${depth} (${CURSORS} cursors), page=${OFFSET_PAGE}&size=${SIZE}; ms, server CPU µs/req\n`,
  );
  console.log(
    formatTable(
      [
        'round',
        'server',
        'paced req/s',
        'paced p50',
        'paced p95',
        'paced p99',
        'cpu/req',
        'serial p50',
        'serial p95',
        'offset p50',
        'offset p95',
        'load1',
      ],
      [
        ...results.map((r) => [
          String(r.round),
          r.label,
          r.cursorPaced.rps,
          r.cursorPaced.p50,
          r.cursorPaced.p95,
          r.cursorPaced.p99,
          r.cursorPaced.serverCpuUsPerReq,
          r.cursorSerial.p50,
          r.cursorSerial.p95,
          r.offsetSerial.p50,
          r.offsetSerial.p95,
          r.offsetSerial.loadAvg1,
        ]),
        rowOf('floor', f),
        rowOf('service', sv),
      ],
    ),
  );
  console.log(
    `\ncursor page p95 at ${PACED.workers} users × ${PACED.thinkMs} ms: service ${sv.cursorPacedP95.toFixed(2)} ms (goal ≤ ${GOAL_P95_MS} ms: ${met ? 'MET' : 'NOT MET'}; the original 20.2 ms), floor ${f.cursorPacedP95.toFixed(2)} ms, ratio ${(sv.cursorPacedP95 / f.cursorPacedP95).toFixed(3)}`,
  );
  console.log(
    `serial: cursor p95 service ${sv.cursorSerialP95.toFixed(2)} / floor ${f.cursorSerialP95.toFixed(2)} ms; offset page=${OFFSET_PAGE} p95 service ${sv.offsetSerialP95.toFixed(2)} / floor ${f.offsetSerialP95.toFixed(2)} ms (offset ÷ cursor, service: ${(sv.offsetSerialP95 / sv.cursorSerialP95).toFixed(1)}×)`,
  );
  const planLine = (lines: string[]) => lines.filter((l) => /Scan|Limit|Execution Time|Buffers/.test(l)).slice(0, 4);
  console.log(
    `\nplans (EXPLAIN ANALYZE, BUFFERS):\n  cursor: ${planLine(plans.cursor)
      .map((l) => l.trim())
      .join(' | ')}`,
  );
  console.log(
    `  count:  ${planLine(plans.offsetCount)
      .map((l) => l.trim())
      .join(' | ')}`,
  );
  console.log(
    `  offset: ${planLine(plans.offsetPage)
      .map((l) => l.trim())
      .join(' | ')}`,
  );
  await writeScenarioReport(
    ctx,
    scenario,
    { startedAt, results },
    {
      config: {
        rows: ROWS,
        size: SIZE,
        offsetPage: OFFSET_PAGE,
        cursors: CURSORS,
        paced: { ...PACED, warmupS: PACED_WARMUP_S, durationS: config.durationS },
        serialS,
        rounds: config.rounds,
        poolSize: config.poolSize,
      },
      rounds: results,
      medians: { floor: f, service: sv },
      ratios: {
        cursorPacedP95: round(sv.cursorPacedP95 / f.cursorPacedP95, 3),
        cursorSerialP95: round(sv.cursorSerialP95 / f.cursorSerialP95, 3),
        offsetSerialP95: round(sv.offsetSerialP95 / f.offsetSerialP95, 3),
      },
      plans,
      goal: { cursorPacedP95AtMostMs: GOAL_P95_MS, met },
    },
  );
}

export const scenario: Scenario = {
  name: NAME,
  description:
    'Release audit on 200,000 rows: p95 of a deep keyset page (cursor) at 60 users × 100 ms think time, and of the deep offset page page=5000, service vs a bare Fastify route with the same SQL.',
  budgetMs: (c: BenchConfig) => 240_000 + c.rounds * 2 * (60_000 + (PACED_WARMUP_S + 2 * c.durationS + 10) * 1000),
  run,
};

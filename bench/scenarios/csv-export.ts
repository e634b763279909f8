/**
 * csv-export: `GET /api/stocks/release-events/export?limit=10000` (Accept: text/csv) from
 * inventory-service vs the floor (servers/release-floor.ts: bare Fastify, the same keyset pages
 * of 500 rows through a pg Pool of the same size, the same CSV bytes, streamed): time to last
 * byte, and the server's peak resident memory during the exports (VmHWM after resetting it
 * through /proc/<pid>/clear_refs right before, plus a 5 ms VmRSS sampler as a cross-check).
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { loadavg } from 'node:os';
import type { BenchConfig } from '../lib/config.js';
import { procMemory, resetPeakRss, sampleRss } from '../lib/memory.js';
import { alternateReleaseServers, releaseDatabase, seedReleaseEvents } from '../lib/release-seed.js';
import { ensureProfileDir, labelMedians, writeScenarioReport } from '../lib/report.js';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { formatTable, percentile, round } from '../lib/stats.js';

const NAME = 'csv-export';
const ROWS = 20_000;
const LIMIT = 10_000;
const EXPORTS_PER_ROUND = 10;
const WARMUP_EXPORTS = 2;
const PATH = `/api/stocks/release-events/export?limit=${LIMIT}`;

interface ExportRound {
  round: number;
  label: string;
  /** Time to first byte / last byte of each export, ms. */
  ttfbMs: number[];
  ttlbMs: number[];
  ttlbP50: number;
  ttlbMax: number;
  bytes: number;
  /** Body chunks the client received per export (median): a proxy for the server's socket writes. */
  chunksP50: number;
  /** RSS right before the measured exports (after warm-up), MiB. */
  rssBeforeMiB: number;
  /** VmHWM after the exports, the peak having been reset right before them (NaN if the reset failed). */
  peakMiB: number;
  /** The largest VmRSS the 5 ms sampler saw. */
  sampledPeakMiB: number;
  /** VmHWM since the process started (includes boot). */
  lifetimePeakMiB: number;
  serverCpuMsPerExport: number;
  loadAvg1: number;
  /** The `.cpuprofile` of the measured exports, when profiled (RSS then includes the profiler). */
  profile?: string;
}

/** One export: status, bytes, sha256, time to first byte and to last byte (hrtime). */
function exportOnce(
  base: string,
): Promise<{ status: number; bytes: number; chunks: number; sha: string; ttfb: number; ttlb: number }> {
  const url = new URL(PATH, base);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(url, { headers: { accept: 'text/csv' }, timeout: 60_000 }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      let chunks = 0;
      let ttfb = Number.NaN;
      res.on('data', (chunk: Buffer) => {
        if (Number.isNaN(ttfb)) ttfb = Number(process.hrtime.bigint() - t0) / 1e6;
        bytes += chunk.length;
        chunks++;
        hash.update(chunk);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          chunks,
          sha: hash.digest('hex'),
          ttfb,
          ttlb: Number(process.hrtime.bigint() - t0) / 1e6,
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('export timed out')));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function run(ctx: ScenarioContext): Promise<void> {
  const { config, cleanup, log } = ctx;
  const startedAt = new Date().toISOString();
  const db = await releaseDatabase(config, cleanup, log);
  log(`seeding ${ROWS} release events with generate_series`);
  await seedReleaseEvents(db.name, ROWS, log);

  await ensureProfileDir(config);
  let referenceSha: string | undefined;
  log(
    `measuring: ${config.rounds} rounds × (floor, service): ${WARMUP_EXPORTS} warm-up exports, then ${EXPORTS_PER_ROUND} exports of ${LIMIT} rows one after another`,
  );
  const results = await alternateReleaseServers(ctx, NAME, db, async (s, { label, round: r, profile }) => {
    for (let i = 0; i < WARMUP_EXPORTS; i++) {
      const w = await exportOnce(s.url);
      if (w.status !== 200) throw new Error(`${s.name}: export answered ${w.status}`);
      referenceSha ??= w.sha;
      if (w.sha !== referenceSha) throw new Error(`${s.name}: the CSV differs from the first server's (sha256)`);
    }
    await sleep(200);
    const rssBefore = procMemory(s.pid).rssMiB;
    const reset = resetPeakRss(s.pid);
    if (profile) await s.startCpuProfile();
    const sampler = sampleRss(s.pid, 5);
    const cpu = s.cpuTimeMs();
    const ttfb: number[] = [];
    const ttlb: number[] = [];
    let bytes = 0;
    const chunks: number[] = [];
    for (let i = 0; i < EXPORTS_PER_ROUND; i++) {
      const e = await exportOnce(s.url);
      if (e.status !== 200 || e.sha !== referenceSha) throw new Error(`${s.name}: export ${i} ${e.status} / sha`);
      ttfb.push(e.ttfb);
      ttlb.push(e.ttlb);
      bytes = e.bytes;
      chunks.push(e.chunks);
    }
    const cpuMs = s.cpuTimeMs() - cpu;
    const sampled = sampler.stop();
    if (profile) await s.stopCpuProfile(profile);
    const mem = procMemory(s.pid);
    const sorted = [...ttlb].sort((a, b) => a - b);
    const res: ExportRound = {
      round: r,
      label,
      ttfbMs: ttfb.map((v) => round(v, 2)),
      ttlbMs: ttlb.map((v) => round(v, 2)),
      ttlbP50: round(percentile(sorted, 50), 2),
      ttlbMax: round(sorted[sorted.length - 1]!, 2),
      bytes,
      chunksP50: percentile(
        [...chunks].sort((a, b) => a - b),
        50,
      ),
      rssBeforeMiB: round(rssBefore, 1),
      peakMiB: reset ? round(mem.hwmMiB, 1) : Number.NaN,
      sampledPeakMiB: round(sampled.maxMiB, 1),
      lifetimePeakMiB: Number.NaN,
      serverCpuMsPerExport: round(cpuMs / EXPORTS_PER_ROUND, 1),
      loadAvg1: round(loadavg()[0] ?? 0, 2),
      ...(profile ? { profile } : {}),
    };
    if (!reset) res.lifetimePeakMiB = round(mem.hwmMiB, 1);
    log(
      `  round ${r} ${label.padEnd(8)} time to last byte p50 ${res.ttlbP50} ms, max ${res.ttlbMax} ms (${bytes} bytes in ${res.chunksP50} chunks) | RSS before ${res.rssBeforeMiB} MiB, peak ${res.peakMiB} MiB (sampled ${res.sampledPeakMiB}) | CPU ${res.serverCpuMsPerExport} ms/export  load ${res.loadAvg1}`,
    );
    return res;
  });

  const summary = (label: string) =>
    labelMedians(
      results,
      label,
      {
        ttlbP50: (r) => r.ttlbP50,
        ttlbMax: (r) => r.ttlbMax,
        ttfbP50: (r) =>
          percentile(
            [...r.ttfbMs].sort((a, b) => a - b),
            50,
          ),
        rssBeforeMiB: (r) => r.rssBeforeMiB,
        peakMiB: (r) => r.peakMiB,
        peakOverBaseMiB: (r) => r.peakMiB - r.rssBeforeMiB,
        sampledPeakMiB: (r) => r.sampledPeakMiB,
        cpuMsPerExport: (r) => r.serverCpuMsPerExport,
        chunksP50: (r) => r.chunksP50,
      },
      2,
    );
  const f = summary('floor');
  const sv = summary('service');
  console.log(
    `\n${NAME}: ${LIMIT} rows as CSV (${results[0]?.bytes} bytes), ${EXPORTS_PER_ROUND} exports per round one after another; ms, MiB\n`,
  );
  const row = (r: string, label: string, m: ReturnType<typeof summary>, load: number | string) => [
    r,
    label,
    m.ttfbP50,
    m.ttlbP50,
    m.ttlbMax,
    m.cpuMsPerExport,
    m.rssBeforeMiB,
    m.peakMiB,
    m.peakOverBaseMiB,
    m.sampledPeakMiB,
    load,
  ];
  console.log(
    formatTable(
      [
        'round',
        'server',
        'TTFB p50',
        'TTLB p50',
        'TTLB max',
        'cpu ms',
        'RSS before',
        'peak RSS',
        'peak − before',
        'sampled peak',
        'load1',
      ],
      [
        ...results.map((r) =>
          row(
            String(r.round),
            r.label,
            {
              ttfbP50: percentile(
                [...r.ttfbMs].sort((a, b) => a - b),
                50,
              ),
              ttlbP50: r.ttlbP50,
              ttlbMax: r.ttlbMax,
              rssBeforeMiB: r.rssBeforeMiB,
              peakMiB: r.peakMiB,
              peakOverBaseMiB: round(r.peakMiB - r.rssBeforeMiB, 1),
              sampledPeakMiB: r.sampledPeakMiB,
              cpuMsPerExport: r.serverCpuMsPerExport,
              chunksP50: r.chunksP50,
            },
            r.loadAvg1,
          ),
        ),
        row('median', 'floor', f, ''),
        row('median', 'service', sv, ''),
      ],
    ),
  );
  console.log(
    `\ntime to last byte p50: service ${sv.ttlbP50} ms, floor ${f.ttlbP50} ms, ratio ${(sv.ttlbP50 / f.ttlbP50).toFixed(3)}; peak RSS service ${sv.peakMiB} MiB (+${sv.peakOverBaseMiB} over its idle RSS), floor ${f.peakMiB} MiB (+${f.peakOverBaseMiB}); body chunks received per export: service ${sv.chunksP50}, floor ${f.chunksP50}`,
  );

  await writeScenarioReport(
    ctx,
    scenario,
    { startedAt, results },
    {
      config: {
        rows: ROWS,
        limit: LIMIT,
        exportsPerRound: EXPORTS_PER_ROUND,
        warmupExports: WARMUP_EXPORTS,
        pageSize: db.serviceEnv.INVENTORY_EXPORT_PAGE_SIZE,
        rounds: config.rounds,
        poolSize: config.poolSize,
      },
      csvSha256: referenceSha,
      rounds: results,
      medians: { floor: f, service: sv },
      ratios: {
        ttlbP50: round(sv.ttlbP50 / f.ttlbP50, 3),
        peakOverBase: round(sv.peakOverBaseMiB / f.peakOverBaseMiB, 3),
      },
    },
  );
}

export const scenario: Scenario = {
  name: NAME,
  description:
    'CSV export of 10,000 release events: time to last byte and peak server RSS, inventory-service vs a bare Fastify route streaming the same keyset pages.',
  budgetMs: (c: BenchConfig) => 180_000 + c.rounds * 2 * 90_000,
  run,
};

/**
 * publish-to-handled-latency: the end-to-end latency of an event through the kernel — a writer
 * commits an outbox row (createOutbox().add) at a fixed, open-loop rate; one relay (its own
 * process) publishes it; the consumer pipeline (another process) handles it — at half the
 * pipeline's maximum drain rate. See bench/README.md.
 */
import { loadavg } from 'node:os';
import { createOutbox, openPostgres, parseDatabaseUrl } from '@ecom/platform';
import { type ChildServer, startServer } from '../lib/child-server.js';
import type { BenchConfig } from '../lib/config.js';
import type { DrainRun } from '../lib/drain.js';
import {
  BENCH_AMQP_URL,
  type BenchBroker,
  type BenchDatabase,
  epochMs,
  orderCreated,
  setUpBroker,
  setUpDatabase,
} from '../lib/messaging.js';
import { afterCommitOutbox } from '../lib/outbox-sketch.js';
import { cpuDelta, cpuSnapshot } from '../lib/proc.js';
import { writeReport } from '../lib/report.js';
import type { Scenario, ScenarioContext } from '../lib/scenario.js';
import { formatTable, median, percentile, round } from '../lib/stats.js';
import { measuredPipelineRate, pipelineEnv, preloadQueue, startPipeline } from './consumer-pipeline.js';

const NAME = 'publish-to-handled-latency';
const RELAY_ENTRY = new URL('../servers/outbox-relay.ts', import.meta.url).pathname;
const CALIBRATION_MESSAGES = 5000;
/**
 * A safety net only: a writer that falls behind is what the scenario reports (its queue shows in
 * the latency), but past this many waiting transactions the round is abandoned.
 */
const MAX_WRITES_IN_FLIGHT = 50_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function percentiles(values: number[]): Percentiles {
  values.sort((a, b) => a - b);
  return {
    p50: round(percentile(values, 50), 2),
    p95: round(percentile(values, 95), 2),
    p99: round(percentile(values, 99), 2),
    max: round(values.length ? values[values.length - 1]! : Number.NaN, 2),
  };
}

interface WriterResult {
  written: number;
  failed: number;
  /** Epoch ms at which event i's transaction had committed (NaN: failed). */
  committedAt: Float64Array;
  /** The most the pacing timer lagged behind an event's scheduled time, ms. */
  maxScheduleLagMs: number;
  maxInFlight: number;
}

/**
 * Open loop: event i is due at t0 + i / rate, whatever happened to the earlier ones; a 1 ms timer
 * starts every due transaction (one event per transaction, like a request handler writing its
 * state change and its event). The event carries its scheduled time, so a writer that falls
 * behind shows up in the latency instead of hiding it (no coordinated omission).
 */
function openLoopWriter(
  write: (index: number, stamp: number) => Promise<void>,
  rate: number,
  t0: number,
  total: number,
  /** The timer keeps ticking (for onTick) until this epoch ms even when every event is out. */
  tickUntil: number,
  onTick?: (now: number) => void,
): Promise<WriterResult> {
  const period = 1000 / rate;
  const committedAt = new Float64Array(total).fill(Number.NaN);
  let written = 0;
  let i = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let failed = 0;
  let maxLag = 0;
  return new Promise((resolve, reject) => {
    let ticking = true;
    const finish = () => {
      if (i >= total && inFlight === 0 && !ticking)
        resolve({ written, failed, committedAt, maxScheduleLagMs: maxLag, maxInFlight });
    };
    const timer = setInterval(() => {
      const now = epochMs();
      onTick?.(now);
      while (i < total && t0 + i * period <= now) {
        const stamp = t0 + i * period;
        const index = i++;
        maxLag = Math.max(maxLag, now - stamp);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (inFlight > MAX_WRITES_IN_FLIGHT) {
          clearInterval(timer);
          reject(new Error(`writer: ${inFlight} transactions in flight at ${rate}/s — the box cannot keep up`));
          return;
        }
        write(index, stamp)
          .then(
            () => {
              committedAt[index] = epochMs();
              written++;
            },
            () => failed++,
          )
          .finally(() => {
            inFlight--;
            finish();
          });
      }
      if (i >= total && now >= tickUntil) {
        clearInterval(timer);
        ticking = false;
        finish();
      }
    }, 1);
  });
}

/** A short pipeline drain to learn the maximum rate when consumer-pipeline did not run before. */
async function calibrate(ctx: ScenarioContext, database: BenchDatabase, broker: BenchBroker): Promise<number> {
  const n = Math.min(CALIBRATION_MESSAGES, ctx.config.messages);
  const events = Array.from({ length: n }, (_, i) => orderCreated(i));
  await preloadQueue(database, broker, events);
  const child = await startPipeline(
    ctx.cleanup,
    'consumer-pipeline#calibration',
    pipelineEnv(ctx.config, database, broker, 'noop'),
  );
  try {
    const r = await child.call<DrainRun>({ op: 'drain', expected: n, timeoutMs: 120_000 }, 130_000);
    return (r.items * 1000) / r.elapsedMs;
  } finally {
    await child.stop();
  }
}

interface RoundResult {
  round: number;
  offeredRate: number;
  /** Writer commits inside the measured window, per second. */
  writtenRate: number;
  /** Events whose consumer transaction committed inside the measured window, per second. */
  handledRate: number;
  measuredEvents: number;
  lost: number;
  writeFailures: number;
  /** Scheduled time → the writer's COMMIT returned. */
  write: Percentiles;
  /** Scheduled time → the consumer's handler ran (after its dedupe INSERT). */
  handler: Percentiles;
  /** Scheduled time → the consumer's transaction committed (after-commit hook, right before the ack). */
  committed: Percentiles;
  /** The writer's COMMIT → the consumer's COMMIT: relay + broker + pipeline, without the writer's own queueing. */
  fromCommit: Percentiles;
  /** The writer's COMMIT → the relay's claim transaction began (wake-up, waiting for the running cycle). */
  toClaim: Percentiles;
  /** The relay's claim → the consumer's COMMIT (publish, confirm, routing, delivery, pipeline). */
  claimToHandled: Percentiles;
  relayCyclesPerS: number;
  rowsPerRelayCycle: number;
  /** Ready messages in the consumed queue, sampled every 250 ms over the measured window. */
  queueDepth: { median: number; max: number };
  maxScheduleLagMs: number;
  maxWritesInFlight: number;
  cpuPctOfOneCore: { writer: number; relay: number; consumer: number; postgres: number; rabbitmq: number };
  machineBusyPct: number;
  loadAvg1: number;
}

async function run(ctx: ScenarioContext): Promise<void> {
  const { config, cleanup, log } = ctx;
  const startedAt = new Date().toISOString();
  const broker = await setUpBroker(cleanup, log);
  const database = await setUpDatabase(cleanup, log, 2);
  log(`database ${database.name}, namespace ${broker.namespace}`);

  let maxRate = measuredPipelineRate();
  let rateSource = 'consumer-pipeline median in this run';
  if (config.latencyRate === undefined && maxRate === undefined) {
    log(`calibrating: draining ${Math.min(CALIBRATION_MESSAGES, config.messages)} messages through the pipeline`);
    maxRate = await calibrate(ctx, database, broker);
    rateSource = `calibration drain of ${Math.min(CALIBRATION_MESSAGES, config.messages)} messages`;
  }
  const rate = config.latencyRate ?? Math.max(1, Math.round(maxRate! / 2));
  if (config.latencyRate !== undefined) rateSource = 'BENCH_LATENCY_RATE';
  log(
    `rate ${rate} events/s (${config.latencyRate !== undefined ? 'BENCH_LATENCY_RATE' : `half of ${Math.round(maxRate!)}/s, ${rateSource}`})`,
  );

  // The writer is the load generator: this process, its own kernel pool on the same database.
  const writerDb = await openPostgres({
    target: parseDatabaseUrl(database.url),
    maxConnections: config.poolSize,
    applicationName: 'bench-writer',
  });
  cleanup.defer('close the writer pool', () => writerDb.close());
  await Promise.all(Array.from({ length: config.poolSize }, () => writerDb.query('SELECT 1')));
  const outbox = createOutbox(writerDb);
  const sketch = afterCommitOutbox(writerDb);
  const write =
    config.latencyWriter === 'kernel'
      ? (index: number, stamp: number) => writerDb.transaction((tx) => outbox.add(tx, orderCreated(index, stamp)))
      : (index: number, stamp: number) => sketch.write(orderCreated(index, stamp));

  const results: RoundResult[] = [];
  for (let r = 1; r <= config.rounds; r++) {
    if (r > 1 && config.pauseMs > 0) await sleep(config.pauseMs);
    await database.db.exec('TRUNCATE outbox_events, consumed_messages');
    await broker.admin.purge(broker.queue);
    await database.db.exec('CHECKPOINT');

    const children: ChildServer[] = [];
    try {
      const relay = await startServer({
        name: `outbox-relay#${r}`,
        entry: RELAY_ENTRY,
        // Production defaults: batch 50, poll 2000 ms (LISTEN/NOTIFY wakes it).
        env: {
          BENCH_DB_URL: database.url,
          BENCH_DB_POOL_SIZE: String(config.poolSize),
          RABBITMQ_URL: BENCH_AMQP_URL,
          MESSAGING_NAMESPACE: broker.namespace,
          LOG_LEVEL: 'warn',
        },
        readiness: { ipc: true },
      });
      cleanup.defer(`stop ${relay.name}`, () => relay.stop().then(() => undefined));
      children.push(relay);
      const consumer = await startPipeline(
        cleanup,
        `consumer-latency#${r}`,
        pipelineEnv(config, database, broker, 'latency'),
      );
      children.push(consumer);
      await consumer.call({ op: 'start' });
      await relay.call({ op: 'start' });

      const total = Math.round(rate * (config.warmupS + config.durationS));
      const t0 = epochMs() + 50;
      const m0 = t0 + config.warmupS * 1000;
      const m1 = m0 + config.durationS * 1000;
      // CPU of everything over the measured window, sampled from the writer's own timer.
      let snapshot:
        | {
            at: 'start' | 'end';
            procs: ReturnType<typeof cpuSnapshot>;
            relay: number;
            consumer: number;
            self: NodeJS.CpuUsage;
          }
        | undefined;
      let window:
        | { seconds: number; writer: number; relay: number; consumer: number; d: ReturnType<typeof cpuDelta> }
        | undefined;
      const take = () => ({
        procs: cpuSnapshot(['postgres', 'beam.smp']),
        relay: relay.cpuTimeMs(),
        consumer: consumer.cpuTimeMs(),
        self: process.cpuUsage(),
      });
      let startedAtMs = 0;
      const onTick = (now: number) => {
        if (!snapshot && now >= m0) {
          snapshot = { at: 'start', ...take() };
          startedAtMs = now;
        } else if (snapshot?.at === 'start' && now >= m1) {
          const end = take();
          const self = process.cpuUsage(snapshot.self);
          window = {
            seconds: (now - startedAtMs) / 1000,
            writer: (self.user + self.system) / 1000,
            relay: end.relay - snapshot.relay,
            consumer: end.consumer - snapshot.consumer,
            d: cpuDelta(snapshot.procs, end.procs),
          };
          snapshot = { ...snapshot, at: 'end' };
        }
      };
      log(
        `  round ${r}: writing ${total} events at ${rate}/s (${config.warmupS} s warm-up + ${config.durationS} s measured)`,
      );
      // RabbitMQ's ready depth of the consumed queue over the measured window: a backlog there
      // means the consumer is behind; none means the time is spent before the broker.
      const depths: number[] = [];
      const sampler = setInterval(() => {
        const now = epochMs();
        if (now < m0 || now >= m1) return;
        broker.admin.depth(broker.queue).then(
          (d) => depths.push(d),
          () => undefined,
        );
      }, 250);
      const writer = await openLoopWriter(write, rate, t0, total, m1 + 5, onTick).finally(() => clearInterval(sampler));

      // Drain: every committed event must come out the other end.
      const deadline = Date.now() + 60_000;
      let consumed: Record<string, number> = {};
      for (;;) {
        consumed = await consumer.call<Record<string, number>>({ op: 'consumed' });
        const settled = Object.values(consumed).reduce((s, v) => s + v, 0);
        if (settled >= writer.written || Date.now() > deadline) break;
        await sleep(100);
      }
      const records = await consumer.call<number[]>({ op: 'records' }, 60_000);
      // When the relay claimed each row: sent_at is now() of the relay's transaction, i.e. when its
      // claim transaction began (same clock: one machine). One distinct value per relay cycle.
      const claims = await database.db.query<{ i: number; claimed: number }>(
        `SELECT split_part(split_part(payload::json->'data'->>'user_id', ':', 2), '@', 1)::int AS i,
                (extract(epoch FROM sent_at) * 1000)::float8 AS claimed
           FROM outbox_events WHERE sent_at IS NOT NULL`,
      );
      const claimedAt = new Float64Array(total).fill(Number.NaN);
      for (const c of claims) if (c.i >= 0 && c.i < total) claimedAt[c.i] = c.claimed;
      const cyclesInWindow = new Set(claims.filter((c) => c.claimed >= m0 && c.claimed < m1).map((c) => c.claimed));

      // records: [index, handledAt, committedAt] per handled event; the writer knows each index's
      // scheduled time (t0 + i / rate) and when its transaction committed.
      const period = 1000 / rate;
      const handler: number[] = [];
      const committed: number[] = [];
      const fromCommit: number[] = [];
      const toClaim: number[] = [];
      const claimToHandled: number[] = [];
      const claimedInWindow = claims.filter((c) => c.claimed >= m0 && c.claimed < m1).length;
      const writes: number[] = [];
      let handledInWindow = 0;
      let writtenInWindow = 0;
      let unknown = 0;
      for (let k = 0; k < records.length; k += 3) {
        const index = records[k]!;
        const committedAt = records[k + 2]!;
        if (committedAt >= m0 && committedAt < m1) handledInWindow++;
        const written = writer.committedAt[index];
        if (written === undefined || Number.isNaN(written)) {
          unknown++;
          continue;
        }
        const stamp = t0 + index * period;
        if (stamp < m0 || stamp >= m1) continue;
        handler.push(records[k + 1]! - stamp);
        committed.push(committedAt - stamp);
        fromCommit.push(committedAt - written);
        const claimed = claimedAt[index]!;
        if (!Number.isNaN(claimed)) {
          toClaim.push(claimed - written);
          claimToHandled.push(committedAt - claimed);
        }
      }
      for (let index = 0; index < writer.committedAt.length; index++) {
        const at = writer.committedAt[index]!;
        if (at >= m0 && at < m1) writtenInWindow++;
        const stamp = t0 + index * period;
        if (stamp >= m0 && stamp < m1 && !Number.isNaN(at)) writes.push(at - stamp);
      }
      if (unknown > 0) throw new Error(`round ${r}: ${unknown} handled events the writer did not commit`);
      const oneCore = (ms: number) => (window ? round((ms / (window.seconds * 1000)) * 100, 1) : Number.NaN);
      const result: RoundResult = {
        round: r,
        offeredRate: rate,
        writtenRate: round(writtenInWindow / config.durationS, 1),
        handledRate: round(handledInWindow / config.durationS, 1),
        measuredEvents: committed.length,
        lost: writer.written - records.length / 3,
        writeFailures: writer.failed,
        write: percentiles(writes),
        handler: percentiles(handler),
        committed: percentiles(committed),
        fromCommit: percentiles(fromCommit),
        toClaim: percentiles(toClaim),
        claimToHandled: percentiles(claimToHandled),
        queueDepth: {
          median: median(depths),
          max: depths.length ? Math.max(...depths) : Number.NaN,
        },
        relayCyclesPerS: round(cyclesInWindow.size / config.durationS, 1),
        rowsPerRelayCycle: round(claimedInWindow / Math.max(1, cyclesInWindow.size), 1),
        maxScheduleLagMs: round(writer.maxScheduleLagMs, 2),
        maxWritesInFlight: writer.maxInFlight,
        cpuPctOfOneCore: {
          writer: oneCore(window?.writer ?? Number.NaN),
          relay: oneCore(window?.relay ?? Number.NaN),
          consumer: oneCore(window?.consumer ?? Number.NaN),
          postgres: oneCore(window?.d.byCommand.postgres ?? Number.NaN),
          rabbitmq: oneCore(window?.d.byCommand['beam.smp'] ?? Number.NaN),
        },
        machineBusyPct: window?.d.machineBusyPct ?? Number.NaN,
        loadAvg1: round(loadavg()[0] ?? 0, 2),
      };
      if (result.lost !== 0 || consumed.handled !== writer.written)
        throw new Error(
          `round ${r}: ${writer.written} events written, consumer outcomes ${JSON.stringify(consumed)}, ${records.length / 3} recorded`,
        );
      results.push(result);
      log(
        `  round ${r}: written ${result.writtenRate}/s, handled ${result.handledRate}/s of ${rate}/s offered; scheduled→handled p50 ${result.committed.p50} p99 ${result.committed.p99} ms; write commit→handled p50 ${result.fromCommit.p50} p99 ${result.fromCommit.p99} ms (→ relay claim p50 ${result.toClaim.p50}, claim → handled p50 ${result.claimToHandled.p50}; ${result.relayCyclesPerS} relay cycles/s, ${result.rowsPerRelayCycle} rows each); scheduled→write commit p50 ${result.write.p50} ms; CPU % of a core ${JSON.stringify(result.cpuPctOfOneCore)}; machine ${result.machineBusyPct}% busy; load ${result.loadAvg1}`,
      );
    } finally {
      for (const c of children.reverse()) await c.stop();
    }
  }

  const med = (f: (r: RoundResult) => number) => round(median(results.map(f)), 2);
  const p3 = (f: (r: RoundResult) => Percentiles) => ({
    p50: med((r) => f(r).p50),
    p95: med((r) => f(r).p95),
    p99: med((r) => f(r).p99),
  });
  const summary = {
    offeredRate: rate,
    writtenRate: med((r) => r.writtenRate),
    handledRate: med((r) => r.handledRate),
    write: p3((r) => r.write),
    handler: p3((r) => r.handler),
    committed: p3((r) => r.committed),
    fromCommit: p3((r) => r.fromCommit),
    toClaim: p3((r) => r.toClaim),
    claimToHandled: p3((r) => r.claimToHandled),
    relayCyclesPerS: med((r) => r.relayCyclesPerS),
    rowsPerRelayCycle: med((r) => r.rowsPerRelayCycle),
    queueDepth: { median: med((r) => r.queueDepth.median), max: med((r) => r.queueDepth.max) },
  };
  const fellBehind = summary.write.p50 > 100;

  console.log(
    `\n${NAME}: outbox row written (${config.latencyWriter === 'kernel' ? 'createOutbox().add' : 'AFTER-COMMIT SKETCH, not the kernel'}) at a fixed open-loop rate → relay (batch 50, LISTEN/NOTIFY) → RabbitMQ → consumer pipeline (no-op handler, prefetch ${config.prefetch}); ${rate} events/s offered (${config.latencyRate !== undefined ? 'BENCH_LATENCY_RATE' : `half of ${Math.round(maxRate!)}/s, ${rateSource}`}), ${config.durationS} s measured after ${config.warmupS} s; ms\n`,
  );
  const row = (label: string, r: Omit<RoundResult, 'round'> | typeof summary, extra: (string | number)[]) => [
    label,
    r.writtenRate,
    r.handledRate,
    r.write.p50,
    r.write.p99,
    r.fromCommit.p50,
    r.fromCommit.p95,
    r.fromCommit.p99,
    r.committed.p50,
    r.committed.p95,
    r.committed.p99,
    ...extra,
  ];
  console.log(
    formatTable(
      [
        'round',
        'written/s',
        'handled/s',
        'write p50',
        'write p99',
        'commit→handled p50',
        'p95',
        'p99',
        'sched→handled p50',
        'p95',
        'p99',
        'busy %',
        'load1',
      ],
      [
        ...results.map((r) => row(String(r.round), r, [r.machineBusyPct, r.loadAvg1])),
        row('median', summary, ['', '']),
      ],
    ),
  );
  console.log(
    `\nwhere commit→handled goes (ms): writer COMMIT → relay claim transaction began; relay claim → consumer COMMIT; RabbitMQ queue depth (ready) sampled every 250 ms\n`,
  );
  const split = (label: string, r: Omit<RoundResult, 'round'> | typeof summary) => [
    label,
    r.toClaim.p50,
    r.toClaim.p95,
    r.toClaim.p99,
    r.claimToHandled.p50,
    r.claimToHandled.p95,
    r.claimToHandled.p99,
    r.relayCyclesPerS,
    r.rowsPerRelayCycle,
    r.queueDepth.median,
    r.queueDepth.max,
  ];
  console.log(
    formatTable(
      [
        'round',
        '→claim p50',
        'p95',
        'p99',
        'claim→handled p50',
        'p95',
        'p99',
        'relay cycles/s',
        'rows/cycle',
        'queue median',
        'max',
      ],
      [...results.map((r) => split(String(r.round), r)), split('median', summary)],
    ),
  );
  console.log(
    [
      '',
      `write = the event's scheduled time → its writer transaction (${config.latencyWriter === 'kernel' ? 'INSERT + pg_notify' : 'INSERT; NOTIFY after the commit'}) committed;`,
      "commit→handled = the writer's COMMIT → the consumer's COMMIT (relay wake-up, claim, publish, confirm, delivery, pipeline);",
      "sched→handled = scheduled time → the consumer's COMMIT (open loop: includes any queueing at the writer).",
      '',
      `publish→handled at ${summary.handledRate}/s achieved of ${rate}/s offered: p50 ${summary.fromCommit.p50} ms, p95 ${summary.fromCommit.p95} ms, p99 ${summary.fromCommit.p99} ms from the writer's commit; p50 ${summary.committed.p50} ms, p99 ${summary.committed.p99} ms from the scheduled time`,
      ...(fellBehind
        ? [
            `WARNING: the writer fell behind (write p50 ${summary.write.p50} ms): ${rate}/s is more than this box commits through ${config.latencyWriter === 'kernel' ? 'createOutbox().add' : 'the after-commit sketch'} while the relay and the consumer run — see outbox-write.`,
          ]
        : []),
    ].join('\n'),
  );

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
        rate,
        rateSource,
        pipelineMaxRate: maxRate,
        warmupS: config.warmupS,
        durationS: config.durationS,
        rounds: config.rounds,
        prefetch: config.prefetch,
        poolSize: config.poolSize,
        relayBatch: 50,
        writer: config.latencyWriter,
      },
      rounds: results,
      medians: summary,
      writerFellBehind: fellBehind,
    },
    false,
  );
}

export const scenario: Scenario = {
  name: NAME,
  description:
    'End-to-end latency writer → outbox → relay → RabbitMQ → consumer pipeline at a fixed open-loop rate (half the pipeline maximum): p50/p95/p99 and the achieved rate.',
  budgetMs: (c: BenchConfig) => 300_000 + c.rounds * (150_000 + (c.warmupS + c.durationS) * 1000),
  run,
};

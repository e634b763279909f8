/**
 * The tracing bootstrap as a service runs it: a child process started with
 * `--import packages/platform/telemetry/register.mjs` (the flag every entry point uses), pointed
 * at an in-process OTLP receiver — or at nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type OtlpReceiver, SPAN_KIND, startOtlpReceiver, waitFor } from '../testing/index.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const REGISTER = 'packages/platform/telemetry/register.mjs';
const CHILD = 'packages/platform/src/fixtures/telemetry-child.ts';
const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface ChildRun {
  code: number | null;
  output: string;
  logs: Record<string, unknown>[];
  result: { results: { status: number; traceId: string | null; ms: number }[]; flushMs: number };
}

/** Runs the fixture service under the bootstrap with `env` (tracing settings of the test only). */
async function runChild(env: Record<string, string>): Promise<ChildRun> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('OTEL_') && k !== 'MANAGEMENT_TRACING_SAMPLING_PROBABILITY',
    ),
  );
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--import', `./${REGISTER}`, CHILD],
    {
      cwd: ROOT,
      env: { ...clean, LOG_LEVEL: 'info', SHUTDOWN_DRAIN_DELAY_MS: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = output.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `the child finished its run (exit ${code})\n${output}`);
  const logs = output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, output, logs, result: JSON.parse(line.slice('RESULT '.length)) };
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const hex = (uuid: string) => uuid.replaceAll('-', '');

describe('tracing bootstrap (--import register.mjs)', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(() => receiver.close());

  test('no collector listening: the service starts and serves normally, ONE warning, and stops promptly', async () => {
    const run = await runChild({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
      OTEL_BSP_SCHEDULE_DELAY: '20',
      REQUESTS: '40',
      REQUEST_GAP_MS: '10',
    });
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(new Set(run.result.results.map((r) => r.status)), new Set([200]));
    const warnings = run.output.split('\n').filter((l) => l.includes('trace export'));
    assert.equal(warnings.length, 1, `exactly one (rate-limited) warning for many failed batches:\n${run.output}`);
    assert.match(warnings[0]!, /"level":"warn".*failed/);
    // Bounded by shutdownTelemetry's timeout (3 s in the child), not by retries against nothing.
    assert.ok(run.result.flushMs < 10_000, `the final flush is bounded (${Math.round(run.result.flushMs)} ms)`);
  });

  test('spans reach the traces URL as OTLP protobuf, named after the service; X-Trace-Id and logs carry the trace id', async () => {
    const before = receiver.requests().length;
    const run = await runChild({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, REQUESTS: '2' });
    assert.equal(run.code, 0, run.output);
    const [first] = run.result.results;
    assert.match(String(first?.traceId), V4, 'a new X-Trace-Id is a v4 UUID');
    const traceBytes = Buffer.from(hex(first!.traceId!), 'hex');
    const posted = await waitFor(() =>
      receiver
        .requests()
        .slice(before)
        .find((r) => r.body.includes(traceBytes)),
    );
    assert.equal(posted.path, '/v1/traces', '/v1/traces appended to a base URL (operations.md §1.1)');
    assert.equal(posted.contentType, 'application/x-protobuf');
    assert.ok(posted.body.includes(Buffer.from('telemetry-probe-service')), 'service.name in the resource');
    // Log correlation (operations.md §1.8): trace_id = X-Trace-Id, otel_trace_id/span_id = the span.
    const line = run.logs.find((l) => l.trace_id === first!.traceId && l.message === 'request completed');
    assert.ok(line, `a request log line with trace_id = X-Trace-Id\n${run.output}`);
    assert.equal(line.otel_trace_id, hex(first!.traceId!));
    assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
  });

  test('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT wins; a client UUID X-Trace-Id without traceparent becomes the trace id', async () => {
    const clientTraceId = randomUUID();
    const run = await runChild({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      CLIENT_TRACE_ID: clientTraceId,
      REQUESTS: '2',
    });
    assert.equal(run.code, 0, run.output);
    assert.equal(run.result.results[0]?.traceId, clientTraceId, 'X-Trace-Id echoed');
    const server = await waitFor(() =>
      receiver.spans().find((s) => s.traceId === hex(clientTraceId) && s.kind === SPAN_KIND.server),
    );
    assert.equal(server.name, 'GET /hello');
    assert.equal(server.parentSpanId, '', 'the trace starts at the server span');
    assert.equal(server.service, 'telemetry-probe-service');
    const handler = await waitFor(() =>
      receiver.spans().find((s) => s.traceId === hex(clientTraceId) && s.name === 'handler /hello'),
    );
    assert.equal(handler.service, 'telemetry-probe-service', '@fastify/otel handler span, named after the route');
    const second = run.result.results[1]!.traceId!;
    assert.ok(receiver.spans().some((s) => s.traceId === hex(second) && s.kind === SPAN_KIND.server));
  });

  test('sampling probability 0 exports nothing, OTEL_SDK_DISABLED=true neither; both serve with UUID X-Trace-Ids', async () => {
    const before = receiver.requests().length;
    const runs: Record<string, string>[] = [
      { MANAGEMENT_TRACING_SAMPLING_PROBABILITY: '0' },
      { OTEL_SDK_DISABLED: 'true' },
    ];
    for (const env of runs) {
      const run = await runChild({
        ...env,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '20',
        REQUESTS: '3',
      });
      assert.equal(run.code, 0, run.output);
      for (const r of run.result.results) {
        assert.equal(r.status, 200);
        assert.match(String(r.traceId), V4);
      }
    }
    assert.equal(receiver.requests().length, before, 'no export request at all');
  });
});

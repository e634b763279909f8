import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ConfigError } from '../config/env.js';
import { ServiceAttribution } from './attribution.js';
import { DEFAULT_TRACES_URL, readTelemetryConfig, tracesUrlFrom } from './config.js';
import { traceIdHex, uuidTraceIdHex, withServiceName } from './context.js';
import { UuidTraceIdGenerator } from './id-generator.js';

test('traces URL (operations.md §1.1): /v1/traces kept, appended when missing, the TRACES variable wins', () => {
  assert.equal(tracesUrlFrom({}), DEFAULT_TRACES_URL);
  assert.equal(
    tracesUrlFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/v1/traces' }),
    'http://collector:4318/v1/traces',
  );
  assert.equal(
    tracesUrlFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }),
    'http://collector:4318/v1/traces',
  );
  assert.equal(tracesUrlFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/otlp/' }), 'http://c:4318/otlp/v1/traces');
  assert.equal(
    tracesUrlFrom({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom',
    }),
    'http://traces:9999/custom',
  );
  assert.throws(() => tracesUrlFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), /OTEL_EXPORTER_OTLP_ENDPOINT/);
});

test('config: defaults, sampling ratio 0–1, exporter none, disabled', () => {
  const c = readTelemetryConfig({});
  assert.deepEqual(
    [c.enabled, c.tracesUrl, c.protocol, c.samplingProbability],
    [true, DEFAULT_TRACES_URL, 'http/protobuf', 1],
  );
  assert.ok(c.exportTimeoutMs <= 5000 && c.maxQueueSize > 0, 'short export timeout, bounded queue');
  assert.equal(readTelemetryConfig({ MANAGEMENT_TRACING_SAMPLING_PROBABILITY: '0.25' }).samplingProbability, 0.25);
  for (const bad of ['1.5', '-0.1', 'half']) {
    assert.throws(
      () => readTelemetryConfig({ MANAGEMENT_TRACING_SAMPLING_PROBABILITY: bad }),
      (err: Error) => err instanceof ConfigError && err.message.startsWith('MANAGEMENT_TRACING_SAMPLING_PROBABILITY'),
    );
  }
  assert.equal(readTelemetryConfig({ OTEL_TRACES_EXPORTER: 'none' }).tracesUrl, undefined);
  assert.equal(readTelemetryConfig({ OTEL_SDK_DISABLED: 'true' }).enabled, false);
  assert.equal(readTelemetryConfig({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }).protocol, 'http/json');
});

test('trace ids: UUID and 32 hex accepted, all zeros and anything else refused; X-Trace-Id must be a dashed UUID', () => {
  assert.equal(traceIdHex('4BF92F35-77B3-4DA6-A3CE-929D0E0E4736'), '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(traceIdHex('4bf92f3577b34da6a3ce929d0e0e4736'), '4bf92f3577b34da6a3ce929d0e0e4736');
  for (const bad of ['', 'trace-1', '00000000-0000-0000-0000-000000000000', 'a3ce929d0e0e4736']) {
    assert.equal(traceIdHex(bad), undefined, bad);
  }
  assert.equal(uuidTraceIdHex('4bf92f3577b34da6a3ce929d0e0e4736'), undefined);
  assert.equal(uuidTraceIdHex(' 4bf92f35-77b3-4da6-a3ce-929d0e0e4736 '), '4bf92f3577b34da6a3ce929d0e0e4736');
});

test('trace id generator: v4 UUIDs; an adopted id is used by the next root span only, never later', async () => {
  const ids = new UuidTraceIdGenerator();
  const v4 = /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/;
  assert.match(ids.generateTraceId(), v4);
  assert.match(ids.generateSpanId(), /^[0-9a-f]{16}$/);
  ids.adopt('4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(ids.generateTraceId(), '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.match(ids.generateTraceId(), v4, 'used once');
  ids.adopt('5bf92f3577b34da6a3ce929d0e0e4736');
  await Promise.resolve(); // the synchronous run that adopted it is over
  assert.notEqual(ids.generateTraceId(), '5bf92f3577b34da6a3ce929d0e0e4736', 'an unused id does not leak');
});

test('attribution: spans carry the Resource of the service that produced them, one Resource per service', async () => {
  const names: string[] = ['only-registered'];
  const attribution = new ServiceAttribution(resourceFromAttributes({ 'telemetry.sdk.language': 'nodejs' }), () =>
    names.length === 1 ? names[0]! : 'ecom-platform',
  );
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [attribution.processor, new SimpleSpanProcessor(attribution.exporter(memory))],
  });
  const tracer = provider.getTracer('test');

  // A consumer delivery: the kernel puts the service in the context.
  const process = tracer.startSpan('process q', {}, withServiceName(ROOT_CONTEXT, 'inventory-service'));
  const child = tracer.startSpan('pg.query', {}, trace.setSpan(ROOT_CONTEXT, process));
  // An HTTP server span: started unclaimed, claimed by the request hook; its children follow.
  const server = tracer.startSpan('POST /api/orders');
  attribution.claim(server, 'order-service');
  attribution.claim(server, 'catalog-service'); // first claim wins
  const handler = tracer.startSpan('handler', {}, trace.setSpan(ROOT_CONTEXT, server));
  // amqplib's consume span: unclaimed; the kernel's process span below it claims it.
  const amqp = tracer.startSpan('q process');
  const ours = tracer.startSpan(
    'process q.payment',
    {},
    withServiceName(trace.setSpan(ROOT_CONTEXT, amqp), 'payment-service'),
  );
  const orphan = tracer.startSpan('nobody');
  for (const s of [child, process, handler, server, ours, amqp, orphan]) s.end();

  const byName = new Map(memory.getFinishedSpans().map((s: ReadableSpan) => [s.name, s]));
  const service = (name: string) => byName.get(name)?.resource.attributes['service.name'];
  assert.equal(service('process q'), 'inventory-service');
  assert.equal(service('pg.query'), 'inventory-service');
  assert.equal(service('POST /api/orders'), 'order-service');
  assert.equal(service('handler'), 'order-service');
  assert.equal(service('q process'), 'payment-service');
  assert.equal(service('process q.payment'), 'payment-service');
  assert.equal(service('nobody'), 'only-registered', 'unclaimed: the only service of the process');
  names.push('second');
  assert.equal(attribution.serviceOf({}), 'ecom-platform', 'unclaimed with several services: the fallback name');
  assert.equal(byName.get('process q')?.resource, byName.get('pg.query')?.resource, 'same service, same Resource');
  assert.notEqual(byName.get('process q')?.resource, byName.get('handler')?.resource);
  assert.equal(byName.get('handler')?.resource.attributes['telemetry.sdk.language'], 'nodejs', 'base kept');
  assert.equal(byName.get('handler')?.spanContext().traceId, server.spanContext().traceId, 'the span itself is intact');
  await provider.shutdown();
});

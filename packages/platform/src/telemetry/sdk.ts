/**
 * The tracing SDK of a process: loaded by packages/platform/telemetry/register.mjs through
 * `--import`, BEFORE the application's modules, so the instrumentations can patch http, pg,
 * amqplib (require hooks) and ioredis, pino (the ESM loader hook) as they load. The kernel never
 * imports this file; it talks to @opentelemetry/api only (context.ts). See README.md.
 */
import type { IncomingMessage } from 'node:http';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { type Attributes, DiagConsoleLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { type Instrumentation, registerInstrumentations } from '@opentelemetry/instrumentation';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, detectResources, envDetector } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Env } from '../config/env.js';
import { ServiceAttribution } from './attribution.js';
import { readTelemetryConfig, type TelemetryConfig } from './config.js';
import { uuidTraceIdHex } from './context.js';
import { UuidTraceIdGenerator } from './id-generator.js';
import { telemetryState } from './state.js';

/** Requests that are never traced: probes and scrapes every few seconds would drown the traces. */
const UNTRACED_PATH_PREFIXES = ['/actuator'];

/**
 * Log keys of the pino instrumentation. Our `trace_id` log field is the correlation value
 * (X-Trace-Id of the request, envelope trace_id of a message; operations.md §1.8) and must not be
 * overwritten by the instrumentation's default `trace_id` (32 hex): the OTel ids go beside it.
 */
export const LOG_KEYS = { traceId: 'otel_trace_id', spanId: 'span_id', traceFlags: 'trace_flags' } as const;

export interface TelemetryHandle {
  readonly config: TelemetryConfig;
  readonly provider: NodeTracerProvider;
  readonly attribution: ServiceAttribution;
  /** Exports what is buffered (bounded by `timeoutMs`), then stops. Idempotent. */
  shutdown(timeoutMs?: number): Promise<void>;
}

let started: TelemetryHandle | undefined;

export interface StartTelemetryOptions {
  /** Replaces the OTLP exporter (in-process tests read spans from an InMemorySpanExporter). */
  exporter?: SpanExporter;
}

/**
 * Starts tracing for this process from the environment; undefined when OTEL_SDK_DISABLED=true.
 * Throws ConfigError (naming the variable) for a bad setting. Once per process.
 */
export async function startTelemetry(
  env: Env = process.env,
  options: StartTelemetryOptions = {},
): Promise<TelemetryHandle | undefined> {
  if (started) return started;
  const config = readTelemetryConfig(env);
  if (!config.enabled) return undefined;
  const level = env.OTEL_LOG_LEVEL?.trim().toUpperCase();
  if (level && level in DiagLogLevel)
    diag.setLogger(new DiagConsoleLogger(), DiagLogLevel[level as keyof typeof DiagLogLevel]);

  const state = telemetryState();
  const fallbackService = () => {
    const names = [...state.services.keys()];
    return names.length === 1 ? names[0]! : config.fallbackServiceName;
  };
  const attribution = new ServiceAttribution(
    defaultResource().merge(detectResources({ detectors: [envDetector] })),
    fallbackService,
    (service) => state.services.get(service)?.version,
  );
  const ids = new UuidTraceIdGenerator();

  const spanProcessors: SpanProcessor[] = [attribution.processor];
  if (options.exporter || config.tracesUrl) {
    const exporter = options.exporter ?? warnOnFailure(await createExporter(config), config.tracesUrl!);
    spanProcessors.push(
      new BatchSpanProcessor(attribution.exporter(exporter), {
        maxQueueSize: config.maxQueueSize,
        maxExportBatchSize: Math.min(config.maxExportBatchSize, config.maxQueueSize),
        scheduledDelayMillis: config.scheduledDelayMs,
        exportTimeoutMillis: config.exportTimeoutMs + 1000,
      }),
    );
  }
  const provider = new NodeTracerProvider({
    resource: attribution.resourceFor(config.fallbackServiceName),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.samplingProbability) }),
    idGenerator: ids,
    spanProcessors,
  });
  provider.register(); // global provider + AsyncLocalStorage context manager + W3C traceparent/baggage

  const serverOf = (socketOwner: unknown): string | undefined => {
    const server = (socketOwner as { server?: object } | null | undefined)?.server;
    return server ? state.servers.get(server) : undefined;
  };
  const instrumentations: Instrumentation[] = [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => UNTRACED_PATH_PREFIXES.some((p) => req.url?.startsWith(p)),
      // The OTLP exporter's own requests, and any call made outside a traced unit of work.
      requireParentforOutgoingSpans: true,
      // events.md §5 (Recommended): a client's UUID X-Trace-Id without traceparent starts the trace.
      startIncomingSpanHook: (req: IncomingMessage): Attributes => {
        if (req.headers.traceparent === undefined) {
          const header = req.headers['x-trace-id'];
          const hex = uuidTraceIdHex(Array.isArray(header) ? header[0] : header);
          if (hex) ids.adopt(hex);
        }
        return {};
      },
      requestHook: (span, req) => {
        if ('setHeader' in req) return; // a client request
        ids.discard(); // adopted above and used by this span, or not needed
        attribution.claim(span, serverOf(req.socket));
      },
    }),
    new FastifyOtelInstrumentation({
      registerOnInitialization: true,
      // Request + handler spans only; a span per lifecycle hook would triple the span count.
      instrumentHooks: false,
      ignorePaths: (route) => UNTRACED_PATH_PREFIXES.some((p) => route.url.startsWith(p)),
      // Only matters for inject() (no HTTP server span above it): the fastify instance's server.
      requestHook: (span, request) => attribution.claim(span, serverOf(request.server)),
      // `handler /api/orders` instead of `handler - fastify -> @fastify/otel -> …` (the plugin chain).
      lifecycleHook: (span, info) => span.updateName(`${info.hookName} ${info.request.routeOptions.url ?? ''}`.trim()),
    }) as unknown as Instrumentation,
    // No root spans for the outbox poll, migrations or pool housekeeping: only work inside a trace.
    new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    new IORedisInstrumentation({ requireParentSpan: true }),
    new AmqplibInstrumentation(),
    // fetch() (undici): order-service's catalog lookups, with traceparent on the request, so the
    // catalog's server span is a child of the order request's client span. Only inside a trace.
    new UndiciInstrumentation({ requireParentforSpans: true }),
    new PinoInstrumentation({ disableLogSending: true, logKeys: { ...LOG_KEYS } }),
  ];
  registerInstrumentations({ tracerProvider: provider, instrumentations });

  let stopping: Promise<void> | undefined;
  const shutdown = (timeoutMs = 2000): Promise<void> => {
    stopping ??= Promise.race([
      provider.shutdown().catch(() => undefined),
      new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
    return stopping;
  };
  state.enabled = true;
  state.shutdown = shutdown;
  state.adoptTraceId = (hex) => ids.adopt(hex);
  // A script that simply ends (no signal) still exports its last spans.
  process.once('beforeExit', () => void shutdown());
  started = { config, provider, attribution, shutdown };
  return started;
}

async function createExporter(config: TelemetryConfig): Promise<SpanExporter> {
  const options = { url: config.tracesUrl, timeoutMillis: config.exportTimeoutMs, concurrencyLimit: 4 };
  if (config.protocol === 'http/json') {
    try {
      // A dev dependency (tests read JSON); absent from production images.
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter(options);
    } catch {
      process.stderr.write(`${logLine('warn', 'http/json exporter not installed; exporting http/protobuf')}\n`);
    }
  }
  return new OTLPProtoExporter(options);
}

/** Minutes between two warnings about a collector that keeps failing. */
const WARN_EVERY_MS = 10 * 60_000;

/**
 * No collector must not mean a log line per batch: the first failure is reported once, then at
 * most every WARN_EVERY_MS with the count in between (spans of failed batches are dropped; the
 * queue is bounded and the request timeout short, so the services do not slow down).
 */
function warnOnFailure(inner: SpanExporter, url: string): SpanExporter {
  let lastWarn = 0;
  let failedSince = 0;
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        if (result.code !== 0) {
          failedSince++;
          const now = Date.now();
          if (now - lastWarn >= WARN_EVERY_MS) {
            lastWarn = now;
            const reason = result.error?.message ?? 'export failed';
            process.stderr.write(
              `${logLine('warn', `trace export to ${url} failed (${failedSince} batch(es) dropped): ${reason}; next warning in ${WARN_EVERY_MS / 60_000} min at the earliest`)}\n`,
            );
            failedSince = 0;
          }
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

/** The platform's JSON log shape (logger.ts) without pino: this file loads before pino is patched. */
function logLine(level: 'warn' | 'info', message: string): string {
  return JSON.stringify({ level, time: new Date().toISOString(), service: 'telemetry', message });
}

import { ConfigError, type Env, EnvReader } from '../config/env.js';

/** Spec operations.md §1.1: the default collector's traces URL. */
export const DEFAULT_TRACES_URL = 'http://localhost:4318/v1/traces';

export interface TelemetryConfig {
  /** False with OTEL_SDK_DISABLED=true: no SDK, no hooks, the API stays a no-op. */
  enabled: boolean;
  /** Where spans are POSTed; undefined with OTEL_TRACES_EXPORTER=none (spans and context only). */
  tracesUrl: string | undefined;
  /** OTLP/HTTP encoding: protobuf (spec §8) unless OTEL_EXPORTER_OTLP_TRACES_PROTOCOL says http/json. */
  protocol: 'http/protobuf' | 'http/json';
  /** MANAGEMENT_TRACING_SAMPLING_PROBABILITY, 0–1: ratio of new traces recorded (parent-based). */
  samplingProbability: number;
  /** One export request (with its retries) gives up after this. */
  exportTimeoutMs: number;
  /** Spans buffered for export; beyond it new spans are dropped, never queued without bound. */
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMs: number;
  /** The name of spans no service claimed (OTEL_SERVICE_NAME; only matters with several services). */
  fallbackServiceName: string;
}

/**
 * operations.md §1.1: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT wins, as is. Otherwise
 * OTEL_EXPORTER_OTLP_ENDPOINT is the spec's TRACES URL: used unchanged when it already ends in
 * `/v1/traces` (the original's convention), else `/v1/traces` is appended (the OTel SDK
 * convention, where the variable is a base URL). Unset → the spec default.
 */
export function tracesUrlFrom(env: Env): string {
  const reader = new EnvReader(env);
  const specific = reader.raw('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (specific) return validUrl(specific.name, specific.value);
  const generic = reader.raw('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (!generic) return DEFAULT_TRACES_URL;
  const url = validUrl(generic.name, generic.value);
  const u = new URL(url);
  if (/\/v1\/traces\/?$/.test(u.pathname)) return url;
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/v1/traces`;
  return u.toString();
}

function validUrl(name: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ConfigError(`${name}: must be an http(s) URL, got "${value}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ConfigError(`${name}: must be an http(s) URL, got "${value}"`);
  return value;
}

/** Read once, before the application starts; throws ConfigError naming the variable. */
export function readTelemetryConfig(env: Env): TelemetryConfig {
  const reader = new EnvReader(env);
  const enabled = !reader.bool('OTEL_SDK_DISABLED', false);
  const exporter = reader.oneOf('OTEL_TRACES_EXPORTER', ['otlp', 'none'], 'otlp');
  const protocol = reader.oneOf(
    ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    ['http/protobuf', 'http/json'],
    'http/protobuf',
  );
  return {
    enabled,
    tracesUrl: exporter === 'none' ? undefined : tracesUrlFrom(env),
    protocol,
    samplingProbability: reader.number('MANAGEMENT_TRACING_SAMPLING_PROBABILITY', 1, { min: 0, max: 1 }),
    exportTimeoutMs: reader.int(['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'], 3000, {
      min: 100,
      max: 60_000,
    }),
    maxQueueSize: reader.int('OTEL_BSP_MAX_QUEUE_SIZE', 2048, { min: 1, max: 100_000 }),
    maxExportBatchSize: reader.int('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, { min: 1, max: 100_000 }),
    scheduledDelayMs: reader.int('OTEL_BSP_SCHEDULE_DELAY', 1000, { min: 10, max: 60_000 }),
    fallbackServiceName: reader.string('OTEL_SERVICE_NAME', 'ecom-platform'),
  };
}

import {
  type Context,
  context,
  createContextKey,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanOptions,
  type TextMapGetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { telemetryState } from './state.js';

/**
 * The kernel's side of tracing: only @opentelemetry/api, so every call is a cheap no-op when the
 * bootstrap (packages/platform/telemetry/register.mjs) did not start an SDK. See README.md.
 */

/**
 * The service a span belongs to, carried in the context where the kernel starts work for a
 * service (consumer deliveries, outbox relays). `createContextKey` is `Symbol.for(...)`, so the
 * bootstrap's span processor reads the same key from any copy of this module.
 */
export const SERVICE_NAME_KEY = createContextKey('@ecom/platform service.name');

export function withServiceName(ctx: Context, name: string | undefined): Context {
  return name ? ctx.setValue(SERVICE_NAME_KEY, name) : ctx;
}

export function serviceNameOf(ctx: Context): string | undefined {
  const value = ctx.getValue(SERVICE_NAME_KEY);
  return typeof value === 'string' ? value : undefined;
}

/** The tracer of the kernel's own spans (outbox relay, consumer pipeline). */
export function platformTracer(): Tracer {
  return trace.getTracer('@ecom/platform');
}

/** True once the bootstrap has registered a TracerProvider in this process. */
export function tracingEnabled(): boolean {
  return telemetryState().enabled;
}

/**
 * events.md §5 rule 1: the active span's W3C trace id (32 lowercase hex), or undefined when no
 * valid span is active (tracing off, or outside any request/delivery).
 */
export function activeSpanTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const ctx = span.spanContext();
  return isSpanContextValid(ctx) ? ctx.traceId : undefined;
}

/** 32 hex digits as a lowercase dashed UUID (8-4-4-4-12), the form of the envelope trace_id. */
export function traceIdAsUuid(hex32: string): string {
  const h = hex32.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The active trace id as a UUID (the X-Trace-Id made for a response when tracing is on). */
export function activeTraceUuid(): string | undefined {
  const hex = activeSpanTraceId();
  return hex ? traceIdAsUuid(hex) : undefined;
}

/** UUID or 32 hex digits → 32 lowercase hex; anything else (or all zeros) → undefined. */
export function traceIdHex(value: string | null | undefined): string | undefined {
  const hex = value?.trim().toLowerCase();
  if (!hex) return undefined;
  const plain = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(hex)
    ? hex.replaceAll('-', '')
    : hex;
  return /^[0-9a-f]{32}$/.test(plain) && !/^0+$/.test(plain) ? plain : undefined;
}

/** A dashed UUID (any case, not all zeros) → 32 lowercase hex; anything else → undefined. */
export function uuidTraceIdHex(value: string | null | undefined): string | undefined {
  const v = value?.trim().toLowerCase();
  return v && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v) ? traceIdHex(v) : undefined;
}

/** The W3C `traceparent` of the active context (the span that is doing the work), if any. */
export function activeTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

const headerGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key];
    if (typeof v === 'string') return v;
    if (Buffer.isBuffer(v)) return v.toString('utf8');
    return undefined;
  },
};

/**
 * The context a `traceparent` (and `tracestate`) continues, on top of `base`; `base` unchanged
 * when the carrier holds no valid one (or no propagator is registered: tracing off).
 */
export function extractContext(carrier: Record<string, unknown>, base: Context = ROOT_CONTEXT): Context {
  return propagation.extract(base, carrier, headerGetter);
}

/** The trace id of the span in `ctx`, when valid. */
export function traceIdOf(ctx: Context): string | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}

/**
 * Called by createService: the service's name (the OTel `service.name` of the spans it
 * produces) and, once its HTTP app exists, the `http.Server` whose requests it serves.
 */
export function registerServiceTelemetry(name: string, opts: { version?: string; server?: object } = {}): void {
  const state = telemetryState();
  state.services.set(name, { version: opts.version });
  if (opts.server) state.servers.set(opts.server, name);
}

/** Exports what is buffered and stops tracing (graceful shutdown); a no-op when tracing is off. */
export async function shutdownTelemetry(timeoutMs = 2000): Promise<void> {
  const shutdown = telemetryState().shutdown;
  if (!shutdown) return;
  await shutdown(timeoutMs).catch(() => undefined);
}

/**
 * Starts a span of the kernel. When `ctx` holds no valid parent and `rootTraceId` (32 hex) is
 * given, the new trace gets that id instead of a random one: a message or outbox row that has an
 * envelope trace_id but no traceparent stays in the trace whose id IS its trace_id.
 */
export function startKernelSpan(name: string, options: SpanOptions, ctx: Context, rootTraceId?: string): Span {
  if (rootTraceId && !traceIdOf(ctx)) telemetryState().adoptTraceId?.(rootTraceId);
  return platformTracer().startSpan(name, options, ctx);
}

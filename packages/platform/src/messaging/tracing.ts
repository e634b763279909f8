import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import {
  extractContext,
  startKernelSpan,
  traceIdHex,
  traceIdOf,
  tracingEnabled,
  withServiceName,
} from '../telemetry/context.js';
import type { Delivery, OutgoingMessage, Transport } from './transport.js';

/**
 * The kernel's messaging spans (operations.md §8: a send span per publish, a receive span per
 * delivery), named once here: `publish <routing key>` (PRODUCER) in the outbox relay and
 * `process <queue>` (CONSUMER) in the consumer pipeline. Every function is a no-op path when
 * tracing is off, so the relay and the pipeline cost what they cost before.
 */

const W3C_TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A traceparent worth storing with an outbox row (W3C shape), else null. */
export function storableTraceparent(value: string | undefined): string | null {
  return value && W3C_TRACEPARENT.test(value) ? value : null;
}

function system(transport: Transport): string {
  return transport.kind === 'amqp' ? 'rabbitmq' : 'ecom-in-process';
}

function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

export interface PublishTrace {
  /** The outbox row's stored traceparent: the unit of work that wrote it. */
  traceparent?: string | null;
  /** The envelope trace_id (UUID): the trace the message belongs to (events.md §7.1). */
  envelopeTraceId?: string;
  eventType: string;
  service?: string;
}

/**
 * Publishes one outbox row inside a `publish <routing key>` span, whose parent is the ORIGINATING
 * unit of work (the row's stored traceparent) when that is in the envelope's trace — else a new
 * root whose trace id is the envelope trace_id. The message's `traceparent` header is replaced by
 * this span's (same trace id as the derived one of events.md §7.1, a real parent span id).
 * Returns the span's context (for the relay run's links).
 */
export async function tracedPublish(
  transport: Transport,
  message: OutgoingMessage,
  meta: PublishTrace,
): Promise<Context | undefined> {
  if (!tracingEnabled()) {
    await transport.publish(message);
    return undefined;
  }
  const envelopeHex = traceIdHex(meta.envelopeTraceId);
  const base = withServiceName(ROOT_CONTEXT, meta.service);
  const stored = meta.traceparent ? extractContext({ traceparent: meta.traceparent }, base) : base;
  const storedHex = traceIdOf(stored);
  const parent = storedHex && (!envelopeHex || storedHex === envelopeHex) ? stored : base;
  const span = startKernelSpan(
    `publish ${message.routingKey}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': system(transport),
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'publish',
        'messaging.destination.name': message.exchange,
        'messaging.rabbitmq.destination.routing_key': message.routingKey,
        'messaging.message.id': message.messageId ?? '',
        'ecom.event.type': meta.eventType,
      },
    },
    parent,
    envelopeHex,
  );
  const ctx = trace.setSpan(parent, span);
  if (traceIdOf(ctx)) {
    message.headers ??= {};
    propagation.inject(ctx, message.headers);
  }
  try {
    await context.with(ctx, () => transport.publish(message));
    return ctx;
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * One relay run that claimed rows (operations.md §8 "scheduled outbox runs"): a span in its own
 * trace, from the claim to the last mark, linked to every publish span of the run (each of those
 * lives in its order's trace). Recorded after the fact, so an idle poll costs nothing.
 */
export function recordRelayRun(
  startTime: number,
  service: string | undefined,
  published: readonly (Context | undefined)[],
  attributes: Attributes,
): void {
  if (!tracingEnabled()) return;
  const links: Link[] = [];
  for (const ctx of published) {
    const sc = ctx && trace.getSpanContext(ctx);
    if (sc) links.push({ context: sc });
  }
  startKernelSpan(
    'outbox relay',
    { kind: SpanKind.INTERNAL, startTime, root: true, links, attributes },
    withServiceName(ROOT_CONTEXT, service),
  ).end();
}

export interface ProcessTrace {
  span: Span;
  ctx: Context;
}

/**
 * The `process <queue>` span of one delivery, in the trace its `traceparent` header continues
 * (nested under amqplib's own consume span when that one is active in the same trace). Without a
 * traceparent, a new trace whose id is the `x-trace-id` header (the envelope trace_id) when that
 * is a UUID. Undefined when tracing is off.
 */
export function startProcessSpan(
  delivery: Delivery,
  opts: { queue: string; consumer: string; transport: Transport; service?: string },
): ProcessTrace | undefined {
  if (!tracingEnabled()) return undefined;
  const base = withServiceName(ROOT_CONTEXT, opts.service);
  const extracted = extractContext(delivery.headers, base);
  const extractedHex = traceIdOf(extracted);
  // In-process deliveries inherit the PUBLISHER's async context: never nest under that one.
  const active = opts.transport.kind === 'amqp' ? context.active() : ROOT_CONTEXT;
  const activeHex = traceIdOf(active);
  const parent =
    activeHex && (!extractedHex || activeHex === extractedHex) ? withServiceName(active, opts.service) : extracted;
  const span = startKernelSpan(
    `process ${opts.queue}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': system(opts.transport),
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': opts.queue,
        'messaging.rabbitmq.destination.routing_key': delivery.routingKey,
        'messaging.message.id': delivery.messageId ?? '',
        'messaging.consumer.group.name': opts.consumer,
        'ecom.event.type': headerText(delivery.headers['x-event-type']) ?? '',
      },
    },
    parent,
    extractedHex || activeHex ? undefined : traceIdHex(headerText(delivery.headers['x-trace-id'])),
  );
  return { span, ctx: trace.setSpan(parent, span) };
}

/** The delivery's outcome on its process span (handled, duplicate, retried, dead_lettered, …). */
export function recordOutcome(outcome: string, failure?: string): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.setAttribute('ecom.outcome', outcome);
  if (failure) span.setStatus({ code: SpanStatusCode.ERROR, message: failure.slice(0, 300) });
}

import { type Context, trace } from '@opentelemetry/api';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { serviceNameOf } from './context.js';

type ExportCallback = Parameters<SpanExporter['export']>[1];

/**
 * Which service produced each span, in a process that may run several services (the
 * all-in-one embedded mode runs six) under ONE global TracerProvider.
 *
 * Jaeger (and every OTLP backend) takes the service from the span's RESOURCE, and the OTLP
 * exporter groups spans into `ResourceSpans` by the identity of `span.resource` — so a span
 * attribute would not do. Instead:
 *  - `processor` decides a span's service when it starts: the service in its parent context
 *    (the kernel puts it there for consumer deliveries and outbox relays), else its local parent
 *    span's service. A span that starts unclaimed (an HTTP server span, an amqplib consume span)
 *    is claimed later by `claim()` (the HTTP request hooks, which know the server) or by its
 *    first claimed child (it is still open when its children start).
 *  - `exporter()` wraps the real exporter and hands it each span with its service's Resource
 *    (one cached Resource per service), so one POST carries one ResourceSpans per service.
 * Spans nobody claimed get `fallback()`: the only service of the process, or OTEL_SERVICE_NAME.
 */
export class ServiceAttribution {
  private readonly owner = new WeakMap<object, string>();
  private readonly resources = new Map<string, Resource>();

  constructor(
    private readonly base: Resource,
    private readonly fallback: () => string,
    private readonly versionOf: (service: string) => string | undefined = () => undefined,
  ) {}

  /** Sets the service of a span that has none yet (first claim wins). */
  claim(span: unknown, service: string | undefined): void {
    if (service && span && typeof span === 'object' && !this.owner.has(span)) this.owner.set(span, service);
  }

  serviceOf(span: object): string {
    return this.owner.get(span) ?? this.fallback();
  }

  readonly processor: SpanProcessor = {
    onStart: (span: Span, parentContext: Context) => {
      const parent = trace.getSpan(parentContext);
      const fromParent = parent ? this.owner.get(parent) : undefined;
      const service = serviceNameOf(parentContext) ?? fromParent;
      if (!service) return;
      this.owner.set(span, service);
      // A local parent nobody claimed (e.g. amqplib's consume span, started from the message
      // headers before the kernel's pipeline runs) belongs to the service its child runs in.
      if (parent && !fromParent) this.claim(parent, service);
    },
    onEnd: () => undefined,
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };

  resourceFor(service: string): Resource {
    let resource = this.resources.get(service);
    if (!resource) {
      const version = this.versionOf(service);
      resource = this.base.merge(
        resourceFromAttributes({ 'service.name': service, ...(version ? { 'service.version': version } : {}) }),
      );
      this.resources.set(service, resource);
    }
    return resource;
  }

  /** The real exporter, fed spans whose `resource` names their service. */
  exporter(inner: SpanExporter): SpanExporter {
    return {
      export: (spans: ReadableSpan[], done: ExportCallback) =>
        inner.export(
          spans.map((s) => withResource(s, this.resourceFor(this.serviceOf(s)))),
          done,
        ),
      shutdown: () => inner.shutdown(),
      forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
    };
  }
}

/** A read-only view of an ended span with another Resource; everything else is the span's own. */
function withResource(span: ReadableSpan, resource: Resource): ReadableSpan {
  if (span.resource === resource) return span;
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: span.attributes,
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

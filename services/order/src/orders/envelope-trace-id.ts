const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX32 = /^[0-9a-f]{32}$/i;
const HEX16 = /^[0-9a-f]{16}$/i;

/** 32 hex digits as a lowercase dashed UUID (8-4-4-4-12). */
function asUuid(hex32: string): string {
  const h = hex32.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A W3C trace id of all zeros is invalid (and would get no traceparent): never use it. */
function usable(uuid: string): string | undefined {
  return /^[0-]+$/.test(uuid) ? undefined : uuid;
}

/** The value as a trace UUID when it parses as a UUID, 32 hex digits, or 16 hex digits (left-padded). */
export function parseTraceId(value: string | undefined): string | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (UUID.test(v)) return usable(v.toLowerCase());
  if (HEX32.test(v)) return usable(asUuid(v));
  if (HEX16.test(v)) return usable(asUuid(v.padStart(32, '0')));
  return undefined;
}

/**
 * The `trace_id` of an OrderCreated envelope (events.md §5):
 *  1. the active tracing span's 32-hex trace id, rendered as a UUID — `spanTraceId`, from
 *     `activeSpanTraceId` (the kernel's tracing; packages/platform/src/telemetry);
 *  2. else the request's correlation value (X-Trace-Id, or the UUID made for the response) if it
 *     parses as a UUID, 32 hex or 16 hex digits;
 *  3. else a new random UUID.
 */
export function envelopeTraceId(
  spanTraceId: string | undefined,
  correlationId: string | undefined,
  newId: () => string,
): string {
  const fromSpan = spanTraceId && HEX32.test(spanTraceId) ? usable(asUuid(spanTraceId)) : undefined;
  return fromSpan ?? parseTraceId(correlationId) ?? newId();
}

/**
 * Rule 1's seam: the kernel's `activeSpanTraceId()` — the active OTel span's trace id (32 hex;
 * the HTTP request's span when tracing is on), undefined when tracing is off. The route passes it
 * unchanged to `envelopeTraceId`.
 */
export { activeSpanTraceId } from '@ecom/platform';

import { randomUUID } from 'node:crypto';
import { activeTraceUuid } from '../telemetry/context.js';

/** Longest X-Trace-Id we echo; longer values are replaced (spec README "Correlation header"). */
export const TRACE_ID_MAX_LENGTH = 128;
const PRINTABLE_ASCII = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * The request's X-Trace-Id, trimmed, when present and not blank; otherwise a new UUID.
 * Hardening beyond the original (which echoes anything): over 128 characters or anything but
 * printable ASCII is replaced too, so a header can never inject into logs or response headers.
 * The new UUID is the request's OTel trace id when tracing is on (a random v4 UUID as well,
 * telemetry/id-generator.ts), so X-Trace-Id, log trace_id, envelope trace_id and the trace in
 * Jaeger are one value (root README "Tracing and correlation").
 */
export function traceIdFrom(header: string | string[] | undefined, newId: () => string = newTraceId): string {
  const raw = Array.isArray(header) ? header[0] : header;
  const value = raw?.trim();
  if (!value || value.length > TRACE_ID_MAX_LENGTH || !PRINTABLE_ASCII.test(value)) return newId();
  return value;
}

function newTraceId(): string {
  return activeTraceUuid() ?? randomUUID();
}

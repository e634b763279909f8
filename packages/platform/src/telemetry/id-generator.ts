import { randomUUID } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { RandomIdGenerator } from '@opentelemetry/sdk-trace-base';

/**
 * Trace ids that ARE UUIDs, so the correlation values line up (root README "Tracing and
 * correlation"):
 *  - a new trace id is a random v4 UUID without dashes, so the X-Trace-Id made from it is "a new
 *    random UUID" as the spec asks, and the envelope trace_id (events.md §5 rule 1) looks like
 *    every other UUID in the system;
 *  - `adopt(hex)` hands a trace id to the very next ROOT span started in the same synchronous
 *    run: the HTTP hook uses it for a client's UUID X-Trace-Id without `traceparent` (events.md
 *    §5, Recommended), the kernel for a message or outbox row that has a trace_id but no
 *    traceparent. The slot is cleared at the end of the synchronous run (microtask), so an
 *    unused id can never leak into an unrelated trace.
 */
export class UuidTraceIdGenerator implements IdGenerator {
  private pending: string | undefined;
  private readonly spans = new RandomIdGenerator();

  generateTraceId(): string {
    const adopted = this.pending;
    if (adopted) {
      this.pending = undefined;
      return adopted;
    }
    return randomUUID().replaceAll('-', '');
  }

  generateSpanId(): string {
    return this.spans.generateSpanId();
  }

  /** `hex`: 32 lowercase hex digits, not all zeros (the caller validates). */
  adopt(hex: string): void {
    this.pending = hex;
    queueMicrotask(() => {
      if (this.pending === hex) this.pending = undefined;
    });
  }

  /** Drops an adopted id that was not used (the span was suppressed). */
  discard(): void {
    this.pending = undefined;
  }
}

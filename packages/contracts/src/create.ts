// Building envelopes for publishing (spec/events.md §1 and §5).
import { randomUUID } from 'node:crypto';
import { ENVELOPE_VERSION, type Identity } from './envelope.js';
import type { AnyEvent, EventData, EventOf, EventType } from './events.js';
import { assertValidEvent } from './validate.js';

export interface EventContext {
  traceId: string;
  identity: Identity | null;
  /** Defaults to a new random v4 UUID. Pass one to make an outbox row id and event_id agree. */
  eventId?: string;
  /** Defaults to now. For outbox events, the time of the transaction that writes the row. */
  occurredAt?: Date;
}

/** Builds and validates a full envelope. Throws an Error naming the field when invalid. */
export function createEvent<T extends EventType>(type: T, data: EventData<T>, context: EventContext): EventOf<T> {
  // Members in the spec's order (§1): it has no meaning, but it keeps bodies diffable with the original.
  const event = {
    event_id: context.eventId ?? randomUUID(),
    event_type: type,
    // toISOString is always UTC, millisecond precision, with Z — what writers SHOULD emit.
    occurred_at: (context.occurredAt ?? new Date()).toISOString(),
    trace_id: context.traceId,
    // Nulls are serialized, never left out.
    identity: context.identity,
    data,
    version: ENVELOPE_VERSION,
  };
  assertValidEvent(event);
  return event as EventOf<T>;
}

/**
 * trace_id and identity for an event published in reaction to `incoming` (§5): copied
 * unchanged, a new UUID when the incoming trace_id is null, null when identity is missing.
 */
export function reactionContext(incoming: AnyEvent): { traceId: string; identity: Identity | null } {
  return { traceId: incoming.trace_id ?? randomUUID(), identity: incoming.identity ?? null };
}

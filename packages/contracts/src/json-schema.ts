// TypeBox schemas are JSON Schemas; this hands out plain copies for documents such as AsyncAPI.
import { type EventType, events, eventTypes } from './events.js';

export type JsonSchema = Record<string, unknown>;

/** The full-envelope JSON Schema of every event type. Fresh copies: callers may mutate them. */
export function eventJsonSchemas(): Record<EventType, JsonSchema> {
  // A JSON round trip, not structuredClone: it also guarantees nothing non-JSON leaks out
  // (some tools, e.g. swagger-parser, dereference in place).
  return Object.fromEntries(
    eventTypes.map((type) => [type, JSON.parse(JSON.stringify(events[type].envelope)) as JsonSchema]),
  ) as Record<EventType, JsonSchema>;
}

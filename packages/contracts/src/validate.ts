// Boundary validation: consumers call parseEnvelope on every body, publishers assertValidEvent.
import { Compile, type Validator } from 'typebox/compile';
import type { TLocalizedValidationError } from 'typebox/error';
import { type AnyEvent, type EventOf, type EventType, events, eventTypes, isEventType } from './events.js';

// Compiled once at import: one validator per event type, chosen by event_type.
const validators = Object.fromEntries(eventTypes.map((type) => [type, Compile(events[type].envelope)])) as Record<
  EventType,
  Validator
>;

export type ParseResult<E = AnyEvent> = { ok: true; event: E } | { ok: false; reason: string };

/**
 * Decodes and validates a message body. Never throws: a bad body is data (it becomes
 * `x-dlq-reason = POISON:<reason>`), and the reason names the offending field.
 * `accept` narrows the result to the event types a queue expects; any other type is refused.
 */
export function parseEnvelope<T extends EventType = EventType>(
  body: Buffer | string,
  accept?: readonly T[],
): ParseResult<EventOf<T>> {
  try {
    // The spec forbids a BOM, but tolerating one costs nothing and JSON.parse would choke on it.
    const text = (typeof body === 'string' ? body : body.toString('utf8')).replace(/^\uFEFF/, '');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { ok: false, reason: `invalid JSON: ${errorMessage(err)}` };
    }
    const problem = findProblem(value);
    if (problem !== undefined) return { ok: false, reason: problem };
    const event = value as EventOf<T>;
    if (accept !== undefined && !accept.includes(event.event_type as T)) {
      return {
        ok: false,
        reason: `event_type ${event.event_type} is not expected here (expected ${accept.join(', ')})`,
      };
    }
    return { ok: true, event };
  } catch (err) {
    // Defensive: e.g. a pathologically deep document overflowing the stack in the validator.
    return { ok: false, reason: `unreadable envelope: ${errorMessage(err)}` };
  }
}

/** Throws an Error naming the field when `event` is not a valid envelope. Used before publishing. */
export function assertValidEvent(event: unknown): asserts event is AnyEvent {
  const problem = findProblem(event);
  if (problem !== undefined) throw new Error(`invalid event: ${problem}`);
  // Readers tolerate a null trace_id (§5), but what we publish always carries one (§7.2 x-trace-id).
  if ((event as AnyEvent).trace_id === null) throw new Error('invalid event: trace_id must not be null on publish');
}

/** Returns a short reason naming the first offending field, or undefined when valid. */
function findProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'envelope must be a JSON object';
  const type = (value as Record<string, unknown>).event_type;
  if (type === undefined) return 'event_type is required';
  if (typeof type !== 'string') return 'event_type must be string';
  if (!isEventType(type)) return `event_type ${clip(type)} is unknown`;
  const validator = validators[type];
  if (validator.Check(value)) return undefined;
  const first = validator.Errors(value)[0];
  return first === undefined ? `invalid ${type} envelope` : describe(first);
}

function describe(error: TLocalizedValidationError): string {
  const path = fieldPath(error.instancePath);
  if (error.keyword === 'required') {
    const fields = error.params.requiredProperties.map((name) => (path === '' ? name : `${path}.${name}`));
    return `${fields.join(', ')} ${fields.length === 1 ? 'is' : 'are'} required`;
  }
  return `${path === '' ? 'envelope' : path} ${error.message}`;
}

/** "/data/items/0/quantity" -> "data.items[0].quantity" (JSON Pointer, RFC 6901). */
function fieldPath(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path += /^\d+$/.test(segment) ? `[${segment}]` : path === '' ? segment : `.${segment}`;
  }
  return path;
}

// Echoed values end up in a DLQ header; keep them short.
function clip(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

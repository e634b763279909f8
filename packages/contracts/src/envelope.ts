// The envelope of spec/events.md §1, shared by every event type.
// Objects never set additionalProperties: false, because readers MUST ignore unknown members.
import { type Static, type TSchema, Type } from 'typebox';

/** Writers emit lowercase (crypto.randomUUID); readers accept any case, as the original's UUID parser does. */
export const Uuid = Type.String({ format: 'uuid' });

/**
 * RFC 3339 date-time with any number of fractional digits: the original prints 0, 3, 6 or 9
 * depending on the value, and readers MUST accept any. Writers use Date#toISOString (ms + Z).
 */
export const Timestamp = Type.String({ format: 'date-time' });

/** Money is a JSON number (never a string); any numeric form is accepted on read. */
export const Money = Type.Number();

export const Identity = Type.Object({
  user_id: Type.String(),
  roles: Type.Array(Type.String()),
});
export type Identity = Static<typeof Identity>;

/** The only version the original writes. Other values are accepted on read (forward compatibility). */
export const ENVELOPE_VERSION = 1;

export function envelopeOf<const T extends string, D extends TSchema>(eventType: T, data: D) {
  return Type.Object(
    {
      event_id: Uuid,
      event_type: Type.Literal(eventType),
      occurred_at: Timestamp,
      // Never null in what the original publishes, but §5 defines what to do with an incoming
      // null (use a new UUID), so readers accept it. assertValidEvent refuses it on publish.
      trace_id: Type.Union([Uuid, Type.Null()]),
      // Readers MUST accept a null or a missing identity (§1 reader tolerance).
      identity: Type.Optional(Type.Union([Identity, Type.Null()])),
      data,
      // The original ignores version; a missing one is processed like 1.
      version: Type.Optional(Type.Integer()),
    },
    { title: `${eventType} envelope` },
  );
}

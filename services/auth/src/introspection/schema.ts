import { type Static, Type } from 'typebox';
import { INACTIVE_REASONS, type Introspection } from './decide.js';

/** `POST /api/auth/introspect` body (http-api.md §5.2). */
export const IntrospectRequest = Type.Object({
  token: Type.String({ pattern: '\\S', description: 'compact JWS; not blank; trimmed' }),
});
export type IntrospectRequest = Static<typeof IntrospectRequest>;

/** `TokenIntrospectionResponse`, members in the original's order; nulls are written, not omitted. */
export const IntrospectResponse = Type.Object({
  active: Type.Boolean(),
  userId: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Array(Type.String()),
  expiresAt: Type.Union([Type.String({ format: 'date-time', description: 'exp, whole seconds, UTC' }), Type.Null()]),
  reason: Type.Union([Type.Enum(INACTIVE_REASONS), Type.Null()], {
    description: 'why the token is inactive; null when active',
  }),
});
export type IntrospectResponse = Static<typeof IntrospectResponse>;

export function toIntrospectResponse(result: Introspection): IntrospectResponse {
  if (!result.active) return { active: false, userId: null, roles: [], expiresAt: null, reason: result.reason };
  return {
    active: true,
    userId: result.userId,
    roles: result.roles,
    // Whole seconds, as the original prints an Instant built from `exp`: 2026-02-11T11:00:00Z.
    expiresAt: result.expiresAt.toISOString().replace('.000Z', 'Z'),
    reason: null,
  };
}

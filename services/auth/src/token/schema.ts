import { type Static, Type } from 'typebox';
import { TTL_MAX_SECONDS, TTL_MIN_SECONDS } from '../config.js';

// Not in the original: caps so one request cannot mint a token too large for an
// Authorization header (Node refuses request headers over 16 KiB by default).
export const USER_ID_MAX_LENGTH = 256;
export const ROLE_MAX_LENGTH = 128;
export const ROLES_MAX_ITEMS = 64;

/** `POST /api/auth/token` body (http-api.md §5.1). Unknown fields are ignored. */
export const TokenRequest = Type.Object({
  userId: Type.String({ pattern: '\\S', maxLength: USER_ID_MAX_LENGTH, description: 'not blank; trimmed' }),
  roles: Type.Optional(
    Type.Union(
      [
        Type.Array(Type.String({ pattern: '\\S', maxLength: ROLE_MAX_LENGTH }), {
          maxItems: ROLES_MAX_ITEMS,
          description: 'each element not blank (null → 400); trimmed',
        }),
        Type.Null(),
      ],
      { description: 'absent or null → []' },
    ),
  ),
  ttlSeconds: Type.Optional(
    Type.Union([Type.Integer({ minimum: TTL_MIN_SECONDS, maximum: TTL_MAX_SECONDS }), Type.Null()], {
      description: `token lifetime in whole seconds, ${TTL_MIN_SECONDS}…${TTL_MAX_SECONDS}; absent or null → APP_AUTH_DEFAULT_TTL_SECONDS`,
    }),
  ),
});
export type TokenRequest = Static<typeof TokenRequest>;

/** `TokenResponse`, members in the original's order. */
export const TokenResponse = Type.Object({
  accessToken: Type.String({ description: 'compact JWS, RS256' }),
  tokenType: Type.Literal('Bearer'),
  expiresAt: Type.String({ format: 'date-time', description: 'issue time + TTL, UTC' }),
  userId: Type.String(),
  roles: Type.Array(Type.String()),
});
export type TokenResponse = Static<typeof TokenResponse>;

import { Type } from 'typebox';

/** The spec's error body (http-api.md §1.4), documented on every route. */
export const ErrorResponse = Type.Object(
  {
    timestamp: Type.String(),
    status: Type.Integer(),
    error: Type.String(),
    path: Type.String(),
    message: Type.String(),
  },
  { additionalProperties: true },
);

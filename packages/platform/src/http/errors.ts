import { STATUS_CODES } from 'node:http';
import { Type } from 'typebox';

/**
 * Stable error kinds. Deep code throws an AppError with a kind and a code; one mapper
 * (`toErrorResponse`) turns it into a status and the spec's error body (http-api.md §1.4).
 */
export type ErrorKind =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'unavailable';

const STATUS_OF: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  unavailable: 503,
};

export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly kind: ErrorKind,
    /** Stable, machine-readable (for example `PRODUCT_NOT_FOUND`). */
    readonly code: string,
    message: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = STATUS_OF[kind];
  }
}

/** The spec's error body: the four required fields, plus `message`, `code` and `errors[]`. */
export interface ErrorBody {
  timestamp: string;
  status: number;
  error: string;
  path: string;
  message: string;
  code?: string;
  errors?: FieldError[];
}

/**
 * `ErrorBody` as a route response schema, for every 4xx/5xx a route documents in OpenAPI (one
 * definition for all services; `additionalProperties` so nothing the kernel adds is dropped).
 */
export const ErrorResponse = Type.Object(
  {
    timestamp: Type.String(),
    status: Type.Integer(),
    error: Type.String(),
    path: Type.String(),
    message: Type.String(),
    code: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true },
);

/** `2026-02-11T10:00:00.123+00:00`: ISO-8601 with a numeric offset, as Spring writes it. */
export function offsetTimestamp(date = new Date()): string {
  return date.toISOString().replace('Z', '+00:00');
}

export function errorBody(
  status: number,
  path: string,
  message: string,
  extra: { code?: string; errors?: FieldError[] } = {},
): ErrorBody {
  return {
    timestamp: offsetTimestamp(),
    status,
    error: STATUS_CODES[status] ?? 'Error',
    path,
    message,
    ...(extra.code ? { code: extra.code } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
  };
}

/** The path without its query string, as the error body wants it. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

import { AppError, type FieldError } from '@ecom/platform';
import { Type } from 'typebox';
import { UUID_PATTERN } from '../shared/schemas.js';
import { type Instant, parseInstant } from './instant.js';

/** The filters §3.4–§3.6 share. */
export interface ReleaseFilters {
  orderId?: string;
  from?: Instant;
  to?: Instant;
}

/** Query members for the OpenAPI document; the values are parsed by `parseFilters`. */
export const FilterQuery = {
  orderId: Type.Optional(Type.String({ pattern: UUID_PATTERN, description: 'exact match on the order (UUID)' })),
  from: Type.Optional(
    Type.String({
      description: 'inclusive lower bound on createdAt, ISO-8601 with offset (e.g. 2026-02-11T10:00:00Z)',
    }),
  ),
  to: Type.Optional(Type.String({ description: 'inclusive upper bound on createdAt, ISO-8601 with offset' })),
};

export function parseFilters(query: { orderId?: string; from?: string; to?: string }): ReleaseFilters {
  const errors: FieldError[] = [];
  const instant = (name: 'from' | 'to'): Instant | undefined => {
    const raw = query[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    const parsed = parseInstant(raw.trim());
    if (!parsed) errors.push({ field: name, message: 'must be an ISO-8601 date-time with an offset' });
    return parsed;
  };
  const from = instant('from');
  const to = instant('to');
  if (from && to && from.epochNanos > to.epochNanos) errors.push({ field: 'from', message: 'must not be after to' });
  if (errors.length > 0) throw badQuery(errors);
  const orderId = query.orderId?.trim();
  return { ...(orderId ? { orderId: orderId.toLowerCase() } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

export function badQuery(errors: FieldError[]): AppError {
  return new AppError(
    'bad_request',
    'INVALID_QUERY_PARAMETER',
    errors.map((e) => `${e.field} ${e.message}`).join('; '),
    {
      errors,
    },
  );
}

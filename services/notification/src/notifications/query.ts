import { type Static, Type } from 'typebox';

export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 20;

/**
 * http-api.md §7.1. Range errors are 400 (the original answers 500). A blank value means "not
 * given" (Spring binds `?size=` to the default and `?eventType=` to no filter); the route strips
 * blanks before validation, so the schema below stays the honest OpenAPI description.
 */
export const NotificationQuery = Type.Object({
  orderId: Type.Optional(Type.String({ format: 'uuid', description: 'exact match' })),
  eventType: Type.Optional(Type.String({ description: 'case-insensitive equality; blank = no filter' })),
  size: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: '1 … 200' }),
  ),
});
export type NotificationQuery = Static<typeof NotificationQuery>;

export interface NotificationFilter {
  orderId: string | undefined;
  /** Compared case-insensitively; never blank here. */
  eventType: string | undefined;
  limit: number;
}

/** Removes blank (empty or whitespace-only) query values: they mean "not given". Mutates `query`. */
export function dropBlankValues(query: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(query)) {
    if (typeof value === 'string' && value.trim() === '') delete query[key];
  }
}

export function filterOf(query: NotificationQuery): NotificationFilter {
  return {
    orderId: query.orderId?.toLowerCase(),
    eventType: query.eventType,
    limit: query.size ?? DEFAULT_PAGE_SIZE,
  };
}

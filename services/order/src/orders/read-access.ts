import { authenticate, type BearerRequest, type BearerVerifier, type Principal } from '@ecom/platform';
import type { ReadAccess } from '../config.js';
import { assertNever } from '../shared/assert-never.js';

export interface ReadPolicy {
  access: ReadAccess;
  adminRole: string;
  verifier: BearerVerifier;
}

/**
 * Who may read an order (GET order, GET timeline). `owner` (default): a valid bearer token whose
 * subject is the buyer, or that holds the admin role (case-insensitive). `open`: anyone, without
 * a token — the original's behaviour, for old clients. Pure.
 */
export function mayRead(
  access: ReadAccess,
  orderUserId: string,
  principal: Principal | undefined,
  adminRole: string,
): boolean {
  switch (access) {
    case 'open':
      return true;
    case 'owner': {
      if (!principal) return false;
      if (principal.subject === orderUserId) return true;
      const admin = adminRole.trim().toLowerCase();
      return admin !== '' && principal.roles.some((r) => r.toLowerCase() === admin);
    }
    default:
      return assertNever(access);
  }
}

/** `owner`: 401 unless the request carries a valid token (before any database read). `open`: no check. */
export async function readerOf(policy: ReadPolicy, request: BearerRequest): Promise<Principal | undefined> {
  return policy.access === 'owner' ? authenticate(policy.verifier, request) : undefined;
}

/** The OpenAPI description of the read routes under the configured policy. */
export function readDescription(read: Pick<ReadPolicy, 'access' | 'adminRole'>): string {
  return read.access === 'owner'
    ? `Bearer token required: the buyer, or a token with role "${read.adminRole}". Other orders are 404.`
    : 'No authentication (ORDER_READ_ACCESS=open, the original behaviour).';
}

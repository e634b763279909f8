import type { EventType } from '@ecom/contracts';
import type { ConsumerDefinition } from '@ecom/platform';

/**
 * The kernel keeps consumers in one list typed for any event; a handler for one event type is
 * not assignable to it (function parameters are contravariant). The pipeline only ever passes
 * an event it validated against `accept`, so widening here is sound.
 */
export function consumerOf<T extends EventType>(definition: ConsumerDefinition<T>): ConsumerDefinition {
  return definition as unknown as ConsumerDefinition;
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${String(value)}`);
}

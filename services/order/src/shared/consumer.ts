import type { EventType } from '@ecom/contracts';
import type { ConsumerDefinition } from '@ecom/platform';

/**
 * The kernel keeps consumers in one list typed for any event; a handler for some event types
 * is not assignable to it (parameters are contravariant). The pipeline only passes an event it
 * validated against `accept`, so widening here is sound.
 */
export function consumerOf<T extends EventType>(definition: ConsumerDefinition<T>): ConsumerDefinition {
  return definition as unknown as ConsumerDefinition;
}

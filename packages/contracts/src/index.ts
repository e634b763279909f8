export {
  ASYNCAPI_VERSION,
  type AsyncApiChannel,
  type AsyncApiDocument,
  type AsyncApiOperation,
  type AsyncApiOptions,
  asyncApiDocument,
  type MessagingService,
} from './asyncapi.js';
export { createEvent, type EventContext, reactionContext } from './create.js';
export { ENVELOPE_VERSION, envelopeOf, Identity, Money, Timestamp, Uuid } from './envelope.js';
export {
  type AnyEvent,
  type EventData,
  type EventOf,
  type EventType,
  events,
  eventTypes,
  InventoryFailedData,
  InventoryReleasedData,
  InventoryReleaseRequestedData,
  InventoryReservedData,
  isEventType,
  OrderCreatedData,
  PaymentFailedData,
  PaymentSucceededData,
  type RoutingKey,
  routingKeyOf,
} from './events.js';
export { eventJsonSchemas, type JsonSchema } from './json-schema.js';
export { assertValidEvent, type ParseResult, parseEnvelope } from './validate.js';

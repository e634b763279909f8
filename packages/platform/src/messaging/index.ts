export { type AmqpTransport, type AmqpTransportOptions, createAmqpTransport } from './amqp-transport.js';
export { deathCount, normalizeHeaders, readXDeath, type XDeathEntry } from './headers.js';
export { createInProcessTransport, type InProcessTransportOptions } from './in-process-transport.js';
export { consoleLogger, type MessagingLogger, silentLogger } from './logger.js';
export { topicMatches } from './topic-match.js';
export {
  type ConsumerQueues,
  consumerQueues,
  consumerQueuesOf,
  DEFAULT_RETRY_TTL_MS,
  EVENTS_EXCHANGE,
  eventsExchangeName,
  ownedTopology,
  platformTopology,
  type ServiceName,
  type TopologyOptions,
} from './topology.js';
export * from './transport.js';

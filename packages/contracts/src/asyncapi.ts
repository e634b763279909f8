// The AsyncAPI 3 document of every channel and message (spec/events.md, messaging-topology.md),
// GENERATED from the catalog: payloads are the envelope JSON Schemas of `eventJsonSchemas()`,
// so the document cannot drift from what publishers build and consumers validate.
import { ENVELOPE_VERSION } from './envelope.js';
import { type EventType, events, eventTypes } from './events.js';
import { sampleEnvelope } from './fixtures.js';
import { eventJsonSchemas, type JsonSchema } from './json-schema.js';

export const ASYNCAPI_VERSION = '3.1.0';

/** The services that touch the broker (messaging-topology.md §6; auth and catalog touch none). */
export type MessagingService = 'order-service' | 'inventory-service' | 'payment-service' | 'notification-service';

export interface AsyncApiOptions {
  /** info.title. Default `ecom-platform events`; each service serves it under its own name. */
  title?: string;
  /** info.version. Default `<envelope version>.0.0`. */
  version?: string;
  /** The broker, e.g. `amqp://rabbitmq:5672` (default). Credentials in it are never copied. */
  serverUrl?: string;
}

type Ref = { $ref: string };

export interface AsyncApiChannel {
  address: string;
  title: string;
  description: string;
  messages: Record<string, Ref>;
  bindings: { amqp: JsonSchema };
}

export interface AsyncApiOperation {
  action: 'send' | 'receive';
  channel: Ref;
  messages: Ref[];
  title: string;
  description: string;
  tags: { name: string }[];
  bindings: { amqp: JsonSchema };
}

export interface AsyncApiDocument {
  asyncapi: string;
  id: string;
  info: { title: string; version: string; description: string; tags: { name: string; description: string }[] };
  defaultContentType: string;
  servers: Record<string, JsonSchema>;
  channels: Record<string, AsyncApiChannel>;
  operations: Record<string, AsyncApiOperation>;
  components: {
    schemas: Record<string, JsonSchema>;
    messages: Record<string, JsonSchema>;
    correlationIds: Record<string, JsonSchema>;
  };
}

// ---- the spec's tables as data -------------------------------------------------------------

const EVENTS_EXCHANGE = 'ecom.events';
const RETRY_TTL_MS = 10_000; // messaging-topology.md §4 `retry-ttl-ms` (APP_MESSAGING_RETRY_TTL_MS)
const BINDING_VERSION = '0.3.0';
const VHOST = '/';

/** events.md §2 "Producer". A Record over EventType: a new event type must name its producer. */
const PRODUCERS: Record<EventType, MessagingService> = {
  OrderCreated: 'order-service',
  InventoryReserved: 'inventory-service',
  InventoryFailed: 'inventory-service',
  InventoryReleaseRequested: 'order-service',
  InventoryReleased: 'inventory-service',
  PaymentSucceeded: 'payment-service',
  PaymentFailed: 'payment-service',
};

/**
 * messaging-topology.md §2–3: the six consumed queues and their `ecom.events` binding keys.
 * `retry`: the queue has the spec's broker DLX → `<svc>.retry.exchange` + `.retry` and `.dlq` queues.
 */
const CONSUMED: { queue: string; bindingKey: string; service: MessagingService; retry: boolean; note?: string }[] = [
  { queue: 'q.inventory.order-created', bindingKey: 'order.created', service: 'inventory-service', retry: true },
  {
    queue: 'q.inventory.release-requested',
    bindingKey: 'inventory.release.requested',
    service: 'inventory-service',
    retry: true,
  },
  { queue: 'q.payment.inventory-reserved', bindingKey: 'inventory.reserved', service: 'payment-service', retry: true },
  {
    queue: 'q.order.inventory-result',
    bindingKey: 'inventory.*',
    service: 'order-service',
    retry: false,
    note: 'InventoryReleased is audit only (no state change). Every payment retry re-routes InventoryReserved here too (a duplicate, removed by deduplication on message_id).',
  },
  { queue: 'q.order.payment-result', bindingKey: 'payment.*', service: 'order-service', retry: false },
  {
    queue: 'q.notification.payment-result',
    bindingKey: 'payment.*',
    service: 'notification-service',
    retry: false,
  },
];

/** Spec §3 topic matching: `*` is exactly one word, `#` zero or more. */
function topicMatches(bindingKey: string, routingKey: string): boolean {
  const match = (b: string[], r: string[]): boolean => {
    if (b.length === 0) return r.length === 0;
    const [head, ...rest] = b;
    if (head === '#') return match(rest, r) || (r.length > 0 && match(b, r.slice(1)));
    if (r.length === 0) return false;
    return (head === '*' || head === r[0]) && match(rest, r.slice(1));
  };
  return match(bindingKey.split('.'), routingKey.split('.'));
}

/** The event types a binding key receives, in catalog order. */
function typesBoundTo(bindingKey: string): EventType[] {
  return eventTypes.filter((type) => topicMatches(bindingKey, events[type].routingKey));
}

const shortName = (service: MessagingService) => service.replace(/-service$/, '');

// ---- building blocks -----------------------------------------------------------------------

const ref = ($ref: string): Ref => ({ $ref });
const pointer = (...segments: string[]) =>
  `#/${segments.map((s) => s.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

function exchangeBinding(name: string, type: 'topic' | 'direct'): JsonSchema {
  return {
    is: 'routingKey',
    exchange: { name, type, durable: true, autoDelete: false, vhost: VHOST },
    bindingVersion: BINDING_VERSION,
  };
}

function queueBinding(
  name: string,
  args: Record<string, string | number>,
  boundTo: { exchange: string; bindingKey: string },
): JsonSchema {
  return {
    is: 'queue',
    queue: { name, durable: true, exclusive: false, autoDelete: false, vhost: VHOST },
    // The AMQP binding has no field for these; the spec values are exact (a different
    // re-declaration is refused with PRECONDITION_FAILED).
    'x-arguments': args,
    'x-bindings': [boundTo],
    bindingVersion: BINDING_VERSION,
  };
}

const TRACEPARENT = '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$';

function eventHeaders(type: EventType): JsonSchema {
  return {
    type: 'object',
    description:
      'AMQP application headers (events.md §7). For observation only: consumers MUST NOT depend on them, and ignore unknown ones (§7.4). AMQP properties: message_id (the dedup key, §6.0), content_type application/json, content_encoding UTF-8, delivery_mode 2.',
    properties: {
      'x-event-type': { type: 'string', const: type, description: 'the envelope event_type' },
      'x-event-id': { type: 'string', format: 'uuid', description: 'the envelope event_id' },
      'x-trace-id': { type: 'string', description: 'the envelope trace_id' },
      traceparent: {
        type: 'string',
        pattern: TRACEPARENT,
        description: 'W3C trace context derived from trace_id: 00-<trace_id as 32 hex>-<span id>-01',
      },
      'x-death': {
        type: 'array',
        description:
          'broker-managed, present after a retry cycle: one entry per (queue, reason); the count of the main queue entry is the retry count (messaging-topology.md §4.1)',
        items: {
          type: 'object',
          properties: {
            queue: { type: 'string' },
            reason: { type: 'string', examples: ['rejected', 'expired'] },
            count: { type: 'integer', minimum: 1 },
            exchange: { type: 'string' },
            'routing-keys': { type: 'array', items: { type: 'string' } },
            time: { description: 'AMQP timestamp' },
          },
        },
      },
    },
  };
}

function deadLetterHeaders(): JsonSchema {
  return {
    type: 'object',
    description:
      'Headers of a dead-lettered copy (messaging-topology.md §4.3). x-event-id, traceparent and x-death are not copied.',
    required: ['x-dlq-reason'],
    properties: {
      'x-dlq-reason': {
        type: 'string',
        maxLength: 300,
        pattern: '^(RETRY_EXHAUSTED|POISON|PERMANENT):',
        description:
          'RETRY_EXHAUSTED:<error> after the last retry; POISON:<reason> for a body that can never be processed (unparseable, schema-invalid, unknown type); PERMANENT:<error> for a handler PermanentError',
      },
      'x-trace-id': { type: 'string', description: 'copied, if present' },
      'x-event-type': { type: 'string', description: 'copied, if present' },
      'x-retry-count': { type: 'integer', minimum: 0, description: 'retries before dead-lettering' },
      'x-original-exchange': { type: 'string' },
      'x-original-routing-key': { type: 'string' },
      'x-source-queue': { type: 'string', description: 'the main queue it failed on (a replay goes back there)' },
      'x-consumer': { type: 'string', description: 'the consumer name (events.md §6.0)' },
      'x-failed-at': { type: 'string', format: 'date-time' },
    },
  };
}

function serverOf(serverUrl: string): JsonSchema {
  const url = new URL(serverUrl);
  const vhost = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return {
    host: url.host,
    ...(vhost ? { pathname: `/${vhost}` } : {}),
    protocol: url.protocol.replace(/:$/, ''),
    protocolVersion: '0-9-1',
    title: 'RabbitMQ',
    description: `RabbitMQ, virtual host \`${vhost || VHOST}\`. Every service declares the whole topology at startup (idempotent).`,
  };
}

// ---- the document --------------------------------------------------------------------------

/** The AsyncAPI 3 document of every exchange route, queue, message and operation. A fresh object per call. */
export function asyncApiDocument(opts: AsyncApiOptions = {}): AsyncApiDocument {
  const schemas = eventJsonSchemas();
  const channels: Record<string, AsyncApiChannel> = {};
  const operations: Record<string, AsyncApiOperation> = {};
  const messages: Record<string, JsonSchema> = {};
  const componentSchemas: Record<string, JsonSchema> = { ...schemas, DeadLetterHeaders: deadLetterHeaders() };
  const messageRefs = (names: string[]) =>
    Object.fromEntries(names.map((name) => [name, ref(pointer('components', 'messages', name))]));
  const channelMessageRefs = (channel: string, names: string[]) =>
    names.map((name) => ref(pointer('channels', channel, 'messages', name)));

  // Messages: one per event type, plus one per dead-lettered event type.
  for (const type of eventTypes) {
    messages[type] = {
      name: type,
      title: type,
      summary: `${type} envelope, routing key \`${events[type].routingKey}\`, published by ${PRODUCERS[type]}.`,
      contentType: 'application/json',
      headers: eventHeaders(type),
      payload: ref(pointer('components', 'schemas', type)),
      correlationId: ref(pointer('components', 'correlationIds', 'traceId')),
      bindings: { amqp: { contentEncoding: 'UTF-8', messageType: type, bindingVersion: BINDING_VERSION } },
      examples: [{ name: `${type}-example`, headers: { 'x-event-type': type }, payload: sampleEnvelope(type) }],
    };
  }
  const deadLetterMessage = (type: EventType, queue: string) => {
    const name = `${type}DeadLettered`;
    messages[name] ??= {
      name,
      title: `${type} (dead-lettered)`,
      summary: `A ${type} its consumer gave up on: the original body, unchanged, with the reason in x-dlq-reason.`,
      description: `Published by the consumer of \`${queue}\`. The body is copied byte for byte, so a POISON copy may not match the schema (that is why it was dead-lettered). message_id is copied.`,
      contentType: 'application/json',
      headers: ref(pointer('components', 'schemas', 'DeadLetterHeaders')),
      payload: ref(pointer('components', 'schemas', type)),
      bindings: { amqp: { contentEncoding: 'UTF-8', bindingVersion: BINDING_VERSION } },
    };
    return name;
  };

  // ecom.events: one channel per routing key, one send operation per event type (its producer).
  for (const type of eventTypes) {
    const { routingKey } = events[type];
    const service = PRODUCERS[type];
    channels[routingKey] = {
      address: routingKey,
      title: `${EVENTS_EXCHANGE} ${routingKey}`,
      description: `Topic exchange \`${EVENTS_EXCHANGE}\`, routing key \`${routingKey}\`. Bound queues: ${
        CONSUMED.filter((c) => topicMatches(c.bindingKey, routingKey))
          .map((c) => `\`${c.queue}\` (${c.service})`)
          .join(', ') || 'none'
      }.`,
      messages: messageRefs([type]),
      bindings: { amqp: exchangeBinding(EVENTS_EXCHANGE, 'topic') },
    };
    operations[`${service}.publish.${type}`] = {
      action: 'send',
      channel: ref(pointer('channels', routingKey)),
      messages: channelMessageRefs(routingKey, [type]),
      title: `${service} publishes ${type}`,
      description:
        'Written to the outbox in the same transaction as the state change (for a reaction: the transaction that consumed its cause), then relayed with publisher confirms and mandatory (events.md §7). message_id = x-event-id = the envelope event_id, the same on every re-publish.',
      tags: [{ name: service }],
      bindings: { amqp: { deliveryMode: 2, mandatory: true, bindingVersion: BINDING_VERSION } },
    };
  }

  // The consumed queues, with their retry and DLQ queues (messaging-topology.md §2–4).
  for (const c of CONSUMED) {
    const types = typesBoundTo(c.bindingKey);
    const svc = shortName(c.service);
    const retryExchange = `${svc}.retry.exchange`;
    const dlqExchange = `${svc}.dlq.exchange`;
    const retryQueue = `${c.queue}.retry`;
    const dlqQueue = `${c.queue}.dlq`;
    const retryNote = c.retry
      ? `A failed message is rejected to \`${retryQueue}\` and comes back after ${RETRY_TTL_MS} ms; after the last retry, or at once for a poison message, a copy goes to \`${dlqQueue}\`.`
      : `No broker DLX (the spec's arguments are exact): the consumer itself publishes retries to \`${retryQueue}\` and dead letters to \`${dlqQueue}\` through \`${retryExchange}\` / \`${dlqExchange}\` (additive queues of this implementation, not described here).`;
    channels[c.queue] = {
      address: c.queue,
      title: c.queue,
      description: `Bound to \`${EVENTS_EXCHANGE}\` with \`${c.bindingKey}\`; consumed by ${c.service}. ${retryNote}${
        c.note ? ` ${c.note}` : ''
      }`,
      messages: messageRefs(types),
      bindings: {
        amqp: queueBinding(
          c.queue,
          c.retry ? { 'x-dead-letter-exchange': retryExchange, 'x-dead-letter-routing-key': retryQueue } : {},
          { exchange: EVENTS_EXCHANGE, bindingKey: c.bindingKey },
        ),
      },
    };
    operations[`${c.service}.consume.${c.queue}`] = {
      action: 'receive',
      channel: ref(pointer('channels', c.queue)),
      messages: channelMessageRefs(c.queue, types),
      title: `${c.service} consumes ${c.queue}`,
      description: `Manual ack after the database commit; duplicates (same message_id) are acknowledged and skipped. ${retryNote}`,
      tags: [{ name: c.service }],
      bindings: { amqp: { ack: true, bindingVersion: BINDING_VERSION } },
    };
    if (!c.retry) continue;

    channels[retryQueue] = {
      address: retryQueue,
      title: retryQueue,
      description: `TTL parking for \`${c.queue}\`: nobody consumes it. After ${RETRY_TTL_MS} ms a message is dead-lettered to \`${EVENTS_EXCHANGE}\` with its original routing key \`${c.bindingKey}\` (so every queue bound to that key gets it again).`,
      messages: messageRefs(types),
      bindings: {
        amqp: queueBinding(
          retryQueue,
          {
            'x-message-ttl': RETRY_TTL_MS,
            'x-dead-letter-exchange': EVENTS_EXCHANGE,
            'x-dead-letter-routing-key': c.bindingKey,
          },
          { exchange: retryExchange, bindingKey: retryQueue },
        ),
      },
    };

    const deadLettered = types.map((type) => deadLetterMessage(type, c.queue));
    channels[dlqQueue] = {
      address: dlqQueue,
      title: dlqQueue,
      description: `Dead letters of \`${c.queue}\`, for operators (/admin/dlq, npm run dlq): list, replay to the source queue, discard. Nobody consumes it.`,
      messages: messageRefs(deadLettered),
      bindings: { amqp: queueBinding(dlqQueue, {}, { exchange: dlqExchange, bindingKey: dlqQueue }) },
    };
    // The route the consumer publishes the copy through (direct exchange, key = DLQ name).
    const route = `${dlqExchange}.${dlqQueue}`;
    channels[route] = {
      address: dlqQueue,
      title: `${dlqExchange} ${dlqQueue}`,
      description: `Direct exchange \`${dlqExchange}\`, routing key \`${dlqQueue}\` → queue \`${dlqQueue}\`.`,
      messages: messageRefs(deadLettered),
      bindings: { amqp: exchangeBinding(dlqExchange, 'direct') },
    };
    operations[`${c.service}.dead-letter.${c.queue}`] = {
      action: 'send',
      channel: ref(pointer('channels', route)),
      messages: channelMessageRefs(route, deadLettered),
      title: `${c.service} dead-letters from ${c.queue}`,
      description:
        'The copy is published (with confirms) before the original is acknowledged (messaging-topology.md §4.3).',
      tags: [{ name: c.service }],
      bindings: { amqp: { deliveryMode: 2, mandatory: true, bindingVersion: BINDING_VERSION } },
    };
  }

  const services = [...new Set<MessagingService>([...Object.values(PRODUCERS), ...CONSUMED.map((c) => c.service)])];
  return {
    asyncapi: ASYNCAPI_VERSION,
    id: 'urn:ecom-platform:events',
    info: {
      title: opts.title ?? 'ecom-platform events',
      version: opts.version ?? `${ENVELOPE_VERSION}.0.0`,
      description: [
        `Every business event goes to the topic exchange \`${EVENTS_EXCHANGE}\` as a UTF-8 JSON envelope (events.md §1).`,
        'Readers ignore unknown members, accept a null or missing identity and any number of fractional-second digits.',
        'Generated from @ecom/contracts: the payload schemas are the ones publishers and consumers validate with.',
      ].join(' '),
      tags: services.map((name) => ({ name, description: `operations of ${name}` })),
    },
    defaultContentType: 'application/json',
    servers: { rabbitmq: serverOf(opts.serverUrl ?? 'amqp://rabbitmq:5672') },
    channels,
    operations,
    components: {
      schemas: componentSchemas,
      messages,
      correlationIds: {
        traceId: {
          description: 'saga-wide correlation id, copied unchanged into every reaction (events.md §5)',
          location: '$message.payload#/trace_id',
        },
      },
    },
  };
}

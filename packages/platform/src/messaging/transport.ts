/**
 * The Transport port: what the outbox relay and the consumer pipeline need from a broker.
 * Two implementations share these semantics — AMQP (RabbitMQ, the production path) and the
 * in-process twin (embedded default, fast tests). Nothing above this port knows which it has.
 */

/** Header values as they travel on AMQP (strings, numbers, booleans, arrays/tables for x-death). */
export type HeaderValue = string | number | boolean | null | HeaderValue[] | { [k: string]: HeaderValue };
export type Headers = Record<string, HeaderValue>;

export interface ExchangeSpec {
  name: string;
  type: 'topic' | 'direct';
}

export interface QueueSpec {
  name: string;
  /** Exact AMQP queue arguments (x-dead-letter-exchange, x-dead-letter-routing-key, x-message-ttl). */
  arguments: Record<string, string | number>;
}

export interface BindingSpec {
  exchange: string;
  queue: string;
  bindingKey: string;
}

export interface Topology {
  exchanges: ExchangeSpec[];
  queues: QueueSpec[];
  bindings: BindingSpec[];
}

export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  /** Published byte for byte. */
  body: Buffer;
  /** AMQP message_id; for events it is the envelope event_id (= the outbox row id). */
  messageId?: string;
  headers?: Headers;
  contentType?: string;
  contentEncoding?: string;
}

export interface Delivery {
  body: Buffer;
  exchange: string;
  routingKey: string;
  messageId?: string;
  headers: Headers;
  contentType?: string;
  /** True when the broker has delivered this message before (after a lost ack or a reconnect). */
  redelivered: boolean;
}

/** What the consumer decides about one delivery; exactly one per delivery. */
export type Settlement =
  | { kind: 'ack' }
  /** basic.reject requeue=false: the broker dead-letters it via the queue's DLX (retry path) or drops it. */
  | { kind: 'reject' }
  /** Put it back at the head of the queue (used only while a dependency is down, with back-off). */
  | { kind: 'requeue' };

export type DeliveryHandler = (delivery: Delivery) => Promise<Settlement>;

export interface ConsumeOptions {
  /** Unacked deliveries in flight for this consumer (AMQP prefetch). */
  prefetch: number;
}

export interface Subscription {
  /** Stops new deliveries; in-flight handlers finish and settle. */
  cancel(): Promise<void>;
}

/** Thrown by publish() when the broker cannot route the message (mandatory) or nacks it. */
export class PublishError extends Error {
  constructor(
    message: string,
    readonly reason: 'unroutable' | 'nacked' | 'closed',
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

export interface Transport {
  readonly kind: 'amqp' | 'in-process';
  /** Idempotent: declaring the same topology twice is a no-op; a conflicting argument fails loudly. */
  declare(topology: Topology): Promise<void>;
  /**
   * Resolves only after the broker has confirmed the message AND routed it to at least one
   * queue (mandatory). Rejects with PublishError otherwise; the caller keeps the row pending.
   */
  publish(message: OutgoingMessage): Promise<void>;
  /** Consumes with manual settlement. Survives reconnects: the subscription resumes by itself. */
  consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription>;
  /**
   * Takes one message off a queue without a consumer (basic.get), for DLQ tools. The caller
   * settles it; an unsettled message returns to the queue when the transport closes.
   */
  get(queue: string): Promise<{ delivery: Delivery; settle(s: Settlement): Promise<void> } | null>;
  /** Messages ready in a queue (for DLQ listing, metrics and tests). */
  queueDepth(queue: string): Promise<number>;
  /** Connected and usable right now (readiness). */
  isHealthy(): boolean;
  close(): Promise<void>;
}

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { type AsyncAPIDocumentInterface, Parser } from '@asyncapi/parser';
import { type AsyncApiDocument, asyncApiDocument } from './asyncapi.js';
import { eventTypes } from './events.js';
import { eventJsonSchemas } from './json-schema.js';
import { parseEnvelope } from './validate.js';

// ---- the spec, copied by hand (NOT derived from the code under test) -------------------------

/** events.md §2: event_type → [routing key, producer, [queue, consuming service][]]. */
const SPEC_EVENTS: Record<string, [string, string, [string, string][]]> = {
  OrderCreated: ['order.created', 'order-service', [['q.inventory.order-created', 'inventory-service']]],
  InventoryReserved: [
    'inventory.reserved',
    'inventory-service',
    [
      ['q.payment.inventory-reserved', 'payment-service'],
      ['q.order.inventory-result', 'order-service'],
    ],
  ],
  InventoryFailed: ['inventory.failed', 'inventory-service', [['q.order.inventory-result', 'order-service']]],
  InventoryReleaseRequested: [
    'inventory.release.requested',
    'order-service',
    [['q.inventory.release-requested', 'inventory-service']],
  ],
  InventoryReleased: ['inventory.released', 'inventory-service', [['q.order.inventory-result', 'order-service']]],
  PaymentSucceeded: [
    'payment.succeeded',
    'payment-service',
    [
      ['q.order.payment-result', 'order-service'],
      ['q.notification.payment-result', 'notification-service'],
    ],
  ],
  PaymentFailed: [
    'payment.failed',
    'payment-service',
    [
      ['q.order.payment-result', 'order-service'],
      ['q.notification.payment-result', 'notification-service'],
    ],
  ],
};

const dlx = (svc: string, queue: string) => ({
  'x-dead-letter-exchange': `${svc}.retry.exchange`,
  'x-dead-letter-routing-key': `${queue}.retry`,
});
const ttl = (back: string) => ({
  'x-message-ttl': 10000,
  'x-dead-letter-exchange': 'ecom.events',
  'x-dead-letter-routing-key': back,
});

/** messaging-topology.md §2–3: queue → [source exchange, binding key, arguments]. */
const SPEC_QUEUES: Record<string, [string, string, Record<string, string | number>]> = {
  'q.inventory.order-created': ['ecom.events', 'order.created', dlx('inventory', 'q.inventory.order-created')],
  'q.inventory.order-created.retry': [
    'inventory.retry.exchange',
    'q.inventory.order-created.retry',
    ttl('order.created'),
  ],
  'q.inventory.order-created.dlq': ['inventory.dlq.exchange', 'q.inventory.order-created.dlq', {}],
  'q.inventory.release-requested': [
    'ecom.events',
    'inventory.release.requested',
    dlx('inventory', 'q.inventory.release-requested'),
  ],
  'q.inventory.release-requested.retry': [
    'inventory.retry.exchange',
    'q.inventory.release-requested.retry',
    ttl('inventory.release.requested'),
  ],
  'q.inventory.release-requested.dlq': ['inventory.dlq.exchange', 'q.inventory.release-requested.dlq', {}],
  'q.payment.inventory-reserved': ['ecom.events', 'inventory.reserved', dlx('payment', 'q.payment.inventory-reserved')],
  'q.payment.inventory-reserved.retry': [
    'payment.retry.exchange',
    'q.payment.inventory-reserved.retry',
    ttl('inventory.reserved'),
  ],
  'q.payment.inventory-reserved.dlq': ['payment.dlq.exchange', 'q.payment.inventory-reserved.dlq', {}],
  'q.order.inventory-result': ['ecom.events', 'inventory.*', {}],
  'q.order.payment-result': ['ecom.events', 'payment.*', {}],
  'q.notification.payment-result': ['ecom.events', 'payment.*', {}],
};

/** messaging-topology.md §4.3 + §6 "Publishes elsewhere": DLQ → [publishing service, its main queue]. */
const SPEC_DLQ_PUBLISHERS: Record<string, [string, string]> = {
  'q.inventory.order-created.dlq': ['inventory-service', 'q.inventory.order-created'],
  'q.inventory.release-requested.dlq': ['inventory-service', 'q.inventory.release-requested'],
  'q.payment.inventory-reserved.dlq': ['payment-service', 'q.payment.inventory-reserved'],
};

// ---- the checker (plain JSON, so it can be run against mutated documents) ------------------

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});

function resolve(doc: AsyncApiDocument, ref: unknown): Json {
  const path = String(obj(ref).$ref ?? '');
  assert.ok(path.startsWith('#/'), `not a local $ref: ${path}`);
  let node: unknown = doc;
  for (const seg of path.slice(2).split('/')) node = obj(node)[seg.replaceAll('~1', '/').replaceAll('~0', '~')];
  // Follow chains (an operation's message → the channel's message → components.messages).
  return '$ref' in obj(node) ? resolve(doc, node) : obj(node);
}

/** Every way the document can disagree with the spec tables above or with the contracts. */
function problemsOf(doc: AsyncApiDocument): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const schemas = eventJsonSchemas();
  const messageNames = (refs: unknown[]) => refs.map((r) => String(resolve(doc, r).name)).sort();
  const channelOf = (op: { channel: unknown }) =>
    resolve(doc, op.channel) as unknown as AsyncApiDocument['channels'][string];
  const binding = (c: { bindings: { amqp: Json } }) => c.bindings.amqp;

  // Messages: exactly the spec's event types (+ dead-letter copies), payload = the contract schema.
  const eventMessages = Object.values(doc.components.messages).filter((m) => !String(m.name).endsWith('DeadLettered'));
  assert.deepEqual(
    eventMessages.map((m) => m.name).sort(),
    Object.keys(SPEC_EVENTS).sort(),
    'event messages ≠ events.md §3',
  );
  for (const [name, message] of Object.entries(doc.components.messages)) {
    const type = String(message.name).replace(/DeadLettered$/, '') as keyof typeof schemas;
    expect(message.contentType === 'application/json', `${name}: contentType`);
    expect(
      JSON.stringify(resolve(doc, message.payload)) === JSON.stringify(schemas[type] ?? null),
      `${name}: payload ≠ contracts' ${type} schema`,
    );
    const headerSchema = '$ref' in obj(message.headers) ? resolve(doc, message.headers) : obj(message.headers);
    const headers = Object.keys(obj(headerSchema.properties));
    const wanted = name.endsWith('DeadLettered')
      ? ['x-dlq-reason', 'x-trace-id', 'x-event-type', 'x-retry-count', 'x-source-queue']
      : ['x-trace-id', 'x-event-type', 'x-event-id', 'traceparent'];
    for (const h of wanted) expect(headers.includes(h), `${name}: header ${h} missing`);
  }

  // ecom.events: a channel per routing key, sent by the spec's producer.
  for (const [type, [routingKey, producer]] of Object.entries(SPEC_EVENTS)) {
    const channel = doc.channels[routingKey];
    if (!channel) {
      problems.push(`no channel for ${routingKey}`);
      continue;
    }
    expect(channel.address === routingKey, `${routingKey}: address`);
    const amqp = binding(channel);
    expect(amqp.is === 'routingKey', `${routingKey}: is`);
    expect(
      JSON.stringify(amqp.exchange) ===
        JSON.stringify({ name: 'ecom.events', type: 'topic', durable: true, autoDelete: false, vhost: '/' }),
      `${routingKey}: exchange binding`,
    );
    const senders = Object.values(doc.operations)
      .filter((op) => op.action === 'send' && channelOf(op) === channel)
      .map((op) => [op.tags.map((t) => t.name).join(), messageNames(op.messages).join()]);
    expect(
      JSON.stringify(senders) === JSON.stringify([[producer, type]]),
      `${type}: senders ${JSON.stringify(senders)}`,
    );
  }

  // Every spec queue, with its exchange, binding key and exact arguments.
  const queueChannels = Object.values(doc.channels).filter((c) => binding(c).is === 'queue');
  assert.deepEqual(queueChannels.map((c) => c.address).sort(), Object.keys(SPEC_QUEUES).sort(), 'queues ≠ spec §2');
  for (const [queue, [exchange, bindingKey, args]] of Object.entries(SPEC_QUEUES)) {
    const amqp = binding(queueChannels.find((c) => c.address === queue) ?? { bindings: { amqp: {} } });
    expect(obj(amqp.queue).name === queue && obj(amqp.queue).durable === true, `${queue}: queue binding`);
    expect(JSON.stringify(amqp['x-arguments']) === JSON.stringify(args), `${queue}: arguments`);
    expect(JSON.stringify(amqp['x-bindings']) === JSON.stringify([{ exchange, bindingKey }]), `${queue}: binding`);
  }

  // Receivers: who consumes which queue, and which events reach it (events.md §2 last column).
  const received = new Map<string, Set<string>>(); // event type → "queue (service)"
  for (const op of Object.values(doc.operations).filter((o) => o.action === 'receive')) {
    const channel = channelOf(op);
    for (const type of messageNames(op.messages)) {
      const set = received.get(type) ?? new Set();
      set.add(`${channel.address} (${op.tags.map((t) => t.name).join()})`);
      received.set(type, set);
    }
  }
  for (const [type, [, , consumers]] of Object.entries(SPEC_EVENTS)) {
    const got = [...(received.get(type) ?? [])].sort();
    const want = consumers.map(([q, s]) => `${q} (${s})`).sort();
    expect(JSON.stringify(got) === JSON.stringify(want), `${type}: receivers ${JSON.stringify(got)}`);
    received.delete(type);
  }
  expect(received.size === 0, `receivers of unknown messages: ${[...received.keys()]}`);

  // Dead-letter copies: sent by the consuming service, into the DLQ's direct exchange.
  const dlqSends = Object.values(doc.operations).filter(
    (op) => op.action === 'send' && messageNames(op.messages).some((n) => n.endsWith('DeadLettered')),
  );
  const got = dlqSends.map((op) => `${channelOf(op).address} (${op.tags.map((t) => t.name).join()})`).sort();
  const want = Object.entries(SPEC_DLQ_PUBLISHERS)
    .map(([dlq, [svc]]) => `${dlq} (${svc})`)
    .sort();
  expect(JSON.stringify(got) === JSON.stringify(want), `DLQ publishers ${JSON.stringify(got)}`);
  for (const [dlq, [, main]] of Object.entries(SPEC_DLQ_PUBLISHERS)) {
    const dlqChannel = queueChannels.find((c) => c.address === dlq);
    const mainTypes = Object.entries(SPEC_EVENTS)
      .filter(([, [, , consumers]]) => consumers.some(([q]) => q === main))
      .map(([type]) => `${type}DeadLettered`);
    expect(
      JSON.stringify(Object.keys(dlqChannel?.messages ?? {}).sort()) === JSON.stringify(mainTypes.sort()),
      `${dlq}: messages`,
    );
  }
  return problems;
}

// ---- tests ---------------------------------------------------------------------------------

describe('asyncApiDocument (AsyncAPI 3)', () => {
  const doc = asyncApiDocument();
  let parsed: AsyncAPIDocumentInterface;

  before(async () => {
    const { document, diagnostics } = await new Parser().parse(structuredClone(doc) as never);
    const errors = diagnostics.filter((d) => d.severity === 0);
    assert.deepEqual(
      errors.map((d) => `${d.code} at ${d.path.join('/')}: ${d.message}`),
      [],
      'the AsyncAPI parser reports errors',
    );
    assert.ok(document, 'the parser returned no document');
    parsed = document;
    // Warnings do not fail the test; they are reported (node --test prints diagnostics).
    for (const d of diagnostics.filter((x) => x.severity !== 0))
      console.warn(`asyncapi parser: severity ${d.severity} ${d.code} at ${d.path.join('/')}: ${d.message}`);
  });

  test('parses with no error diagnostics as the latest AsyncAPI 3 version the parser knows', () => {
    assert.match(parsed.version(), /^3\./);
    assert.equal(parsed.info().title(), 'ecom-platform events');
    const server = parsed.servers().get('rabbitmq');
    assert.equal(server?.protocol(), 'amqp');
    assert.equal(server?.protocolVersion(), '0-9-1');
    assert.equal(server?.host(), 'rabbitmq:5672');
  });

  test('agrees with the spec tables and the contracts (no drift)', () => {
    assert.deepEqual(problemsOf(doc), []);
  });

  test('has every event type of the registry as a message, payload = its contract schema', () => {
    const strip = (node: unknown): unknown =>
      Array.isArray(node)
        ? node.map(strip)
        : typeof node === 'object' && node !== null
          ? Object.fromEntries(
              Object.entries(node)
                .filter(([k]) => !k.startsWith('x-parser-'))
                .map(([k, v]) => [k, strip(v)]),
            )
          : node;
    const schemas = eventJsonSchemas();
    for (const type of eventTypes) {
      const message = parsed.messages().get(type);
      assert.ok(message, `no message ${type}`);
      // Read through the parser (refs resolved), so the served document is what is compared.
      assert.deepEqual(strip(message.payload()?.json()), schemas[type], `${type} payload drifted`);
      assert.equal(message.contentType(), 'application/json');
    }
    assert.deepEqual(
      parsed
        .messages()
        .all()
        .map((m) => m.id())
        .filter((id) => !id.endsWith('DeadLettered'))
        .sort(),
      Object.keys(SPEC_EVENTS).sort(),
    );
  });

  test('operations through the parser: senders and receivers per service', () => {
    const byService = (action: 'send' | 'receive') => {
      const out: Record<string, string[]> = {};
      for (const op of parsed
        .operations()
        .all()
        .filter((o) => o.action() === action)) {
        const service = op.tags().all()[0]?.name() ?? '?';
        const addresses = op
          .channels()
          .all()
          .map((c) => c.address() ?? '');
        out[service] = [...(out[service] ?? []), ...addresses].sort();
      }
      return out;
    };
    // messaging-topology.md §6 "Consumes" / "Publishes to ecom.events" / "Publishes elsewhere".
    assert.deepEqual(byService('receive'), {
      'inventory-service': ['q.inventory.order-created', 'q.inventory.release-requested'],
      'payment-service': ['q.payment.inventory-reserved'],
      'order-service': ['q.order.inventory-result', 'q.order.payment-result'],
      'notification-service': ['q.notification.payment-result'],
    });
    assert.deepEqual(byService('send'), {
      'order-service': ['inventory.release.requested', 'order.created'],
      'inventory-service': [
        'inventory.failed',
        'inventory.released',
        'inventory.reserved',
        'q.inventory.order-created.dlq',
        'q.inventory.release-requested.dlq',
      ],
      'payment-service': ['payment.failed', 'payment.succeeded', 'q.payment.inventory-reserved.dlq'],
    });
  });

  test('every example payload is a valid envelope of its type', () => {
    for (const type of eventTypes) {
      const examples = (doc.components.messages[type]?.examples ?? []) as { payload: unknown }[];
      assert.ok(examples.length > 0, `${type}: no example`);
      for (const ex of examples) {
        const result = parseEnvelope(JSON.stringify(ex.payload), [type]);
        assert.ok(result.ok, `${type} example: ${result.ok ? '' : result.reason}`);
      }
    }
  });

  test('the checker catches drift (so the test above can fail)', () => {
    const mutants: [string, (d: AsyncApiDocument) => void][] = [
      ['an event removed from the document', (d) => delete d.components.messages.PaymentFailed],
      [
        'a payload schema that drifted',
        (d) => {
          (d.components.schemas.InventoryReserved as { required: string[] }).required.pop();
        },
      ],
      ['a queue missing', (d) => delete d.channels['q.payment.inventory-reserved.retry']],
      [
        'a wrong queue argument',
        (d) => {
          const amqp = d.channels['q.inventory.order-created.retry']?.bindings.amqp as Json;
          (amqp['x-arguments'] as Json)['x-message-ttl'] = 5000;
        },
      ],
      [
        'a wrong producer',
        (d) => {
          const op = Object.values(d.operations).find((o) => o.title.includes('publishes OrderCreated'));
          if (op) op.tags = [{ name: 'inventory-service' }];
        },
      ],
      [
        'a receiver missing',
        (d) => {
          delete d.operations['notification-service.consume.q.notification.payment-result'];
        },
      ],
    ];
    for (const [what, mutate] of mutants) {
      const d = asyncApiDocument();
      mutate(d);
      let problems: string[];
      try {
        problems = problemsOf(d);
      } catch (err) {
        problems = [(err as Error).message];
      }
      assert.ok(problems.length > 0, `not detected: ${what}`);
    }
  });

  test('options: title, version and server; credentials never copied; a fresh object per call', () => {
    const d = asyncApiDocument({
      title: 'payment-service',
      version: '2.3.4',
      serverUrl: 'amqps://cloud:secret@mq.example:5671/prod',
    });
    assert.equal(d.info.title, 'payment-service');
    assert.equal(d.info.version, '2.3.4');
    assert.deepEqual(
      { ...d.servers.rabbitmq, title: undefined, description: undefined },
      {
        host: 'mq.example:5671',
        pathname: '/prod',
        protocol: 'amqps',
        protocolVersion: '0-9-1',
        title: undefined,
        description: undefined,
      },
    );
    assert.ok(!JSON.stringify(d).includes('secret'));
    d.channels = {};
    assert.ok(Object.keys(asyncApiDocument().channels).length > 0);
  });
});

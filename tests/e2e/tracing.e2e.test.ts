/**
 * One order = one trace, black box: the six services run in a child process under the tracing
 * bootstrap (`--import packages/platform/telemetry/register.mjs`, exactly as `npm start`), export
 * OTLP/HTTP JSON to a receiver in this process, and the child reports what a client and a probe
 * queue saw (tracing-scenario.ts). Embedded AND on the real servers (there pg, ioredis and
 * amqplib add their own spans to the same trace).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type OtlpReceiver, type ReceivedSpan, SPAN_KIND, startOtlpReceiver, waitFor } from '@ecom/platform/testing';
import type { StackMode } from './stack.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Message {
  routingKey: string;
  messageId: string | null;
  eventType: string;
  envelopeTraceId: string;
  traceparent: string | null;
  xTraceId: string | null;
}
interface OrderRun {
  orderId: string;
  status: string;
  sentTraceId: string | null;
  responseTraceId: string | null;
  outboxTraceparent: string | null;
  messages: Message[];
}

/** Who consumes what, and as which service (spec messaging-topology.md). */
const HOPS: { routingKey: string; eventType: string; publisher: string; consumers: [string, string][] }[] = [
  {
    routingKey: 'order.created',
    eventType: 'OrderCreated',
    publisher: 'order-service',
    consumers: [['q.inventory.order-created', 'inventory-service']],
  },
  {
    routingKey: 'inventory.reserved',
    eventType: 'InventoryReserved',
    publisher: 'inventory-service',
    consumers: [
      ['q.payment.inventory-reserved', 'payment-service'],
      ['q.order.inventory-result', 'order-service'],
    ],
  },
  {
    routingKey: 'payment.succeeded',
    eventType: 'PaymentSucceeded',
    publisher: 'payment-service',
    consumers: [
      ['q.order.payment-result', 'order-service'],
      ['q.notification.payment-result', 'notification-service'],
    ],
  },
];

const hex = (uuid: string) => uuid.replaceAll('-', '');
const parseTraceparent = (tp: string) => {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(tp);
  assert.ok(m, `W3C traceparent, sampled: ${tp}`);
  return { traceId: m[1]!, parentId: m[2]! };
};

for (const mode of ['embedded', 'real'] as const satisfies readonly StackMode[]) {
  describe(`one order = one trace (${mode})`, () => {
    let receiver: OtlpReceiver;
    let orders: OrderRun[];
    let output = '';
    const dir = mkdtempSync(join(tmpdir(), 'tracing-e2e-'));

    before(async () => {
      receiver = await startOtlpReceiver();
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
      const child = spawn(
        process.execPath,
        [
          '--conditions=source',
          '--import',
          'tsx',
          '--import',
          './packages/platform/telemetry/register.mjs',
          'tests/e2e/tracing-scenario.ts',
        ],
        {
          cwd: ROOT,
          env: {
            ...clean,
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, // a base URL: /v1/traces is appended
            OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
            OTEL_BSP_SCHEDULE_DELAY: '100',
            MANAGEMENT_TRACING_SAMPLING_PROBABILITY: '1.0',
            TRACING_STACK_MODE: mode,
            RESULT_FILE: join(dir, 'result.json'),
            E2E_LOG_LEVEL: 'warn',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout.on('data', (c) => (output += c));
      child.stderr.on('data', (c) => (output += c));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 0, `scenario child failed\n${output}`);
      orders = (JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { orders: OrderRun[] }).orders;
    });

    after(async () => {
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Every span of a trace, once the saga's last consumer span has arrived. */
    const traceOf = (traceHex: string) =>
      waitFor(() => {
        const spans = receiver.spans().filter((s) => s.traceId === traceHex);
        return spans.some((s) => s.name === 'process q.notification.payment-result') ? spans : undefined;
      });

    for (const [i, label] of ['without X-Trace-Id', 'with a client UUID X-Trace-Id'].entries()) {
      test(`order ${label}: ONE trace from POST /api/orders through every consumer, ids equal everywhere`, async () => {
        const order = orders[i]!;
        assert.equal(order.status, 'CONFIRMED');
        assert.equal(order.messages.length >= 3, true, JSON.stringify(order.messages));

        // The envelope trace_id: one per saga (events.md §5) …
        const envelope = new Set(order.messages.map((m) => m.envelopeTraceId));
        assert.equal(envelope.size, 1, [...envelope].join(', '));
        const traceId = [...envelope][0]!;
        // … equal to the response X-Trace-Id (made from the trace, or the client's own UUID) …
        assert.equal(order.responseTraceId, traceId, 'X-Trace-Id = envelope trace_id');
        if (order.sentTraceId) assert.equal(traceId, order.sentTraceId, 'the client UUID started the trace');
        // … and to the OTel trace id of every span of the saga.
        const spans = await traceOf(hex(traceId));
        const byId = new Map(spans.map((s) => [s.spanId, s]));

        const services = new Set(spans.map((s) => s.service));
        for (const s of ['order-service', 'inventory-service', 'payment-service', 'notification-service'])
          assert.ok(services.has(s), `${s} in the trace (have ${[...services].join(', ')})`);

        const roots = spans.filter((s) => s.parentSpanId === '');
        assert.equal(roots.length, 1, `one root: ${roots.map((r) => r.name).join(', ')}`);
        assert.deepEqual(
          [roots[0]!.name, roots[0]!.kind, roots[0]!.service],
          ['POST /api/orders', SPAN_KIND.server, 'order-service'],
        );
        const dangling = spans.filter((s) => s.parentSpanId !== '' && !byId.has(s.parentSpanId));
        assert.deepEqual(
          dangling.map((s) => `${s.service} ${s.name}`),
          [],
          'every parent is in the trace (context carried across every hop)',
        );

        // The catalog lookup (fetch) is a client span of the request, and catalog-service's server
        // span its child: the first order's lookup misses order-service's catalog cache (the
        // second order, same SKU, is answered from it, so it has no catalog hop to check).
        if (i === 0) {
          const catalogServer = spans.find((s) => s.service === 'catalog-service' && s.kind === SPAN_KIND.server);
          assert.ok(catalogServer, `a catalog-service server span (have ${[...services].join(', ')})`);
          const client = byId.get(catalogServer.parentSpanId);
          assert.deepEqual([client?.kind, client?.service], [SPAN_KIND.client, 'order-service'], 'fetch client span');
          assert.ok(isBelow(client!, roots[0]!, byId), 'the client span is inside POST /api/orders');
        }

        // The outbox row of OrderCreated kept the request's context; the relay published under it.
        const stored = parseTraceparent(String(order.outboxTraceparent));
        assert.equal(stored.traceId, hex(traceId));
        const writer = byId.get(stored.parentId);
        assert.equal(writer?.service, 'order-service', 'the stored traceparent is a span of the request');

        for (const hop of HOPS) {
          const message = order.messages.find((m) => m.routingKey === hop.routingKey);
          assert.ok(message, `${hop.routingKey} seen on the probe`);
          assert.equal(message.eventType, hop.eventType);
          assert.equal(message.xTraceId, traceId);
          // traceparent header: the trace id IS trace_id, the parent a publish span of this trace.
          const tp = parseTraceparent(String(message.traceparent));
          assert.equal(tp.traceId, hex(traceId), `${hop.routingKey} traceparent trace id = trace_id`);
          assert.equal(byId.get(tp.parentId)?.kind, SPAN_KIND.producer, `${hop.routingKey} traceparent parent`);

          const publish = spans.find(
            (s) => s.name === `publish ${hop.routingKey}` && s.attributes['messaging.message.id'] === message.messageId,
          );
          assert.ok(publish, `publish ${hop.routingKey} span`);
          assert.deepEqual(
            [publish.kind, publish.service, publish.attributes['ecom.event.type']],
            [SPAN_KIND.producer, hop.publisher, hop.eventType],
          );
          if (hop.routingKey === 'order.created')
            assert.equal(publish.parentSpanId, stored.parentId, 'relay restored the request context');

          for (const [queue, service] of hop.consumers) {
            const consumed: ReceivedSpan | undefined = spans.find(
              (s) => s.name === `process ${queue}` && s.attributes['messaging.message.id'] === message.messageId,
            );
            assert.ok(consumed, `process ${queue} span`);
            assert.deepEqual(
              [consumed.kind, consumed.service, consumed.attributes['ecom.outcome']],
              [SPAN_KIND.consumer, service, 'handled'],
            );
            assert.ok(isBelow(consumed, publish, byId), `process ${queue} descends from publish ${hop.routingKey}`);
          }
        }
      });
    }

    test('span counts per order (reported, not asserted)', async () => {
      for (const order of orders) {
        const spans = await traceOf(hex(order.messages[0]!.envelopeTraceId));
        const kinds = new Map<string, number>();
        for (const s of spans) kinds.set(s.service, (kinds.get(s.service) ?? 0) + 1);
        console.log(
          `# ${mode}: ${spans.length} spans in the order's trace (${[...kinds].map(([k, v]) => `${k} ${v}`).join(', ')})`,
        );
      }
    });
  });
}

function isBelow(span: ReceivedSpan, ancestor: ReceivedSpan, byId: Map<string, ReceivedSpan>): boolean {
  for (let s: ReceivedSpan | undefined = span; s; s = byId.get(s.parentSpanId)) if (s === ancestor) return true;
  return false;
}

/**
 * The kernel's message tracing, in-process (PGlite + in-process transport, the messaging
 * fixture service) with the SDK started in this process on an in-memory exporter: the consumer
 * continues a message's traceparent, its outbox row keeps the consumer's context, the relay
 * publishes in it; and the fallbacks keep OTel trace id == envelope trace_id. The whole saga
 * across six services, with the bootstrap and OTLP, is tests/e2e/tracing.e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createEvent } from '@ecom/contracts';
import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Database } from '../db/database.js';
import { messagingFixture } from '../fixtures/messaging-service.js';
import type { Transport } from '../messaging/transport.js';
import {
  startTestIssuer,
  startTestService,
  type TestIssuer,
  type TestService,
  uniqueName,
  waitFor,
} from '../testing/index.js';
import { startTelemetry, type TelemetryHandle } from './sdk.js';
import { telemetryState } from './state.js';

// This file starts the SDK itself (with an in-memory exporter); when the runner's bootstrap has
// already started one (`OTEL_SDK_DISABLED=false npm test`), there is nothing to read spans from.
const skip = telemetryState().enabled && 'tracing was already started by the --import bootstrap';

describe('message tracing through the kernel (in-process + PGlite)', { skip }, () => {
  const ns = `${uniqueName('t')}.`;
  const exporter = new InMemorySpanExporter();
  let telemetry: TelemetryHandle;
  let issuer: TestIssuer;
  let svc: TestService<unknown>;
  let db: Database;
  let transport: Transport;

  before(async () => {
    const started = await startTelemetry(
      { OTEL_SDK_DISABLED: 'false', OTEL_BSP_SCHEDULE_DELAY: '10', MANAGEMENT_TRACING_SAMPLING_PROBABILITY: '1' },
      { exporter },
    );
    assert.ok(started);
    telemetry = started;
    issuer = await startTestIssuer();
    svc = await startTestService(messagingFixture, 'pglite', {
      env: {
        MESSAGING_NAMESPACE: ns,
        APP_OUTBOX_POLL_INTERVAL_MS: '50',
        AUTH_JWKS_URI: issuer.jwksUri,
      },
    });
    db = svc.service.deps.db;
    transport = svc.service.deps.transport;
  });

  after(async () => {
    await svc.close();
    await issuer.close();
    await telemetry.shutdown(1000);
  });

  const spans = async (): Promise<ReadableSpan[]> => {
    await telemetry.provider.forceFlush();
    return exporter.getFinishedSpans();
  };
  const serviceOf = (s: ReadableSpan) => {
    // What the OTLP exporter would send: the attribution wrapper sets the resource.
    return telemetry.attribution.serviceOf(s);
  };
  const orderCreated = (traceId: string) =>
    createEvent(
      'OrderCreated',
      {
        order_id: randomUUID(),
        user_id: 'user-1',
        items: [{ sku_id: 'SKU-1', quantity: 1, price: 5 }],
        total_amount: 5,
      },
      { traceId, identity: { user_id: 'user-1', roles: ['buyer'] } },
    );
  const publish = (event: ReturnType<typeof orderCreated>, headers: Record<string, string>) =>
    transport.publish({
      exchange: `${ns}ecom.events`,
      routingKey: 'order.created',
      body: Buffer.from(JSON.stringify(event)),
      messageId: event.event_id,
      contentType: 'application/json',
      headers: { 'x-event-type': 'OrderCreated', 'x-trace-id': event.trace_id!, ...headers },
    });
  const reactionRow = (orderId: string) =>
    waitFor(async () => {
      const [row] = await db.query<{ id: string; traceparent: string | null; status: string }>(
        `SELECT id, traceparent, status FROM outbox_events WHERE event_type = 'InventoryReserved' AND payload LIKE $1`,
        [`%${orderId}%`],
      );
      return row?.status === 'SENT' ? row : undefined;
    });

  test('a delivery continues its traceparent; its outbox row keeps the process span; the relay publishes under it', async () => {
    const traceHex = randomUUID().replaceAll('-', '');
    const upstreamSpanId = 'a1b2c3d4e5f60718';
    const event = orderCreated(
      `${traceHex.slice(0, 8)}-${traceHex.slice(8, 12)}-${traceHex.slice(12, 16)}-${traceHex.slice(16, 20)}-${traceHex.slice(20)}`,
    );
    await publish(event, { traceparent: `00-${traceHex}-${upstreamSpanId}-01` });
    const row = await reactionRow(event.data.order_id);

    const all = await waitFor(async () => {
      const found = (await spans()).filter((s) => s.spanContext().traceId === traceHex);
      return found.some((s) => s.name === 'publish inventory.reserved') ? found : undefined;
    });
    const processSpan = all.find((s) => s.name === 'process q.inventory.order-created');
    const publishSpan = all.find((s) => s.name === 'publish inventory.reserved');
    assert.ok(processSpan && publishSpan, all.map((s) => s.name).join(', '));
    assert.equal(processSpan.kind, SpanKind.CONSUMER);
    assert.equal(processSpan.parentSpanContext?.spanId, upstreamSpanId, 'process continues the message traceparent');
    assert.equal(processSpan.attributes['messaging.message.id'], event.event_id);
    assert.equal(processSpan.attributes['ecom.event.type'], 'OrderCreated');
    assert.equal(processSpan.attributes['ecom.outcome'], 'handled');
    assert.equal(
      row.traceparent,
      `00-${traceHex}-${processSpan.spanContext().spanId}-01`,
      'the outbox row stores the context the handler ran in',
    );
    assert.equal(publishSpan.kind, SpanKind.PRODUCER);
    assert.equal(publishSpan.parentSpanContext?.spanId, processSpan.spanContext().spanId, 'relay restores it');
    assert.equal(publishSpan.attributes['messaging.message.id'], row.id);
    assert.equal(serviceOf(processSpan), 'messaging-fixture');
    assert.equal(serviceOf(publishSpan), 'messaging-fixture');
    const run = (await spans()).find(
      (s) => s.name === 'outbox relay' && s.links.some((l) => l.context.spanId === publishSpan.spanContext().spanId),
    );
    assert.ok(run, 'the relay run is a span linked to the publish');
    assert.equal(run.parentSpanContext, undefined);
  });

  test('no traceparent on the message: the new trace takes the envelope trace_id (x-trace-id)', async () => {
    const event = orderCreated(randomUUID());
    await publish(event, {});
    await reactionRow(event.data.order_id);
    const hex = event.trace_id!.replaceAll('-', '');
    const all = await waitFor(async () => {
      const found = (await spans()).filter((s) => s.spanContext().traceId === hex);
      return found.some((s) => s.name === 'publish inventory.reserved') ? found : undefined;
    });
    const processSpan = all.find((s) => s.name === 'process q.inventory.order-created');
    assert.ok(processSpan);
    assert.equal(processSpan.parentSpanContext, undefined, 'a root span, no phantom parent');
  });

  test('outbox rows: a stored traceparent of ANOTHER trace, or none, still publish in the envelope trace', async () => {
    const outbox = svc.service.deps.outbox;
    const other = trace.wrapSpanContext({
      traceId: randomUUID().replaceAll('-', ''),
      spanId: '0102030405060708',
      traceFlags: 1,
      isRemote: true,
    });
    const foreign = orderCreated(randomUUID());
    const none = orderCreated(randomUUID());
    await context.with(trace.setSpan(ROOT_CONTEXT, other), () => db.transaction((tx) => outbox.add(tx, foreign)));
    await db.transaction((tx) => outbox.add(tx, none));
    for (const event of [foreign, none]) {
      const hex = event.trace_id!.replaceAll('-', '');
      const publishSpan = await waitFor(async () =>
        (await spans()).find((s) => s.name === 'publish order.created' && s.spanContext().traceId === hex),
      );
      assert.equal(publishSpan.parentSpanContext, undefined, 'a root in the envelope trace');
    }
    const [stored] = await db.query<{ traceparent: string | null }>(
      'SELECT traceparent FROM outbox_events WHERE id = $1',
      [foreign.event_id],
    );
    assert.match(String(stored?.traceparent), new RegExp(`^00-${other.spanContext().traceId}-0102030405060708-01$`));
  });
});

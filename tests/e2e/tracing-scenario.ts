/**
 * Child process of tracing.e2e.test.ts, started with the tracing bootstrap
 * (`--import packages/platform/telemetry/register.mjs`) and pointed at the test's OTLP receiver.
 * Runs the six services (tests/e2e/stack.ts), places two orders through to CONFIRMED — one
 * without X-Trace-Id, one with a client UUID X-Trace-Id — and writes what a black-box client and
 * a probe queue saw to RESULT_FILE. The parent compares that with the spans it received.
 *
 *   TRACING_STACK_MODE=embedded|real  RESULT_FILE=/tmp/x.json
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { type Delivery, shutdownTelemetry } from '@ecom/platform';
import { attachProbe, waitFor } from '@ecom/platform/testing';
import { json, placeOrder, seed, token, waitForStatus } from './client.js';
import { type StackMode, startStack } from './stack.js';

const mode = (process.env.TRACING_STACK_MODE ?? 'embedded') as StackMode;
const resultFile = process.env.RESULT_FILE;
if (!resultFile) throw new Error('RESULT_FILE is required');

const stack = await startStack(mode);
const seen: Delivery[] = [];
try {
  await attachProbe(stack.transport, stack.name(''), { onDelivery: (d) => seen.push(d) });
  const sku = `TRACE-${randomUUID().slice(0, 8)}`;
  await seed(stack, [{ skuId: sku, price: 10, stock: 10 }]);
  const buyer = await token(stack, 'buyer-trace', ['buyer']);

  const clientTraceId = randomUUID();
  const orders = [];
  for (const traceId of [undefined, clientTraceId]) {
    const placed = await placeOrder(
      stack,
      buyer,
      { userId: 'buyer-trace', items: [{ skuId: sku, quantity: 1, price: 10 }] },
      traceId ? { traceId } : {},
    );
    if (placed.status !== 201) throw new Error(`POST /api/orders: ${placed.status} ${JSON.stringify(placed.body)}`);
    const orderId = placed.body.orderId as string;
    const done = await waitForStatus(stack, buyer, orderId);
    // The saga's last consumer: notification records PaymentSucceeded.
    await waitFor(
      async () =>
        (await json(await fetch(`${stack.urls.notification}/api/notifications/events?orderId=${orderId}`))).length > 0,
      { timeoutMs: 20_000 },
    );
    await waitFor(() => seen.filter((d) => d.body.toString().includes(orderId)).length >= 3, { timeoutMs: 20_000 });
    const [outbox] = await stack
      .db('order')
      .query<{ traceparent: string | null }>(
        `SELECT traceparent FROM outbox_events WHERE event_type = 'OrderCreated' AND payload LIKE $1`,
        [`%${orderId}%`],
      );
    orders.push({
      orderId,
      status: done.status as string,
      sentTraceId: traceId ?? null,
      responseTraceId: placed.headers.get('x-trace-id'),
      outboxTraceparent: outbox?.traceparent ?? null,
      messages: seen
        .filter((d) => d.body.toString().includes(orderId))
        .map((d) => {
          const event = JSON.parse(d.body.toString()) as { event_type: string; trace_id: string };
          return {
            routingKey: d.routingKey,
            messageId: d.messageId ?? null,
            eventType: event.event_type,
            envelopeTraceId: event.trace_id,
            traceparent: typeof d.headers.traceparent === 'string' ? d.headers.traceparent : null,
            xTraceId: typeof d.headers['x-trace-id'] === 'string' ? d.headers['x-trace-id'] : null,
          };
        }),
    });
  }
  writeFileSync(resultFile, JSON.stringify({ mode, orders }));
} finally {
  await stack.close();
  await shutdownTelemetry(5000);
}

/**
 * Hostile messages into every consumed queue (issue "Reliability and security proven"): bad
 * JSON, wrong schema, unknown or unexpected event types, wrong types, missing ids, a 1 MiB body,
 * hostile strings, prototype keys, an over-long message_id. Each must end in THAT queue's DLQ
 * with an `x-dlq-reason` (at once: a poison message is never retried), nothing may crash or
 * pollute the process, and the consumers must keep going: a confirmed order and a compensated
 * one, placed afterwards, cross all six queues.
 *
 * Run by fuzz.int.test.ts on its stacks, after the HTTP fuzzing (whose "nothing changed" check
 * comes first): one stack start per mode serves both.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createEvent, type EventData, type EventType } from '@ecom/contracts';
import { type DlqMessage, listDlq } from '@ecom/platform';
import { waitFor } from '@ecom/platform/testing';
import { placeOrder, seed, stockOf, token, waitForStatus } from '../e2e/client.js';
import type { Stack, StackMode } from '../e2e/stack.js';
import { HTML, SQL } from './hostile.js';

/** The six spec queues and the event types each one accepts (events.md §2). */
const QUEUES: Record<string, EventType[]> = {
  'q.inventory.order-created': ['OrderCreated'],
  'q.inventory.release-requested': ['InventoryReleaseRequested'],
  'q.payment.inventory-reserved': ['InventoryReserved'],
  'q.order.inventory-result': ['InventoryReserved', 'InventoryFailed', 'InventoryReleased'],
  'q.order.payment-result': ['PaymentSucceeded', 'PaymentFailed'],
  'q.notification.payment-result': ['PaymentSucceeded', 'PaymentFailed'],
};

const ORDER = randomUUID();
const DATA: { [T in EventType]: EventData<T> } = {
  OrderCreated: {
    order_id: ORDER,
    user_id: 'user-1',
    items: [{ sku_id: 'SKU-001', quantity: 2, price: 19.9 }],
    total_amount: 39.8,
  },
  InventoryReserved: {
    order_id: ORDER,
    reservation_id: randomUUID(),
    reserved_items: [{ sku_id: 'SKU-001', quantity: 2 }],
  },
  InventoryFailed: { order_id: ORDER, reservation_id: randomUUID(), reason: 'INSUFFICIENT_STOCK:SKU-001' },
  InventoryReleaseRequested: { order_id: ORDER, reason: 'PAYMENT_FAILED' },
  InventoryReleased: {
    release_id: randomUUID(),
    order_id: ORDER,
    reservation_id: randomUUID(),
    reason: 'PAYMENT_FAILED',
    released_items: [{ sku_id: 'SKU-001', quantity: 2 }],
  },
  PaymentSucceeded: { order_id: ORDER, payment_id: randomUUID() },
  PaymentFailed: { order_id: ORDER, payment_id: randomUUID(), reason: 'MOCK_DECLINED' },
};

/** A valid envelope of `type`, as a plain object to break. */
function envelope(type: EventType): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(createEvent(type, DATA[type] as never, { traceId: randomUUID(), identity: null })),
  ) as Record<string, unknown>;
}

interface Hostile {
  kind: string;
  body: Buffer;
  /** AMQP message_id (`marker:kind`). */
  messageId?: string;
  /** Sent without an AMQP message_id. */
  anonymous?: boolean;
}

/** One message of each kind for `queue`; `marker` is in every body (and message id) to find it again. */
function hostileMessages(queue: string, marker: string): Hostile[] {
  const accepted = QUEUES[queue]![0]!;
  const foreign = (['OrderCreated', 'PaymentSucceeded', 'InventoryReleaseRequested'] as const).find(
    (t) => !QUEUES[queue]!.includes(t),
  )!;
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const valid = () => ({ ...envelope(accepted), marker });
  const id = (kind: string) => `${marker}:${kind}`;
  const messages: Hostile[] = [
    { kind: 'invalid-json', body: Buffer.from(`{"marker":"${marker}","event_type":"${accepted}","data":`) },
    { kind: 'not-an-object', body: json([marker, accepted]) },
    { kind: 'json-null', body: Buffer.from(`null ${marker}`) },
    {
      kind: 'binary-garbage',
      body: Buffer.concat([randomBytes(64), Buffer.from(marker), Buffer.from([0, 0xff, 0xfe])]),
    },
    { kind: 'empty-body', body: Buffer.alloc(0), anonymous: true },
    { kind: 'unknown-event-type', body: json({ ...valid(), event_type: `<script>alert('${marker}')</script>` }) },
    { kind: 'unexpected-event-type', body: json({ ...envelope(foreign), marker }) },
    { kind: 'event-type-wrong-type', body: json({ ...valid(), event_type: 42 }) },
    { kind: 'data-missing', body: json({ ...valid(), data: undefined }) },
    { kind: 'data-wrong-types', body: json({ ...valid(), data: { order_id: SQL[0], items: HTML[1], quantity: '2' } }) },
    { kind: 'order-id-sql', body: json({ ...valid(), data: { ...(DATA[accepted] as object), order_id: SQL[1] } }) },
    { kind: 'event-id-not-uuid', body: json({ ...valid(), event_id: HTML[0] }) },
    { kind: 'occurred-at-garbage', body: json({ ...valid(), occurred_at: 'yesterday' }) },
    { kind: 'identity-wrong-types', body: json({ ...valid(), identity: { user_id: 7, roles: 'admin' } }) },
    { kind: 'version-string', body: json({ ...valid(), version: '1' }) },
    { kind: 'order-id-number', body: json({ ...valid(), data: { ...(DATA[accepted] as object), order_id: 12345 } }) },
    // No AMQP message_id and no event_id: nothing to deduplicate on.
    { kind: 'missing-message-id-and-event-id', body: json({ ...valid(), event_id: undefined }), anonymous: true },
    // 1 MiB, within the broker's limits; broken all the same.
    {
      kind: 'huge-body',
      body: json({ ...valid(), event_id: undefined, padding: 'x'.repeat(1024 * 1024) }),
      messageId: id('huge-body'),
    },
    // Prototype keys: parsed as own members, never merged into Object.prototype.
    {
      kind: 'prototype-keys',
      body: Buffer.from(
        `{"__proto__":{"polluted":"${marker}"},"constructor":{"prototype":{"polluted":"${marker}"}},` +
          `"marker":"${marker}","event_type":"${accepted}"}`,
      ),
      messageId: id('prototype-keys'),
    },
    {
      kind: 'deep-nesting',
      body: Buffer.from(`{"marker":"${marker}","data":${'['.repeat(50_000)}${']'.repeat(50_000)}}`),
    },
    // A valid body with an over-long message_id (the dedupe column holds 128).
    { kind: 'message-id-too-long', body: json(valid()), messageId: `${marker}:${'x'.repeat(200)}` },
  ];
  return messages.map((m) => ({ messageId: id(m.kind), ...m }));
}

/**
 * Publishes the hostile messages, waits for every one in its DLQ, checks the reasons, then
 * proves the consumers still work. The stack's payment-service must decline above 1000.
 * Returns the report (counts per queue, the reason of each kind).
 */
export async function checkHostileMessages(stack: Stack, mode: StackMode): Promise<string> {
  const sent = new Map<string, Hostile[]>();
  for (const queue of Object.keys(QUEUES)) {
    const marker = `hostile-${randomUUID()}`;
    const messages = hostileMessages(queue, marker);
    sent.set(queue, messages);
    for (const m of messages) {
      // The default exchange: straight into the one queue (routing key = queue name).
      await stack.transport.publish({
        exchange: '',
        routingKey: stack.name(queue),
        body: m.body,
        ...(m.kind === 'missing-message-id-and-event-id' || m.kind === 'empty-body' ? {} : { messageId: m.messageId }),
        contentType: 'application/json',
        headers: { 'x-marker': marker },
      });
    }
  }

  const report: string[] = [];
  let total = 0;
  for (const [queue, messages] of sent) {
    const dlq = stack.name(`${queue}.dlq`);
    const marker = String(messages[0]!.messageId).split(':')[0]!;
    const mine = (all: DlqMessage[]) =>
      all.filter((d) => d.body.includes(marker) || d.messageId?.startsWith(marker) || d.body === '');
    const dead = await waitFor(
      async () => {
        const found = mine(await listDlq(stack.transport, dlq, 1000));
        return found.length >= messages.length ? found : undefined;
      },
      { timeoutMs: 20_000 },
    ).catch(async () => {
      const found = mine(await listDlq(stack.transport, dlq, 1000));
      const seen = new Set(found.map((d) => d.messageId));
      assert.fail(
        `${queue}: ${found.length}/${messages.length} in the DLQ; missing ${messages
          .filter((m) => !seen.has(m.messageId ?? ''))
          .map((m) => m.kind)
          .join(', ')}`,
      );
    });
    assert.equal(dead.length, messages.length, `${queue}: exactly the hostile messages`);
    for (const d of dead) {
      assert.match(d.reason ?? '', /^POISON:./, `${queue} ${d.messageId}: x-dlq-reason`);
      assert.equal(d.retryCount, 0, `${queue} ${d.messageId}: poison is not retried`);
      assert.equal(d.sourceQueue, stack.name(queue));
    }
    total += dead.length;
    report.push(`  ${queue.padEnd(31)} ${dead.length} dead-lettered, all POISON, 0 retries`);
    if (report.length === 1) {
      // What the operator sees for each kind (the same for every queue).
      for (const m of messages) {
        const d = dead.find((x) =>
          m.anonymous ? !x.messageId && x.body === m.body.toString('utf8') : x.messageId === m.messageId,
        );
        const reason = (d?.reason ?? '(not found)').replace(/[^\x20-\x7e]/g, '?').slice(0, 90);
        report.push(`      ${m.kind.padEnd(32)} ${reason}`);
      }
    }
  }
  const summary = `hostile messages on ${mode}: ${total} published, ${total} in the DLQs\n${report.join('\n')}`;
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was not polluted');

  // The consumers keep going: one order confirmed, one compensated, through all six queues.
  await seed(stack, [
    { skuId: `MSG-OK-${mode}`, price: 10, stock: 5 },
    { skuId: `MSG-DECLINE-${mode}`, price: 1500, stock: 5 },
  ]);
  const buyer = await token(stack, 'msg-buyer', ['buyer']);
  const ok = await placeOrder(stack, buyer, {
    userId: 'msg-buyer',
    items: [{ skuId: `MSG-OK-${mode}`, quantity: 1, price: 10 }],
  });
  const declined = await placeOrder(stack, buyer, {
    userId: 'msg-buyer',
    items: [{ skuId: `MSG-DECLINE-${mode}`, quantity: 1, price: 1500 }],
  });
  assert.equal(ok.status, 201);
  assert.equal(declined.status, 201);
  assert.equal((await waitForStatus(stack, buyer, ok.body.orderId)).status, 'CONFIRMED');
  assert.equal((await waitForStatus(stack, buyer, declined.body.orderId)).status, 'FAILED');
  await waitFor(async () => (await stockOf(stack, `MSG-DECLINE-${mode}`)).reservedQty === 0, { timeoutMs: 20_000 });
  const notes = await (
    await fetch(`${stack.urls.notification}/api/notifications/events?orderId=${ok.body.orderId}`)
  ).json();
  assert.equal(notes[0]?.eventType, 'PaymentSucceeded');
  return summary;
}
